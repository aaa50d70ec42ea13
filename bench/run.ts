/**
 * The benchmark suite: `assay bench` (or `npm run bench`) runs every module listed here and
 * prints its figures. Each module exports a `name` and `run(report)`; the configuration
 * (database, durations, rates) comes from the same settings as the product (src/config.ts).
 * At the end a table of every figure is printed and the results are written to
 * `bench/results/latest.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { Config } from '../src/config.ts';
import * as latency from './latency.bench.ts';
import * as ledger from './ledger.bench.ts';

export interface BenchReport {
  readonly config: Config;
  /** One figure, e.g. `metric('event-to-finding p99', 412, 'ms')`. */
  metric(name: string, value: number, unit: string): void;
  /** A line of context (rates achieved, engine, caveats). */
  note(text: string): void;
}

export interface BenchModule {
  name: string;
  run(report: BenchReport): Promise<void>;
}

export const benchmarks: BenchModule[] = [latency, ledger];

export interface BenchResult {
  benchmark: string;
  metrics: { name: string; value: number; unit: string }[];
  notes: string[];
}

/** Runs the benchmarks (all, or those whose name contains `only`), printing as they go. */
export async function runBenchmarks(
  config: Config,
  print: (line: string) => void,
  only?: string,
): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const bench of benchmarks.filter((b) => only === undefined || b.name.includes(only))) {
    const result: BenchResult = { benchmark: bench.name, metrics: [], notes: [] };
    print(`${bench.name}`);
    await bench.run({
      config,
      metric(name, value, unit) {
        result.metrics.push({ name, value, unit });
        print(`  ${name}: ${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`);
      },
      note(text) {
        result.notes.push(text);
        print(`  ${text}`);
      },
    });
    results.push(result);
  }
  print('');
  print(resultsTable(results));
  writeResults(results, config);
  return results;
}

const resultsDir = new URL('./results/', import.meta.url);

function writeResults(results: BenchResult[], config: Config): void {
  mkdirSync(resultsDir, { recursive: true });
  const document = {
    at: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    // Other work on the machine skews every figure; the load says how much.
    cpus: cpus().length,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    database: config.databaseUrl ? 'postgresql' : 'embedded',
    results,
  };
  writeFileSync(new URL('latest.json', resultsDir), `${JSON.stringify(document, null, 2)}\n`);
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
