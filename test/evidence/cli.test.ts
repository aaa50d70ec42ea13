/**
 * `assay evidence …`: add with a file, list, show with proof (and the auditor's shell recipe run
 * on the files it writes), verify, checkpoint, redact, hold, retention; exit codes 0/1/2.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { sql } from 'kysely';
import { main } from '../../src/cli/main.ts';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { FileBlobStore } from '../../src/domains/evidence/core/blob-store.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDir } from './fixtures.ts';

// Blobs of these tests go to a directory of their own on both engines.
const blobDir = tempDir({ after: (fn) => process.on('exit', fn) }, 'assay-cli-blobs-');
process.env.ASSAY_BLOB_DIR = blobDir;

async function harness(t: TestContext) {
  const { url } = await createTestDatabase(t);
  const dataDir = join(tempDir(t, 'assay-cli-evidence-'), 'data');
  const target = url ? ['--database-url', url] : ['--data', dataDir];
  const assay = async (...args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(['node', 'assay', ...target, ...args], {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
    });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  };
  /** Direct database access between commands (the embedded database is single-process). */
  const withDatabase = async <T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>) => {
    const db = await openDatabase(loadConfig({ dataDir, databaseUrl: url }));
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  };
  for (const slug of ['acme', 'zenith']) {
    assert.equal((await assay('tenant', 'create', slug)).code, 0);
    assert.equal((await assay('scope', 'set', '--tenant', slug, '--categories', 'security')).code, 0);
  }
  return { assay, withDatabase, dir: tempDir(t, 'assay-cli-files-') };
}

const docScript = [
  ...readFileSync(new URL('../../docs/evidence-verification.md', import.meta.url), 'utf8').matchAll(
    /^```sh\n([\s\S]*?)^```$/gm,
  ),
]
  .map((m) => m[1])
  .join('\n');

function recipeTools(): string | false {
  const missing = ['sh', 'sed', 'cut', 'sha256sum', 'xxd', 'base64', 'openssl'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
  );
  return missing.length > 0 ? `recipe tools not installed: ${missing.join(', ')}` : false;
}

