import { type Kysely, sql } from 'kysely';
import type { DB } from './schema.ts';

/**
 * Tables among `tables` that grew past what the planner knows of them: more rows changed since
 * they were last sampled than 500 plus half the table. Gradual change is left to autovacuum.
 */
export async function listTablesWithStaleStatistics(db: Kysely<DB>, tables: readonly string[]) {
  const { rows } = await sql<{ relname: string }>`
    select relname from pg_stat_user_tables
    where schemaname = current_schema() and relname = any(${[...tables]}::text[])
      and n_mod_since_analyze > 500 + 0.5 * n_live_tup
    order by relname`.execute(db);
  return rows.map((r) => r.relname);
}

/**
 * Samples a table for the planner (skipped with a warning by a role that does not own it). The
 * sample is a fifth of the default (6,000 rows): enough to know how many rows a workspace has,
 * and cheap beside a busy ingest; autovacuum's next pass takes the full sample.
 */
export async function analyzeTable(db: Kysely<DB>, table: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`set local default_statistics_target = 20`.execute(trx);
    await sql`analyze ${sql.table(table)}`.execute(trx);
  });
}
