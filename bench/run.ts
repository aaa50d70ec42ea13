/**
 * The benchmark suite: `assay bench` (or `npm run bench`) runs every module listed here and
 * prints its figures. Each module exports a `name` and `run(report)`; the configuration
 * (database, durations, rates) comes from the same settings as the product (src/config.ts).
 * At the end a table of every figure is printed, the results are merged into
 * `bench/results/latest.json` (by benchmark, so a benchmark run alone replaces only its own
 * figures) and `bench/RESULTS.md` is regenerated from it.
 *
 * `--only a,b` runs the benchmarks whose names contain any of the words; `--quick` runs each at
 * its smallest size (a smoke test of the suite: figures are meaningless and nothing is written).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import type { Config } from '../src/config.ts';
import * as api from './api.bench.ts';
import * as exportBench from './export.bench.ts';
import * as importBench from './import.bench.ts';
import * as latency from './latency.bench.ts';
import * as ledger from './ledger.bench.ts';
import * as readiness from './readiness.bench.ts';

export interface BenchReport {
  readonly config: Config;
  /** Smallest sizes: the run checks that the benchmark works, not how fast. */
  readonly quick: boolean;
  /** One figure, e.g. `metric('event-to-finding p99', 412, 'ms')`. */
  metric(name: string, value: number, unit: string): void;
  /** A line of context (rates achieved, engine, caveats). */
  note(text: string): void;
}

export interface BenchModule {
  name: string;
  run(report: BenchReport): Promise<void>;
}

/**
 * The browser benchmark is loaded only when it runs: it drives Chromium through playwright-core,
 * a development dependency, and notes itself skipped where Chromium is not installed.
 */
const web: BenchModule = {
  name: 'web',
  run: async (report) => (await import('./web.bench.ts')).run(report),
};

export const benchmarks: BenchModule[] = [importBench, latency, ledger, readiness, exportBench, api, web];

export interface BenchResult {
  benchmark: string;
  metrics: { name: string; value: number; unit: string }[];
  notes: string[];
  /** When it ran, on which database engine, and the machine's load then. */
  at?: string;
  seconds?: number;
  loadAverage?: number[];
}

export interface BenchOptions {
  /** Comma-separated words: run only the benchmarks whose name contains one of them. */
  only?: string | undefined;
  quick?: boolean | undefined;
  /** Where results go (default bench/results/ and bench/RESULTS.md); quick runs write nothing unless given. */
  resultsDir?: URL | undefined;
  resultsMarkdown?: URL | undefined;
}

/** Benchmark sizes (read by the benchmark modules) that a quick run makes small unless set. */
const quickSizes: Record<string, string> = {
  ASSAY_BENCH_LEDGER_APPEND: '200',
  ASSAY_BENCH_LEDGER_ITEMS: '2000',
  ASSAY_BENCH_IMPORT_EVENTS: '300',
  ASSAY_BENCH_IMPORT_MB: '1',
};

export function selectBenchmarks(only: string | undefined): BenchModule[] {
  const words = (only ?? '')
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w.length > 0);
  if (words.length === 0) return benchmarks;
  const selected = benchmarks.filter((b) => words.some((w) => b.name.includes(w)));
  if (selected.length === 0) {
    throw new Error(
      `no benchmark matches "${only}" (benchmarks: ${benchmarks.map((b) => b.name).join(', ')})`,
    );
  }
  return selected;
}

