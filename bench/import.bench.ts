/**
 * Bulk import throughput and memory:
 *
 * - import rate: ASSAY_BENCH_IMPORT_EVENTS generated Okta System Log sign-ins (default 20,000, a
 *   pool of 2,000 people) imported with `importFile` — read, parse, normalise, resolve accounts,
 *   dedupe, store the events and their ledger evidence, in one batch — compared, in the same run
 *   and on the same database, with a raw multi-row INSERT (500 rows a statement, one transaction)
 *   of the very rows the import stores into the same `events` table. Each is run twice, in
 *   turns, and the better of the two is kept, so both see the same machine. Target: the import at
 *   least half the raw rate.
 * - peak memory: a generated file of ASSAY_BENCH_IMPORT_MB megabytes (default 64; set 1024 for
 *   the 1 GB run: `ASSAY_BENCH_IMPORT_MB=1024 npm run bench -- --only import`) imported by a child
 *   process — the CLI's path, a file streamed from disk — whose peak resident set size (the
 *   operating system's count, embedded database included) is reported. Target: under 512 MB.
 *
 * Both run on the embedded database on disk and — when ASSAY_BENCH_DATABASE_URL, DATABASE_URL or ASSAY_TEST_DATABASE_URL
 * names a server — on PostgreSQL, in scratch databases created and dropped for the run.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { parseImportFile } from '../src/connectors/registry.ts';
import { type Database, openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { statisticsRefresh } from '../src/db/statistics.ts';
import { systemActor } from '../src/domains/audit/actor.ts';
import type { NormalizedEvent } from '../src/domains/events/event.model.ts';
import { importFile } from '../src/domains/ingest/import.service.ts';
import { createWorkspace } from '../src/domains/workspaces/workspaces.service.ts';
import { benchServerUrl } from './bench-data.ts';
import type { BenchReport } from './run.ts';

export const name = 'bulk import';

const people = 2_000;
const rawChunk = 500;

function setting(report: BenchReport, key: string, fallback: number): number {
  const raw = process.env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${key} must be a positive whole number`);
  report.note(`${key}=${value}`);
  return value;
}

/** One Okta System Log sign-in, shaped like the vendor's (about 1.3 KB a line). */
export function oktaSignIn(i: number, seed: string): string {
  const person = i % people;
  const at = Date.UTC(2026, 0, 1) + i * 1000;
  return JSON.stringify({
    uuid: `${seed}-${i.toString(16).padStart(8, '0')}`,
    published: new Date(at).toISOString(),
    eventType: 'user.session.start',
    version: '0',
    displayMessage: 'User login to Okta',
    severity: 'INFO',
    legacyEventType: 'core.user_auth.login_success',
    actor: {
      id: `00u${person.toString(36).padStart(17, '0')}`,
      type: 'User',
      alternateId: `person${person}@bench.example`,
      displayName: `Person ${person}`,
      detailEntry: null,
    },
    client: {
      userAgent: {
        rawUserAgent:
          'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
        os: 'Mac OS X',
        browser: 'CHROME',
      },
      zone: 'null',
      device: 'Computer',
      id: null,
      ipAddress: `203.0.${(i >> 8) & 255}.${i & 255}`,
      geographicalContext: {
        city: 'Toronto',
        state: 'Ontario',
        country: 'Canada',
        postalCode: 'M4M',
        geolocation: { lat: 43.6567, lon: -79.34 },
      },
    },
    outcome: { result: 'SUCCESS', reason: null },
    authenticationContext: {
      authenticationProvider: null,
      credentialProvider: null,
      credentialType: null,
      issuer: null,
      interface: null,
      authenticationStep: 0,
      externalSessionId: `102${seed}${i}`,
    },
    securityContext: {
      asNumber: 577,
      asOrg: 'example',
      isp: 'exampleISP',
      domain: 'example.com',
      isProxy: false,
    },
    debugContext: {
      debugData: { requestId: `req-${i}`, requestUri: '/idp/idx/identify', url: '/idp/idx/identify?' },
    },
    transaction: { type: 'WEB', id: `tx-${i}`, detail: {} },
    target: [
      {
        id: '0oa1bench',
        type: 'AppInstance',
        alternateId: 'Okta Admin Console',
        displayName: 'Okta Admin Console',
        detailEntry: null,
      },
    ],
    request: { ipChain: [{ ip: `203.0.${(i >> 8) & 255}.${i & 255}`, version: 'V4' }] },
  });
}

