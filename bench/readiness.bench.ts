/**
 * Type II readiness at scale: a 12-month period of a workspace with 200 controls (the catalog's,
 * padded with copies), 10,000 people and their accounts, and 1,000,000 events (sign-ins, account
 * lifecycle, privileged grants, pull request reviews, merges and pushes) — generated in SQL in the
 * shapes the importers store — plus a year of weekly control status and evidence of the periodic
 * controls. The report is computed by a child process (the CLI's path: open the database, run
 * `readinessReport`) whose wall time and peak resident set size are reported. Targets: < 10 s,
 * < 1 GB.
 *
 * Baseline, same run and database: a raw `select count(*)` over the period's events, and a raw
 * read of the code-change events the change populations are built from (id, time and repository
 * of each: readiness reads a few more scalars of each, and decides merges' approvals in SQL).
 *
 * Sizes: ASSAY_BENCH_READINESS_EVENTS (default 1,000,000), ASSAY_BENCH_READINESS_IDENTITIES
 * (10,000), ASSAY_BENCH_READINESS_CONTROLS (200); `--quick` uses 20,000 / 500 / 200. On the
 * embedded database, and on PostgreSQL when ASSAY_BENCH_DATABASE_URL or DATABASE_URL names a
 * server (a scratch database is created and dropped).
 */
import { sql } from 'kysely';
import {
  benchServerUrl,
  benchWorkspace,
  type Engine,
  embeddedEngine,
  fillEvidence,
  fillHistory,
  fillStatusIntervals,
  padControls,
  serverEngine,
} from './bench-data.ts';
import { runChild, setting } from './bench-process.ts';
import type { BenchReport } from './run.ts';

export const name = 'readiness';

const from = new Date('2025-01-01T00:00:00Z');
const to = new Date('2026-01-01T00:00:00Z');
const now = new Date('2026-03-01T00:00:00Z');

/** The control whose population is every merged change. */
const mergesControl = 'CHG-01';

interface ChildResult {
  ms: number;
  openRssMb: number;
  peakRssMb: number;
  sampledHeapMb: number;
  controls: number;
  occurrences: number;
  deviations: number;
}

async function measure(
  report: BenchReport,
  engine: Engine,
  sizes: { events: number; identities: number; controls: number },
) {
  const { database } = engine;
  const filled = performance.now();
  const workspaceId = await benchWorkspace(database, 'readiness');
  const controls = await padControls(database, workspaceId, sizes.controls);
  const history = await fillHistory(database, workspaceId, {
    identities: sizes.identities,
    events: sizes.events,
    from,
  });
  await fillStatusIntervals(database, workspaceId, from);
  // Evidence of the periodic controls: about one item per control per month.
  await fillEvidence(database, workspaceId, controls * 12, from);
  const counted = await sql<{ n: number }>`
    select count(*)::int as n from events where workspace_id = ${workspaceId}`.execute(database.db);
  report.note(
    `${engine.label}: ${controls} controls, ${sizes.identities.toLocaleString('en')} identities, ` +
      `${counted.rows[0]!.n.toLocaleString('en')} events (${history.signIns.toLocaleString('en')} sign-ins, ` +
      `${history.pullRequests.toLocaleString('en')} pull requests × review, merge, push; ${history.leavers} leavers; ` +
      `${history.grants} privileged grants) generated in ${((performance.now() - filled) / 1000).toFixed(1)} s`,
  );

  // Baselines: a raw scan of the period's events, and a raw read of the rows readiness loads.
  const scanStarted = performance.now();
  await sql`select count(*) from events where workspace_id = ${workspaceId} and time >= ${from} and time < ${to}`.execute(
    database.db,
  );
  report.metric(
    `raw count(*) over the events, ${engine.label} (baseline)`,
    performance.now() - scanStarted,
    'ms',
  );
  const readStarted = performance.now();
  const read = await sql`
    select id, time, repository from events
    where workspace_id = ${workspaceId} and class_uid = 990002 and time >= ${from} and time < ${to}`.execute(
    database.db,
  );
  report.metric(
    `raw read of the ${read.rows.length.toLocaleString('en')} code-change events (id, time, repository), ${engine.label} (baseline)`,
    performance.now() - readStarted,
    'ms',
  );

  const templates = await sql<{ template_id: string }>`
    select template_id from controls where workspace_id = ${workspaceId} and active`.execute(database.db);

  // The embedded database allows one process at a time: close it before the child opens it.
  await engine.close();
  const task = {
    task: 'readiness',
    dataDir: engine.config.dataDir,
    databaseUrl: engine.config.databaseUrl,
    workspace: 'readiness',
    from: from.toISOString(),
    to: to.toISOString(),
    now: now.toISOString(),
  };
  const result = await runChild<ChildResult>(report, task);
  report.metric(`readiness, 12 months, ${engine.label} (target < 10 s)`, result.ms / 1000, 's');
  report.metric(`readiness peak RSS, ${engine.label} (target < 1024 MB)`, result.peakRssMb, 'MB');
  report.metric(
    `  of which the process before the report (started, database open), ${engine.label}`,
    result.openRssMb,
    'MB',
  );
  report.metric(
    `  highest JavaScript heap sampled during the report, ${engine.label}`,
    result.sampledHeapMb,
    'MB',
  );
  // Where the time goes: the same report without the merged-change population (CHG-01), whose
  // merges are matched to their approvals (in SQL).
  const without = await runChild<ChildResult>(report, {
    ...task,
    controls: templates.rows.map((r) => r.template_id).filter((t) => t !== mergesControl),
  });
  report.metric(
    `  readiness without ${mergesControl} (${history.pullRequests.toLocaleString('en')} merged changes), ${engine.label}`,
    without.ms / 1000,
    's',
  );
  report.note(
    `${engine.label}: ${result.controls} controls, ${result.occurrences.toLocaleString('en')} occurrences, ` +
      `${result.deviations.toLocaleString('en')} deviations; targets ${result.ms < 10_000 ? 'met' : 'missed'} (time), ` +
      `${result.peakRssMb < 1024 ? 'met' : 'missed'} (memory)`,
  );
}

export async function run(report: BenchReport): Promise<void> {
  const sizes = report.quick
    ? { events: 20_000, identities: 500, controls: 200 }
    : {
        events: setting(report, 'ASSAY_BENCH_READINESS_EVENTS', 1_000_000),
        identities: setting(report, 'ASSAY_BENCH_READINESS_IDENTITIES', 10_000),
        controls: setting(report, 'ASSAY_BENCH_READINESS_CONTROLS', 200),
      };
  const url = benchServerUrl(report.config);
  const engines: (() => Promise<Engine>)[] = [() => embeddedEngine('readiness')];
  if (url) engines.push(() => serverEngine(url));
  else report.note('no ASSAY_BENCH_DATABASE_URL or DATABASE_URL: PostgreSQL figures skipped');
  for (const open of engines) {
    const engine = await open();
    try {
      await measure(report, engine, sizes);
    } finally {
      await engine.dispose();
    }
  }
}
