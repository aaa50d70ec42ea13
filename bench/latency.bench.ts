/**
 * Event-to-finding latency: sign-ins without MFA are fed through the ingest path (the importer
 * and writer the upload API uses) at a sustained rate, a worker evaluates the checks they
 * trigger (on the embedded database in the same process; on PostgreSQL in a process of its own,
 * woken by the server's notifications, as Assay is deployed at scale), and each event's latency
 * is the time from its acknowledgement (the import committed and returned) to its finding being
 * visible to a reader of the database.
 *
 * Settings: ASSAY_BENCH_LATENCY_SECONDS (default 60), ASSAY_BENCH_LATENCY_RATE (events/s; default
 * 1,000 on PostgreSQL, 200 on the embedded database). It runs on an in-memory embedded database,
 * and on PostgreSQL too when ASSAY_BENCH_DATABASE_URL, DATABASE_URL or ASSAY_TEST_DATABASE_URL names
 * a server (in a scratch database created there and dropped afterwards). Findings are looked for
 * every 20 ms, which bounds the resolution. Each look reads only findings opened since the oldest
 * event still waiting for one was sent (a run's asOf is taken after the events it evaluates were
 * committed) and written since the previous look, so the reader's own load stays small rather
 * than growing with every finding of the run.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import pg from 'pg';
import { type Database, openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { systemActor } from '../src/domains/audit/actor.ts';
import { importFile } from '../src/domains/ingest/import.service.ts';
import { openSecretBox } from '../src/domains/secrets/secrets.ts';
import { createWorkspace } from '../src/domains/workspaces/workspaces.service.ts';
import { jobHandlers } from '../src/jobs/handlers.ts';
import { Worker } from '../src/jobs/worker.ts';
import { benchServerUrl } from './bench-data.ts';
import type { BenchReport } from './run.ts';

export const name = 'event-to-finding latency';

const pollMs = 20;
const checkId = 'identity.login_without_mfa';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function signIns(emails: string[], at: number): string {
  return emails
    .map((email, i) =>
      JSON.stringify({
        class_uid: 3002,
        activity_id: 1,
        time: at + i,
        status_id: 1,
        is_mfa: false,
        metadata: { uid: `bench-${email}`, product: { name: 'Okta' } },
        user: { uid: email, name: email, email_addr: email },
      }),
    )
    .join('\n');
}

async function scratchDatabase(
  report: BenchReport,
  serverUrl: string | undefined,
): Promise<{ database: Database; url: string | undefined; drop: () => Promise<void> }> {
  const config = { ...report.config, databaseUrl: serverUrl };
  if (config.databaseUrl === undefined) {
    const pglite = await PGlite.create({ parsers: { 20: (v: string) => Number.parseInt(v, 10) } });
    const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: undefined }, { pglite });
    return {
      database,
      url: undefined,
      drop: async () => {
        await database.close();
        await pglite.close();
      },
    };
  }
  const scratch = `assay_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: config.databaseUrl });
  await admin.connect();
  await admin.query(`create database ${scratch}`);
  await admin.end();
  const url = new URL(config.databaseUrl);
  url.pathname = `/${scratch}`;
  const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: url.toString() });
  return {
    database,
    url: url.toString(),
    drop: async () => {
      await database.close();
      const dropper = new pg.Client({ connectionString: config.databaseUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${scratch} with (force)`);
      await dropper.end();
    },
  };
}

const workerChild = fileURLToPath(new URL('./latency-worker.child.ts', import.meta.url));

/**
 * The worker role. On the embedded database it shares the process (the default deployment); on
 * PostgreSQL it is a process of its own beside the importing one, as Assay is deployed at scale,
 * woken by the server's notifications.
 */
async function startWorker(
  config: BenchReport['config'],
  database: Database,
  url: string | undefined,
): Promise<{ stop: () => Promise<void> }> {
  if (url === undefined) {
    const secrets = openSecretBox({ ...config, secretKey: randomBytes(32).toString('hex') });
    const worker = new Worker(database, jobHandlers({ database, config, secrets }), {
      pollMs: config.workerPollMs,
      concurrency: 1,
      leaseSeconds: config.jobLeaseSeconds,
    });
    worker.start();
    return { stop: () => worker.stop() };
  }
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      workerChild,
      url,
      String(config.workerConcurrency),
      String(config.workerPollMs),
      String(config.jobLeaseSeconds),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    exited.then((code) => reject(new Error(`the worker process exited with ${code} before it was ready`)));
  });
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function run(report: BenchReport): Promise<void> {
  await measure(report, undefined);
  const server = benchServerUrl(report.config);
  if (server) await measure(report, server);
  else
    report.note(
      'no ASSAY_BENCH_DATABASE_URL, DATABASE_URL or ASSAY_TEST_DATABASE_URL: PostgreSQL figures skipped',
    );
}

