/**
 * Sessions: a random token in an HTTP-only, Secure, SameSite=Strict cookie; the database holds
 * only its hash. A new session (new token) is issued at every sign-in step, and any session the
 * browser brought along is revoked, so a token planted before sign-in never becomes signed in
 * (session fixation). Each session also has a CSRF token for cookie-authenticated writes.
 */
import type { Database } from '../../db/database.ts';
import {
  findSessionWithUser,
  insertSession,
  revokeSessionByTokenHash,
  touchSession,
} from './accounts.repository.ts';
import type { SessionStage } from './accounts.tables.ts';
import { hashSecret, randomSecret } from './credentials.ts';

export const sessionCookie = 'assay_session';
export const csrfCookie = 'assay_csrf';
export const csrfHeader = 'x-csrf-token';

export const sessionLifetime = {
  /** A signed-in session ends this long after sign-in, whatever happens. */
  absoluteSeconds: 12 * 3600,
  /** …or after this long without a request. */
  idleSeconds: 2 * 3600,
  /** A half-finished sign-in (password done, TOTP code due) lasts this long. */
  pendingSeconds: 10 * 60,
};

export interface IssuedSession {
  id: string;
  token: string;
  csrfToken: string;
  stage: SessionStage;
  expiresAt: Date;
}

export interface SessionRequestInfo {
  ip: string;
  userAgent: string;
}

export async function issueSession(
  database: Database,
  values: {
    userId: string;
    stage: SessionStage;
    mfa: boolean;
    ssoWorkspaceId: string | null;
  } & SessionRequestInfo,
  replacing?: string | undefined,
): Promise<IssuedSession> {
  const token = randomSecret(32);
  const csrfToken = randomSecret(24);
  const expiresAt = new Date(
    Date.now() +
      1000 * (values.stage === 'full' ? sessionLifetime.absoluteSeconds : sessionLifetime.pendingSeconds),
  );
  const row = await database.inSystem(async (trx) => {
    if (replacing !== undefined) await revokeSessionByTokenHash(trx, hashSecret(replacing));
    return insertSession(trx, {
      tokenHash: hashSecret(token),
      csrfHash: hashSecret(csrfToken),
      userId: values.userId,
      stage: values.stage,
      mfa: values.mfa,
      ssoWorkspaceId: values.ssoWorkspaceId,
      ip: values.ip.slice(0, 100),
      userAgent: values.userAgent.slice(0, 300),
      expiresAt,
    });
  });
  return { id: row.id, token, csrfToken, stage: values.stage, expiresAt };
}

export type LiveSession = NonNullable<Awaited<ReturnType<typeof findSessionWithUser>>>;

/** The live session behind a cookie token, or undefined (unknown, revoked, expired or idle). */
export async function findLiveSession(database: Database, token: string): Promise<LiveSession | undefined> {
  if (token.length < 20 || token.length > 200) return undefined;
  const row = await findSessionWithUser(database.db, hashSecret(token));
  if (!row || row.revoked_at !== null || row.disabled_at !== null) return undefined;
  const now = Date.now();
  if (row.expires_at.getTime() <= now) return undefined;
  if (row.last_seen_at.getTime() + sessionLifetime.idleSeconds * 1000 <= now) return undefined;
  if (now - row.last_seen_at.getTime() > 60_000) await touchSession(database.db, row.id);
  return row;
}
