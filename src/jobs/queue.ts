/**
 * The durable job queue. A job is a row in `jobs`; enqueueing happens inside the transaction of
 * the change that caused it (an import enqueues its evaluation as it commits), so an
 * acknowledged change never loses its follow-up work.
 *
 * Workers claim due jobs with `FOR UPDATE SKIP LOCKED` under a lease: any number of workers on
 * one PostgreSQL cooperate with no coordinator, and a job whose worker died (lease lapsed) is
 * claimed again. Completion is conditional on still holding the lease, so a worker that lost its
 * lease cannot overwrite the outcome of the worker that took over.
 *
 * A dedupe key allows at most one *pending* job per key and workspace: a burst of imports
 * coalesces into one pending evaluation, whose payload is the union of what each asked for.
 */
import { EventEmitter } from 'node:events';
import { sql } from 'kysely';
import type { Database, Trx } from '../db/database.ts';
import type { JobStatus } from './jobs.tables.ts';

export interface EnqueueOptions {
  /** Coalesces with a pending job of the same key in the same workspace. */
  dedupeKey?: string | undefined;
  /** Not before this many milliseconds from now (digest windows). */
  delayMs?: number | undefined;
  maxAttempts?: number | undefined;
}

export interface EnqueuedJob {
  id: number;
  /** False when the job merged into a pending one with the same dedupe key. */
  created: boolean;
}

export interface ClaimedJob {
  id: number;
  workspaceId: string;
  kind: string;
  payload: Record<string, unknown>;
  /** Including this one. */
  attempts: number;
  maxAttempts: number;
  dedupeKey: string | null;
}

interface JobRow {
  id: number;
  workspace_id: string;
  kind: string;
  payload: Record<string, unknown> | string;
  attempts: number;
  max_attempts: number;
  dedupe_key: string | null;
  inserted?: boolean;
}

const signals = new EventEmitter();
signals.setMaxListeners(0);

/**
 * The channel an enqueueing transaction notifies on commit: workers in other processes (on a
 * PostgreSQL server) claim the job at once rather than at their next poll.
 */
export const jobsChannel = 'assay_jobs';

/** Wakes this process's workers at once (call after the enqueueing transaction committed). */
export function wakeWorkers(): void {
  signals.emit('wake');
}

export function onWake(listener: () => void): () => void {
  signals.on('wake', listener);
  return () => signals.off('wake', listener);
}

const mergePayload = (previous: string, next: string) => sql<string>`(
  select coalesce(jsonb_object_agg(key, case
      when jsonb_typeof(${sql.raw(previous)} -> key) = 'array' and jsonb_typeof(${sql.raw(next)} -> key) = 'array'
        then (select coalesce(jsonb_agg(distinct v), '[]'::jsonb) from (
          select jsonb_array_elements(${sql.raw(previous)} -> key) as v
          union select jsonb_array_elements(${sql.raw(next)} -> key)) merged)
      when ${sql.raw(next)} ? key then ${sql.raw(next)} -> key
      else ${sql.raw(previous)} -> key end), '{}'::jsonb)
  from (select jsonb_object_keys(${sql.raw(previous)}) as key
        union select jsonb_object_keys(${sql.raw(next)})) keys)`;

/**
 * Adds a job within the caller's transaction (a workspace transaction or a system one). With a
 * dedupe key, a pending job of the same key absorbs it: array fields of the payloads are
 * united, other fields take the new value, and the earlier of the two start times is kept.
 */