async function measure(report: BenchReport, serverUrl: string | undefined): Promise<void> {
  const config = { ...report.config, databaseUrl: serverUrl };
  const engine = serverUrl === undefined ? 'pglite' : 'postgres';
  const label = engine === 'pglite' ? 'embedded' : 'PostgreSQL';
  const rate = config.benchLatencyRate ?? (engine === 'postgres' ? 1000 : 200);
  const seconds = config.benchLatencySeconds;
  const workspaceCount = config.benchLatencyWorkspaces ?? (engine === 'postgres' ? 10 : 1);
  const total = Math.round(rate * seconds);
  report.note(
    `${engine}: ${rate} events/s for ${seconds} s over ${workspaceCount} workspace(s); ` +
      (engine === 'pglite'
        ? 'worker concurrency 1, in the same process'
        : `worker concurrency ${config.workerConcurrency}, in a process of its own beside the importing one`),
  );

  const { database, url, drop } = await scratchDatabase(report, serverUrl);
  try {
    await migrate(database);
    const workspaces: { id: string; slug: string }[] = [];
    for (let w = 0; w < workspaceCount; w++) {
      workspaces.push(await createWorkspace(database, systemActor, { slug: `bench-${w}` }));
    }
    const workspaceIds = workspaces.map((w) => w.id);
    const worker = await startWorker(config, database, url);

    const ackedAt = new Map<string, number>();
    // Events in the order they were sent, with the wall-clock time of sending; `waitingFrom` is
    // the first one whose finding has not been seen yet.
    const sent: { email: string; at: number }[] = [];
    let waitingFrom = 0;
    const failed = new Set<string>();
    const seenAt = new Map<string, number>();
    const latencies: number[] = [];
    let acked = 0;
    let imports = 0;
    let lastAck = 0;
    let failures = 0;
    const record = (email: string) => {
      const ack = ackedAt.get(email);
      const seen = seenAt.get(email);
      if (ack !== undefined && seen !== undefined) latencies.push(Math.max(0, seen - ack));
    };

    let feeding = true;
    let drainDeadline = Number.POSITIVE_INFINITY;
    let horizon = '0';
    const poller = (async () => {
      while (feeding || latencies.length < acked) {
        while (
          waitingFrom < sent.length &&
          (seenAt.has(sent[waitingFrom]!.email) || failed.has(sent[waitingFrom]!.email))
        )
          waitingFrom++;
        // A second's margin for the database's and this process's clocks.
        const since = new Date((sent[waitingFrom]?.at ?? Date.now()) - 1000);
        // Only rows written by transactions not yet finished at the previous look: every
        // transaction older than that look's snapshot horizon was already visible to it.
        const { rows } = await sql<{ horizon: string; emails: string[] }>`
          select (pg_snapshot_xmin(pg_current_snapshot())::text::bigint % 4294967296)::text as horizon,
            array(select subject->>'email' from findings
              where workspace_id = any(${workspaceIds}::uuid[]) and check_id = ${checkId}
                and opened_at >= ${since} and xmin::text::bigint >= ${horizon}::bigint) as emails`.execute(
          database.db,
        );
        horizon = rows[0]!.horizon;
        const now = performance.now();
        for (const email of rows[0]!.emails) {
          if (seenAt.has(email)) continue;
          seenAt.set(email, now);
          record(email);
        }
        if (!feeding && performance.now() > drainDeadline) break;
        await sleep(pollMs);
      }
    })();

    // Events arrive at a steady rate, dealt round-robin to the workspaces. Each workspace's
    // sender imports everything that arrived since its previous import was acknowledged, as a
    // collector buffering a vendor's stream would: batches grow when the server is busy.
    const start = performance.now();
    const arrived = () => Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    const senders = workspaces.map(async (workspace, w) => {
      let next = w; // the next event index this workspace owns
      while (next < total) {
        const upTo = arrived();
        const emails: string[] = [];
        for (; next < upTo; next += workspaceCount) emails.push(`e${next}@bench.example`);
        if (emails.length === 0) {
          await sleep(((next + 1) / rate) * 1000 - (performance.now() - start));
          continue;
        }
        const sentAt = Date.now();
        for (const email of emails) sent.push({ email, at: sentAt });
        try {
          await importFile(
            database,
            systemActor,
            workspace.slug,
            'ocsf',
            Readable.from([signIns(emails, Date.now() - 60_000)]),
            {
              fileName: `batch-${imports}.jsonl`,
            },
          );
        } catch {
          failures++;
          for (const email of emails) failed.add(email);
          continue;
        }
        const now = performance.now();
        imports++;
        lastAck = now;
        acked += emails.length;
        for (const email of emails) {
          ackedAt.set(email, now);
          record(email);
        }
      }
    });
    await Promise.all(senders);
    feeding = false;
    drainDeadline = performance.now() + Math.max(30_000, seconds * 3000);
    await poller;
    await worker.stop();

    const runs = await sql<{ n: number }>`
      select count(*)::int as n from check_runs where workspace_id = any(${workspaceIds}::uuid[])`.execute(
      database.db,
    );
    const sorted = [...latencies].sort((a, b) => a - b);
    report.metric(`events acknowledged, ${label}`, acked, 'events');
    report.metric(`ingest rate achieved, ${label}`, acked / ((lastAck - start) / 1000), 'events/s');
    report.metric(`imports, ${label}`, imports, 'batches');
    report.metric(`evaluations run, ${label}`, runs.rows[0]!.n, 'runs');
    report.metric(`event-to-finding p50, ${label}`, percentile(sorted, 50), 'ms');
    report.metric(`event-to-finding p99, ${label} (target < 1000)`, percentile(sorted, 99), 'ms');
    report.metric(`event-to-finding max, ${label}`, sorted.at(-1) ?? Number.NaN, 'ms');
    if (failures > 0) report.note(`${label}: ${failures} imports failed`);
    if (latencies.length < acked)
      report.note(`${label}: ${acked - latencies.length} events had no finding before the deadline`);
    report.note(
      `${label}: p99 ${Math.round(percentile(sorted, 99))} ms at ${rate} events/s for ${seconds} s — ` +
        (percentile(sorted, 99) < 1000 ? 'under the 1 s target: met' : 'over the 1 s target: missed'),
    );
  } finally {
    await drop();
  }
}
