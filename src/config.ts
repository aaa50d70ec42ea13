/**
 * Configuration is parsed and validated once, at startup, from the environment and command-line
 * overrides. Nothing else in the code base reads `process.env`. A bad value stops the process
 * with a message naming the setting.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { AssayError } from './errors.ts';

export const processRoles = ['api', 'worker', 'scheduler'] as const;
export type ProcessRole = (typeof processRoles)[number];

export interface Config {
  /** Embedded database and blob directory (PGlite). */
  dataDir: string;
  /** When set, a PostgreSQL server is used instead of the embedded database. */
  databaseUrl: string | undefined;
  /** Where evidence blobs live. Defaults to `<dataDir>/blobs`. */
  blobDir: string;
  host: string;
  port: number;
  roles: ProcessRole[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Seconds between automatic ledger checkpoints. */
  checkpointIntervalSeconds: number;
  /** Hours after a termination by which every account must be disabled. */
  deprovisioningSlaHours: number;
  /** Key (32 bytes, base64 or hex) that encrypts secrets at rest; generated into the data dir if absent. */
  secretKey: string | undefined;
  /** PostgreSQL server that the test suite uses in addition to PGlite (tests only). */
  testDatabaseUrl: string | undefined;
  /** Milliseconds between a worker's looks at the job queue (it also wakes when this process enqueues). */
  workerPollMs: number;
  /** Jobs one worker process runs at once (1 on the embedded database). */
  workerConcurrency: number;
  /** Seconds a claimed job stays leased to its worker; a lapsed lease makes it claimable again. */
  jobLeaseSeconds: number;
  /** Seconds between scheduler ticks (scheduled checks, ledger checkpoints, clean-up). */
  schedulerIntervalSeconds: number;
  /** Default digest window of a notification channel; critical notifications go at once. */
  notificationDigestSeconds: number;
  /** Outgoing mail server for email channels, e.g. smtp://user:pass@mail.example:587. */
  smtpUrl: string | undefined;
  /** The From address of notification emails. */
  smtpFrom: string;
  /**
   * Seed the demo (an MSP with three clients) before serving when the data directory holds no
   * workspaces: `assay serve --demo` (what `npm start` runs) or ASSAY_DEMO=true; `--no-demo` or
   * ASSAY_DEMO=false turn it off.
   */
  demoOnStart: boolean;
  /** Latency benchmark: how long to feed events, and at what rate (default: by database engine). */
  benchLatencySeconds: number;
  benchLatencyRate: number | undefined;
  /** Latency benchmark: workspaces the events are spread over (default: 10 on PostgreSQL, 1 embedded). */
  benchLatencyWorkspaces: number | undefined;
}

export interface ConfigOverrides {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  blobDir?: string | undefined;
  host?: string | undefined;
  port?: string | number | undefined;
  roles?: string | undefined;
  logLevel?: string | undefined;
  demo?: boolean | undefined;
}

type Env = Record<string, string | undefined>;

function bad(setting: string, value: unknown, reason: string): never {
  throw new AssayError('validation_failed', `configuration ${setting}=${JSON.stringify(value)}: ${reason}`, {
    field: setting,
  });
}

