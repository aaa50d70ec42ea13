/**
 * Plain-SQL, forward-only migrations in `src/db/migrations/`, named `YYYYMMDDHHMMSS_what.sql`.
 * Each is applied once, in a transaction, and recorded with its checksum. Two processes starting
 * together serialise on an advisory lock, so none is applied twice; an applied file that was
 * edited afterwards stops the start-up (migrations are never rewritten, only added).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AssayError } from '../errors.ts';
import type { Database } from './database.ts';

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));
const namePattern = /^(\d{14})_[a-z0-9_]+\.sql$/;
// Arbitrary constant shared by every Assay process: the migration lock.
const advisoryLockKey = 4_727_001;

export interface Migration {
  version: string;
  name: string;
  sql: string;
  checksum: string;
}

export function listMigrations(dir = migrationsDir): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  return files.map((name) => {
    const match = namePattern.exec(name);
    if (!match) {
      throw new AssayError(
        'internal',
        `migration file ${name} is misnamed (expected YYYYMMDDHHMMSS_lowercase_words.sql)`,
      );
    }
    const text = readFileSync(`${dir}/${name}`, 'utf8');
    return {
      version: match[1]!,
      name,
      sql: text,
      checksum: createHash('sha256').update(text).digest('hex'),
    };
  });
}

export function migrationsFingerprint(migrations = listMigrations()): string {
  const hash = createHash('sha256');
  for (const m of migrations) hash.update(`${m.name}:${m.checksum}\n`);
  return hash.digest('hex');
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

export async function migrate(database: Database, migrations = listMigrations()): Promise<MigrationReport> {
  return database.withRawConnection(async (conn) => {
    if (database.kind === 'postgres') {
      await conn.query('select pg_advisory_lock($1)', [advisoryLockKey]);
    }
    try {
      await conn.exec(`create table if not exists assay_schema_migrations (
        version text primary key,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`);
      const rows = await conn.query<{ version: string; name: string; checksum: string }>(
        'select version, name, checksum from assay_schema_migrations order by version',
      );
      const applied = new Map(rows.map((r) => [r.version, r]));
      const report: MigrationReport = { applied: [], alreadyApplied: 0 };
      for (const migration of migrations) {
        const previous = applied.get(migration.version);
        if (previous) {
          if (previous.checksum !== migration.checksum) {
            throw new AssayError(
              'internal',
              `migration ${migration.name} was changed after it was applied (checksum differs); ` +
                'migrations are forward-only: add a new one instead',
            );
          }
          report.alreadyApplied++;
          continue;
        }
        await conn.exec('begin');
        try {
          await conn.exec(migration.sql);
          await conn.query(
            'insert into assay_schema_migrations (version, name, checksum) values ($1, $2, $3)',
            [migration.version, migration.name, migration.checksum],
          );
          await conn.exec('commit');
        } catch (error) {
          await conn.exec('rollback');
          throw new AssayError('internal', `migration ${migration.name} failed: ${(error as Error).message}`);
        }
        report.applied.push(migration.name);
      }
      return report;
    } finally {
      if (database.kind === 'postgres') {
        await conn.query('select pg_advisory_unlock($1)', [advisoryLockKey]);
      }
    }
  });
}
