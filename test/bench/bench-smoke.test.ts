/**
 * The benchmark suite runs: every benchmark at its smallest size (`--quick`), each reporting
 * finite figures, with a baseline where the suite promises one, merged into latest.json and the
 * markdown table. Timings are not checked — only the shape of the results.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  type BenchResult,
  benchmarks,
  type ResultsDocument,
  resultsMarkdownText,
  runBenchmarks,
  selectBenchmarks,
} from '../../bench/run.ts';
import { loadConfig } from '../../src/config.ts';
import { hasChromium } from '../web/harness.ts';

/** Figures each benchmark must report (a word of the metric's name each). */
const expected: Record<string, RegExp[]> = {
  'bulk import': [/./],
  'event-to-finding latency': [/./],
  'evidence ledger': [/verify/, /raw SHA-256/],
  readiness: [
    /^readiness, 12 months, embedded/,
    /^readiness peak RSS, embedded/,
    /raw count\(\*\).*baseline/,
  ],
  'auditor package export': [
    /^export peak RSS, 300 items/,
    /^export peak RSS, 3,000 items/,
    /raw zip.*baseline/,
  ],
  'api under load': [/healthz \(baseline\) p99/, /GET controls p99/, /GET findings p50/, /rate/],
  web: [/portfolio/, /dashboard/],
};

test('benchmarks are selected by any of several words, and an unknown word is an error', () => {
  assert.deepEqual(
    selectBenchmarks('readiness,export').map((b) => b.name),
    ['readiness', 'auditor package export'],
  );
  assert.equal(selectBenchmarks(undefined).length, benchmarks.length);
  assert.throws(() => selectBenchmarks('nothing-like-this'), /no benchmark matches/);
});

test('every benchmark runs in quick mode and reports finite figures, merged into latest.json and RESULTS.md', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-bench-smoke-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const resultsDir = pathToFileURL(`${join(dir, 'results')}/`);
  const markdown = pathToFileURL(join(dir, 'RESULTS.md'));
  // An earlier result of a benchmark not in this run survives the merge.
  const earlier: BenchResult = { benchmark: 'an earlier benchmark', metrics: [], notes: [] };
  const config = loadConfig({ dataDir: join(dir, 'data') });
  const lines: string[] = [];
  const results = await runBenchmarks(config, (l) => lines.push(l), {
    quick: true,
    resultsDir,
    resultsMarkdown: markdown,
  });
  assert.deepEqual(
    results.map((r) => r.benchmark),
    benchmarks.map((b) => b.name),
  );
  for (const result of results) {
    if (result.benchmark === 'web' && !hasChromium) {
      assert.match(result.notes.join('\n'), /skipped, Chromium is not installed/);
      continue;
    }
    assert.ok(result.metrics.length > 0, `${result.benchmark} reported no figure`);
    for (const m of result.metrics) {
      assert.ok(Number.isFinite(m.value), `${result.benchmark}: ${m.name} = ${m.value}`);
      assert.ok(m.unit.length > 0, `${result.benchmark}: ${m.name} has no unit`);
    }
    for (const pattern of expected[result.benchmark] ?? []) {
      assert.ok(
        result.metrics.some((m) => pattern.test(m.name)),
        `${result.benchmark}: no figure matching ${pattern} in ${result.metrics.map((m) => m.name).join('; ')}`,
      );
    }
  }
  const document = JSON.parse(readFileSync(new URL('latest.json', resultsDir), 'utf8')) as ResultsDocument;
  assert.equal(document.results.length, benchmarks.length);
  const text = readFileSync(markdown, 'utf8');
  for (const b of benchmarks) assert.ok(text.includes(`## ${b.name}`), `RESULTS.md lacks ${b.name}`);
  assert.match(text, /\*\*baseline\*\*/);

  // Running one benchmark again replaces only its own results.
  writeFileSync(
    new URL('latest.json', resultsDir),
    JSON.stringify({ ...document, results: [...document.results, earlier] }),
  );
  await runBenchmarks(config, () => {}, { quick: true, only: 'readiness', resultsDir });
  const merged = JSON.parse(readFileSync(new URL('latest.json', resultsDir), 'utf8')) as ResultsDocument;
  assert.deepEqual(
    merged.results.map((r) => r.benchmark).sort(),
    [...benchmarks.map((b) => b.name), earlier.benchmark].sort(),
  );
});

test('the results table marks baselines and describes the machine', () => {
  const text = resultsMarkdownText({
    at: '2026-11-23T15:00:00.000Z',
    node: 'v20.20.2',
    platform: 'linux x64',
    cpus: 2,
    cpuModel: 'Test CPU',
    memoryGiB: 24,
    loadAverage: [0.5, 0.4, 0.3],
    database: 'embedded',
    results: [
      {
        benchmark: 'readiness',
        metrics: [
          { name: 'raw count(*) over the events, embedded (baseline)', value: 1116.66, unit: 'ms' },
          { name: 'readiness, 12 months, embedded (target < 10 s)', value: 8.5, unit: 's' },
        ],
        notes: ['a note'],
      },
      {
        benchmark: 'evidence ledger',
        metrics: [{ name: 'verify 30,000 entries, embedded', value: 1.5, unit: 's' }],
        notes: ['ASSAY_BENCH_LEDGER_ITEMS=30000', 'embedded: a million entries verify in 50.0 s'],
      },
    ],
  });
  assert.match(text, /\*\*Run at non-default sizes \(ASSAY_BENCH_LEDGER_ITEMS=30000\):\*\* .*extrapolated/);
  assert.equal(text.match(/non-default sizes/g)?.length, 1);
  assert.match(text, /2 cores \(Test CPU\), 24 GiB memory, linux x64, Node v20\.20\.2/);
  assert.match(
    text,
    /\| raw count\(\*\) over the events, embedded \(baseline\) \| 1,117 \| ms \| \*\*baseline\*\* \|/,
  );
  assert.match(text, /\| readiness, 12 months, embedded \(target < 10 s\) \| 8\.50 \| s \| {2}\|/);
  assert.match(text, /- a note/);
});
