import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AssayError } from '../../errors.ts';
import { decryptSecret, encryptSecret, openSecretBox, parseSecretKey, resolveSecretKey } from './secrets.ts';

const key = parseSecretKey('11'.repeat(32));
const otherKey = parseSecretKey(Buffer.alloc(32, 7).toString('base64'));

test('a sealed secret opens with its key and context, and shows nothing of the plaintext', () => {
  const plaintext = 'ghp_live-connector-credential-0123456789';
  const sealed = encryptSecret(key, plaintext, 'connector:1:token');
  assert.match(sealed, /^assay-secret:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);
  assert.ok(!sealed.includes(plaintext));
  assert.equal(decryptSecret(key, sealed, 'connector:1:token'), plaintext);
  // A fresh IV each time: sealing twice gives two different texts.
  assert.notEqual(encryptSecret(key, plaintext, 'connector:1:token'), sealed);
});

test('a sealed secret refuses another key, another context, and any altered byte', () => {
  const sealed = encryptSecret(key, 'webhook-signing-secret', 'webhook:7');
  assert.throws(() => decryptSecret(otherKey, sealed, 'webhook:7'), /sealed with another key/);
  assert.throws(() => decryptSecret(key, sealed, 'webhook:8'), /failed authentication/);
  const body = sealed.split(':').pop()!;
  const raw = Buffer.from(body, 'base64url');
  for (const at of [0, 12, raw.length - 1]) {
    const tampered = Buffer.from(raw);
    tampered[at] = tampered[at]! ^ 1;
    const text = sealed.slice(0, sealed.length - body.length) + tampered.toString('base64url');
    assert.throws(
      () => decryptSecret(key, text, 'webhook:7'),
      (e: unknown) => e instanceof AssayError,
    );
  }
  assert.throws(() => decryptSecret(key, 'plain text', 'webhook:7'), /not in the sealed format/);
});

test('key material: 64 hex characters or base64 of 32 bytes, nothing shorter', () => {
  assert.equal(parseSecretKey('ab'.repeat(32)).bytes.length, 32);
  assert.equal(parseSecretKey(Buffer.alloc(32, 1).toString('base64')).bytes.length, 32);
  assert.throws(() => parseSecretKey('too-short'), /32 bytes/);
});

test('embedded database without ASSAY_SECRET_KEY: a key is generated once into the data directory, mode 0600', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'assay-secret-')), 'data');
  const lines: string[] = [];
  const config = { secretKey: undefined, dataDir, databaseUrl: undefined };
  const first = resolveSecretKey(config, (line) => lines.push(line));
  const path = join(dataDir, 'secret.key');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /generated a new secret key in .*secret\.key \(mode 0600\)/);
  assert.ok(!lines[0]!.includes(readFileSync(path, 'utf8').trim()), 'the log names the file, not the key');
  // The next start reads the same key and says nothing.
  const second = resolveSecretKey(config, (line) => lines.push(line));
  assert.deepEqual(second.bytes, first.bytes);
  assert.equal(lines.length, 1);
  const box = openSecretBox(config);
  assert.equal(box.decrypt(encryptSecret(first, 'x', 'c'), 'c'), 'x');
});

test('PostgreSQL without ASSAY_SECRET_KEY: using a secret fails with a clear message, nothing is generated', () => {
  const box = openSecretBox({
    secretKey: undefined,
    dataDir: '/nonexistent',
    databaseUrl: 'postgres://x@y/z',
  });
  assert.throws(
    () => box.encrypt('x', 'c'),
    (e: unknown) =>
      e instanceof AssayError && e.code === 'secret_key_missing' && /ASSAY_SECRET_KEY/.test(e.message),
  );
  const configured = openSecretBox({
    secretKey: 'cd'.repeat(32),
    dataDir: '/nonexistent',
    databaseUrl: 'postgres://x@y/z',
  });
  assert.equal(configured.decrypt(configured.encrypt('y', 'c'), 'c'), 'y');
});
