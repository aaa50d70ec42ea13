/** Every SQL statement about people, sessions, memberships, tokens and SSO connections. */
import { type Kysely, sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { DB } from '../../db/schema.ts';
import type { Role } from '../access/permissions.ts';
import type { SessionStage } from './accounts.tables.ts';

type Executor = Kysely<DB> | Trx;

// ── people ──────────────────────────────────────────────────────────────────

export function findUserByEmail(db: Executor, email: string) {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export function findUserById(db: Executor, id: string) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export function insertUser(
  db: Executor,
  values: { email: string; displayName: string; passwordHash: string | null; platformAdmin: boolean },
) {
  return db
    .insertInto('users')
    .values({
      email: values.email,
      display_name: values.displayName,
      password_hash: values.passwordHash,
      password_changed_at: values.passwordHash ? new Date() : null,
      platform_admin: values.platformAdmin,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function listUsers(db: Executor) {
  return db.selectFrom('users').selectAll().orderBy('email').execute();
}

export async function updateUserPassword(db: Executor, userId: string, passwordHash: string) {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, password_changed_at: new Date() })
    .where('id', '=', userId)
    .execute();
}

export async function setPlatformAdmin(db: Executor, userId: string, platformAdmin: boolean) {
  await db.updateTable('users').set({ platform_admin: platformAdmin }).where('id', '=', userId).execute();
}

export async function setPendingTotpSecret(db: Executor, userId: string, sealed: string | null) {
  await db.updateTable('users').set({ totp_pending_secret: sealed }).where('id', '=', userId).execute();
}

export async function enableTotp(db: Executor, userId: string, sealed: string, step: number) {
  await db
    .updateTable('users')
    .set({
      totp_secret: sealed,
      totp_pending_secret: null,
      totp_enabled_at: new Date(),
      totp_last_step: step,
    })
    .where('id', '=', userId)
    .execute();
}

export async function clearTotp(db: Executor, userId: string) {
  await db
    .updateTable('users')
    .set({ totp_secret: null, totp_pending_secret: null, totp_enabled_at: null, totp_last_step: null })
    .where('id', '=', userId)
    .execute();
  await db.deleteFrom('user_recovery_codes').where('user_id', '=', userId).execute();
}

/** Records the accepted step only if it is newer: two requests racing with one code, one wins. */
export async function claimTotpStep(db: Executor, userId: string, step: number): Promise<boolean> {
  const row = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function replaceRecoveryCodes(db: Executor, userId: string, hashes: string[]) {
  await db.deleteFrom('user_recovery_codes').where('user_id', '=', userId).execute();
  if (hashes.length > 0) {
    await db
      .insertInto('user_recovery_codes')
      .values(hashes.map((code_hash) => ({ user_id: userId, code_hash })))
      .execute();
  }
}

/** Marks an unused recovery code used; false when there is none (wrong or already used). */
export async function consumeRecoveryCode(db: Executor, userId: string, hash: string): Promise<boolean> {
  const row = await db
    .updateTable('user_recovery_codes')
    .set({ used_at: new Date() })
    .where('user_id', '=', userId)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function countUnusedRecoveryCodes(db: Executor, userId: string): Promise<number> {
  const row = await db
    .selectFrom('user_recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function findIdentity(db: Executor, issuer: string, subject: string) {
  return db
    .selectFrom('user_identities')
    .selectAll()
    .where('issuer', '=', issuer)
    .where('subject', '=', subject)
    .executeTakeFirst();
}

export async function insertIdentity(db: Executor, userId: string, issuer: string, subject: string) {
  await db.insertInto('user_identities').values({ user_id: userId, issuer, subject }).execute();
}

// ── sessions ────────────────────────────────────────────────────────────────

export function insertSession(
  db: Executor,
  values: {
    tokenHash: string;
    csrfHash: string;
    userId: string;
    stage: SessionStage;
    mfa: boolean;
    ssoWorkspaceId: string | null;
    ip: string;
    userAgent: string;
    expiresAt: Date;
  },
) {
  return db
    .insertInto('sessions')
    .values({
      token_hash: values.tokenHash,
      csrf_hash: values.csrfHash,
      user_id: values.userId,
      stage: values.stage,
      mfa: values.mfa,
      sso_workspace_id: values.ssoWorkspaceId,
      ip: values.ip,
      user_agent: values.userAgent,
      last_seen_at: new Date(),
      expires_at: values.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findSessionWithUser(db: Executor, tokenHash: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id',
      'sessions.csrf_hash',
      'sessions.user_id',
      'sessions.stage',
      'sessions.mfa',
      'sessions.sso_workspace_id',
      'sessions.created_at',
      'sessions.last_seen_at',
      'sessions.expires_at',
      'sessions.revoked_at',
      'users.email',
      'users.platform_admin',
      'users.disabled_at',
    ])
    .where('sessions.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function touchSession(db: Executor, sessionId: string) {
  await db.updateTable('sessions').set({ last_seen_at: new Date() }).where('id', '=', sessionId).execute();
}

export async function revokeSession(db: Executor, sessionId: string) {
  await db
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function revokeSessionByTokenHash(db: Executor, tokenHash: string) {
  await db
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function revokeSessionsOfUser(db: Executor, userId: string, exceptSessionId?: string) {
  let query = db
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (exceptSessionId !== undefined) query = query.where('id', '<>', exceptSessionId);
  await query.execute();
}

// ── throttling ──────────────────────────────────────────────────────────────

export function findThrottles(db: Executor, keys: string[]) {
  return db.selectFrom('auth_throttle').selectAll().where('key', 'in', keys).execute();
}

/** Counts one failure in the key's window (a new window once the old one has passed). */
export function recordThrottleFailure(
  db: Executor,
  key: string,
  limits: { windowSeconds: number; maxFailures: number; lockSeconds: number },
) {
  const windowStart = sql`now() - make_interval(secs => ${limits.windowSeconds})`;
  return sql<{ failures: number; locked_until: Date | null }>`
    insert into auth_throttle as t (key, failures, window_started_at, locked_until)
    values (${key}, 1, now(), case when 1 >= ${limits.maxFailures}
      then now() + make_interval(secs => ${limits.lockSeconds}) end)
    on conflict (key) do update set
      failures = case when t.window_started_at < ${windowStart} then 1 else t.failures + 1 end,
      window_started_at = case when t.window_started_at < ${windowStart} then now() else t.window_started_at end,
      locked_until = case
        when (case when t.window_started_at < ${windowStart} then 1 else t.failures + 1 end) >= ${limits.maxFailures}
        then now() + make_interval(secs => ${limits.lockSeconds})
        else t.locked_until end
    returning failures, locked_until`
    .execute(db)
    .then((r) => r.rows[0]!);
}

export async function clearThrottle(db: Executor, key: string) {
  await db.deleteFrom('auth_throttle').where('key', '=', key).execute();
}

// ── memberships ─────────────────────────────────────────────────────────────

/** The memberships that can give a person a role in a workspace: their own there, and their MSP's. */
export function findMembershipsReaching(
  db: Executor,
  userId: string,
  workspaceId: string,
  parentId: string | null,
) {
  let query = db
    .selectFrom('memberships')
    .selectAll()
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]));
  query = query.where((eb) =>
    parentId === null
      ? eb('workspace_id', '=', workspaceId)
      : eb.or([
          eb('workspace_id', '=', workspaceId),
          eb.and([
            eb('workspace_id', '=', parentId),
            sql<boolean>`${workspaceId}::uuid = any(${sql.ref('client_workspace_ids')})`,
          ]),
        ]),
  );
  return query.execute();
}

export function listMembershipsOfUser(db: Executor, userId: string) {
  return db
    .selectFrom('memberships')
    .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
    .select([
      'memberships.id',
      'memberships.workspace_id',
      'memberships.role',
      'memberships.client_workspace_ids',
      'memberships.audit_period_start',
      'memberships.audit_period_end',
      'memberships.expires_at',
      'workspaces.slug',
    ])
    .where('memberships.user_id', '=', userId)
    .where((eb) =>
      eb.or([eb('memberships.expires_at', 'is', null), eb('memberships.expires_at', '>', new Date())]),
    )
    .orderBy('workspaces.slug')
    .execute();
}

export function listMembers(db: Executor, workspaceId: string) {
  return db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select([
      'memberships.id',
      'memberships.workspace_id',
      'memberships.user_id',
      'memberships.role',
      'memberships.client_workspace_ids',
      'memberships.audit_period_start',
      'memberships.audit_period_end',
      'memberships.expires_at',
      'memberships.created_by',
      'memberships.created_at',
      'users.email',
      'users.display_name',
    ])
    .where('memberships.workspace_id', '=', workspaceId)
    .orderBy('users.email')
    .execute();
}

export function findMembership(db: Executor, workspaceId: string, userId: string) {
  return db
    .selectFrom('memberships')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

export function upsertMembership(
  db: Executor,
  values: {
    workspaceId: string;
    userId: string;
    role: Role;
    clientWorkspaceIds: string[];
    auditPeriodStart: string | null;
    auditPeriodEnd: string | null;
    expiresAt: Date | null;
    createdBy: string;
  },
) {
  const row = {
    role: values.role,
    client_workspace_ids: values.clientWorkspaceIds,
    audit_period_start: values.auditPeriodStart,
    audit_period_end: values.auditPeriodEnd,
    expires_at: values.expiresAt,
  };
  return db
    .insertInto('memberships')
    .values({
      ...row,
      workspace_id: values.workspaceId,
      user_id: values.userId,
      created_by: values.createdBy,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'user_id']).doUpdateSet(row))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteMembership(db: Executor, membershipId: string) {
  await db.deleteFrom('memberships').where('id', '=', membershipId).execute();
}

export async function countOwners(db: Executor, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Whether the person must use a second factor: a platform admin, an owner or admin anywhere, or
 * a member of a workspace whose policy requires it. */
export async function userNeedsMfa(db: Executor, userId: string): Promise<boolean> {
  const row = await sql<{ needed: boolean }>`
    select exists (select 1 from users where id = ${userId} and platform_admin)
        or exists (
          select 1 from memberships m
          left join workspace_security_policies p on p.workspace_id = m.workspace_id
          where m.user_id = ${userId}
            and (m.expires_at is null or m.expires_at > now())
            and (m.role in ('owner', 'admin') or coalesce(p.require_mfa, false))
        ) as needed`.execute(db);
  return row.rows[0]?.needed === true;
}

export async function findSecurityPolicy(db: Executor, workspaceId: string) {
  return db
    .selectFrom('workspace_security_policies')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
}

export async function upsertSecurityPolicy(db: Executor, workspaceId: string, requireMfa: boolean) {
  return db
    .insertInto('workspace_security_policies')
    .values({ workspace_id: workspaceId, require_mfa: requireMfa, updated_at: new Date() })
    .onConflict((oc) =>
      oc.column('workspace_id').doUpdateSet({ require_mfa: requireMfa, updated_at: new Date() }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

// ── API tokens ──────────────────────────────────────────────────────────────

export function insertToken(
  db: Executor,
  values: {
    workspaceId: string;
    name: string;
    secretHash: string;
    permissions: string[];
    createdByType: string;
    createdById: string;
    createdByUserId: string | null;
    expiresAt: Date;
  },
) {
  return db
    .insertInto('api_tokens')
    .values({
      workspace_id: values.workspaceId,
      name: values.name,
      secret_hash: values.secretHash,
      permissions: values.permissions,
      created_by_type: values.createdByType,
      created_by_id: values.createdById,
      created_by_user_id: values.createdByUserId,
      expires_at: values.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findTokenBySecretHash(db: Executor, secretHash: string) {
  return db.selectFrom('api_tokens').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
}

export function listTokenRows(db: Executor, workspaceId: string) {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .orderBy('name')
    .execute();
}

export function findToken(db: Executor, workspaceId: string, tokenId: string) {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', tokenId)
    .executeTakeFirst();
}

export function revokeTokenRow(db: Executor, workspaceId: string, tokenId: string) {
  return db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', tokenId)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export function revokeTokensCreatedBy(db: Executor, workspaceId: string, userId: string) {
  return db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('created_by_user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .returning(['id', 'name'])
    .execute();
}

/** Last use is recorded at most once a minute per token: enough to show, cheap to keep. */
export async function markTokenUsed(db: Executor, tokenId: string) {
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: new Date() })
    .where('id', '=', tokenId)
    .where((eb) =>
      eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(Date.now() - 60_000))]),
    )
    .execute();
}

// ── single sign-on ──────────────────────────────────────────────────────────

export function findOidcConnection(db: Executor, workspaceId: string) {
  return db
    .selectFrom('oidc_connections')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
}

export function upsertOidcConnection(
  db: Executor,
  values: {
    workspaceId: string;
    issuer: string;
    clientId: string;
    clientSecret: string;
    jitRole: Role | null;
  },
) {
  const row = {
    issuer: values.issuer,
    client_id: values.clientId,
    client_secret: values.clientSecret,
    jit_role: values.jitRole,
    updated_at: new Date(),
  };
  return db
    .insertInto('oidc_connections')
    .values({ ...row, workspace_id: values.workspaceId })
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet(row))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function deleteOidcConnection(db: Executor, workspaceId: string) {
  return db
    .deleteFrom('oidc_connections')
    .where('workspace_id', '=', workspaceId)
    .returning('workspace_id')
    .executeTakeFirst();
}