/** Writes `count` lines (or lines until `bytes`) to `path`; returns the number of lines. */
export async function writeSignIns(path: string, limit: { count?: number; bytes?: number }, seed: string) {
  const out = createWriteStream(path);
  let written = 0;
  let lines = 0;
  let buffer = '';
  const done = () =>
    limit.count !== undefined ? lines >= limit.count : written + buffer.length >= (limit.bytes ?? 0);
  while (!done()) {
    buffer += `${oktaSignIn(lines, seed)}\n`;
    lines++;
    if (buffer.length >= 1 << 20) {
      written += buffer.length;
      if (!out.write(buffer)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      buffer = '';
    }
  }
  out.end(buffer);
  await new Promise<void>((resolve, reject) => out.on('finish', () => resolve()).on('error', reject));
  return lines;
}

interface Engine {
  label: string;
  database: Database;
  /** For a child process: the same database. */
  target: string[];
  dispose(): Promise<void>;
}

async function embedded(dir: string): Promise<Engine> {
  const dataDir = join(dir, 'data');
  const database = await openDatabase(loadConfig({ dataDir }, {}));
  await migrate(database);
  return {
    label: 'embedded',
    database,
    target: ['--data', dataDir],
    async dispose() {
      await database.close();
    },
  };
}

async function server(url: string): Promise<Engine> {
  const scratch = `assay_bench_${randomBytes(6).toString('hex')}`;
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
    target: ['--database-url', target.toString()],
    async dispose() {
      await database.close();
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      await dropper.query(`drop database if exists ${scratch} with (force)`);
      await dropper.end();
    },
  };
}

/** The rows `insertEvents` would write for these events, as a plain multi-row INSERT. */
async function rawInsert(
  database: Database,
  workspaceId: string,
  events: NormalizedEvent[],
): Promise<number> {
  const started = performance.now();
  await database.inWorkspace(workspaceId, async (trx) => {
    for (let from = 0; from < events.length; from += rawChunk) {
      await trx
        .insertInto('events')
        .values(
          events.slice(from, from + rawChunk).map((event) => {
            const { raw, ...data } = event;
            return {
              workspace_id: workspaceId,
              source: event.source,
              source_key: event.sourceKey,
              system: event.system,
              time: event.time,
              class_uid: event.classUid,
              activity_id: event.activityId,
              type_uid: event.typeUid,
              action: event.action,
              outcome: event.outcome,
              actor_identity_id: null,
              target_identity_id: null,
              person_id: null,
              repository: event.repository ?? null,
              data: JSON.stringify(data),
              raw: raw === undefined ? null : JSON.stringify(raw),
              batch_id: null,
            };
          }),
        )
        .execute();
    }
  });
  return (performance.now() - started) / 1000;
}

