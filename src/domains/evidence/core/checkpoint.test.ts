import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { isAssayError } from '../../../errors.ts';
import {
  type CheckpointFields,
  checkpointBody,
  generateSigningKey,
  type Keyring,
  keyIdFromPublicKey,
  parseCheckpointBody,
  signCheckpoint,
  verifyCheckpoint,
  verifyCheckpointWithKeyring,
} from './checkpoint.ts';

const ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function fields(overrides: Partial<CheckpointFields> = {}): CheckpointFields {
  return {
    workspaceId: 'acme-prod',
    treeSize: 1024,
    rootHash: ROOT,
    issuedAt: '2024-05-01T12:00:00.000Z',
    keyId: '0123456789abcdef',
    ...overrides,
  };
}

describe('ledger signing keys', () => {
  it('generates Ed25519 keys whose id is the SHA-256 of the DER SubjectPublicKeyInfo', () => {
    const key = generateSigningKey();
    assert.match(key.keyId, /^[0-9a-f]{16}$/);
    assert.match(key.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.match(key.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    const publicKey = createPublicKey(key.publicKeyPem);
    assert.equal(publicKey.asymmetricKeyType, 'ed25519');
    const der = publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(key.keyId, createHash('sha256').update(der).digest('hex').slice(0, 16));
    assert.equal(keyIdFromPublicKey(key.publicKeyPem), key.keyId);
    assert.notEqual(generateSigningKey().keyId, key.keyId);
  });
});

describe('checkpoint body', () => {
  it('is the documented five-line note', () => {
    const body = checkpointBody(fields());
    assert.equal(
      body,
      'assay/acme-prod\n1024\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nissued-at 2024-05-01T12:00:00.000Z\nkey 0123456789abcdef\n',
    );
    assert.deepEqual(parseCheckpointBody(body), fields());
    assert.deepEqual(parseCheckpointBody(Buffer.from(body)), fields());
    assert.equal(checkpointBody(fields({ treeSize: 0 })).split('\n')[1], '0');
  });

  it('rejects fields that would make the note ambiguous', () => {
    const bad: Partial<CheckpointFields>[] = [
      { workspaceId: 'a\nb' },
      { workspaceId: '' },
      { workspaceId: 'has space' },
      { treeSize: -1 },
      { treeSize: 1.5 },
      { treeSize: 2 ** 53 },
      { rootHash: ROOT.toUpperCase() },
      { rootHash: ROOT.slice(2) },
      { issuedAt: '2024-05-01 12:00:00Z' },
      { issuedAt: '2024-05-01T12:00:00+02:00' },
      { issuedAt: '2024-02-30T00:00:00.000Z' },
      { keyId: '0123' },
    ];
    for (const b of bad) {
      assert.throws(
        () => checkpointBody(fields(b)),
        (e: unknown) => isAssayError(e) && e.code === 'validation_failed',
        JSON.stringify(b),
      );
    }
  });

  it('parses only canonical bodies', () => {
    const body = checkpointBody(fields());
    const variants = [
      body.slice(0, -1),
      `${body}extra\n`,
      body.replace('1024', '01024'),
      body.replace('1024', '99999999999999999999'),
      body.replace('assay/', 'other/'),
      body.replace('issued-at ', 'issued-at  '),
      body.replace('\nkey ', '\nkeys '),
      body.replace(
        '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
        '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=',
      ),
      body.replaceAll('\n', '\r\n'),
    ];
    for (const v of variants) {
      assert.throws(
        () => parseCheckpointBody(v),
        (e: unknown) => isAssayError(e),
        JSON.stringify(v),
      );
    }
  });
});

describe('checkpoint signatures', () => {
  const key = generateSigningKey();
  const body = checkpointBody(fields({ keyId: key.keyId }));
  const signature = signCheckpoint(body, key.privateKeyPem);

  it('verify with the signing key only', () => {
    assert.match(signature, /^[A-Za-z0-9+/]{86}==$/);
    assert.equal(verifyCheckpoint(body, signature, key.publicKeyPem), true);
    assert.equal(verifyCheckpoint(Buffer.from(body), signature, key.publicKeyPem), true);
    assert.equal(verifyCheckpoint(body, signature, generateSigningKey().publicKeyPem), false);
  });

  it('fail after any one-byte change to the body', () => {
    const bytes = Buffer.from(body);
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const changed = Buffer.from(bytes);
        changed[i]! ^= mask;
        assert.equal(verifyCheckpoint(changed, signature, key.publicKeyPem), false, `byte ${i} ^ ${mask}`);
      }
    }
    assert.equal(verifyCheckpoint(body.slice(0, -1), signature, key.publicKeyPem), false);
    assert.equal(verifyCheckpoint(`${body}\n`, signature, key.publicKeyPem), false);
  });

  it('fail after any one-byte change to the signature', () => {
    const raw = Buffer.from(signature, 'base64');
    for (let i = 0; i < raw.length; i++) {
      const changed = Buffer.from(raw);
      changed[i]! ^= 0x01;
      assert.equal(verifyCheckpoint(body, changed.toString('base64'), key.publicKeyPem), false, `byte ${i}`);
    }
    // Non-canonical base64 spellings of the same bytes and malformed input are refused too.
    // The last data character carries 4 padding bits; setting one keeps the decoded bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sameBytes = `${signature.slice(0, 85)}${alphabet[alphabet.indexOf(signature[85]!) ^ 1]}==`;
    assert.deepEqual(Buffer.from(sameBytes, 'base64'), raw);
    assert.equal(verifyCheckpoint(body, sameBytes, key.publicKeyPem), false);
    assert.equal(verifyCheckpoint(body, '', key.publicKeyPem), false);
    assert.equal(verifyCheckpoint(body, signature.slice(4), key.publicKeyPem), false);
    assert.equal(verifyCheckpoint(body, signature, 'not a key'), false);
  });

  it('refuse non-Ed25519 keys', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.equal(verifyCheckpoint(body, signature, pub), false);
    assert.throws(
      () => signCheckpoint(body, priv),
      (e: unknown) => isAssayError(e),
    );
  });
});

