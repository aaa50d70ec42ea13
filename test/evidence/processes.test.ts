/**
 * Real processes: a writer killed with SIGKILL mid-stream loses nothing it acknowledged, and
 * several writers appending at once (PostgreSQL) keep one consistent tree per workspace.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { FileBlobStore } from '../../src/domains/evidence/core/blob-store.ts';
import { createCheckpoint, verifyLedger } from '../../src/domains/evidence/evidence.service.ts';
import { createTestDatabase, testEngine } from '../helpers/database.ts';
import { addWorkspace, tempDir } from './fixtures.ts';

const child = fileURLToPath(new URL('./append-child.ts', import.meta.url));

function startWriter(options: Record<string, unknown>): {
  process: ChildProcess;
  acks: string[];
  done: Promise<number | null>;
  stderr: () => string;
} {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks: string[] = [];
  let buffered = '';
  let stderr = '';
  proc.stdout!.on('data', (data: Buffer) => {
    buffered += data.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('ack ')) acks.push(line);
  });
  proc.stderr!.on('data', (data: Buffer) => {
    stderr += data.toString('utf8');
  });
  const done = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { process: proc, acks, done, stderr: () => stderr };
}

async function until(condition: () => boolean, what: string, done: Promise<unknown>) {
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  while (!condition()) {
    if (exited) throw new Error(`the writer exited before ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a writer killed mid-stream loses no acknowledged evidence, and the ledger verifies', async (t) => {
  const blobDir = tempDir(t, 'assay-crash-blobs-');
  let target: { dataDir?: string; databaseUrl?: string };
  let config: ReturnType<typeof loadConfig>;
  let workspaceId: string;
  if (testEngine === 'postgres') {
    const testDb = await createTestDatabase(t);
    target = { databaseUrl: testDb.url! };
    config = testDb.config;
    workspaceId = await addWorkspace(testDb.database, 'acme');
  } else {
    // An embedded database on disk, as `assay serve` uses it.
    const dataDir = join(tempDir(t, 'assay-crash-'), 'data');
    target = { dataDir };
    config = loadConfig({ dataDir }, {});
    const database = await openDatabase(config);
    await migrate(database);
    workspaceId = await addWorkspace(database, 'acme');
    await database.close();
  }

  const writer = startWriter({ ...target, workspaceId, blobDir, tag: 'crash', checkpointEvery: 9 });
  t.after(() => writer.process.kill('SIGKILL'));
  await until(() => writer.acks.length >= 150, '150 acknowledgements', writer.done);
  writer.process.kill('SIGKILL');
  assert.equal(await writer.done, null, `killed (stderr: ${writer.stderr()})`);
  const acknowledged = writer.acks.map((line) => line.split(' ')[1]!);
  assert.ok(acknowledged.length >= 150);

  // Reopen (the embedded database's lock file names a dead process: it is taken over).
  const database = await openDatabase({ ...config, ...target, databaseUrl: target.databaseUrl });
  t.after(() => database.close());
  const stored = await database.inWorkspace(workspaceId, async (trx) => {
    const { rows } = await sql<{ id: string }>`select id from evidence_items`.execute(trx);
    return new Set(rows.map((r) => r.id));
  });
  const lost = acknowledged.filter((id) => !stored.has(id));
  assert.deepEqual(lost, [], 'every acknowledged item survived');
  await createCheckpoint(database, workspaceId);
  const verification = await verifyLedger(database, new FileBlobStore(blobDir), 'acme');
  assert.equal(verification.ok, true, JSON.stringify(verification.failures.slice(0, 3)));
  assert.ok(verification.treeSize >= acknowledged.length);
  assert.ok(verification.blobs > 0);
});

test('writers in several processes keep one consistent tree per workspace', {
  skip: testEngine === 'pglite' ? 'the embedded database is single-process; runs against PostgreSQL' : false,
}, async (t) => {
  const testDb = await createTestDatabase(t);
  const blobDir = tempDir(t, 'assay-concurrent-blobs-');
  const workspaces = {
    acme: await addWorkspace(testDb.database, 'acme'),
    zenith: await addWorkspace(testDb.database, 'zenith'),
  };
  const perWriter = 120;
  const writers = [0, 1, 2, 3, 4, 5].map((n) => {
    const slug = n % 3 === 2 ? 'zenith' : 'acme';
    return {
      slug,
      writer: startWriter({
        databaseUrl: testDb.url,
        workspaceId: workspaces[slug as 'acme' | 'zenith'],
        blobDir,
        count: perWriter,
        tag: `w${n}`,
        checkpointEvery: 4,
      }),
    };
  });
  t.after(() => {
    for (const { writer } of writers) writer.process.kill('SIGKILL');
  });
  for (const { writer } of writers) assert.equal(await writer.done, 0, writer.stderr());

  for (const [slug, workspaceId] of Object.entries(workspaces)) {
    const mine = writers.filter((w) => w.slug === slug);
    const expected = mine.length * perWriter;
    // Each writer saw its items get increasing, distinct leaf indexes.
    const all = new Set<number>();
    for (const { writer } of mine) {
      const leaves = writer.acks.map((line) => Number(line.split(' ')[2]));
      assert.equal(leaves.length, perWriter);
      assert.deepEqual(
        leaves,
        [...leaves].sort((a, b) => a - b),
      );
      for (const leaf of leaves) all.add(leaf);
    }
    assert.equal(all.size, expected, 'no leaf index handed out twice');
    assert.deepEqual(
      [...all].sort((a, b) => a - b),
      Array.from({ length: expected }, (_, i) => i),
      'no gaps',
    );
    await createCheckpoint(testDb.database, workspaceId);
    const verification = await verifyLedger(testDb.database, new FileBlobStore(blobDir), slug);
    assert.equal(verification.ok, true, JSON.stringify(verification.failures.slice(0, 3)));
    assert.equal(verification.treeSize, expected);
    assert.ok(verification.checkpoints > 1, 'checkpoints were signed while writers appended');
  }
});
