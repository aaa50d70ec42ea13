import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase } from '../../test/helpers/database.ts';
import { systemActor } from '../domains/audit/actor.ts';
import { createWorkspace } from '../domains/workspaces/workspaces.service.ts';
import { refreshStaleStatistics, refreshStatisticsSoon, statisticsRefresh } from './statistics.ts';

async function analyzeCount(database: Awaited<ReturnType<typeof createTestDatabase>>['database']) {
  const { rows } = await sql<{ n: number }>`
    select (analyze_count + autoanalyze_count)::int as n from pg_stat_user_tables
    where relname = 'identities'`.execute(database.db);
  return rows[0]?.n ?? 0;
}

test('a table an ingest grew past its statistics is analysed, once, and a fresh one is left alone', async (t) => {
  const { database } = await createTestDatabase(t);
  const workspace = await createWorkspace(database, systemActor, { slug: 'stats' });
  assert.deepEqual(await refreshStaleStatistics(database, ['identities', 'people']), []);

  await database.inWorkspace(workspace.id, (trx) =>
    sql`insert into identities (workspace_id, system, external_id, email, first_seen_at, last_seen_at)
        select ${workspace.id}::uuid, 'okta', 'u' || n, 'u' || n || '@example.com', now(), now()
        from generate_series(1, 1200) as n`.execute(trx),
  );
  const before = await analyzeCount(database);
  // A server counts another connection's changes once that connection reports them (within a
  // second or so of its commit).
  let analysed: string[] = [];
  for (let attempt = 0; attempt < 100 && analysed.length === 0; attempt++) {
    analysed = await refreshStaleStatistics(database, ['identities', 'people']);
    if (analysed.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(analysed, ['identities']);
  assert.ok((await analyzeCount(database)) > before);
  assert.deepEqual(await refreshStaleStatistics(database, ['identities', 'people']), []);
});

test('a refresh in the background never fails its caller, even on a closed database', async (t) => {
  const { database } = await createTestDatabase(t);
  await database.close();
  refreshStatisticsSoon(database);
  const refresh = statisticsRefresh(database);
  assert.ok(refresh, 'a refresh was started');
  assert.deepEqual(await refresh, []);
  // One look per interval: an immediate second call starts nothing.
  refreshStatisticsSoon(database);
  assert.equal(statisticsRefresh(database), undefined);
});
