/**
 * Signing in with a password, then — when the person has enrolled one — a TOTP code or a
 * recovery code. Every attempt, success or failure, is recorded in the audit trail with the
 * client address. Failures count toward the per-account and per-address throttles.
 */
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { SecretBox } from '../secrets/secrets.ts';
import {
  claimTotpStep,
  consumeRecoveryCode,
  enableTotp,
  findUserByEmail,
  findUserById,
  replaceRecoveryCodes,
  revokeSession,
  setPendingTotpSecret,
  updateUserPassword,
  userNeedsMfa,
} from './accounts.repository.ts';
import { hashSecret } from './credentials.ts';
import { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from './passwords.ts';
import {
  findLiveSession,
  type IssuedSession,
  issueSession,
  type SessionRequestInfo,
} from './sessions.service.ts';
import { assertNotThrottled, clearSignInFailures, recordSignInFailure } from './throttle.service.ts';
import { newRecoveryCodes, newTotpSecret, normaliseRecoveryCode, totpUri, verifyTotp } from './totp.ts';
import type { UserRow } from './users.service.ts';

export type SignInStatus = 'signed_in' | 'mfa_required' | 'mfa_enrollment_required';

export interface SignInResult {
  status: SignInStatus;
  session: IssuedSession;
  user: UserRow;
}

export const totpContext = (userId: string) => `user:${userId}:totp`;

const invalid = () => new AssayError('invalid_credentials', 'the email or password is wrong');

async function audit(
  database: Database,
  actor: Actor,
  action: string,
  targetId: string,
  details: Record<string, unknown>,
) {
  await recordAudit(database.db, { workspaceId: null, actor, action, targetType: 'user', targetId, details });
}

function personActor(user: UserRow | undefined, email: string): Actor {
  return user
    ? { type: 'user', id: user.id, name: user.email }
    : { type: 'user', id: 'unknown', name: email };
}

export async function signInWithPassword(
  database: Database,
  input: { email: string; password: string; previousSessionToken?: string | undefined } & SessionRequestInfo,
): Promise<SignInResult> {
  const email = input.email.trim().toLowerCase().slice(0, 254);
  const where = { ip: input.ip, userAgent: input.userAgent.slice(0, 200) };
  try {
    await assertNotThrottled(database, email, input.ip);
  } catch (error) {
    const user = await findUserByEmail(database.db, email);
    await audit(database, personActor(user, email), 'auth.login_failed', user?.id ?? email, {
      method: 'password',
      reason: 'throttled',
      email,
      ...where,
    });
    throw error;
  }
  const user = await findUserByEmail(database.db, email);
  let ok = false;
  if (user && user.password_hash !== null && user.disabled_at === null) {
    ok = await verifyPassword(input.password, user.password_hash);
  } else {
    await verifyAgainstDummy(input.password);
  }
  if (!user || !ok) {
    const { accountLocked } = await recordSignInFailure(database, email, input.ip);
    await audit(database, personActor(user, email), 'auth.login_failed', user?.id ?? email, {
      method: 'password',
      reason: user ? 'wrong_password' : 'unknown_account',
      email,
      accountLocked,
      ...where,
    });
    throw invalid();
  }
  await clearSignInFailures(database, email);
  if (needsRehash(user.password_hash!)) {
    await updateUserPassword(database.db, user.id, await hashPassword(input.password));
  }
  const actor = personActor(user, email);
  if (user.totp_enabled_at !== null) {
    const session = await issueSession(
      database,
      {
        userId: user.id,
        stage: 'mfa',
        mfa: false,
        ssoWorkspaceId: null,
        ip: input.ip,
        userAgent: input.userAgent,
      },
      input.previousSessionToken,
    );
    await audit(database, actor, 'auth.password_accepted', user.id, { method: 'password', ...where });
    return { status: 'mfa_required', session, user };
  }
  const session = await issueSession(
    database,
    {
      userId: user.id,
      stage: 'full',
      mfa: false,
      ssoWorkspaceId: null,
      ip: input.ip,
      userAgent: input.userAgent,
    },
    input.previousSessionToken,
  );
  await audit(database, actor, 'auth.login_succeeded', user.id, { method: 'password', mfa: false, ...where });
  const status = (await userNeedsMfa(database.db, user.id)) ? 'mfa_enrollment_required' : 'signed_in';
  return { status, session, user };
}

/** The second step: a TOTP code or an unused recovery code, against a half-finished sign-in. */
export async function completeSecondFactor(
  database: Database,
  secrets: SecretBox,
  input: {
    sessionToken: string | undefined;
    code?: string | undefined;
    recoveryCode?: string | undefined;
  } & SessionRequestInfo,
): Promise<SignInResult> {
  const pending = input.sessionToken ? await findLiveSession(database, input.sessionToken) : undefined;
  if (pending?.stage !== 'mfa') {
    throw new AssayError(
      'unauthenticated',
      'no sign-in is waiting for a second factor: sign in with your password first',
    );
  }
  const user = await findUserById(database.db, pending.user_id);
  if (!user || user.totp_secret === null) {
    throw new AssayError('unauthenticated', 'no second factor is enrolled for this account');
  }
  const where = { ip: input.ip, userAgent: input.userAgent.slice(0, 200) };
  const actor = personActor(user, user.email);
  try {
    await assertNotThrottled(database, user.email, input.ip);
  } catch (error) {
    await audit(database, actor, 'auth.login_failed', user.id, {
      method: 'totp',
      reason: 'throttled',
      ...where,
    });
    throw error;
  }
  let method: string;
  let ok = false;
  if (input.recoveryCode !== undefined) {
    method = 'recovery_code';
    ok = await consumeRecoveryCode(
      database.db,
      user.id,
      hashSecret(normaliseRecoveryCode(input.recoveryCode)),
    );
  } else {
    method = 'totp';
    const secret = secrets.decrypt(user.totp_secret, totpContext(user.id));
    const step = verifyTotp(secret, (input.code ?? '').trim(), user.totp_last_step);
    ok = step !== null && (await claimTotpStep(database.db, user.id, step));
  }
  if (!ok) {
    const { accountLocked } = await recordSignInFailure(database, user.email, input.ip);
    await audit(database, actor, 'auth.login_failed', user.id, {
      method,
      reason: method === 'totp' ? 'wrong_code' : 'wrong_recovery_code',
      accountLocked,
      ...where,
    });
    throw new AssayError('invalid_credentials', 'the code is wrong or was already used');
  }
  await clearSignInFailures(database, user.email);
  const session = await issueSession(
    database,
    {
      userId: user.id,
      stage: 'full',
      mfa: true,
      ssoWorkspaceId: pending.sso_workspace_id,
      ip: input.ip,
      userAgent: input.userAgent,
    },
    input.sessionToken,
  );
  await audit(database, actor, 'auth.login_succeeded', user.id, {
    method: pending.sso_workspace_id ? `oidc+${method}` : `password+${method}`,
    mfa: true,
    ...where,
  });
  return { status: 'signed_in', session, user };
}

export async function signOut(database: Database, actor: Actor, sessionId: string, userId: string) {
  await revokeSession(database.db, sessionId);
  await recordAudit(database.db, {
    workspaceId: null,
    actor,
    action: 'auth.logout',
    targetType: 'user',
    targetId: userId,
    details: {},
  });
}

// ── enrolling a second factor ───────────────────────────────────────────────

export async function beginTotpEnrolment(database: Database, secrets: SecretBox, userId: string) {
  const user = await findUserById(database.db, userId);
  if (!user) throw new AssayError('unauthenticated', 'your account no longer exists');
  if (user.totp_enabled_at !== null) {
    throw new AssayError('totp_already_enabled', 'a second factor is already enrolled for this account');
  }
  const secret = newTotpSecret();
  await setPendingTotpSecret(database.db, user.id, secrets.encrypt(secret, totpContext(user.id)));
  return { secret, otpauthUri: totpUri(secret, user.email) };
}

/**
 * Confirms enrolment with a first code, issues recovery codes (shown once) and replaces the
 * session with one that has the second factor: privileges rise, so the session id changes too.
 */
export async function confirmTotpEnrolment(
  database: Database,
  secrets: SecretBox,
  input: { userId: string; sessionToken: string; code: string } & SessionRequestInfo,
) {
  const user = await findUserById(database.db, input.userId);
  if (!user) throw new AssayError('unauthenticated', 'your account no longer exists');
  if (user.totp_enabled_at !== null) {
    throw new AssayError('totp_already_enabled', 'a second factor is already enrolled for this account');
  }
  if (user.totp_pending_secret === null) {
    throw new AssayError('validation_failed', 'start enrolment first (POST /api/v1/auth/totp/enroll)', {
      field: 'code',
    });
  }
  const secret = secrets.decrypt(user.totp_pending_secret, totpContext(user.id));
  const step = verifyTotp(secret, input.code.trim(), null);
  if (step === null) {
    throw new AssayError(
      'invalid_credentials',
      'the code is wrong: check the device clock and try the next code',
    );
  }
  const codes = newRecoveryCodes();
  const current = await findLiveSession(database, input.sessionToken);
  await database.inSystem(async (trx) => {
    await enableTotp(trx, user.id, secrets.encrypt(secret, totpContext(user.id)), step);
    await replaceRecoveryCodes(
      trx,
      user.id,
      codes.map((c) => hashSecret(normaliseRecoveryCode(c))),
    );
    await recordAudit(trx, {
      workspaceId: null,
      actor: personActor(user, user.email),
      action: 'user.totp_enabled',
      targetType: 'user',
      targetId: user.id,
      details: {},
    });
  });
  const session = await issueSession(
    database,
    {
      userId: user.id,
      stage: 'full',
      mfa: true,
      ssoWorkspaceId: current?.sso_workspace_id ?? null,
      ip: input.ip,
      userAgent: input.userAgent,
    },
    input.sessionToken,
  );
  return { recoveryCodes: codes, session };
}

export async function regenerateRecoveryCodes(database: Database, userId: string) {
  const user = await findUserById(database.db, userId);
  if (!user || user.totp_enabled_at === null) {
    throw new AssayError('validation_failed', 'enrol a second factor before asking for recovery codes');
  }
  const codes = newRecoveryCodes();
  await database.inSystem(async (trx) => {
    await replaceRecoveryCodes(
      trx,
      user.id,
      codes.map((c) => hashSecret(normaliseRecoveryCode(c))),
    );
    await recordAudit(trx, {
      workspaceId: null,
      actor: personActor(user, user.email),
      action: 'user.recovery_codes_replaced',
      targetType: 'user',
      targetId: user.id,
      details: {},
    });
  });
  return codes;
}
