/**
 * Scheduled pulls. A connector added with an interval (`--interval-minutes`) is pulled by the
 * background roles of `assay serve`: each scheduler tick queues a `pull_connector` job for every
 * connector whose interval has elapsed since its last pull (one pending job per connector), and a
 * worker runs it. A failed pull is recorded on the connector and tried again an interval later;
 * the job itself does not retry sooner, so an unreachable directory is not hammered.
 */
import { sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import { enqueueJob } from '../../jobs/queue.ts';
import type { Actor } from '../audit/actor.ts';
import type { SecretBox } from '../secrets/secrets.ts';
import { runConnector } from './connectors.service.ts';

export const pullConnectorKind = 'pull_connector';

export const scheduledPullActor: Actor = { type: 'system', id: 'scheduler', name: 'Assay scheduled pull' };

const dueCondition = sql`interval_minutes is not null
  and (last_run_at is null or last_run_at + make_interval(mins => interval_minutes) <= now())`;

/** Queues a pull for every connector that is due, across workspaces. Returns how many were new. */
export async function enqueueDuePulls(database: Database): Promise<number> {
  return database.inSystem(async (trx) => {
    const { rows } = await sql<{ id: string; workspace_id: string; name: string }>`
      select id, workspace_id, name from connectors where ${dueCondition} order by id limit 1000`.execute(
      trx,
    );
    let queued = 0;
    for (const row of rows) {
      const job = await enqueueJob(
        trx,
        row.workspace_id,
        pullConnectorKind,
        { connectorId: row.id, name: row.name },
        { dedupeKey: `${pullConnectorKind}:${row.id}`, maxAttempts: 1 },
      );
      if (job.created) queued++;
    }
    return queued;
  });
}

/** The `pull_connector` job: pulls the connector if it is still there and still due. */
export async function runPullConnectorJob(
  deps: { database: Database; secrets: SecretBox },
  job: { workspaceId: string; payload: Record<string, unknown> },
): Promise<void> {
  const connectorId = job.payload.connectorId;
  if (typeof connectorId !== 'string') throw new Error('pull_connector: payload.connectorId is missing');
  const { database } = deps;
  const due = await database.inWorkspace(job.workspaceId, async (trx) => {
    const { rows } = await sql<{ name: string }>`
      select name from connectors
      where workspace_id = ${job.workspaceId} and id = ${connectorId} and ${dueCondition}`.execute(trx);
    return rows[0]?.name;
  });
  // Removed, or pulled meanwhile (by hand, or by a job queued while this one waited).
  if (due === undefined) return;
  try {
    await runConnector(database, deps.secrets, scheduledPullActor, job.workspaceId, due);
  } catch {
    // Recorded on the connector (last status, last error); the next interval tries again.
  }
}