describe('key rotation with a keyring', () => {
  const oldKey = generateSigningKey();
  const newKey = generateSigningKey();
  const keyring: Keyring = {
    keys: [
      {
        keyId: oldKey.keyId,
        publicKeyPem: oldKey.publicKeyPem,
        createdAt: '2024-01-01T00:00:00.000Z',
        retiredAt: '2024-06-01T00:00:00.000Z',
      },
      { keyId: newKey.keyId, publicKeyPem: newKey.publicKeyPem, createdAt: '2024-06-01T00:00:00.000Z' },
    ],
  };
  const signed = (key: typeof oldKey, issuedAt: string) => {
    const body = checkpointBody(fields({ keyId: key.keyId, issuedAt }));
    return { body, signature: signCheckpoint(body, key.privateKeyPem) };
  };

  it('accepts each key within its lifetime, the retirement instant included', () => {
    for (const [key, at] of [
      [oldKey, '2024-03-01T00:00:00.000Z'],
      [oldKey, '2024-06-01T00:00:00.000Z'],
      [newKey, '2024-06-01T00:00:00.000Z'],
      [newKey, '2030-01-01T00:00:00.000Z'],
    ] as const) {
      const { body, signature } = signed(key, at);
      const result = verifyCheckpointWithKeyring(body, signature, keyring);
      assert.deepEqual(result, { ok: true, keyId: key.keyId, checkpoint: parseCheckpointBody(body) }, at);
    }
  });

  it('refuses a key used after retirement or before creation', () => {
    const late = signed(oldKey, '2024-06-01T00:00:00.001Z');
    const lateResult = verifyCheckpointWithKeyring(late.body, late.signature, keyring);
    assert.equal(lateResult.ok, false);
    assert.equal(!lateResult.ok && lateResult.reason, 'key_retired');
    const early = signed(newKey, '2024-05-31T23:59:59.999Z');
    const earlyResult = verifyCheckpointWithKeyring(early.body, early.signature, keyring);
    assert.equal(!earlyResult.ok && earlyResult.reason, 'key_not_yet_valid');
  });

  it('names unknown keys, mislabelled keyring entries, bad signatures and malformed bodies', () => {
    const stranger = generateSigningKey();
    const s = signed(stranger, '2024-07-01T00:00:00.000Z');
    const unknown = verifyCheckpointWithKeyring(s.body, s.signature, keyring);
    assert.equal(!unknown.ok && unknown.reason, 'unknown_key');

    // An entry claiming the stranger's id but holding another key must not be trusted.
    const mislabelled: Keyring = {
      keys: [
        { keyId: stranger.keyId, publicKeyPem: newKey.publicKeyPem, createdAt: '2024-01-01T00:00:00.000Z' },
      ],
    };
    const forged = signed(newKey, '2024-07-01T00:00:00.000Z');
    const forgedBody = forged.body.replace(newKey.keyId, stranger.keyId);
    const forgedSig = signCheckpoint(forgedBody, newKey.privateKeyPem);
    const mis = verifyCheckpointWithKeyring(forgedBody, forgedSig, mislabelled);
    assert.equal(!mis.ok && mis.reason, 'unknown_key');

    // The old key signs a body that names the new key: the new key's check fails.
    const swapped = checkpointBody(fields({ keyId: newKey.keyId, issuedAt: '2024-07-01T00:00:00.000Z' }));
    const bad = verifyCheckpointWithKeyring(swapped, signCheckpoint(swapped, oldKey.privateKeyPem), keyring);
    assert.equal(!bad.ok && bad.reason, 'bad_signature');

    const malformed = verifyCheckpointWithKeyring('assay/x\n', s.signature, keyring);
    assert.equal(!malformed.ok && malformed.reason, 'malformed_checkpoint');
  });
});
