/**
 * The auditor package at scale: a workspace whose year holds ASSAY_BENCH_EXPORT_ITEMS evidence
 * items (default 100,000; filled in SQL with canonical envelopes, leaf hashes and a signed
 * checkpoint) is exported by a child process — prepareAuditPackage then write, into a zip on disk,
 * the CLI's path — whose wall time, bytes/s and peak resident set size are reported; the same for
 * a tenth of the items. Flat memory means roughly equal peaks at both sizes (each item is three
 * zip entries: envelope, payload, inclusion proof); since the process peak may be the embedded
 * database's opening, the highest RSS and JavaScript heap sampled during the export are compared
 * too.
 *
 * Baseline, same run: yazl writing the same number of entries of the same average size to disk,
 * each hashed with SHA-256 — the raw zip and hashing rate with no database, no proofs, no
 * manifest.
 *
 * On the embedded database, and on PostgreSQL when ASSAY_BENCH_DATABASE_URL, DATABASE_URL or
 * ASSAY_TEST_DATABASE_URL names a server. `--quick`: 300 and 3,000 items.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import {
  benchServerUrl,
  benchWorkspace,
  type Engine,
  embeddedEngine,
  fillEvidence,
  serverEngine,
} from './bench-data.ts';
import { runChild, setting } from './bench-process.ts';
import type { BenchReport } from './run.ts';

export const name = 'auditor package export';

const from = new Date('2025-01-01T00:00:00Z');
const to = new Date('2026-01-01T00:00:00Z');
const now = new Date('2026-03-01T00:00:00Z');

interface ChildResult {
  ms: number;
  openRssMb: number;
  peakRssMb: number;
  sampledRssMb: number;
  sampledHeapMb: number;
  liveHeapMb: number;
  heapUsedMb: number;
  arrayBuffersMb: number;
  evidence: number;
  files: number;
  bytes: number;
}

/**
 * yazl over `files` in-memory entries of `size` bytes, each hashed, into files on disk: MB/s.
 * Written as zips of 10,000 entries each, since yazl walks its whole entry list on every step
 * and keeps every entry's data until the zip ends.
 */
async function rawZipRate(dir: string, files: number, size: number): Promise<number> {
  const body = Buffer.from(`{"n":0,"text":"${'x'.repeat(Math.max(0, size - 20))}"}`.slice(0, size));
  const mtime = new Date(Date.UTC(2020, 0, 1));
  const perZip = 10_000;
  let bytes = 0;
  const started = performance.now();
  for (let first = 0; first < files; first += perZip) {
    const zip = new ZipFile();
    const path = join(dir, `raw-${first}.zip`);
    const out = createWriteStream(path);
    zip.outputStream.pipe(out);
    for (let i = first; i < Math.min(files, first + perZip); i++) {
      const entry = Buffer.from(body);
      entry.write(String(i % 10), 5);
      createHash('sha256').update(entry).digest('hex');
      zip.addBuffer(entry, `controls/C/evidence/${i}.json`, { compress: false, mtime });
    }
    zip.end();
    await finished(out);
    bytes += statSync(path).size;
    rmSync(path);
  }
  return bytes / 1e6 / ((performance.now() - started) / 1000);
}

