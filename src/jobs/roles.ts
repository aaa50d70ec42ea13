/**
 * Starts the background roles a process plays (`worker`, `scheduler`) and stops them cleanly:
 * the scheduler finishes its tick, the worker stops claiming and finishes the jobs in hand.
 */
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { SecretBox } from '../domains/secrets/secrets.ts';
import { jobHandlers } from './handlers.ts';
import { Scheduler } from './scheduler.ts';
import { Worker } from './worker.ts';

export interface BackgroundRoles {
  worker: Worker | undefined;
  scheduler: Scheduler | undefined;
  stop(): Promise<void>;
}

export function startBackgroundRoles(
  database: Database,
  config: Config,
  secrets: SecretBox,
  log: (line: string) => void = () => {},
): BackgroundRoles {
  let worker: Worker | undefined;
  let scheduler: Scheduler | undefined;
  if (config.roles.includes('worker')) {
    worker = new Worker(database, jobHandlers({ database, config, secrets, log }), {
      pollMs: config.workerPollMs,
      // The embedded database has one connection: jobs would only queue up behind each other.
      concurrency: database.kind === 'pglite' ? 1 : config.workerConcurrency,
      leaseSeconds: config.jobLeaseSeconds,
      log,
    });
    worker.start();
    log(`worker ${worker.id} started`);
  }
  if (config.roles.includes('scheduler')) {
    scheduler = new Scheduler(database, {
      intervalMs: config.schedulerIntervalSeconds * 1000,
      checkpointIntervalSeconds: config.checkpointIntervalSeconds,
      log,
    });
    scheduler.start();
  }
  return {
    worker,
    scheduler,
    async stop() {
      await Promise.all([scheduler?.stop(), worker?.stop()]);
    },
  };
}
