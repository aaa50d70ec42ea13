/**
 * The benchmark suite: `assay bench` (or `npm run bench`) runs every module listed here and
 * prints its figures. Each module exports a `name` and `run(report)`; the configuration
 * (database, durations, rates) comes from the same settings as the product (src/config.ts).
 */
import type { Config } from '../src/config.ts';
import * as latency from './latency.bench.ts';

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

export const benchmarks: BenchModule[] = [latency];

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
  return results;
}