export async function enqueueJob(
  trx: Trx,
  workspaceId: string,
  kind: string,
  payload: Record<string, unknown>,
  options: EnqueueOptions = {},
): Promise<EnqueuedJob> {
  const delaySeconds = Math.max(0, options.delayMs ?? 0) / 1000;
  const maxAttempts = options.maxAttempts ?? 5;
  const json = JSON.stringify(payload);
  // Notified when (and only if) the transaction commits, which is when the job can be claimed.
  const notify = delaySeconds === 0 ? sql`, pg_notify(${jobsChannel}, '')` : sql``;
  if (options.dedupeKey === undefined) {
    const row = await sql<{ id: number }>`
      insert into jobs (workspace_id, kind, payload, run_at, max_attempts)
      values (${workspaceId}, ${kind}, ${json}::jsonb, now() + make_interval(secs => ${delaySeconds}), ${maxAttempts})
      returning id${notify}`.execute(trx);
    return { id: row.rows[0]!.id, created: true };
  }
  const { rows } = await sql<{ id: number; inserted: boolean }>`
    insert into jobs (workspace_id, kind, payload, run_at, max_attempts, dedupe_key)
    values (${workspaceId}, ${kind}, ${json}::jsonb, now() + make_interval(secs => ${delaySeconds}),
            ${maxAttempts}, ${options.dedupeKey})
    on conflict (workspace_id, dedupe_key) where status = 'pending' and dedupe_key is not null
    do update set
      payload = ${mergePayload('jobs.payload', 'excluded.payload')},
      run_at = least(jobs.run_at, excluded.run_at)
    returning id, (xmax = 0) as inserted${notify}`.execute(trx);
  const row = rows[0]!;
  return { id: row.id, created: row.inserted };
}

/** Enqueues in a transaction of its own and wakes this process's workers. */
export async function enqueue(
  database: Database,
  workspaceId: string,
  kind: string,
  payload: Record<string, unknown>,
  options: EnqueueOptions = {},
): Promise<EnqueuedJob> {
  const job = await database.inWorkspace(workspaceId, (trx) =>
    enqueueJob(trx, workspaceId, kind, payload, options),
  );
  wakeWorkers();
  return job;
}

function toClaimed(row: JobRow): ClaimedJob {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    kind: row.kind,
    payload: typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    dedupeKey: row.dedupe_key,
  };
}

/**
 * Jobs sharing a dedupe key run one at a time: the evaluation queued while another runs waits
 * for it (two evaluations of one workspace at once would race on the same findings), and so do
 * two sends to one channel.
 */
const notWhileSameKeyRuns = sql<boolean>`(dedupe_key is null or not exists (
  select 1 from jobs other
  where other.workspace_id = jobs.workspace_id and other.dedupe_key = jobs.dedupe_key
    and other.status = 'running' and other.locked_until >= now() and other.id <> jobs.id))`;

export interface ClaimOptions {
  workerId: string;
  limit: number;
  leaseSeconds: number;
  /** Only these kinds (default: any). */
  kinds?: string[] | undefined;
}

/**
 * Claims up to `limit` due jobs across all workspaces: pending ones whose time has come, and
 * running ones whose lease lapsed (their worker died). Runs with platform privileges.
 */
export async function claimJobs(database: Database, options: ClaimOptions): Promise<ClaimedJob[]> {
  const kinds = options.kinds && options.kinds.length > 0 ? options.kinds : null;
  const { rows } = await sql<JobRow>`
    update jobs set
      status = 'running',
      locked_by = ${options.workerId},
      locked_until = now() + make_interval(secs => ${options.leaseSeconds}),
      attempts = attempts + 1,
      started_at = now()
    where id in (
      select id from jobs
      where ((status = 'pending' and run_at <= now()) or (status = 'running' and locked_until < now()))
        and (${kinds}::text[] is null or kind = any(${kinds}::text[]))
        and ${notWhileSameKeyRuns}
      order by run_at, id
      limit ${options.limit}
      for update skip locked
    )
    returning id, workspace_id, kind, payload, attempts, max_attempts, dedupe_key`.execute(database.db);
  return rows.map(toClaimed).sort((a, b) => a.id - b.id);
}

/** Claims one particular job now, whatever its start time (the CLI runs an import's evaluation inline). */
export async function claimJob(
  database: Database,
  jobId: number,
  options: Omit<ClaimOptions, 'limit' | 'kinds'>,
): Promise<ClaimedJob | undefined> {
  const { rows } = await sql<JobRow>`
    update jobs set
      status = 'running',
      locked_by = ${options.workerId},
      locked_until = now() + make_interval(secs => ${options.leaseSeconds}),
      attempts = attempts + 1,
      started_at = now()
    where id in (
      select id from jobs
      where id = ${jobId} and (status = 'pending' or (status = 'running' and locked_until < now()))
        and ${notWhileSameKeyRuns}
      for update skip locked
    )
    returning id, workspace_id, kind, payload, attempts, max_attempts, dedupe_key`.execute(database.db);
  return rows[0] ? toClaimed(rows[0]) : undefined;
}

