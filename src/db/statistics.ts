/**
 * Keeps the planner's statistics of the tables an ingest grows fresh.
 *
 * Autovacuum looks at each table about once a minute on a server, and never on the embedded
 * database. An onboarding import can add thousands of accounts in seconds; until the table is
 * sampled the planner takes a workspace for a handful of rows, and an account lookup that should
 * probe three indexes reads every account of the workspace instead (measured: 2 ms instead of
 * 0.15 ms per import of ten events, at 6,000 accounts).
 */
import type { Database } from './database.ts';
import { analyzeTable, listTablesWithStaleStatistics } from './statistics.repository.ts';

export const ingestTables = ['events', 'evidence_items', 'identities', 'people'] as const;

// At most one look at the statistics per database and this interval: it costs one small query.
const checkEveryMs = 5_000;
const lastChecked = new WeakMap<Database, number>();
const running = new WeakMap<Database, Promise<string[]>>();

/**
 * Analyses, in the background, those of `tables` whose statistics are stale (see
 * listTablesWithStaleStatistics). Call after committing a write that grew them. Never fails
 * the caller: a closed database or a role that may not analyse only skips the refresh.
 */
export function refreshStatisticsSoon(database: Database, tables: readonly string[] = ingestTables): void {
  const now = Date.now();
  if (running.has(database) || now - (lastChecked.get(database) ?? 0) < checkEveryMs) return;
  lastChecked.set(database, now);
  const refresh = refreshStaleStatistics(database, tables)
    .catch(() => [])
    .finally(() => running.delete(database));
  running.set(database, refresh);
}

/** Analyses those of `tables` whose statistics are stale now; returns their names. */
export async function refreshStaleStatistics(
  database: Database,
  tables: readonly string[],
): Promise<string[]> {
  const stale = await listTablesWithStaleStatistics(database.db, tables);
  for (const table of stale) await analyzeTable(database.db, table);
  return stale;
}

/** The refresh started by refreshStatisticsSoon, if one is running (for tests and shutdown). */
export function statisticsRefresh(database: Database): Promise<string[]> | undefined {
  return running.get(database);
}
