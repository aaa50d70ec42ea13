/**
 * Local passwords: hashed with scrypt (memory-hard; N = 2^17, r = 8, p = 1 uses 128 MiB per hash,
 * OWASP's recommended setting) and stored as a self-describing string, so the parameters can be
 * raised later and old hashes still verify: `$scrypt$ln=17,r=8,p=1$<salt>$<hash>` (base64).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { AssayError } from '../../errors.ts';
import { commonPasswords } from './common-passwords.ts';

export const minimumPasswordLength = 12;
export const maximumPasswordLength = 1024;

const current = { ln: 17, r: 8, p: 1 };
const keyLength = 32;
const saltLength = 16;

function derive(password: string, salt: Buffer, params: { ln: number; r: number; p: number }) {
  const N = 2 ** params.ln;
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(
      password.normalize('NFKC'),
      salt,
      keyLength,
      { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(saltLength);
  const key = await derive(password, salt, current);
  return `$scrypt$ln=${current.ln},r=${current.r},p=${current.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

const hashPattern = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = hashPattern.exec(stored);
  if (!match) return false;
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (params.ln < 10 || params.ln > 22 || params.r < 1 || params.p < 1) return false;
  const expected = Buffer.from(match[5]!, 'base64');
  const actual = await derive(password, Buffer.from(match[4]!, 'base64'), params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A stored hash made with weaker parameters than today's is replaced at the next sign-in. */
export function needsRehash(stored: string): boolean {
  const match = hashPattern.exec(stored);
  return !match || Number(match[1]) < current.ln || Number(match[2]) < current.r;
}

let dummyHash: Promise<string> | undefined;

/** Spends the same work as a real check, so an unknown email takes as long as a wrong password. */
export async function verifyAgainstDummy(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummyHash);
}

const leet: Record<string, string> = {
  '0': 'o',
  '1': 'l',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
};

function variants(password: string): string[] {
  const lower = password.toLowerCase();
  const peeled = lower.replace(/^[^a-z]+|[^a-z]+$/g, '');
  const unleeted = lower.replace(/[013457@$]/g, (c) => leet[c] ?? c);
  const unleetedPeeled = unleeted.replace(/^[^a-z]+|[^a-z]+$/g, '');
  const withoutSymbols = lower.replace(/[^a-z0-9]/g, '');
  return [lower, peeled, unleeted, unleetedPeeled, withoutSymbols];
}

function isSequenceOrRepeat(password: string): boolean {
  if (/^(.)\1*$/.test(password)) return true;
  for (const period of [2, 3, 4]) {
    const unit = password.slice(0, period);
    if (
      password.length >= period * 3 &&
      unit.repeat(Math.ceil(password.length / period)).startsWith(password)
    ) {
      return true;
    }
  }
  let ascending = true;
  let descending = true;
  for (let i = 1; i < password.length; i++) {
    const step = password.charCodeAt(i) - password.charCodeAt(i - 1);
    if (step !== 1) ascending = false;
    if (step !== -1) descending = false;
  }
  return ascending || descending;
}

/** Refuses a password that is short, a common breached password (or dressed-up one), or trivial. */
export function checkPasswordPolicy(password: string, context: { email?: string } = {}): void {
  const fail = (reason: string): never => {
    throw new AssayError('weak_password', `password: ${reason}`, { field: 'password' });
  };
  if ([...password].length < minimumPasswordLength) {
    fail(`must be at least ${minimumPasswordLength} characters`);
  }
  if (password.length > maximumPasswordLength) fail(`must be at most ${maximumPasswordLength} characters`);
  if (isSequenceOrRepeat(password.toLowerCase())) fail('is a repeated character or a simple sequence');
  for (const candidate of variants(password)) {
    if (commonPasswords.has(candidate)) fail('is one of the most common breached passwords');
  }
  const local = context.email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && variants(password).some((v) => v === local)) {
    fail('must not be your email address');
  }
}