/** Extends a running job's lease; false when this worker no longer holds it. */
export async function extendLease(
  database: Database,
  jobId: number,
  workerId: string,
  leaseSeconds: number,
): Promise<boolean> {
  const result = await sql`
    update jobs set locked_until = now() + make_interval(secs => ${leaseSeconds})
    where id = ${jobId} and locked_by = ${workerId} and status = 'running'`.execute(database.db);
  return Number(result.numAffectedRows ?? 0) > 0;
}

/** Marks the job done; false when this worker had lost the lease (another took the job over). */
export async function completeJob(database: Database, jobId: number, workerId: string): Promise<boolean> {
  const result = await sql`
    update jobs set status = 'done', finished_at = now(), locked_by = null, locked_until = null
    where id = ${jobId} and locked_by = ${workerId} and status = 'running'`.execute(database.db);
  return Number(result.numAffectedRows ?? 0) > 0;
}

/**
 * Records a failure: the job goes back to pending after `retryInMs`, or fails for good after its
 * last attempt. If a pending job with the same dedupe key arrived meanwhile, the failed work is
 * merged into that one rather than kept twice.
 */
export async function failJob(
  database: Database,
  job: ClaimedJob,
  workerId: string,
  error: string,
  retryInMs: number,
): Promise<'retry' | 'merged' | 'failed' | 'lost'> {
  const message = error.slice(0, 4000);
  const retrySeconds = Math.max(0, retryInMs) / 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await database.inSystem(async (trx) => {
        const held = await sql<{ payload: unknown }>`
          select payload from jobs
          where id = ${job.id} and locked_by = ${workerId} and status = 'running' for update`.execute(trx);
        if (held.rows.length === 0) return 'lost' as const;
        if (job.attempts >= job.maxAttempts) {
          await sql`
            update jobs set status = 'failed', last_error = ${message}, finished_at = now(),
              locked_by = null, locked_until = null
            where id = ${job.id}`.execute(trx);
          return 'failed' as const;
        }
        if (job.dedupeKey !== null) {
          const merged = await sql<{ id: number }>`
            update jobs set
              payload = ${mergePayload('jobs.payload', 'failed.payload')},
              run_at = least(jobs.run_at, now() + make_interval(secs => ${retrySeconds}))
            from (select payload from jobs where id = ${job.id}) failed
            where jobs.workspace_id = ${job.workspaceId} and jobs.dedupe_key = ${job.dedupeKey}
              and jobs.status = 'pending'
            returning jobs.id`.execute(trx);
          const into = merged.rows[0];
          if (into) {
            await sql`
              update jobs set status = 'done', finished_at = now(), locked_by = null, locked_until = null,
                last_error = ${`merged into job ${into.id} for its retry: ${message}`.slice(0, 4000)}
              where id = ${job.id}`.execute(trx);
            return 'merged' as const;
          }
        }
        await sql`
          update jobs set status = 'pending', last_error = ${message},
            run_at = now() + make_interval(secs => ${retrySeconds}), locked_by = null, locked_until = null
          where id = ${job.id}`.execute(trx);
        return 'retry' as const;
      });
    } catch (caught) {
      // A pending job with the same key was enqueued between our look and our update: go again.
      if (attempt < 2 && (caught as { code?: string }).code === '23505') continue;
      throw caught;
    }
  }
}

/** Removes finished jobs older than `olderThanDays` (the queue is not an archive). */
export async function pruneFinishedJobs(database: Database, olderThanDays: number): Promise<number> {
  const result = await sql`
    delete from jobs where id in (
      select id from jobs
      where status in ('done', 'failed') and finished_at < now() - make_interval(days => ${olderThanDays})
      limit 5000)`.execute(database.db);
  return Number(result.numAffectedRows ?? 0);
}

export interface JobView {
  id: number;
  workspaceId: string;
  kind: string;
  status: JobStatus;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
  runAt: string;
  lastError: string | null;
  lockedBy: string | null;
  finishedAt: string | null;
}

export async function getJob(database: Database, jobId: number): Promise<JobView | undefined> {
  const row = await database.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    kind: row.kind,
    status: row.status,
    payload: row.payload,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAt: new Date(row.run_at).toISOString(),
    lastError: row.last_error,
    lockedBy: row.locked_by,
    finishedAt: row.finished_at ? new Date(row.finished_at).toISOString() : null,
  };
}