async function measure(report: BenchReport, engine: Engine, sizes: number[]) {
  const filled = performance.now();
  for (const size of sizes) {
    const id = await benchWorkspace(engine.database, `export-${size}`);
    await fillEvidence(engine.database, id, size, from);
  }
  report.note(
    `${engine.label}: ledgers of ${sizes.map((s) => s.toLocaleString('en')).join(' and ')} evidence items filled in ` +
      `${((performance.now() - filled) / 1000).toFixed(1)} s`,
  );
  await engine.close();
  const dir = mkdtempSync(join(tmpdir(), 'assay-bench-export-'));
  try {
    const results: ChildResult[] = [];
    for (const size of sizes) {
      const result = await runChild<ChildResult>(report, {
        task: 'export',
        dataDir: engine.config.dataDir,
        databaseUrl: engine.config.databaseUrl,
        workspace: `export-${size}`,
        from: from.toISOString(),
        to: to.toISOString(),
        now: now.toISOString(),
        file: join(dir, `package-${size}.zip`),
        blobDir: join(dir, 'blobs'),
      });
      if (result.evidence !== size) throw new Error(`the package holds ${result.evidence} of ${size} items`);
      results.push(result);
      const label = `${size.toLocaleString('en')} items, ${engine.label}`;
      report.metric(`export ${label}`, result.ms / 1000, 's');
      report.metric(`export rate, ${label}`, result.bytes / 1e6 / (result.ms / 1000), 'MB/s');
      report.metric(`export peak RSS, ${label}`, result.peakRssMb, 'MB');
      report.metric(`  highest RSS sampled during the export, ${label}`, result.sampledRssMb, 'MB');
      report.metric(
        `  highest JavaScript heap sampled during the export, ${label}`,
        result.sampledHeapMb,
        'MB',
      );
      report.note(
        `${engine.label}: ${size.toLocaleString('en')} items → ${result.files.toLocaleString('en')} files, ` +
          `${(result.bytes / 1e6).toFixed(1)} MB; ${result.openRssMb.toFixed(0)} MB before the export (started, database open); ` +
          `at the end ${result.heapUsedMb} MB JavaScript heap, ${result.arrayBuffersMb} MB array buffers${engine.label === 'embedded' ? " (the embedded database's memory among them)" : ''}`,
      );
      rmSync(join(dir, `package-${size}.zip`), { force: true });
    }
    const small = results[0]!;
    const large = results.at(-1)!;
    report.metric(
      `peak RSS growth ${sizes[0]!.toLocaleString('en')} → ${sizes.at(-1)!.toLocaleString('en')} items, ${engine.label} (flat ≈ 0)`,
      large.peakRssMb - small.peakRssMb,
      'MB',
    );
    // The process peak may be set by opening the embedded database; the samples taken during the
    // export show its own growth, whether or not it passes that mark.
    report.metric(
      `sampled RSS growth ${sizes[0]!.toLocaleString('en')} → ${sizes.at(-1)!.toLocaleString('en')} items, ${engine.label} (flat ≈ 0)`,
      large.sampledRssMb - small.sampledRssMb,
      'MB',
    );
    report.metric(
      `sampled JavaScript heap growth ${sizes[0]!.toLocaleString('en')} → ${sizes.at(-1)!.toLocaleString('en')} items, ${engine.label} (flat ≈ 0)`,
      large.sampledHeapMb - small.sampledHeapMb,
      'MB',
    );
    report.metric(
      `live JavaScript heap growth ${sizes[0]!.toLocaleString('en')} → ${sizes.at(-1)!.toLocaleString('en')} items, ${engine.label} (what the export holds)`,
      large.liveHeapMb - small.liveHeapMb,
      'MB',
    );
    const raw = await rawZipRate(dir, large.files, Math.round(large.bytes / large.files));
    report.metric(
      `raw zip + SHA-256 of ${large.files.toLocaleString('en')} entries of the same size, ${engine.label} (baseline)`,
      raw,
      'MB/s',
    );
    report.metric(
      `export / raw zip rate, ${engine.label}`,
      large.bytes / 1e6 / (large.ms / 1000) / raw,
      'ratio',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(report: BenchReport): Promise<void> {
  const items = report.quick ? 3_000 : setting(report, 'ASSAY_BENCH_EXPORT_ITEMS', 100_000);
  const sizes = [Math.max(1, Math.round(items / 10)), items];
  const url = benchServerUrl(report.config);
  const engines: (() => Promise<Engine>)[] = [() => embeddedEngine('export')];
  if (url) engines.push(() => serverEngine(url));
  else
    report.note(
      'no ASSAY_BENCH_DATABASE_URL, DATABASE_URL or ASSAY_TEST_DATABASE_URL: PostgreSQL figures skipped',
    );
  for (const open of engines) {
    const engine = await open();
    try {
      await measure(report, engine, sizes);
    } finally {
      await engine.dispose();
    }
  }
}