async function importRate(report: BenchReport, engine: Engine, dir: string, count: number) {
  const file = join(dir, `signins-${engine.label}.jsonl`);
  await writeSignIns(file, { count }, randomBytes(4).toString('hex'));
  // The rows the import stores, normalised ahead of time (untimed) for the raw INSERT.
  const events: NormalizedEvent[] = [];
  for await (const record of parseImportFile('okta-system-log', file)) {
    if (record.type === 'event') events.push(record.event);
  }
  if (events.length !== count) throw new Error(`expected ${count} events, parsed ${events.length}`);
  const rawSeconds: number[] = [];
  const importSeconds: number[] = [];
  for (let round = 0; round < 2; round++) {
    const raw = await createWorkspace(engine.database, systemActor, { slug: `raw-${engine.label}-${round}` });
    rawSeconds.push(await rawInsert(engine.database, raw.id, events));
    const slug = `import-${engine.label}-${round}`;
    await createWorkspace(engine.database, systemActor, { slug });
    const started = performance.now();
    const summary = await importFile(
      engine.database,
      systemActor,
      slug,
      'okta-system-log',
      createReadStream(file),
      {
        fileName: 'signins.jsonl',
      },
    );
    importSeconds.push((performance.now() - started) / 1000);
    // The statistics refresh an import starts after its commit must not run into the next
    // round's raw INSERT (the baseline).
    await statisticsRefresh(engine.database);
    if (summary.eventsStored !== count)
      throw new Error(`imported ${summary.eventsStored} of ${count} events`);
  }
  const rawRate = count / Math.min(...rawSeconds);
  const rate = count / Math.min(...importSeconds);
  report.metric(`raw multi-row INSERT, ${engine.label}`, Math.round(rawRate), 'events/s');
  report.metric(`importFile end to end, ${engine.label}`, Math.round(rate), 'events/s');
  report.metric(`import / raw INSERT rate, ${engine.label} (target ≥ 0.5)`, rate / rawRate, 'ratio');
  report.note(
    `${engine.label}: ${count.toLocaleString('en')} events (${people.toLocaleString('en')} people): import ` +
      `${(rate / rawRate).toFixed(2)}× the raw INSERT rate (target ≥ 0.5: ${rate / rawRate >= 0.5 ? 'met' : 'missed'}); ` +
      'the import also writes each event to the evidence ledger and resolves its account',
  );
}

const child = fileURLToPath(new URL('./import-memory.child.ts', import.meta.url));

/** Imports a large file in a child process and reports its peak resident set size. */
async function peakMemory(report: BenchReport, engine: Engine, dir: string, megabytes: number) {
  const file = join(dir, `large-${engine.label}.jsonl`);
  const lines = await writeSignIns(file, { bytes: megabytes * 1024 * 1024 }, randomBytes(4).toString('hex'));
  const bytes = statSync(file).size;
  // The parent's connection would hold the embedded database's lock.
  await engine.database.close();
  const output = await new Promise<string>((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, ...engine.target, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.on('error', reject);
    proc.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`import child exited with ${code}`)),
    );
  });
  const result = JSON.parse(output) as { seconds: number; maxRssBytes: number; eventsStored: number };
  if (result.eventsStored !== lines) throw new Error(`imported ${result.eventsStored} of ${lines} events`);
  const mb = result.maxRssBytes / (1024 * 1024);
  report.metric(
    `peak RSS importing ${(bytes / 1024 ** 2).toFixed(0)} MB, ${engine.label} (target < 512)`,
    mb,
    'MB',
  );
  report.metric(`large import rate, ${engine.label}`, Math.round(lines / result.seconds), 'events/s');
  report.note(
    `${engine.label}: ${lines.toLocaleString('en')} events, ${(bytes / 1024 ** 2).toFixed(0)} MB in ${result.seconds.toFixed(1)} s, ` +
      `peak RSS ${mb.toFixed(0)} MB (target < 512 MB: ${mb < 512 ? 'met' : 'missed'})`,
  );
}

export async function run(report: BenchReport): Promise<void> {
  const count = setting(report, 'ASSAY_BENCH_IMPORT_EVENTS', 20_000);
  const megabytes = setting(report, 'ASSAY_BENCH_IMPORT_MB', 64);
  const url = benchServerUrl(report.config);
  const engines: ((dir: string) => Promise<Engine>)[] = [embedded];
  if (url) engines.push(() => server(url));
  else
    report.note(
      'no ASSAY_BENCH_DATABASE_URL, DATABASE_URL or ASSAY_TEST_DATABASE_URL: PostgreSQL figures skipped',
    );
  for (const open of engines) {
    const dir = mkdtempSync(join(tmpdir(), 'assay-bench-import-'));
    const engine = await open(dir);
    try {
      await importRate(report, engine, dir, count);
      await peakMemory(report, engine, dir, megabytes);
    } finally {
      await engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
