/**
 * Sign-in throttling, kept in the database so that every API process sees the same counts.
 * Per account: five failed sign-ins (password or second factor) within 15 minutes lock the
 * account for 15 minutes — even the right password is refused meanwhile. Per client address:
 * 30 failures within 15 minutes block that address for 15 minutes. Keys exist for unknown emails
 * too, so a lockout tells nobody whether an account exists.
 */
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import { clearThrottle, findThrottles, recordThrottleFailure } from './accounts.repository.ts';

export const throttleLimits = {
  account: { windowSeconds: 15 * 60, maxFailures: 5, lockSeconds: 15 * 60 },
  ip: { windowSeconds: 15 * 60, maxFailures: 30, lockSeconds: 15 * 60 },
};

export const accountKey = (email: string) => `account:${email}`;
export const ipKey = (ip: string) => `ip:${ip}`;

/** Throws `too_many_attempts` (HTTP 429) while the account or the address is locked. */
export async function assertNotThrottled(database: Database, email: string, ip: string): Promise<void> {
  const rows = await findThrottles(database.db, [accountKey(email), ipKey(ip)]);
  const now = Date.now();
  let until = 0;
  for (const row of rows) {
    if (row.locked_until !== null && row.locked_until.getTime() > now) {
      until = Math.max(until, row.locked_until.getTime());
    }
  }
  if (until > 0) {
    const retryAfterSeconds = Math.ceil((until - now) / 1000);
    throw new AssayError(
      'too_many_attempts',
      `too many failed sign-ins: try again in ${Math.ceil(retryAfterSeconds / 60)} minutes`,
      { retryAfterSeconds },
    );
  }
}

export async function recordSignInFailure(database: Database, email: string, ip: string) {
  const account = await recordThrottleFailure(database.db, accountKey(email), throttleLimits.account);
  await recordThrottleFailure(database.db, ipKey(ip), throttleLimits.ip);
  return { accountLocked: account.locked_until !== null && account.locked_until.getTime() > Date.now() };
}

/** A successful sign-in clears the account's count (not the address's: one good account must not
 * reset an attacker's budget for all the others). */
export async function clearSignInFailures(database: Database, email: string) {
  await clearThrottle(database.db, accountKey(email));
}
