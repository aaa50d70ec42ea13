/**
 * The worker role: claims due jobs and runs their handlers. It looks at the queue every
 * `pollMs`, and at once when this process enqueues something (an upload, a digest), so a change
 * is evaluated within a fraction of a second. While a handler runs, the worker keeps extending
 * the job's lease; if the process dies, the lease lapses and another worker takes the job.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../db/database.ts';
import {
  type ClaimedJob,
  claimJob,
  claimJobs,
  completeJob,
  extendLease,
  failJob,
  jobsChannel,
  onWake,
} from './queue.ts';

export interface JobRun {
  job: ClaimedJob;
  workerId: string;
  /** True when this is the job's last attempt: handlers record a final failure then. */
  lastAttempt: boolean;
}

export type JobHandler = (run: JobRun) => Promise<void>;
export type JobHandlers = Record<string, JobHandler>;

export interface WorkerOptions {
  id?: string | undefined;
  pollMs: number;
  concurrency: number;
  leaseSeconds: number;
  /** First retry delay; doubles with each attempt up to `retryMaxMs`. */
  retryBaseMs?: number | undefined;
  retryMaxMs?: number | undefined;
  /** Only these kinds (default: every kind with a handler). */
  kinds?: string[] | undefined;
  log?: ((line: string) => void) | undefined;
}

export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export function retryDelayMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/** Runs one claimed job to its outcome: done, retried, or failed for good. */
export async function runClaimedJob(
  database: Database,
  handlers: JobHandlers,
  job: ClaimedJob,
  options: Pick<WorkerOptions, 'leaseSeconds' | 'retryBaseMs' | 'retryMaxMs' | 'log'> & { workerId: string },
): Promise<'done' | 'retry' | 'merged' | 'failed' | 'lost'> {
  const log = options.log ?? (() => {});
  const heartbeat = setInterval(
    () => {
      extendLease(database, job.id, options.workerId, options.leaseSeconds)
        .then((held) => {
          if (!held) log(`job ${job.id} (${job.kind}): lease lost to another worker`);
        })
        .catch(() => {});
    },
    Math.max(1000, (options.leaseSeconds * 1000) / 3),
  );
  heartbeat.unref();
  try {
    const handler = handlers[job.kind];
    if (!handler) throw new Error(`no handler for job kind "${job.kind}"`);
    await handler({ job, workerId: options.workerId, lastAttempt: job.attempts >= job.maxAttempts });
  } catch (error) {
    clearInterval(heartbeat);
    const message = error instanceof Error ? error.message : String(error);
    const delay = retryDelayMs(job.attempts, options.retryBaseMs ?? 1000, options.retryMaxMs ?? 15 * 60_000);
    const outcome = await failJob(database, job, options.workerId, message, delay);
    log(
      `job ${job.id} (${job.kind}) attempt ${job.attempts}/${job.maxAttempts} failed: ${message} → ${outcome}`,
    );
    return outcome;
  }
  clearInterval(heartbeat);
  return (await completeJob(database, job.id, options.workerId)) ? 'done' : 'lost';
}

export class Worker {
  readonly id: string;
  readonly #database: Database;
  readonly #handlers: JobHandlers;
  readonly #options: WorkerOptions;
  readonly #active = new Set<Promise<unknown>>();
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #pendingWake = false;
  #unsubscribe: (() => void) | undefined;
  #listening: Promise<() => Promise<void>> | undefined;

  constructor(database: Database, handlers: JobHandlers, options: WorkerOptions) {
    this.#database = database;
    this.#handlers = handlers;
    this.#options = options;
    this.id = options.id ?? newWorkerId();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = onWake(() => this.wake());
    // Jobs enqueued by other processes (API servers beside this worker) wake it too.
    this.#listening = this.#database
      .listen(jobsChannel, () => this.wake())
      .catch((error: Error) => {
        (this.#options.log ?? (() => {}))(`not listening for new jobs (polling only): ${error.message}`);
        return async () => {};
      });
    this.#loop = this.#run();
  }

  /** Looks at the queue now rather than at the next poll. */
  wake(): void {
    this.#pendingWake = true;
    this.#wake?.();
  }

  /** Stops claiming and waits for the jobs in hand to finish. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unsubscribe?.();
    await (await this.#listening)?.();
    this.#wake?.();
    await this.#loop;
    await Promise.allSettled([...this.#active]);
  }

  async #run(): Promise<void> {
    const log = this.#options.log ?? (() => {});
    const concurrency = Math.max(1, this.#options.concurrency);
    while (this.#running) {
      this.#pendingWake = false;
      const free = concurrency - this.#active.size;
      let claimed: ClaimedJob[] = [];
      if (free > 0) {
        try {
          claimed = await claimJobs(this.#database, {
            workerId: this.id,
            limit: free,
            leaseSeconds: this.#options.leaseSeconds,
            kinds: this.#options.kinds ?? Object.keys(this.#handlers),
          });
        } catch (error) {
          if (!this.#running) break;
          log(`worker ${this.id}: cannot claim jobs: ${(error as Error).message}`);
        }
      }
      for (const job of claimed) {
        const task = runClaimedJob(this.#database, this.#handlers, job, {
          ...this.#options,
          workerId: this.id,
        })
          .catch((error) => log(`job ${job.id} (${job.kind}): ${(error as Error).message}`))
          .finally(() => {
            this.#active.delete(task);
            this.wake();
          });
        this.#active.add(task);
      }
      // A full batch may mean more is due: look again at once, otherwise wait for a wake-up or the poll.
      if (claimed.length > 0 && claimed.length === free) continue;
      if (this.#pendingWake || !this.#running) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#options.pollMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }
}

/**
 * Runs one job now in this process if nobody else holds it (the CLI, where no worker runs,
 * evaluates an import's checks right after it commits). `undefined` when the job is already
 * taken, e.g. by a server's worker on the same PostgreSQL. A failure leaves the job to be retried
 * by a worker and is returned, not thrown: the change that enqueued it has committed already.
 */
export async function runJobNow<T>(
  database: Database,
  jobId: number,
  fn: (job: ClaimedJob) => Promise<T>,
  options: { leaseSeconds: number; retryBaseMs?: number },
): Promise<{ value: T } | { error: Error } | undefined> {
  const workerId = `inline:${newWorkerId()}`;
  const job = await claimJob(database, jobId, { workerId, leaseSeconds: options.leaseSeconds });
  if (!job) return undefined;
  let value: T;
  try {
    value = await fn(job);
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    await failJob(
      database,
      job,
      workerId,
      failure.message,
      retryDelayMs(job.attempts, options.retryBaseMs ?? 1000, 15 * 60_000),
    );
    return { error: failure };
  }
  await completeJob(database, job.id, workerId);
  return { value };
}
