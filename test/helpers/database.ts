/**
 * A fresh, migrated database per test: an in-memory PGlite by default, or — when
 * ASSAY_TEST_DATABASE_URL names a PostgreSQL server — a new database on that server, dropped
 * afterwards. The same tests therefore run against both engines.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/config.ts';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { migrate, migrationsFingerprint } from '../../src/db/migrate.ts';

const baseConfig = loadConfig({ dataDir: join(tmpdir(), 'assay-test-unused') });

export const testEngine: 'pglite' | 'postgres' = baseConfig.testDatabaseUrl ? 'postgres' : 'pglite';

let templateDump: Promise<Blob> | undefined;

const int8Parser = { 20: (v: string) => Number.parseInt(v, 10) };

/** A migrated PGlite image, built once per migration set and cached on disk for other test files. */
function migratedTemplate(): Promise<Blob> {
  templateDump ??= (async () => {
    const path = join(tmpdir(), `assay-test-pglite-${migrationsFingerprint().slice(0, 16)}.tar`);
    if (existsSync(path)) return new Blob([readFileSync(path)]);
    const pglite = await PGlite.create({ parsers: int8Parser });
    const database = await openDatabase(baseConfig, { pglite });
    await migrate(database);
    await database.close();
    const dump = await pglite.dumpDataDir('none');
    await pglite.close();
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, Buffer.from(await dump.arrayBuffer()));
    renameSync(temp, path);
    return dump;
  })();
  return templateDump;
}

export interface TestDatabase {
  database: Database;
  config: Config;
  /** A connection string for other processes (PostgreSQL only). */
  url: string | undefined;
}

export async function createTestDatabase(
  t: TestContext | { after: (fn: () => Promise<void>) => void },
): Promise<TestDatabase> {
  if (baseConfig.testDatabaseUrl) {
    const name = `assay_t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: baseConfig.testDatabaseUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(baseConfig.testDatabaseUrl);
    url.pathname = `/${name}`;
    const config: Config = { ...baseConfig, databaseUrl: url.toString() };
    const database = await openDatabase(config);
    await migrate(database);
    t.after(async () => {
      await database.close();
      const dropper = new pg.Client({ connectionString: baseConfig.testDatabaseUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    });
    return { database, config, url: url.toString() };
  }
  const pglite = await PGlite.create({ loadDataDir: await migratedTemplate(), parsers: int8Parser });
  const config: Config = { ...baseConfig, databaseUrl: undefined };
  const database = await openDatabase(config, { pglite });
  t.after(async () => {
    await database.close();
    await pglite.close();
  });
  return { database, config, url: undefined };
}
