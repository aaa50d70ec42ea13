/**
 * Test helpers for background work: OCSF sign-ins that the checks judge, and a bounded wait.
 */
import assert from 'node:assert/strict';

/**
 * OCSF Authentication events: a successful interactive sign-in without MFA per person, a minute
 * ago (the `identity.login_without_mfa` check fails each of them).
 */
export function signInsWithoutMfa(people: string[], options: { at?: Date; system?: string } = {}): string {
  const time = (options.at ?? new Date(Date.now() - 60_000)).getTime();
  return people
    .map((email, i) =>
      JSON.stringify({
        class_uid: 3002,
        activity_id: 1,
        time: time + i,
        status_id: 1,
        is_mfa: false,
        metadata: { uid: `login-${email}-${time + i}`, product: { name: options.system ?? 'Okta' } },
        user: { uid: email, name: email, email_addr: email },
      }),
    )
    .join('\n')
    .concat('\n');
}

/** Waits, within a bound, until `condition` holds; fails naming `what` otherwise (no timing assertion). */
export async function eventually(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}
