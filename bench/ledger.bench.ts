/**
 * Evidence ledger throughput:
 *
 * - append rate: appendEvidence (the path every domain uses) in transactions of
 *   ASSAY_BENCH_LEDGER_BATCH items (default 1,000), ASSAY_BENCH_LEDGER_APPEND items in all
 *   (default 20,000), on the embedded database (on disk) and — when ASSAY_BENCH_DATABASE_URL, DATABASE_URL or
 *   ASSAY_TEST_DATABASE_URL names a server — on PostgreSQL, in a scratch database created and
 *   dropped for the run;
 * - verify rate: a ledger of ASSAY_BENCH_LEDGER_ITEMS entries (default 200,000 so that the whole
 *   suite fits its time budget — set 1000000 for the target's size; filled
 *   straight in SQL with real canonical envelopes, content hashes and leaf hashes, then
 *   checkpointed) verified end to end by verifyLedger, compared with the raw SHA-256 rate over
 *   the same envelope and payload bytes, hashed one item at a time as verification must, measured
 *   in the same run. Targets: verification at least half the raw hashing rate; a million entries
 *   in under 10 s (below a million, the figure is extrapolated and labelled so).
 */
import * as crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { type Database, openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { systemActor } from '../src/domains/audit/actor.ts';
import { FileBlobStore } from '../src/domains/evidence/core/blob-store.ts';
import { canonicalize } from '../src/domains/evidence/core/canonical-json.ts';
import { MerkleTreeBuilder } from '../src/domains/evidence/core/merkle.ts';
import {
  preferLedgerOrderScans,
  readLeafHashes,
  readVerificationChunk,
} from '../src/domains/evidence/evidence.repository.ts';
import {
  appendEvidence,
  createCheckpoint,
  type EvidenceInput,
  evidenceProof,
  verifyLedger,
} from '../src/domains/evidence/evidence.service.ts';
import { LeafScanner } from '../src/domains/evidence/verify-ledger.ts';
import { setScope } from '../src/domains/scope/scope.service.ts';
import { createWorkspace } from '../src/domains/workspaces/workspaces.service.ts';
import { benchServerUrl } from './bench-data.ts';
import type { BenchReport } from './run.ts';

export const name = 'evidence ledger';

type OneShot = (algorithm: string, data: Uint8Array, encoding: 'latin1') => string;
const oneShot = (crypto as unknown as { hash: OneShot }).hash;

function setting(report: BenchReport, key: string, fallback: number): number {
  const raw = process.env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${key} must be a positive whole number`);
  report.note(`${key}=${value}`);
  return value;
}

interface Engine {
  label: string;
  database: Database;
  dispose(): Promise<void>;
}

async function embedded(): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'assay-bench-ledger-'));
  const database = await openDatabase(loadConfig({ dataDir: join(dir, 'data') }, {}));
  await migrate(database);
  return {
    label: 'embedded',
    database,
    async dispose() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function server(url: string): Promise<Engine> {
  const scratch = `assay_bench_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${scratch}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${scratch}`;
  const database = await openDatabase({ dataDir: tmpdir(), databaseUrl: target.toString() });
  await migrate(database);
  return {
    label: 'postgresql',
    database,
    async dispose() {
      await database.close();
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      await dropper.query(`drop database if exists ${scratch} with (force)`);
      await dropper.end();
    },
  };
}

async function workspace(database: Database, slug: string): Promise<string> {
  const row = await createWorkspace(database, systemActor, { slug });
  await setScope(database, systemActor, slug, ['security']);
  return row.id;
}

function input(i: number): EvidenceInput {
  return {
    kind: 'check.result',
    controls: ['AC-01'],
    criteria: ['CC6.1'],
    subject: { type: 'account', id: `okta:00u${i}`, name: `Account ${i}` },
    effectiveAt: new Date(Date.UTC(2026, 0, 1) + i * 1000),
    collector: { type: 'check', id: 'identity.mfa_enabled' },
    ttlSeconds: 86_400,
    content: { passed: i % 7 !== 0, factors: ['totp', 'webauthn'], n: i },
  };
}

async function appendRate(report: BenchReport, engine: Engine, total: number, batch: number) {
  const workspaceId = await workspace(engine.database, 'append');
  const started = performance.now();
  for (let from = 0; from < total; from += batch) {
    const inputs = Array.from({ length: Math.min(batch, total - from) }, (_, k) => input(from + k));
    await engine.database.inWorkspace(workspaceId, (trx) => appendEvidence(trx, workspaceId, inputs));
  }
  const seconds = (performance.now() - started) / 1000;
  report.metric(
    `append rate, ${engine.label} (transactions of ${batch})`,
    Math.round(total / seconds),
    'items/s',
  );
}

/**
 * Fills a ledger of `total` entries in SQL: canonical envelopes (the shape envelope.ts writes),
 * their content hashes and leaf hashes computed by the database, then the head's frontier.
 */
async function fill(engine: Engine, workspaceId: string, total: number) {
  const step = 100_000;
  for (let start = 0; start < total; start += step) {
    const end = Math.min(total, start + step);
    await sql`
      insert into evidence_items (workspace_id, leaf_index, id, kind, control_ids, criterion_ids, subject_type,
        subject_id, effective_at, collected_at, stale_after, collector_type, collector_id, content_sha256, content,
        envelope, leaf_hash)
      select ${workspaceId}::uuid, e.i, e.id, 'check.result', '{AC-01}', '{CC6.1}', 'account', e.subject, e.at, e.at,
        e.at + interval '1 day', 'check', 'identity.mfa_enabled', e.content_sha256, e.content, e.envelope,
        sha256('\\x00'::bytea || e.envelope)
      from (
        select c.*, convert_to(
          '{"blob":null,"collectedAt":"' || c.iso || '","collector":{"id":"identity.mfa_enabled","name":null,"type":"check"},'
          || '"contentSha256":"' || c.content_sha256 || '","effectiveAt":"' || c.iso || '","id":"' || c.id
          || '","kind":"check.result","proves":{"controls":["AC-01"],"criteria":["CC6.1"]},"staleAfter":"' || c.stale
          || '","subject":{"id":"' || c.subject || '","name":"Account ' || c.i || '","type":"account"},'
          || '"type":"assay.evidence/v1","workspace":"' || ${workspaceId} || '"}', 'UTF8') as envelope
        from (
          select b.*, encode(sha256(b.content), 'hex') as content_sha256
          from (
            select i, gen_random_uuid() as id, 'okta:00u' || i as subject,
              timestamptz '2026-01-01 00:00:00Z' + i * interval '1 second' as at,
              to_char((timestamptz '2026-01-01 00:00:00Z' + i * interval '1 second') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as iso,
              to_char((timestamptz '2026-01-02 00:00:00Z' + i * interval '1 second') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as stale,
              convert_to('{"factors":["totp","webauthn"],"n":' || i || ',"passed":' || (i % 7 <> 0)::text || '}', 'UTF8') as content
            from generate_series(${start}::bigint, ${end - 1}::bigint) as i
          ) b
        ) c
      ) e`.execute(engine.database.db);
  }
  const hashes = await engine.database.inWorkspace(workspaceId, (trx) =>
    readLeafHashes(trx, workspaceId, total),
  );
  const builder = new MerkleTreeBuilder();
  for (let i = 0; i < total; i++) builder.append(hashes.subarray(i * 32, i * 32 + 32));
  const frontier = builder.frontier();
  await engine.database.db
    .insertInto('evidence_ledger_heads')
    .values({ workspace_id: workspaceId, tree_size: frontier.size, frontier: frontier.hashes })
    .execute();
}

/**
 * The raw SHA-256 rate over the bytes verify hashes (each envelope and each payload), and the
 * entry checks alone over the same chunks, interleaved chunk by chunk so that both see the same
 * machine load.
 */
async function hashingRates(engine: Engine, workspaceId: string, total: number, chunkRows: number) {
  let bytes = 0;
  let rawMs = 0;
  let checkMs = 0;
  const scanner = new LeafScanner(workspaceId, []);
  await engine.database.inWorkspace(workspaceId, async (trx) => {
    await preferLedgerOrderScans(trx);
    for (let start = 0; start < total; start += chunkRows) {
      const chunk = await readVerificationChunk(
        trx,
        engine.database.kind,
        workspaceId,
        start,
        Math.min(total, start + chunkRows),
      );
      // Slice boundaries first, so that only hashing is timed (record layout: see
      // readVerificationChunk; the bench's leaf hashes are all 32 bytes).
      const slices: Buffer[] = [];
      const records = chunk.records;
      let p = 0;
      while (p < records.length) {
        const envelopeLengthAt = p + chunk.recordHeader + 56;
        const envelopeLength = records.readInt32BE(envelopeLengthAt);
        const envelopeEnd = envelopeLengthAt + 4 + envelopeLength;
        const contentLength = records.readInt32BE(envelopeEnd);
        slices.push(
          records.subarray(envelopeLengthAt + 4, envelopeEnd),
          records.subarray(envelopeEnd + 4, envelopeEnd + 4 + contentLength),
        );
        p = envelopeEnd + 4 + Math.max(contentLength, 0);
      }
      const t0 = performance.now();
      for (const slice of slices) {
        oneShot('sha256', slice, 'latin1');
        bytes += slice.length;
      }
      const t1 = performance.now();
      scanner.feed(chunk);
      checkMs += performance.now() - t1;
      rawMs += t1 - t0;
    }
  });
  if (scanner.failures.length > 0) throw new Error(scanner.failures[0]!.message);
  return { bytes, rawSeconds: rawMs / 1000, checkSeconds: checkMs / 1000 };
}

async function verifyRate(report: BenchReport, engine: Engine, total: number) {
  const workspaceId = await workspace(engine.database, 'verify');
  const filled = performance.now();
  await fill(engine, workspaceId, total);
  report.note(
    `${engine.label}: filled ${total.toLocaleString('en')} entries in ${((performance.now() - filled) / 1000).toFixed(1)} s`,
  );
  // The SQL-built envelopes are what the product writes: canonical JSON of the envelope shape.
  const sample = await engine.database.inWorkspace(workspaceId, (trx) =>
    sql<{
      e: string;
    }>`select convert_from(envelope, 'UTF8') as e from evidence_items where leaf_index = ${total - 1}`.execute(
      trx,
    ),
  );
  const text = sample.rows[0]!.e;
  if (canonicalize(JSON.parse(text)) !== text) throw new Error('the bench envelopes are not canonical');
  await createCheckpoint(engine.database, workspaceId);

  const store = new FileBlobStore(join(tmpdir(), 'assay-bench-no-blobs'));
  const result = await verifyLedger(engine.database, store, 'verify');
  if (!result.ok) throw new Error(`the bench ledger does not verify: ${result.firstFailure?.message}`);
  const seconds = result.timings.totalMs / 1000;
  const raw = await hashingRates(engine, workspaceId, total, 4_096);
  if (raw.bytes !== result.bytesHashed) {
    throw new Error(`hashed ${raw.bytes} raw bytes but verify hashed ${result.bytesHashed}`);
  }
  const mb = result.bytesHashed / 1e6;
  const rawRate = mb / raw.rawSeconds;
  const verifyRate = mb / seconds;
  report.metric(`verify ${total.toLocaleString('en')} entries, ${engine.label}`, seconds, 's');
  report.metric(`verify rate, ${engine.label}`, Math.round(total / seconds), 'items/s');
  report.metric(`verify rate, ${engine.label}`, verifyRate, 'MB/s');
  report.metric(`  of which reading from the database, ${engine.label}`, result.timings.readMs / 1000, 's');
  report.metric(
    `  of which checking (hashes, tree, checkpoints), ${engine.label}`,
    result.timings.checkMs / 1000,
    's',
  );
  report.metric(`raw SHA-256 over the same bytes, ${engine.label}`, rawRate, 'MB/s');
  report.metric(`verify / raw hashing rate, ${engine.label} (target ≥ 0.5)`, verifyRate / rawRate, 'ratio');
  report.metric(
    `entry checks alone / raw hashing rate, ${engine.label}`,
    raw.rawSeconds / raw.checkSeconds,
    'ratio',
  );
  const perMillion = (seconds * 1_000_000) / total;
  const howKnown = total === 1_000_000 ? 'measured' : `extrapolated from ${total.toLocaleString('en')}`;
  report.note(
    `${engine.label}: a million entries verify in ${perMillion.toFixed(1)} s (${howKnown}; target < 10 s: ${perMillion < 10 ? 'met' : 'missed'}); ` +
      `verify at ${(verifyRate / rawRate).toFixed(2)}× the raw hashing rate (target ≥ 0.5: ${verifyRate / rawRate >= 0.5 ? 'met' : 'missed'})`,
  );

  const ids = await engine.database.inWorkspace(workspaceId, (trx) =>
    trx
      .selectFrom('evidence_items')
      .select('id')
      .where('leaf_index', '=', Math.floor(total / 2))
      .executeTakeFirstOrThrow(),
  );
  const proofStarted = performance.now();
  await evidenceProof(engine.database, 'verify', ids.id);
  report.metric(
    `inclusion proof in ${total.toLocaleString('en')} entries, ${engine.label}`,
    performance.now() - proofStarted,
    'ms',
  );
}

export async function run(report: BenchReport): Promise<void> {
  const appendItems = setting(report, 'ASSAY_BENCH_LEDGER_APPEND', 20_000);
  const batch = setting(report, 'ASSAY_BENCH_LEDGER_BATCH', 1_000);
  const verifyItems = setting(report, 'ASSAY_BENCH_LEDGER_ITEMS', 200_000);
  const url = benchServerUrl(report.config);
  const engines: (() => Promise<Engine>)[] = [embedded];
  if (url) engines.push(() => server(url));
  else
    report.note(
      'no ASSAY_BENCH_DATABASE_URL, DATABASE_URL or ASSAY_TEST_DATABASE_URL: PostgreSQL figures skipped',
    );
  for (const open of engines) {
    const engine = await open();
    try {
      await appendRate(report, engine, appendItems, batch);
      await verifyRate(report, engine, verifyItems);
    } finally {
      await engine.dispose();
    }
  }
}