/** Runs the benchmarks (all, or those selected by `only`), printing as they go. */
export async function runBenchmarks(
  config: Config,
  print: (line: string) => void,
  options: string | BenchOptions = {},
): Promise<BenchResult[]> {
  const opts: BenchOptions = typeof options === 'string' ? { only: options } : options;
  const quick = opts.quick === true;
  const selected = selectBenchmarks(opts.only);
  const restore: [string, string | undefined][] = [];
  if (quick) {
    for (const [key, value] of Object.entries(quickSizes)) {
      restore.push([key, process.env[key]]);
      if (process.env[key] === undefined || process.env[key] === '') process.env[key] = value;
    }
  }
  const runConfig: Config = quick
    ? { ...config, benchLatencySeconds: 1, benchLatencyRate: config.benchLatencyRate ?? 20 }
    : config;
  const results: BenchResult[] = [];
  try {
    for (const bench of selected) results.push(await runOne(bench, runConfig, quick, print));
  } finally {
    for (const [key, value] of restore) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  print('');
  print(resultsTable(results));
  const dir = opts.resultsDir ?? (quick ? undefined : resultsDir);
  if (dir) {
    const document = writeResults(results, config, dir);
    const markdown = opts.resultsMarkdown ?? (quick ? undefined : resultsMarkdown);
    if (markdown) writeFileSync(markdown, resultsMarkdownText(document));
  }
  return results;
}

async function runOne(
  bench: BenchModule,
  config: Config,
  quick: boolean,
  print: (line: string) => void,
): Promise<BenchResult> {
  const started = performance.now();
  const result: BenchResult = {
    benchmark: bench.name,
    metrics: [],
    notes: [],
    at: new Date().toISOString(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
  print(`${bench.name}`);
  await bench.run({
    config,
    quick,
    metric(name, value, unit) {
      result.metrics.push({ name, value, unit });
      print(`  ${name}: ${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`);
    },
    note(text) {
      result.notes.push(text);
      print(`  ${text}`);
    },
  });
  result.seconds = Math.round((performance.now() - started) / 100) / 10;
  print(`  (${result.seconds} s)`);
  return result;
}

const resultsDir = new URL('./results/', import.meta.url);
const resultsMarkdown = new URL('./RESULTS.md', import.meta.url);

export interface ResultsDocument {
  at: string;
  node: string;
  platform: string;
  cpus: number;
  cpuModel?: string;
  memoryGiB?: number;
  loadAverage: number[];
  database: string;
  results: BenchResult[];
}

/**
 * Merges the run's results into latest.json, replacing earlier results of the same benchmarks
 * (so benchmarks run one at a time on a busy machine still add up to one document).
 */
function writeResults(results: BenchResult[], config: Config, dir: URL): ResultsDocument {
  mkdirSync(dir, { recursive: true });
  const file = new URL('latest.json', dir);
  let earlier: BenchResult[] = [];
  if (existsSync(file)) {
    try {
      earlier = (JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument).results ?? [];
    } catch {
      earlier = [];
    }
  }
  const fresh = new Set(results.map((r) => r.benchmark));
  const order = benchmarks.map((b) => b.name);
  const merged = [...earlier.filter((r) => !fresh.has(r.benchmark)), ...results].sort(
    (a, b) => order.indexOf(a.benchmark) - order.indexOf(b.benchmark),
  );
  const document: ResultsDocument = {
    at: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    // Other work on the machine skews every figure; the load says how much.
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    database: config.databaseUrl ? 'postgresql' : 'embedded',
    results: merged,
  };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  return document;
}

const isBaseline = (name: string) => /\(baseline\)|^\s*raw\b|healthz/i.test(name);
const formatValue = (value: number) =>
  Number.isInteger(value) || Math.abs(value) >= 100
    ? Math.round(value).toLocaleString('en')
    : value.toFixed(2);

/** bench/RESULTS.md: every figure of latest.json, baselines marked, with the machine described. */
export function resultsMarkdownText(document: ResultsDocument): string {
  const lines = [
    '# Benchmark results',
    '',
    'Generated by `npm run bench` (bench/run.ts) from `bench/results/latest.json`; do not edit by hand.',
    'Each figure sits next to the baseline measured in the same run on the same machine and',
    'database (rows marked **baseline**). Re-run one benchmark with `npm run bench -- --only NAME`.',
    '',
    '## Machine',
    '',
    `- ${document.cpus} cores (${document.cpuModel ?? 'unknown CPU'}), ${document.memoryGiB ?? '?'} GiB memory, ` +
      `${document.platform}, Node ${document.node}`,
    '- Shared with other work: the load average when each benchmark started is given with it. On a busy',
    '  machine (load above 4) the benchmarks are run one at a time (`--only`), so each has its own time and load.',
    '',
  ];
  for (const result of document.results) {
    lines.push(`## ${result.benchmark}`, '');
    const when = [
      result.at ? `run ${result.at.slice(0, 16).replace('T', ' ')} UTC` : null,
      result.seconds !== undefined ? `${result.seconds} s` : null,
      result.loadAverage ? `load average ${result.loadAverage.join(', ')}` : null,
    ].filter((x) => x !== null);
    if (when.length > 0) lines.push(`_${when.join('; ')}_`, '');
    const resized = result.notes.filter((n) => /^ASSAY_BENCH_[A-Z_]+=/.test(n));
    if (resized.length > 0) {
      lines.push(
        `**Run at non-default sizes (${resized.join(', ')}):** figures stated at the default size ` +
          '(e.g. a million ledger entries) are extrapolated from this run in the notes, not measured.',
        '',
      );
    }
    lines.push('| Figure | Value | Unit | |', '|---|---:|---|---|');
    for (const m of result.metrics) {
      const label = m.name.trim().replace(/\|/g, '\\|');
      lines.push(
        `| ${label} | ${formatValue(m.value)} | ${m.unit} | ${isBaseline(m.name) ? '**baseline**' : ''} |`,
      );
    }
    if (result.notes.length > 0) {
      lines.push('');
      for (const note of result.notes) lines.push(`- ${note}`);
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function resultsTable(results: BenchResult[]): string {
  const rows = results.flatMap((r) =>
    r.metrics.map((m) => [
      r.benchmark,
      m.name,
      Number.isInteger(m.value) ? String(m.value) : m.value.toFixed(2),
      m.unit,
    ]),
  );
  const headers = ['BENCHMARK', 'METRIC', 'VALUE', 'UNIT'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