function parseInteger(setting: string, raw: string | number, min: number, max: number): number {
  const value = typeof raw === 'number' ? raw : Number(raw.trim());
  if (!Number.isInteger(value) || value < min || value > max) {
    bad(setting, raw, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function parseRoles(setting: string, raw: string): ProcessRole[] {
  const roles = raw
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r.length > 0);
  if (roles.length === 0) bad(setting, raw, `must list at least one of ${processRoles.join(', ')}`);
  for (const role of roles) {
    if (!(processRoles as readonly string[]).includes(role)) {
      bad(setting, raw, `unknown role "${role}" (expected ${processRoles.join(', ')})`);
    }
  }
  return [...new Set(roles)] as ProcessRole[];
}

function parseDatabaseUrl(setting: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    bad(setting, '<redacted>', 'is not a URL (expected postgres://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    bad(setting, `${url.protocol}//…`, 'must use the postgres:// or postgresql:// scheme');
  }
  return raw;
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(overrides: ConfigOverrides = {}, env: Env = process.env): Config {
  const dataDir = resolve(overrides.dataDir ?? env.ASSAY_DATA_DIR ?? './.assay');
  const rawUrl = overrides.databaseUrl ?? env.DATABASE_URL;
  const databaseUrl =
    rawUrl !== undefined && rawUrl !== ''
      ? parseDatabaseUrl(overrides.databaseUrl !== undefined ? '--database-url' : 'DATABASE_URL', rawUrl)
      : undefined;
  const rawLogLevel = overrides.logLevel ?? env.ASSAY_LOG_LEVEL ?? 'info';
  if (!(logLevels as readonly string[]).includes(rawLogLevel)) {
    bad('ASSAY_LOG_LEVEL', rawLogLevel, `must be one of ${logLevels.join(', ')}`);
  }
  const rawTestUrl = env.ASSAY_TEST_DATABASE_URL;
  const secretKey = env.ASSAY_SECRET_KEY;
  if (secretKey !== undefined && secretKey !== '' && !isKeyMaterial(secretKey)) {
    bad('ASSAY_SECRET_KEY', '<redacted>', 'must be 32 bytes as 64 hex characters or base64');
  }
  return {
    dataDir,
    databaseUrl,
    blobDir: resolve(overrides.blobDir ?? env.ASSAY_BLOB_DIR ?? resolve(dataDir, 'blobs')),
    host: overrides.host ?? env.HOST ?? '127.0.0.1',
    port: parseInteger(
      overrides.port !== undefined ? '--port' : 'PORT',
      overrides.port ?? env.PORT ?? '8080',
      0,
      65535,
    ),
    roles: parseRoles(
      overrides.roles !== undefined ? '--roles' : 'ASSAY_ROLES',
      overrides.roles ?? env.ASSAY_ROLES ?? 'api,worker,scheduler',
    ),
    logLevel: rawLogLevel as Config['logLevel'],
    checkpointIntervalSeconds: parseInteger(
      'ASSAY_CHECKPOINT_INTERVAL_SECONDS',
      env.ASSAY_CHECKPOINT_INTERVAL_SECONDS ?? '300',
      1,
      86_400,
    ),
    deprovisioningSlaHours: parseInteger(
      'ASSAY_DEPROVISIONING_SLA_HOURS',
      env.ASSAY_DEPROVISIONING_SLA_HOURS ?? '24',
      1,
      24 * 90,
    ),
    secretKey: secretKey === '' ? undefined : secretKey,
    testDatabaseUrl:
      rawTestUrl !== undefined && rawTestUrl !== ''
        ? parseDatabaseUrl('ASSAY_TEST_DATABASE_URL', rawTestUrl)
        : undefined,
    workerPollMs: parseInteger('ASSAY_WORKER_POLL_MS', env.ASSAY_WORKER_POLL_MS ?? '200', 10, 60_000),
    workerConcurrency: parseInteger(
      'ASSAY_WORKER_CONCURRENCY',
      env.ASSAY_WORKER_CONCURRENCY ?? String(defaultWorkerConcurrency()),
      1,
      64,
    ),
    jobLeaseSeconds: parseInteger('ASSAY_JOB_LEASE_SECONDS', env.ASSAY_JOB_LEASE_SECONDS ?? '120', 5, 3600),
    schedulerIntervalSeconds: parseInteger(
      'ASSAY_SCHEDULER_INTERVAL_SECONDS',
      env.ASSAY_SCHEDULER_INTERVAL_SECONDS ?? '15',
      1,
      3600,
    ),
    notificationDigestSeconds: parseInteger(
      'ASSAY_NOTIFICATION_DIGEST_SECONDS',
      env.ASSAY_NOTIFICATION_DIGEST_SECONDS ?? '900',
      0,
      86_400,
    ),
    demoOnStart: demoOnStart(overrides.demo, env.ASSAY_DEMO),
    smtpUrl: env.ASSAY_SMTP_URL ? parseSmtpUrl(env.ASSAY_SMTP_URL) : undefined,
    smtpFrom: env.ASSAY_SMTP_FROM || 'Assay <assay@localhost>',
    benchLatencySeconds: parseInteger(
      'ASSAY_BENCH_LATENCY_SECONDS',
      env.ASSAY_BENCH_LATENCY_SECONDS ?? '60',
      1,
      3600,
    ),
    benchLatencyRate: env.ASSAY_BENCH_LATENCY_RATE
      ? parseInteger('ASSAY_BENCH_LATENCY_RATE', env.ASSAY_BENCH_LATENCY_RATE, 1, 100_000)
      : undefined,
    benchLatencyWorkspaces: env.ASSAY_BENCH_LATENCY_WORKSPACES
      ? parseInteger('ASSAY_BENCH_LATENCY_WORKSPACES', env.ASSAY_BENCH_LATENCY_WORKSPACES, 1, 500)
      : undefined,
  };
}

/** Either switch may turn the demo off; either may turn it on. */
function demoOnStart(flag: boolean | undefined, raw: string | undefined): boolean {
  let env: boolean | undefined;
  if (raw !== undefined && raw.trim() !== '') {
    const value = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(value)) env = true;
    else if (['false', '0', 'no', 'off'].includes(value)) env = false;
    else bad('ASSAY_DEMO', raw, 'must be true or false');
  }
  if (flag === false || env === false) return false;
  return flag === true || env === true;
}

function parseSmtpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    bad(
      'ASSAY_SMTP_URL',
      '<redacted>',
      'is not a URL (expected smtp://user:password@host:port or smtps://…)',
    );
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    bad('ASSAY_SMTP_URL', `${url.protocol}//…`, 'must use the smtp:// or smtps:// scheme');
  }
  return raw;
}

function isKeyMaterial(value: string): boolean {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return true;
  try {
    return Buffer.from(value, 'base64').length === 32;
  } catch {
    return false;
  }
}

/**
 * Evaluations are CPU work, in this process and in the database: more at once than the machine
 * has cores only makes each wait longer (measured on 2 cores: p99 event-to-finding 0.8 s with 2
 * at once, 0.9–1.1 s with 4). At most 8, within the pool's 10 connections.
 */
function defaultWorkerConcurrency(): number {
  return Math.min(8, Math.max(2, availableParallelism()));
}
