/**
 * The evidence API: adding evidence with a file, proofs that an independent RFC 9162
 * implementation accepts, bad input, erasure rules, and workspace isolation.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { test } from 'node:test';
import { sql } from 'kysely';
import { evidenceBlobStore } from '../../src/domains/evidence/evidence-blobs.ts';
import { buildTestApp } from '../helpers/app.ts';
import { checkConsistency, checkInclusion, leafOf, merkleRoot } from './rfc9162.ts';

type TestApp = Awaited<ReturnType<typeof buildTestApp>>;

async function workspace(ctx: TestApp, slug: string): Promise<string> {
  const created = await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug } });
  assert.equal(created.statusCode, 201, created.body);
  const scoped = await ctx.app.inject({
    method: 'PUT',
    url: `/api/v1/workspaces/${slug}/scope`,
    payload: { categories: ['security'] },
  });
  assert.equal(scoped.statusCode, 200, scoped.body);
  return created.json().id;
}

function item(i: number, extra: Record<string, unknown> = {}) {
  return {
    kind: 'change.approval',
    controls: ['CHG-01'],
    criteria: ['CC8.1'],
    subject: { type: 'system', id: `repo-${i % 4}`, name: 'payments-api' },
    effectiveAt: `2026-02-${String((i % 28) + 1).padStart(2, '0')}T12:00:00Z`,
    ttlSeconds: 30 * 86_400,
    content: { pullRequest: 1000 + i, approvedBy: 'lead@acme.example', note: 'café ✓' },
    ...extra,
  };
}

async function add(ctx: TestApp, slug: string, items: unknown[]) {
  const response = await ctx.app.inject({
    method: 'POST',
    url: `/api/v1/workspaces/${slug}/evidence`,
    payload: { items },
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json().items as { id: string; leafIndex: number; leafHash: string }[];
}

async function upload(ctx: TestApp, slug: string, bytes: Buffer, sha256?: string) {
  return ctx.app.inject({
    method: 'PUT',
    url: `/api/v1/workspaces/${slug}/evidence/blobs${sha256 ? `?sha256=${sha256}` : ''}`,
    headers: { 'content-type': 'application/octet-stream' },
    payload: bytes,
  });
}

async function checkpoint(ctx: TestApp, slug: string) {
  const response = await ctx.app.inject({
    method: 'POST',
    url: `/api/v1/workspaces/${slug}/evidence-ledger/checkpoints`,
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json().checkpoint as {
    treeSize: number;
    rootHash: string;
    body: string;
    signature: string;
  };
}

test('API: evidence with a file, shown and downloaded; the ledger verifies', async (t) => {
  const ctx = await buildTestApp(t);
  await workspace(ctx, 'acme');
  const bytes = Buffer.from(`approval screenshot ${Math.random()}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  t.after(() => evidenceBlobStore(ctx.config).delete(sha256));
  const uploaded = await upload(ctx, 'acme', bytes, sha256);
  assert.equal(uploaded.statusCode, 201, uploaded.body);
  assert.deepEqual(uploaded.json(), { sha256, size: bytes.length, created: true });
  assert.equal((await upload(ctx, 'acme', bytes)).json().created, false, 'stored once');

  const [record] = await add(ctx, 'acme', [
    item(1, { blob: { sha256, mediaType: 'image/png', fileName: 'approval.png' } }),
  ]);
  const shown = await ctx.app.inject({
    method: 'GET',
    url: `/api/v1/workspaces/acme/evidence/${record!.id}`,
  });
  assert.equal(shown.statusCode, 200, shown.body);
  const detail = shown.json();
  assert.equal(detail.item.kind, 'change.approval');
  assert.deepEqual(detail.item.controls, ['CHG-01']);
  assert.equal(detail.item.blob.sha256, sha256);
  assert.equal(detail.item.collector.type, 'user', 'attributed to the caller');
  assert.deepEqual(detail.content, item(1).content);
  assert.equal(leafOf(detail.envelope).toString('hex'), record!.leafHash);

  const downloaded = await ctx.app.inject({
    method: 'GET',
    url: `/api/v1/workspaces/acme/evidence/${record!.id}/blob`,
  });
  assert.equal(downloaded.statusCode, 200);
  assert.equal(downloaded.headers['content-type'], 'image/png');
  assert.deepEqual(downloaded.rawPayload, bytes);

  const listed = await ctx.app.inject({
    method: 'GET',
    url: '/api/v1/workspaces/acme/evidence?control=CHG-01',
  });
  assert.equal(listed.json().items.length, 1);
  const verified = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/evidence-ledger/verify',
  });
  assert.equal(verified.statusCode, 200, verified.body);
  assert.equal(verified.json().ok, true);
  assert.equal(verified.json().blobs, 1);
});

test('API: inclusion and consistency proofs check out against an independent RFC 9162 implementation', async (t) => {
  const ctx = await buildTestApp(t);
  await workspace(ctx, 'acme');
  const ids: string[] = [];
  const checkpoints: { treeSize: number; rootHash: string; body: string; signature: string }[] = [];
  // Checkpoints at sizes covering the RFC's cases: powers of two, odd sizes, one leaf.
  for (const size of [1, 13, 16, 37, 64, 65]) {
    const more = Array.from({ length: size - ids.length }, (_, k) => item(ids.length + k));
    ids.push(...(await add(ctx, 'acme', more)).map((r) => r.id));
    checkpoints.push(await checkpoint(ctx, 'acme'));
  }
  // Leaf hashes from the envelopes as served, and roots by the RFC's definition.
  const leaves: Buffer[] = [];
  for (const id of ids) {
    const detail = (
      await ctx.app.inject({ method: 'GET', url: `/api/v1/workspaces/acme/evidence/${id}` })
    ).json();
    leaves.push(leafOf(detail.envelope));
  }
  const ledger = (
    await ctx.app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/evidence-ledger' })
  ).json();
  const key = createPublicKey(ledger.keys[0].publicKeyPem);
  for (const cp of checkpoints) {
    assert.equal(
      merkleRoot(leaves.slice(0, cp.treeSize)).toString('hex'),
      cp.rootHash,
      `root of ${cp.treeSize}`,
    );
    assert.ok(
      verify(null, Buffer.from(cp.body), key, Buffer.from(cp.signature, 'base64')),
      'Ed25519 signature',
    );
    assert.equal(cp.body.split('\n')[2], Buffer.from(cp.rootHash, 'hex').toString('base64'));
  }

  for (const cp of checkpoints) {
    for (const index of new Set([
      0,
      cp.treeSize - 1,
      Math.floor(cp.treeSize / 2),
      Math.min(12, cp.treeSize - 1),
    ])) {
      const response = await ctx.app.inject({
        method: 'GET',
        url: `/api/v1/workspaces/acme/evidence/${ids[index]}/proof?treeSize=${cp.treeSize}`,
      });
      assert.equal(response.statusCode, 200, response.body);
      const proof = response.json();
      assert.equal(proof.leafIndex, index);
      assert.equal(proof.checkpoint.body, cp.body);
      const path = proof.proof.map((h: string) => Buffer.from(h, 'hex'));
      const root = Buffer.from(cp.rootHash, 'hex');
      assert.ok(
        checkInclusion(index, cp.treeSize, leaves[index]!, path, root),
        `leaf ${index} in ${cp.treeSize}`,
      );
      if (cp.treeSize > 1) {
        assert.ok(!checkInclusion(index, cp.treeSize, leafOf('forged'), path, root), 'a forged leaf fails');
      }
      assert.equal(proof.files['envelope.json'], await envelopeOf(ctx, ids[index]!));
      assert.equal(proof.files['inclusion-proof.txt'], proof.proof.map((h: string) => `${h}\n`).join(''));
      assert.equal(proof.files['leaf-index.txt'], `${index}\n`);
      assert.equal(proof.files['checkpoint.txt'], cp.body);
    }
  }

  for (const [from, to] of [
    [1, 13],
    [13, 16],
    [13, 37],
    [16, 37],
    [16, 64],
    [37, 65],
    [64, 65],
    [1, 65],
  ] as const) {
    const response = await ctx.app.inject({
      method: 'GET',
      url: `/api/v1/workspaces/acme/evidence-ledger/consistency?from=${from}&to=${to}`,
    });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    const fromRoot = Buffer.from(checkpoints.find((c) => c.treeSize === from)!.rootHash, 'hex');
    const toRoot = Buffer.from(checkpoints.find((c) => c.treeSize === to)!.rootHash, 'hex');
    assert.equal(body.fromCheckpoint.treeSize, from);
    assert.equal(body.toCheckpoint.treeSize, to);
    const proof = body.proof.map((h: string) => Buffer.from(h, 'hex'));
    assert.ok(checkConsistency(from, to, fromRoot, toRoot, proof), `consistency ${from} → ${to}`);
    assert.ok(!checkConsistency(from, to, leafOf('other root'), toRoot, proof), 'another old root fails');
  }

  const late = await add(ctx, 'acme', [item(99)]);
  const unproven = await ctx.app.inject({
    method: 'GET',
    url: `/api/v1/workspaces/acme/evidence/${late[0]!.id}/proof`,
  });
  assert.equal(unproven.statusCode, 409);
  assert.equal(unproven.json().code, 'evidence_not_checkpointed');
});

async function envelopeOf(ctx: TestApp, id: string): Promise<string> {
  return (await ctx.app.inject({ method: 'GET', url: `/api/v1/workspaces/acme/evidence/${id}` })).json()
    .envelope;
}

test('API: bad input is a 400 naming the problem, and nothing is written', async (t) => {
  const ctx = await buildTestApp(t);
  await workspace(ctx, 'acme');
  await add(ctx, 'acme', [item(0)]);
  const post = (payload: string | object) =>
    ctx.app.inject({
      method: 'POST',
      url: '/api/v1/workspaces/acme/evidence',
      headers: { 'content-type': 'application/json' },
      payload,
    });

  const unknownControl = await post({ items: [item(1), item(2, { controls: ['CHG-01', 'NOPE-1'] })] });
  assert.equal(unknownControl.statusCode, 400);
  assert.equal(unknownControl.json().code, 'validation_failed');
  assert.match(
    unknownControl.json().message,
    /evidence\[1\]\.controls\[1\]: control "NOPE-1" does not exist/,
  );

  const malformed = await post('{"items": [{"kind": "x",}]}');
  assert.equal(malformed.statusCode, 400);
  assert.equal(malformed.json().code, 'invalid_json');

  const missingField = await post({ items: [{ kind: 'change.approval' }] });
  assert.equal(missingField.statusCode, 400);
  assert.match(missingField.json().message, /effectiveAt/);

  const bytes = Buffer.from(`wrong hash ${Math.random()}`);
  const actual = createHash('sha256').update(bytes).digest('hex');
  const wrongSha = await upload(ctx, 'acme', bytes, 'f'.repeat(64));
  assert.equal(wrongSha.statusCode, 400);
  assert.equal(wrongSha.json().code, 'blob_hash_mismatch');
  assert.match(wrongSha.json().message, /nothing was stored/);
  assert.equal(await evidenceBlobStore(ctx.config).has(actual), false);

  const notUploaded = await post({ items: [item(3, { blob: { sha256: actual, mediaType: 'text/plain' } })] });
  assert.equal(notUploaded.statusCode, 400);
  assert.match(notUploaded.json().message, /no file with SHA-256 .* was uploaded/);

  const ledger = (
    await ctx.app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/evidence-ledger' })
  ).json();
  assert.equal(ledger.treeSize, 1, 'only the first, valid item');
});

test('API: redaction keeps the ledger verifiable; legal holds and retention block disposal', async (t) => {
  const ctx = await buildTestApp(t);
  await workspace(ctx, 'acme');
  const bytes = Buffer.from(`personal data ${Math.random()}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  assert.equal((await upload(ctx, 'acme', bytes)).statusCode, 201);
  const old = { effectiveAt: '2020-01-15T00:00:00Z', collectedAt: '2020-01-15T01:00:00Z' };
  const [withFile, plain, other] = await add(ctx, 'acme', [
    item(0, { blob: { sha256, mediaType: 'text/plain' } }),
    item(1, old),
    item(2, { ...old, kind: 'vendor.soc2_report', controls: [] }),
  ]);
  await checkpoint(ctx, 'acme');
  const url = (id: string, suffix = '') => `/api/v1/workspaces/acme/evidence/${id}${suffix}`;

  const redacted = await ctx.app.inject({
    method: 'POST',
    url: url(withFile!.id, '/redaction'),
    payload: { reason: 'GDPR erasure request #7' },
  });
  assert.equal(redacted.statusCode, 200, redacted.body);
  assert.deepEqual(redacted.json().erased, ['content', 'blob']);
  const record = redacted.json().record;
  assert.equal(record.kind, 'evidence.redaction');
  const shown = (await ctx.app.inject({ method: 'GET', url: url(withFile!.id) })).json();
  assert.equal(shown.content, null);
  assert.equal(shown.item.erasedBy, record.leafIndex);
  assert.equal((await ctx.app.inject({ method: 'GET', url: url(withFile!.id, '/blob') })).statusCode, 404);
  assert.equal(await evidenceBlobStore(ctx.config).has(sha256), false, 'the file is gone');
  // Who redacted what and why is itself evidence.
  const recordDetail = (await ctx.app.inject({ method: 'GET', url: url(record.id) })).json();
  assert.equal(recordDetail.content.evidenceId, withFile!.id);
  assert.equal(recordDetail.content.reason, 'GDPR erasure request #7');
  assert.deepEqual(recordDetail.content.erased, ['content', 'blob']);
  assert.equal(recordDetail.content.leafHash, withFile!.leafHash);
  // The redacted entry is still proven by the same checkpoint.
  const proof = await ctx.app.inject({ method: 'GET', url: url(withFile!.id, '/proof') });
  assert.equal(proof.statusCode, 200, proof.body);
  assert.equal(proof.json().leafHash, withFile!.leafHash);
  const again = await ctx.app.inject({
    method: 'POST',
    url: url(withFile!.id, '/redaction'),
    payload: { reason: 'x' },
  });
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().code, 'already_redacted');

  // Retention: two years by default, so 2020 evidence may go, this year's may not.
  const tooEarly = await ctx.app.inject({ method: 'DELETE', url: `${url(withFile!.id)}?reason=cleanup` });
  assert.equal(tooEarly.statusCode, 409);
  assert.equal(tooEarly.json().code, 'retention_not_elapsed');
  const setRetention = await ctx.app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/evidence-ledger/retention',
    payload: { kind: 'vendor.soc2_report', days: 3650 },
  });
  assert.equal(setRetention.statusCode, 200, setRetention.body);
  const keptLonger = await ctx.app.inject({ method: 'DELETE', url: `${url(other!.id)}?reason=cleanup` });
  assert.equal(keptLonger.statusCode, 409);
  assert.match(
    keptLonger.json().message,
    /must be kept until 2030-01-12T00:00:00.000Z \(retention 3650 days\)/,
  );

  // A legal hold on the subject blocks disposal (and redaction) until released.
  const hold = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/evidence-ledger/holds',
    payload: { reason: 'litigation hold, case 2026-114', subject: { type: 'system', id: 'repo-1' } },
  });
  assert.equal(hold.statusCode, 201, hold.body);
  const held = await ctx.app.inject({ method: 'DELETE', url: `${url(plain!.id)}?reason=retention elapsed` });
  assert.equal(held.statusCode, 409);
  assert.equal(held.json().code, 'legal_hold_active');
  const heldRedaction = await ctx.app.inject({
    method: 'POST',
    url: url(plain!.id, '/redaction'),
    payload: { reason: 'x' },
  });
  assert.equal(heldRedaction.json().code, 'legal_hold_active');
  const released = await ctx.app.inject({
    method: 'POST',
    url: `/api/v1/workspaces/acme/evidence-ledger/holds/${hold.json().id}/release`,
    payload: { reason: 'case closed' },
  });
  assert.equal(released.statusCode, 200, released.body);
  const disposed = await ctx.app.inject({
    method: 'DELETE',
    url: `${url(plain!.id)}?reason=retention elapsed`,
  });
  assert.equal(disposed.statusCode, 200, disposed.body);
  assert.deepEqual(disposed.json().erased, ['content', 'envelope']);
  const gone = (await ctx.app.inject({ method: 'GET', url: url(plain!.id) })).json();
  assert.equal(gone.envelope, null);
  assert.equal(gone.item.leafHash, plain!.leafHash, 'the leaf hash stays');

  await checkpoint(ctx, 'acme');
  const verified = (
    await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces/acme/evidence-ledger/verify' })
  ).json();
  assert.equal(verified.ok, true, JSON.stringify(verified.failures));
  assert.equal(verified.erased, 2);
  assert.equal(verified.checkpoints, 2);
});

test("API and SQL: one workspace never sees another's evidence", async (t) => {
  const ctx = await buildTestApp(t);
  const alpha = await workspace(ctx, 'alpha');
  const bravo = await workspace(ctx, 'bravo');
  await add(ctx, 'alpha', [item(0)]);
  const [secret] = await add(ctx, 'bravo', [item(1, { content: { secret: 'bravo-only' } })]);
  await checkpoint(ctx, 'bravo');
  for (const suffix of ['', '/proof', '/blob']) {
    const response = await ctx.app.inject({
      method: 'GET',
      url: `/api/v1/workspaces/alpha/evidence/${secret!.id}${suffix}`,
    });
    assert.equal(response.statusCode, 404, `${suffix}: ${response.body}`);
    assert.doesNotMatch(response.body, /bravo-only/);
  }
  const redact = await ctx.app.inject({
    method: 'POST',
    url: `/api/v1/workspaces/alpha/evidence/${secret!.id}/redaction`,
    payload: { reason: 'x' },
  });
  assert.equal(redact.statusCode, 404);
  const listed = (await ctx.app.inject({ method: 'GET', url: '/api/v1/workspaces/alpha/evidence' })).json();
  assert.deepEqual(listed.items.map((i: { id: string }) => i.id).includes(secret!.id), false);
  assert.equal(listed.items.length, 1);

  await ctx.database.inWorkspace(alpha, async (trx) => {
    for (const table of [
      'evidence_items',
      'evidence_ledger_heads',
      'evidence_checkpoints',
      'evidence_signing_keys',
      'evidence_blobs',
      'evidence_legal_holds',
      'evidence_retention_policies',
    ]) {
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from ${sql.table(table)} where workspace_id = ${bravo}`.execute(trx);
      assert.equal(rows[0]!.n, 0, `${table} leaks bravo rows`);
    }
    const { rows } = await sql<{ workspace_id: string }>`select workspace_id from evidence_items`.execute(
      trx,
    );
    assert.ok(rows.every((r) => r.workspace_id === alpha));
  });
  await assert.rejects(
    ctx.database.inWorkspace(alpha, (trx) =>
      sql`update evidence_ledger_heads set tree_size = tree_size + 1 where workspace_id = ${bravo} returning 1`
        .execute(trx)
        .then((r) => {
          if (r.rows.length === 0) throw new Error('row-level security hid the row');
        }),
    ),
    /row-level security hid the row/,
  );
});
