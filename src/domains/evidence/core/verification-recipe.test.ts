/**
 * Runs the shell recipe of docs/evidence-verification.md, exactly as written there, with real
 * sha256sum / xxd / base64 / openssl against proofs and checkpoints produced by this code.
 * If the document or the code drifts, this fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalize, sha256Hex } from './canonical-json.ts';
import { checkpointBody, generateSigningKey, signCheckpoint } from './checkpoint.ts';
import { leafHash, MerkleTree } from './merkle.ts';

const docPath = new URL('../../../../docs/evidence-verification.md', import.meta.url);
const doc = readFileSync(docPath, 'utf8');
const script = [...doc.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]).join('\n');

function missingTools(): string | false {
  const tools = ['sh', 'sed', 'cut', 'sha256sum', 'xxd', 'base64', 'openssl'];
  const missing = tools.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length > 0) return `recipe tools not installed: ${missing.join(', ')}`;
  const help = spawnSync('openssl', ['pkeyutl', '-help'], { encoding: 'utf8' });
  if (!`${help.stdout}${help.stderr}`.includes('-rawin'))
    return 'openssl lacks pkeyutl -rawin (needs OpenSSL 3.0+)';
  return false;
}

const key = generateSigningKey();
const otherKey = generateSigningKey();
const workDirs: string[] = [];

function envelope(i: number): string {
  return canonicalize({
    id: `ev_${String(i).padStart(4, '0')}`,
    kind: 'access_review.decision',
    capturedAt: `2024-05-01T12:${String(i % 60).padStart(2, '0')}:00.000Z`,
    subject: { type: 'identity', id: `u-${i}`, displayName: 'Zoë Müller' },
    decision: { outcome: i % 3 === 0 ? 'revoke' : 'keep', reviewer: 'manager@example.com' },
    payloadSha256: sha256Hex(`payload ${i}`),
    controls: ['CC6.2', 'CC6.3'],
    score: i / 8,
  });
}

interface Package {
  dir: string;
  envelopeText: string;
  leafIndex: number;
  tree: MerkleTree;
  body: string;
}

/** Writes the recipe's input files for leaf `leafIndex` of a ledger of `size` envelopes. */
function writePackage(size: number, leafIndex: number): Package {
  const envelopes = Array.from({ length: size }, (_, i) => envelope(i));
  const tree = MerkleTree.fromLeafHashes(envelopes.map((e) => leafHash(e)));
  const body = checkpointBody({
    workspaceId: 'acme-prod',
    treeSize: size,
    rootHash: tree.root().toString('hex'),
    issuedAt: '2024-05-02T00:00:00.000Z',
    keyId: key.keyId,
  });
  const dir = mkdtempSync(join(tmpdir(), 'assay-recipe-'));
  workDirs.push(dir);
  const envelopeText = envelopes[leafIndex]!;
  writeFileSync(join(dir, 'envelope.json'), envelopeText);
  const proof = tree.inclusionProof(leafIndex);
  writeFileSync(join(dir, 'inclusion-proof.txt'), proof.map((h) => `${h.toString('hex')}\n`).join(''));
  writeFileSync(join(dir, 'checkpoint.txt'), body);
  writeFileSync(join(dir, 'checkpoint.sig'), `${signCheckpoint(body, key.privateKeyPem)}\n`);
  writeFileSync(join(dir, 'ledger-key.pem'), key.publicKeyPem);
  return { dir, envelopeText, leafIndex, tree, body };
}

function runRecipe(dir: string, leafIndex: number) {
  writeFileSync(join(dir, 'recipe.sh'), script);
  const result = spawnSync('sh', ['-e', 'recipe.sh'], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LEAF_INDEX: String(leafIndex) },
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('the auditor recipe in docs/evidence-verification.md', { skip: missingTools() }, () => {
  after(() => {
    for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('has the documented steps', () => {
    assert.match(script, /sha256sum envelope\.json/);
    assert.match(script, /xxd -r -p/);
    assert.match(script, /openssl pkeyutl -verify -pubin -inkey ledger-key\.pem -rawin/);
  });

  for (const [size, leafIndex] of [
    [37, 22],
    [37, 0],
    [37, 36],
    [32, 31],
    [33, 32],
    [1, 0],
  ] as const) {
    it(`verifies leaf ${leafIndex} of a ledger of ${size}`, () => {
      const pkg = writePackage(size, leafIndex);
      const { status, out } = runRecipe(pkg.dir, leafIndex);
      assert.equal(status, 0, out);
      assert.ok(out.includes(`envelope sha256: ${sha256Hex(pkg.envelopeText)}\n`), out);
      assert.ok(out.includes(`leaf hash: ${leafHash(pkg.envelopeText).toString('hex')}\n`), out);
      assert.ok(out.includes(`tree size: ${size}\n`), out);
      assert.ok(out.includes(`root hash: ${pkg.tree.root().toString('hex')}\n`), out);
      assert.ok(out.includes(`inclusion proof OK: leaf ${leafIndex} is in the tree of ${size} leaves`), out);
      assert.ok(out.includes(`key id OK: ${key.keyId}\n`), out);
      assert.ok(out.includes('Signature Verified Successfully'), out);
    });
  }

  it('fails for an altered envelope', () => {
    const pkg = writePackage(37, 22);
    writeFileSync(join(pkg.dir, 'envelope.json'), pkg.envelopeText.replace('"keep"', '"kept"'));
    const { status, out } = runRecipe(pkg.dir, 22);
    assert.notEqual(status, 0, out);
    assert.ok(out.includes('inclusion proof FAILED'), out);
  });

  it('fails for another leaf index and for an altered proof', () => {
    const pkg = writePackage(37, 22);
    const wrongIndex = runRecipe(pkg.dir, 23);
    assert.notEqual(wrongIndex.status, 0, wrongIndex.out);
    assert.ok(wrongIndex.out.includes('inclusion proof FAILED'), wrongIndex.out);

    const proofPath = join(pkg.dir, 'inclusion-proof.txt');
    const lines = readFileSync(proofPath, 'utf8').split('\n');
    lines[2] = `${lines[2]!.slice(0, 10)}${lines[2]![10] === '0' ? '1' : '0'}${lines[2]!.slice(11)}`;
    writeFileSync(proofPath, lines.join('\n'));
    const altered = runRecipe(pkg.dir, 22);
    assert.notEqual(altered.status, 0, altered.out);
    assert.ok(altered.out.includes('inclusion proof FAILED'), altered.out);
  });

  it('fails for an altered checkpoint and for another key', () => {
    const pkg = writePackage(37, 22);
    writeFileSync(join(pkg.dir, 'checkpoint.txt'), pkg.body.replace('2024-05-02', '2024-05-03'));
    const altered = runRecipe(pkg.dir, 22);
    assert.notEqual(altered.status, 0, altered.out);
    assert.ok(altered.out.includes('inclusion proof OK'), 'the proof itself is still fine');
    assert.ok(altered.out.includes('Signature Verification Failure'), altered.out);

    const other = writePackage(37, 22);
    writeFileSync(join(other.dir, 'ledger-key.pem'), otherKey.publicKeyPem);
    const wrongKey = runRecipe(other.dir, 22);
    assert.notEqual(wrongKey.status, 0, wrongKey.out);
    assert.ok(wrongKey.out.includes('key id MISMATCH'), wrongKey.out);
  });
});