test('CLI: add with a file, list, show --out, and the documented recipe verifies the files', async (t) => {
  const { assay, dir } = await harness(t);
  const file = join(dir, 'mfa-report.csv');
  const bytes = `user,mfa\nana@acme.example,true\nbo@acme.example,true\n# ${Math.random()}\n`;
  writeFileSync(file, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const added = await assay(
    'evidence',
    'add',
    '--tenant',
    'acme',
    '--kind',
    'identity.mfa_report',
    '--controls',
    'AC-01',
    '--criteria',
    'CC6.1',
    '--subject-type',
    'system',
    '--subject-id',
    'okta',
    '--subject-name',
    'Okta',
    '--effective-at',
    '2026-03-01T00:00:00Z',
    '--ttl',
    '90d',
    '--content',
    '{"users": 2, "withMfa": 2}',
    '--file',
    file,
    '--sha256',
    sha256,
    '--json',
  );
  assert.equal(added.code, 0, added.stderr);
  const record = added.json().items[0];
  assert.equal(record.leafIndex, 0);
  assert.deepEqual(record.envelope.blob, {
    fileName: 'mfa-report.csv',
    mediaType: 'text/csv',
    sha256,
    size: bytes.length,
  });
  assert.equal(record.envelope.staleAfter, '2026-05-30T00:00:00.000Z');
  assert.equal(record.envelope.collector.type, 'user');
  assert.ok(existsSync(new FileBlobStore(blobDir).pathFor(sha256)));

  const input = join(dir, 'batch.json');
  writeFileSync(
    input,
    JSON.stringify(
      [1, 2, 3].map((i) => ({
        kind: 'access_review.decision',
        controls: ['AC-03'],
        subject: { type: 'account', id: `u${i}` },
        effectiveAt: '2026-03-02T00:00:00Z',
        content: { decision: 'keep', i },
      })),
    ),
  );
  const batch = await assay('evidence', 'add', '--tenant', 'acme', '--input', input, '--json');
  assert.equal(batch.code, 0, batch.stderr);
  assert.deepEqual(
    batch.json().items.map((i: { leafIndex: number }) => i.leafIndex),
    [1, 2, 3],
  );

  const listed = await assay('evidence', 'list', '--tenant', 'acme', '--control', 'AC-03', '--json');
  assert.equal(listed.json().items.length, 3);
  assert.match((await assay('evidence', 'list', '--tenant', 'acme')).stdout, /ENTRY\s+ID\s+KIND/);

  const unproven = await assay('evidence', 'show', record.id, '--tenant', 'acme', '--proof');
  assert.equal(unproven.code, 2);
  assert.match(unproven.stderr, /the ledger has no checkpoint yet; create one \(assay evidence checkpoint/);
  const checkpoint = await assay('evidence', 'checkpoint', '--tenant', 'acme', '--json');
  assert.equal(checkpoint.code, 0, checkpoint.stderr);
  assert.equal(checkpoint.json().checkpoint.treeSize, 4);

  const out = join(dir, 'proof');
  const shown = await assay('evidence', 'show', batch.json().items[1].id, '--tenant', 'acme', '--out', out);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /inclusion proof in the checkpoint of size 4/);
  assert.deepEqual(readdirSync(out).sort(), [
    'checkpoint.sig',
    'checkpoint.txt',
    'envelope.json',
    'inclusion-proof.txt',
    'leaf-index.txt',
    'ledger-key.pem',
  ]);

  const skip = recipeTools();
  if (skip) {
    t.diagnostic(skip);
  } else {
    writeFileSync(join(out, 'recipe.sh'), docScript);
    const run = spawnSync('sh', ['-e', 'recipe.sh'], {
      cwd: out,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    });
    const text = `${run.stdout}${run.stderr}`;
    assert.equal(run.status, 0, text);
    assert.match(text, /inclusion proof OK: leaf 2 is in the tree of 4 leaves/);
    assert.match(text, /Signature Verified Successfully/);
  }

  const verified = await assay('evidence', 'verify', '--tenant', 'acme');
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /verified: 4 entries, 1 checkpoints, 1 files/);

  // Isolation: zenith cannot see acme's item.
  const foreign = await assay('evidence', 'show', record.id, '--tenant', 'zenith', '--json');
  assert.equal(foreign.code, 2);
  assert.equal(foreign.json().error.code, 'evidence_not_found');
  assert.deepEqual((await assay('evidence', 'list', '--tenant', 'zenith', '--json')).json().items, []);
});

test('CLI: bad input exits 2 with a clear message and writes nothing', async (t) => {
  const { assay, dir } = await harness(t);
  const base = [
    'evidence',
    'add',
    '--tenant',
    'acme',
    '--kind',
    'policy.acknowledgement',
    '--effective-at',
    '2026-03-01T00:00:00Z',
  ];

  const unknownControl = await assay(...base, '--controls', 'AC-01,XX-42');
  assert.equal(unknownControl.code, 2);
  assert.match(
    unknownControl.stderr,
    /evidence\[0\]\.controls\[1\]: control "XX-42" does not exist in this workspace/,
  );

  const malformed = await assay(...base, '--content', '{"signed": true,\n "by": }');
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /--content: not valid JSON at line 2, column 8/);

  const badFile = join(dir, 'items.json');
  writeFileSync(badFile, '[{"kind": "x"');
  const badInput = await assay('evidence', 'add', '--tenant', 'acme', '--input', badFile, '--json');
  assert.equal(badInput.code, 2);
  assert.equal(badInput.json().error.code, 'invalid_json');

  const file = join(dir, 'policy.pdf');
  const bytes = `%PDF-1.7 acknowledgement ${Math.random()}`;
  writeFileSync(file, bytes);
  const wrongSha = await assay(...base, '--file', file, '--sha256', 'e'.repeat(64));
  assert.equal(wrongSha.code, 2);
  assert.match(wrongSha.stderr, /has SHA-256 [0-9a-f]{64}, expected e{64}; nothing was stored/);
  const actual = createHash('sha256').update(bytes).digest('hex');
  assert.equal(existsSync(new FileBlobStore(blobDir).pathFor(actual)), false);

  // A good file with bad evidence leaves no file behind either.
  const refused = await assay(...base, '--file', file, '--criteria', 'CC42.1');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /"CC42\.1" is not a Trust Services Criterion/);
  assert.equal(existsSync(new FileBlobStore(blobDir).pathFor(actual)), false);

  assert.equal((await assay(...base, '--ttl', 'soon')).code, 2);
  const none = await assay('evidence', 'list', '--tenant', 'acme', '--json');
  assert.deepEqual(none.json().items, []);
  const verify = await assay('evidence', 'verify', '--tenant', 'acme', '--json');
  assert.equal(verify.json().treeSize, 0);
});

