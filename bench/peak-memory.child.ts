/**
 * Runs one readiness report or one auditor package export in a process of its own, so that its
 * peak resident set size (the operating system's count, embedded database included) is the task's
 * alone. Spawned by readiness.bench.ts and export.bench.ts:
 *
 *   node --import tsx bench/peak-memory.child.ts '<json task>'
 *
 * Prints one JSON line: the task's wall time, the peak RSS before the task (open database) and
 * after it, what the task produced, and the highest resident set size and JavaScript heap sampled
 * while the task ran, and the highest live heap (after a full collection, once a second). The
 * operating system's peak is a high-water mark that opening the embedded database may already
 * have set; the samples show what the task itself grows to below it.
 */
import { createWriteStream } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openDatabase } from '../src/db/database.ts';
import { systemActor } from '../src/domains/audit/actor.ts';
import { prepareAuditPackage } from '../src/domains/audits/package/export.service.ts';
import { readinessReport } from '../src/domains/audits/readiness.service.ts';
import { FileBlobStore } from '../src/domains/evidence/core/blob-store.ts';
import { moderateHeapGrowth } from '../src/heap.ts';

// Memory as the product's processes run (bin/assay.js does the same).
moderateHeapGrowth();

interface Task {
  task: 'readiness' | 'export';
  dataDir: string;
  databaseUrl?: string | undefined;
  workspace: string;
  from: string;
  to: string;
  now: string;
  /** readiness: only these controls (template ids); default every active control. */
  controls?: string[];
  /** export: where the zip goes. */
  file?: string;
  blobDir?: string;
}

const maxRssMb = () => process.resourceUsage().maxRSS / 1024;

const task = JSON.parse(process.argv[2] ?? '{}') as Task;
const database = await openDatabase({ dataDir: task.dataDir, databaseUrl: task.databaseUrl });
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const sampled = { rss: 0, heapUsed: 0, live: 0 };
const sample = () => {
  const usage = process.memoryUsage();
  sampled.rss = Math.max(sampled.rss, usage.rss);
  sampled.heapUsed = Math.max(sampled.heapUsed, usage.heapUsed);
};
// The heap in use includes garbage not collected yet; once a second a full collection shows what
// the task really holds (a few tens of milliseconds each, within the task's time).
const sampleLive = () => {
  gc();
  sampled.live = Math.max(sampled.live, process.memoryUsage().heapUsed);
};
try {
  const openRssMb = maxRssMb();
  sample();
  const sampler = setInterval(sample, 20);
  const liveSampler = setInterval(sampleLive, 1000);
  const started = performance.now();
  let produced: Record<string, unknown>;
  if (task.task === 'readiness') {
    const report = await readinessReport(
      database,
      task.workspace,
      { from: new Date(task.from), to: new Date(task.to) },
      {
        deprovisioningSlaHours: 24,
        now: new Date(task.now),
        controls: task.controls ? new Set(task.controls) : undefined,
      },
    );
    produced = {
      controls: report.controls.length,
      occurrences: report.populations.reduce((sum, p) => sum + p.occurrences.length, 0),
      deviations: report.controls.reduce((sum, c) => sum + c.deviations.total, 0),
      score: report.score,
    };
  } else {
    const lastDay = new Date(new Date(task.to).getTime() - 86_400_000).toISOString().slice(0, 10);
    const prepared = await prepareAuditPackage(
      database,
      task.workspace,
      `${task.from.slice(0, 10)}..${lastDay}`,
      {
        actor: systemActor,
        blobStore: new FileBlobStore(task.blobDir ?? task.dataDir),
        deprovisioningSlaHours: 24,
        checkpoint: false,
        now: new Date(task.now),
      },
    );
    const out = createWriteStream(task.file!);
    const written = prepared.write(out);
    await Promise.all([
      written,
      new Promise<void>((resolve, reject) => out.on('close', () => resolve()).on('error', reject)),
    ]);
    const result = await written;
    produced = { evidence: result.summary.evidence.items, files: result.files, bytes: result.bytes };
  }
  const ms = performance.now() - started;
  clearInterval(sampler);
  clearInterval(liveSampler);
  sample();
  // Where the memory is at the end: the JavaScript heap, and buffers outside it (the embedded
  // database's memory is an ArrayBuffer).
  const usage = process.memoryUsage();
  const mb = (n: number) => Math.round(n / 2 ** 20);
  process.stdout.write(
    `${JSON.stringify({ ms, openRssMb, peakRssMb: maxRssMb(), sampledRssMb: mb(sampled.rss), sampledHeapMb: mb(sampled.heapUsed), liveHeapMb: mb(sampled.live), heapUsedMb: mb(usage.heapUsed), arrayBuffersMb: mb(usage.arrayBuffers), ...produced })}\n`,
  );
} finally {
  await database.close();
}
