import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTestDatabase, testEngine } from '../../test/helpers/database.ts';
import { openDatabase } from './database.ts';
import { listMigrations, migrate } from './migrate.ts';

test('migrations are recorded and never applied twice', async (t) => {
  const { database } = await createTestDatabase(t);
  const again = await migrate(database);
  assert.deepEqual(again.applied, []);
  assert.equal(again.alreadyApplied, listMigrations().length);
  const rows = await database.withRawConnection((c) =>
    c.query<{ version: string }>('select version from assay_schema_migrations order by version'),
  );
  assert.deepEqual(
    rows.map((r) => r.version),
    listMigrations().map((m) => m.version),
  );
});

test('an applied migration that was edited stops start-up; a failing one leaves nothing behind', async (t) => {
  const { database } = await createTestDatabase(t);
  const dir = mkdtempSync(join(tmpdir(), 'assay-migrations-'));
  writeFileSync(join(dir, '29990101000000_probe.sql'), 'create table probe_a (id int);');
  const first = await migrate(database, listMigrations(dir));
  assert.deepEqual(first.applied, ['29990101000000_probe.sql']);

  writeFileSync(join(dir, '29990101000000_probe.sql'), 'create table probe_a (id bigint);');
  await assert.rejects(migrate(database, listMigrations(dir)), /probe\.sql was changed after it was applied/);

  const broken = mkdtempSync(join(tmpdir(), 'assay-migrations-'));
  writeFileSync(
    join(broken, '29990101000001_broken.sql'),
    'create table probe_b (id int); select nonsense from nowhere;',
  );
  await assert.rejects(migrate(database, listMigrations(broken)), /broken\.sql failed/);
  const tables = await database.withRawConnection((c) =>
    c.query("select 1 from information_schema.tables where table_name = 'probe_b'"),
  );
  assert.equal(tables.length, 0, 'the failed migration left its first statement behind');
});

test('misnamed migration files are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-migrations-'));
  writeFileSync(join(dir, 'add_things.sql'), 'select 1;');
  assert.throws(() => listMigrations(dir), /add_things\.sql is misnamed/);
});

test('two processes migrating one PostgreSQL database at once apply each migration once', async (t) => {
  if (testEngine !== 'postgres') {
    t.skip('PostgreSQL only: PGlite data directories are locked to one process (tested below)');
    return;
  }
  const { config } = await createTestDatabase(t);
  // Fresh, unmigrated database on the same server.
  const url = new URL(config.databaseUrl!);
  const name = `${url.pathname.slice(1)}_race`;
  const admin = await openDatabase(config);
  await admin.withRawConnection((c) => c.exec(`create database ${name}`));
  url.pathname = `/${name}`;
  const a = await openDatabase({ ...config, databaseUrl: url.toString() });
  const b = await openDatabase({ ...config, databaseUrl: url.toString() });
  try {
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
    assert.equal(ra.applied.length + rb.applied.length, listMigrations().length);
    const rows = await a.withRawConnection((c) => c.query('select version from assay_schema_migrations'));
    assert.equal(rows.length, listMigrations().length);
  } finally {
    await a.close();
    await b.close();
    await admin.withRawConnection((c) => c.exec(`drop database ${name} with (force)`));
    await admin.close();
  }
});

test('an embedded data directory is used by one process at a time', async (t) => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'assay-lock-')), 'data');
  mkdirSync(dataDir);
  const first = await openDatabase({ dataDir, databaseUrl: undefined });
  t.after(() => first.close());
  await assert.rejects(
    openDatabase({ dataDir, databaseUrl: undefined }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'data_directory_locked');
      assert.match(error.message, /in use by process \d+/);
      return true;
    },
  );
});
