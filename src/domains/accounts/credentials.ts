/**
 * Bearer secrets (session cookies, CSRF tokens, API tokens, recovery codes) are long random
 * strings; only their SHA-256 is stored. A fast hash is right for them — unlike passwords they
 * carry 256 (recovery codes: ~78) bits of entropy, so a stolen table cannot be brute-forced.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretMatchesHash(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** API tokens carry a recognisable prefix so secret scanners (and people) can spot a leaked one. */
export const apiTokenPrefix = 'assay_tk_';

export function newApiTokenSecret(): string {
  return `${apiTokenPrefix}${randomSecret(32)}`;
}
