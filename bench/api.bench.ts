/**
 * API latency under load: `assay serve --roles api` runs in a child process on a demo workspace
 * (seeded by `seedDemo`: an MSP with Acme, 20 people, and Globex, 120 people, and a year of
 * history), and autocannon drives read routes of the largest client with an API token —
 * controls, findings, evidence, coverage — for ASSAY_BENCH_API_SECONDS each (default 10) with
 * ASSAY_BENCH_API_CONNECTIONS concurrent connections (default 10). p50/p99 latency and requests/s
 * per route, next to the `/healthz` route (no database, no authentication) measured the same
 * way in the same run as the baseline of the HTTP stack alone.
 *
 * On the embedded database, and on PostgreSQL when ASSAY_BENCH_DATABASE_URL, DATABASE_URL or
 * ASSAY_TEST_DATABASE_URL names a server. `--quick`: Acme only, 1 s a route.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createApiToken } from '../src/domains/accounts/tokens.service.ts';
import { systemActor } from '../src/domains/audit/actor.ts';
import { defaultDemoClients, seedDemo } from '../src/domains/demo/demo.service.ts';
import { benchServerUrl, type Engine, embeddedEngine, serverEngine } from './bench-data.ts';
import { setting } from './bench-process.ts';
import type { BenchReport } from './run.ts';

export const name = 'api under load';

/** The part of autocannon's result this benchmark reads. */
interface AutocannonResult {
  latency: { p50: number; p99: number; average: number };
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const root = fileURLToPath(new URL('../', import.meta.url));

/** Starts `assay serve` on a free port; resolves with its URL once it listens. */
function serve(engine: Engine): Promise<{ url: string; child: ChildProcess }> {
  const args = ['bin/assay.js', '--data', engine.config.dataDir, '--json'];
  if (engine.config.databaseUrl) args.push('--database-url', engine.config.databaseUrl);
  args.push('serve', '--port', '0', '--roles', 'api');
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ url: (JSON.parse(line) as { url: string }).url, child });
    });
    child.on('exit', (code) => reject(new Error(`assay serve exited with ${code}: ${stderr.slice(-2000)}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function measure(report: BenchReport, engine: Engine, seconds: number, connections: number) {
  const clients = report.quick ? defaultDemoClients.slice(0, 1) : defaultDemoClients.slice(0, 2);
  const seeded = performance.now();
  const demo = await seedDemo(engine.database, systemActor, { clients });
  const largest = [...demo.clients].sort((a, b) => b.people - a.people)[0]!;
  const { secret } = await createApiToken(
    engine.database,
    { actor: systemActor, userId: null },
    largest.slug,
    {
      name: 'bench',
      permissions: ['controls:read', 'findings:read', 'evidence:read'],
    },
  );
  report.note(
    `${engine.label}: demo seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s; routes of ` +
      `${largest.slug} (${largest.people} people, ${largest.events.toLocaleString('en')} events); ` +
      `${connections} connections, ${seconds} s a route`,
  );
  await engine.close();
  const { url, child } = await serve(engine);
  try {
    const routes: [string, string][] = [
      ['/healthz (baseline)', '/healthz'],
      ['controls', `/api/v1/workspaces/${largest.slug}/controls`],
      ['findings', `/api/v1/workspaces/${largest.slug}/findings`],
      ['evidence', `/api/v1/workspaces/${largest.slug}/evidence`],
      ['coverage', `/api/v1/workspaces/${largest.slug}/coverage`],
    ];
    for (const [label, path] of routes) {
      const result = await autocannon({
        url: `${url}${path}`,
        connections,
        duration: seconds,
        headers: { authorization: `Bearer ${secret}` },
      });
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(`GET ${path}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      }
      report.metric(`GET ${label} p50, ${engine.label}`, result.latency.p50, 'ms');
      report.metric(`GET ${label} p99, ${engine.label}`, result.latency.p99, 'ms');
      report.metric(`GET ${label} rate, ${engine.label}`, Math.round(result.requests.average), 'req/s');
    }
  } finally {
    await stop(child);
  }
}

export async function run(report: BenchReport): Promise<void> {
  const seconds = report.quick ? 1 : setting(report, 'ASSAY_BENCH_API_SECONDS', 10);
  const connections = setting(report, 'ASSAY_BENCH_API_CONNECTIONS', 10);
  const url = benchServerUrl(report.config);
  const engines: (() => Promise<Engine>)[] = [() => embeddedEngine('api')];
  if (url) engines.push(() => serverEngine(url));
  else
    report.note(
      'no ASSAY_BENCH_DATABASE_URL, DATABASE_URL or ASSAY_TEST_DATABASE_URL: PostgreSQL figures skipped',
    );
  for (const open of engines) {
    const engine = await open();
    try {
      await measure(report, engine, seconds, connections);
    } finally {
      await engine.dispose();
    }
  }
}