test('CLI: verify exits 1 naming the altered entry; redact, hold and delete follow the rules', async (t) => {
  const { assay, withDatabase } = await harness(t);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const added = await assay(
      'evidence',
      'add',
      '--tenant',
      'acme',
      '--kind',
      'hr.termination',
      '--subject-type',
      'person',
      '--subject-id',
      `emp-${i}`,
      '--effective-at',
      '2021-06-01T00:00:00Z',
      '--content',
      `{"employee": ${i}}`,
      '--json',
    );
    assert.equal(added.code, 0, added.stderr);
    ids.push(added.json().items[0].id);
  }
  assert.equal((await assay('evidence', 'checkpoint', '--tenant', 'acme')).code, 0);

  const hold = await assay(
    'evidence',
    'hold',
    'add',
    '--tenant',
    'acme',
    '--subject',
    'person:emp-1',
    '--reason',
    'tribunal claim',
    '--json',
  );
  assert.equal(hold.code, 0, hold.stderr);
  const held = await assay(
    'evidence',
    'delete',
    ids[1]!,
    '--tenant',
    'acme',
    '--reason',
    'retention elapsed',
  );
  assert.equal(held.code, 2);
  assert.match(held.stderr, /is under legal hold/);
  assert.equal(
    (await assay('evidence', 'delete', ids[2]!, '--tenant', 'acme', '--reason', 'retention elapsed')).code,
    0,
  );
  assert.equal(
    (
      await assay(
        'evidence',
        'retention',
        'set',
        '--tenant',
        'acme',
        '--kind',
        'hr.termination',
        '--days',
        '3650',
      )
    ).code,
    0,
  );
  const kept = await assay(
    'evidence',
    'delete',
    ids[3]!,
    '--tenant',
    'acme',
    '--reason',
    'retention elapsed',
  );
  assert.equal(kept.code, 2);
  assert.match(kept.stderr, /must be kept until 2031-05-30/);
  const redacted = await assay(
    'evidence',
    'redact',
    ids[0]!,
    '--tenant',
    'acme',
    '--reason',
    'erasure request',
    '--envelope',
  );
  assert.equal(redacted.code, 0, redacted.stderr);
  assert.match(redacted.stdout, /redacted content, envelope of evidence/);
  assert.equal(
    (await assay('evidence', 'hold', 'release', hold.json().id, '--tenant', 'acme', '--reason', 'settled'))
      .code,
    0,
  );

  const ok = await assay('evidence', 'verify', '--tenant', 'acme', '--json');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.json().erased, 2);

  await withDatabase(async (db) => {
    await db.inSystem(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await sql`update evidence_items set content = convert_to('{"employee": 99}', 'UTF8') where id = ${ids[4]}`.execute(
        trx,
      );
    });
  });
  const bad = await assay('evidence', 'verify', '--tenant', 'acme');
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    new RegExp(`first: entry 4 \\(evidence ${ids[4]}\\): the stored payload does not hash`),
  );
});
