/** People: created by the operator (`assay user create`), by a workspace admin adding a member, or
 * on first SSO sign-in when a workspace allows it. */
import type { Selectable } from 'kysely';
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import {
  clearTotp,
  findUserByEmail,
  insertUser,
  listUsers,
  revokeSessionsOfUser,
  updateUserPassword,
} from './accounts.repository.ts';
import type { UsersTable } from './accounts.tables.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';

export type UserRow = Selectable<UsersTable>;

const emailPattern = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{1,63}$/;

export function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (!emailPattern.test(email) || email.length > 254) {
    throw new AssayError('validation_failed', `email "${raw.slice(0, 80)}": not an email address`, {
      field: 'email',
    });
  }
  return email;
}

export interface CreateUserInput {
  email: string;
  displayName?: string | undefined;
  password?: string | undefined;
  platformAdmin?: boolean | undefined;
}

export async function createUser(database: Database, actor: Actor, input: CreateUserInput): Promise<UserRow> {
  const email = normaliseEmail(input.email);
  let passwordHash: string | null = null;
  if (input.password !== undefined) {
    checkPasswordPolicy(input.password, { email });
    passwordHash = await hashPassword(input.password);
  }
  return database.inSystem(async (trx) => {
    if (await findUserByEmail(trx, email)) {
      throw new AssayError('user_exists', `a user with email ${email} already exists`, { field: 'email' });
    }
    return insertUserAudited(trx, actor, {
      email,
      displayName: input.displayName?.trim().slice(0, 200) ?? '',
      passwordHash,
      platformAdmin: input.platformAdmin === true,
    });
  });
}

/** Inserts a person and records it (shared by member adds and SSO first sign-in). */
export async function insertUserAudited(
  trx: Trx,
  actor: Actor,
  values: Parameters<typeof insertUser>[1],
): Promise<UserRow> {
  const row = await insertUser(trx, values);
  await recordAudit(trx, {
    workspaceId: null,
    actor,
    action: 'user.created',
    targetType: 'user',
    targetId: row.id,
    details: { email: row.email, platformAdmin: row.platform_admin, password: values.passwordHash !== null },
  });
  return row;
}

export async function getUserByEmail(database: Database, rawEmail: string): Promise<UserRow> {
  const email = normaliseEmail(rawEmail);
  const row = await findUserByEmail(database.db, email);
  if (!row) throw new AssayError('user_not_found', `no user with email ${email}`, { field: 'email' });
  return row;
}

export function listAllUsers(database: Database) {
  return listUsers(database.db);
}

/** Sets a new password (policy-checked) and ends the person's other sessions. */
export async function setUserPassword(
  database: Database,
  actor: Actor,
  user: UserRow,
  password: string,
  keepSessionId?: string,
) {
  checkPasswordPolicy(password, { email: user.email });
  const hash = await hashPassword(password);
  await database.inSystem(async (trx) => {
    await updateUserPassword(trx, user.id, hash);
    await revokeSessionsOfUser(trx, user.id, keepSessionId);
    await recordAudit(trx, {
      workspaceId: null,
      actor,
      action: 'user.password_set',
      targetType: 'user',
      targetId: user.id,
      details: { email: user.email },
    });
  });
}

/** For a person who lost their authenticator and recovery codes: the operator clears the factor. */
export async function resetUserMfa(database: Database, actor: Actor, user: UserRow) {
  await database.inSystem(async (trx) => {
    await clearTotp(trx, user.id);
    await revokeSessionsOfUser(trx, user.id);
    await recordAudit(trx, {
      workspaceId: null,
      actor,
      action: 'user.mfa_reset',
      targetType: 'user',
      targetId: user.id,
      details: { email: user.email },
    });
  });
}

export function presentUser(row: UserRow) {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    platformAdmin: row.platform_admin,
    passwordSet: row.password_hash !== null,
    mfaEnabled: row.totp_enabled_at !== null,
    createdAt: row.created_at.toISOString(),
  };
}
