/**
 * Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30-second steps — what every
 * authenticator app speaks). A code is accepted one step either side of now, and only once: the
 * accepted step is remembered and any code for that step or an earlier one is refused.
 */
import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

const period = 30;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpFor(secret: string, label = 'Assay') {
  return new TOTP({
    issuer: 'Assay',
    label,
    algorithm: 'SHA1',
    digits: 6,
    period,
    secret: Secret.fromBase32(secret),
  });
}

export function totpUri(secret: string, email: string): string {
  return totpFor(secret, email).toString();
}

/** The code for a moment (tests and the CLI use it to play the authenticator app). */
export function totpCode(secret: string, timestamp = Date.now()): string {
  return totpFor(secret).generate({ timestamp });
}

/** Returns the time step the code belongs to, or null when it is wrong or already used. */
export function verifyTotp(
  secret: string,
  code: string,
  lastUsedStep: number | null,
  timestamp = Date.now(),
): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpFor(secret).validate({ token: code, timestamp, window: 1 });
  if (delta === null) return null;
  const step = Math.floor(timestamp / 1000 / period) + delta;
  if (lastUsedStep !== null && step <= lastUsedStep) return null;
  return step;
}

const recoveryAlphabet = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Ten recovery codes of 16 characters (about 78 bits each), shown once and stored hashed. */
export function newRecoveryCodes(count = 10): string[] {
  const codes: string[] = [];
  for (let n = 0; n < count; n++) {
    const bytes = randomBytes(16);
    let text = '';
    for (const byte of bytes) text += recoveryAlphabet[byte % recoveryAlphabet.length];
    codes.push(text.match(/.{4}/g)!.join('-'));
  }
  return codes;
}

export function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '');
}
