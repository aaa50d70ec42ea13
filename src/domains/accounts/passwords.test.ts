import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssayError } from '../../errors.ts';
import { checkPasswordPolicy, hashPassword, needsRehash, verifyPassword } from './passwords.ts';
import { newRecoveryCodes, totpCode, verifyTotp } from './totp.ts';

test('passwords are hashed with scrypt into a self-describing string and verify only when equal', async () => {
  const hash = await hashPassword('violet-harbour-engine-42');
  assert.match(hash, /^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(!hash.includes('violet'));
  assert.equal(await verifyPassword('violet-harbour-engine-42', hash), true);
  assert.equal(await verifyPassword('violet-harbour-engine-43', hash), false);
  assert.notEqual(await hashPassword('violet-harbour-engine-42'), hash, 'salted');
  assert.equal(needsRehash(hash), false);
  assert.equal(needsRehash('$scrypt$ln=14,r=8,p=1$AAAA$AAAA'), true);
  assert.equal(await verifyPassword('x', 'not a hash'), false);
});

test('password policy: at least 12 characters, not a common breached password, not trivial', () => {
  const refused = (password: string, pattern: RegExp) =>
    assert.throws(
      () => checkPasswordPolicy(password, { email: 'sam.lee@acme.example' }),
      (e: unknown) => e instanceof AssayError && e.code === 'weak_password' && pattern.test(e.message),
      password,
    );
  refused('short-1', /at least 12/);
  refused('password1234', /common breached/);
  refused('Password123!', /common breached/);
  refused('P@ssw0rd2024!', /common breached/);
  refused('qwertyuiop123', /common breached/);
  refused('123456789012', /common breached|sequence/);
  refused('aaaaaaaaaaaaaa', /repeated|common/);
  refused('abcdefghijklmn', /sequence|common/);
  refused('abcabcabcabcabc', /repeated/);
  refused('sam.lee@acme.example'.split('@')[0]!.padEnd(12, '1'), /email|common/);
  checkPasswordPolicy('violet-harbour-engine-42');
  checkPasswordPolicy('Tr0ub4dor&3-horse-stapler');
});

test('TOTP codes (RFC 6238 test vector) are accepted once, one step either side, never replayed', () => {
  // RFC 6238 appendix B, SHA-1: secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
  // the 6-digit code is its last six digits.
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  assert.equal(totpCode(secret, 59_000), '287082');
  const now = 1_800_000_000_000;
  const code = totpCode(secret, now);
  const step = verifyTotp(secret, code, null, now);
  assert.equal(step, Math.floor(now / 30_000));
  assert.equal(verifyTotp(secret, code, step, now), null, 'the same code twice');
  assert.equal(verifyTotp(secret, totpCode(secret, now - 30_000), null, now), step! - 1, 'previous step');
  assert.equal(verifyTotp(secret, totpCode(secret, now - 90_000), null, now), null, 'too old');
  assert.equal(verifyTotp(secret, '12345', null, now), null);
});

test('recovery codes are ten distinct 16-character codes', () => {
  const codes = newRecoveryCodes();
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10);
  for (const code of codes) assert.match(code, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
});
