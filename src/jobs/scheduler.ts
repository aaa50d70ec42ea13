/**
 * The scheduler role: turns time into jobs. Each workspace has rows in `schedules` saying when
 * its hourly and daily checks are next due; a tick advances every due row and enqueues its job in
 * the same transaction, so a restart neither loses nor repeats a run, and two schedulers (rows
 * claimed with SKIP LOCKED, a pending job per dedupe key) never enqueue the same run twice. It
 * also queues ledger checkpoints for ledgers that grew, the sealing of audit trails into their
 * ledgers, pulls for connectors whose interval elapsed, and prunes old finished jobs.
 */
import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { selectWorkspacesWithUnsealedAudit } from '../domains/audit/audit.repository.ts';
import { enqueueDuePulls } from '../domains/connectors/pull.job.ts';
import { checkpointDueWorkspaces } from '../domains/evidence/checkpoints.ts';
import { scheduledChecksKind } from './evaluation.ts';
import { auditSealKind, ledgerCheckpointKind } from './handlers.ts';
import { enqueueJob, pruneFinishedJobs, wakeWorkers } from './queue.ts';

interface ScheduleDefinition {
  name: string;
  /** The period, as a PostgreSQL date_trunc unit. */
  unit: 'hour' | 'day';
  seconds: number;
  kind: string;
  payload: Record<string, unknown>;
}

export const schedules: readonly ScheduleDefinition[] = [
  {
    name: 'checks:hourly',
    unit: 'hour',
    seconds: 3600,
    kind: scheduledChecksKind,
    payload: { schedule: 'hourly' },
  },
  {
    name: 'checks:daily',
    unit: 'day',
    seconds: 86_400,
    kind: scheduledChecksKind,
    payload: { schedule: 'daily' },
  },
];

export interface TickReport {
  scheduled: { workspaceId: string; name: string; jobId: number }[];
  checkpoints: number;
  /** Workspaces whose audit trail was queued for sealing into their ledger. */
  auditSeals: number;
  /** Connector pulls queued (connectors whose interval elapsed). */
  pulls: number;
  pruned: number;
}

export interface TickOptions {
  checkpointIntervalSeconds: number;
  /** Delete finished jobs older than this many days (skipped when undefined). */
  pruneAfterDays?: number | undefined;
}

/** One scheduler tick. Safe to run from several processes at once. */
export async function schedulerTick(database: Database, options: TickOptions): Promise<TickReport> {
  const names = schedules.map((s) => s.name);
  // New workspaces get their schedules, first due at once.
  await sql`
    insert into schedules (workspace_id, name, next_run_at)
    select w.id, s.name, now() from workspaces w cross join unnest(${names}::text[]) as s(name)
    where not exists (select 1 from schedules x where x.workspace_id = w.id and x.name = s.name)
    on conflict do nothing`.execute(database.db);

  const scheduled: TickReport['scheduled'] = [];
  for (const definition of schedules) {
    for (;;) {
      const batch = await database.inSystem(async (trx) => {
        // The next run is at the start of the next period, spread over its first quarter by
        // workspace so hundreds of workspaces do not all start at the same second.
        const { rows } = await sql<{ workspace_id: string }>`
          update schedules s set
            next_run_at = date_trunc(${definition.unit}, now()) + make_interval(secs => ${definition.seconds})
              + make_interval(secs => abs(hashtext(s.workspace_id::text)) % ${Math.floor(definition.seconds / 4)}),
            last_run_at = now()
          from (
            select workspace_id, name from schedules
            where name = ${definition.name} and next_run_at <= now()
            order by next_run_at, workspace_id
            limit 200
            for update skip locked
          ) due
          where s.workspace_id = due.workspace_id and s.name = due.name
          returning s.workspace_id`.execute(trx);
        const done: TickReport['scheduled'] = [];
        for (const row of rows) {
          const job = await enqueueJob(trx, row.workspace_id, definition.kind, definition.payload, {
            dedupeKey: definition.name,
          });
          await sql`
            update schedules set last_job_id = ${job.id}
            where workspace_id = ${row.workspace_id} and name = ${definition.name}`.execute(trx);
          done.push({ workspaceId: row.workspace_id, name: definition.name, jobId: job.id });
        }
        return done;
      });
      scheduled.push(...batch);
      if (batch.length < 200) break;
    }
  }

  let checkpoints = 0;
  const due = await checkpointDueWorkspaces(database, { intervalSeconds: options.checkpointIntervalSeconds });
  if (due.length > 0) {
    await database.inSystem(async (trx) => {
      for (const workspaceId of due) {
        await enqueueJob(trx, workspaceId, ledgerCheckpointKind, {}, { dedupeKey: ledgerCheckpointKind });
      }
    });
    checkpoints = due.length;
  }
  // Audit entries older than the checkpoint interval are sealed into the ledger (and so into the
  // next checkpoint).
  const threshold = new Date(Date.now() - options.checkpointIntervalSeconds * 1000);
  const auditSeals = await database.inSystem(async (trx) => {
    const unsealed = await selectWorkspacesWithUnsealedAudit(trx, threshold);
    for (const workspaceId of unsealed) {
      await enqueueJob(trx, workspaceId, auditSealKind, {}, { dedupeKey: auditSealKind });
    }
    return unsealed.length;
  });
  // Connectors pulled on an interval (`assay connector add … --interval-minutes`).
  const pulls = await enqueueDuePulls(database);
  const pruned =
    options.pruneAfterDays === undefined ? 0 : await pruneFinishedJobs(database, options.pruneAfterDays);
  if (scheduled.length > 0 || checkpoints > 0 || auditSeals > 0 || pulls > 0) wakeWorkers();
  return { scheduled, checkpoints, auditSeals, pulls, pruned };
}

export interface SchedulerOptions extends TickOptions {
  intervalMs: number;
  log?: ((line: string) => void) | undefined;
}

export class Scheduler {
  readonly #database: Database;
  readonly #options: SchedulerOptions;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #running = false;
  #lastPrune = 0;

  constructor(database: Database, options: SchedulerOptions) {
    this.#database = database;
    this.#options = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  #schedule(delay: number) {
    this.#timer = setTimeout(() => {
      this.#tick = this.#runTick().finally(() => {
        this.#tick = undefined;
        if (this.#running) this.#schedule(this.#options.intervalMs);
      });
    }, delay);
  }

  async #runTick(): Promise<void> {
    const prune = Date.now() - this.#lastPrune > 3600_000;
    try {
      const report = await schedulerTick(this.#database, {
        checkpointIntervalSeconds: this.#options.checkpointIntervalSeconds,
        pruneAfterDays: prune ? (this.#options.pruneAfterDays ?? 7) : undefined,
      });
      if (prune) this.#lastPrune = Date.now();
      if (report.scheduled.length > 0 || report.checkpoints > 0) {
        this.#options.log?.(
          `scheduler: queued ${report.scheduled.length} scheduled check runs, ${report.checkpoints} ledger checkpoints`,
        );
      }
    } catch (error) {
      if (this.#running) this.#options.log?.(`scheduler: tick failed: ${(error as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#tick;
  }
}
