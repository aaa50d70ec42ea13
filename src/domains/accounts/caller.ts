/**
 * Who is calling, and what they may do in a workspace. A caller is a signed-in person (session
 * cookie) or an API token (`Authorization: Bearer`). Their rights in a workspace come from their
 * membership there, from an MSP membership that lists the workspace as a reached client, from
 * being a platform admin — or, for a token, from the permissions it was created with.
 */
import type { Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import {
  isWorkspacePermission,
  permissionsOfRoles,
  type Role,
  rolesRequiringMfa,
  type WorkspacePermission,
  workspacePermissions,
} from '../access/permissions.ts';
import type { Actor } from '../audit/actor.ts';
import { findWorkspaceBySlugOrId, listWorkspaces } from '../workspaces/workspaces.repository.ts';
import type { WorkspacesTable } from '../workspaces/workspaces.tables.ts';
import {
  findMembershipsReaching,
  findSecurityPolicy,
  findTokenBySecretHash,
  listMembershipsOfUser,
  markTokenUsed,
} from './accounts.repository.ts';
import { apiTokenPrefix, hashSecret } from './credentials.ts';
import { findLiveSession } from './sessions.service.ts';

export interface UserCaller {
  kind: 'user';
  userId: string;
  email: string;
  platformAdmin: boolean;
  session: { id: string; mfa: boolean; ssoWorkspaceId: string | null; csrfHash: string };
}

export interface TokenCaller {
  kind: 'token';
  tokenId: string;
  name: string;
  workspaceId: string;
  permissions: ReadonlySet<WorkspacePermission>;
}

export type Caller = UserCaller | TokenCaller;

export function callerActor(caller: Caller): Actor {
  return caller.kind === 'user'
    ? { type: 'user', id: caller.userId, name: caller.email }
    : { type: 'token', id: caller.tokenId, name: caller.name };
}

/** Platform-admin powers need a second factor and a session that did not come through a workspace's SSO. */
export function hasPlatformAuthority(caller: Caller | null): boolean {
  return (
    caller?.kind === 'user' &&
    caller.platformAdmin &&
    caller.session.mfa &&
    caller.session.ssoWorkspaceId === null
  );
}

const unauthenticated = (message: string) => new AssayError('unauthenticated', message);

export async function authenticateSessionToken(database: Database, token: string): Promise<UserCaller> {
  const row = await findLiveSession(database, token);
  if (!row) throw unauthenticated('your session has ended or is not valid: sign in again');
  if (row.stage !== 'full') {
    throw unauthenticated('sign-in is not finished: enter the code from your authenticator app');
  }
  return {
    kind: 'user',
    userId: row.user_id,
    email: row.email,
    platformAdmin: row.platform_admin,
    session: { id: row.id, mfa: row.mfa, ssoWorkspaceId: row.sso_workspace_id, csrfHash: row.csrf_hash },
  };
}

export async function authenticateApiToken(database: Database, secret: string): Promise<TokenCaller> {
  if (!secret.startsWith(apiTokenPrefix) || secret.length > 200) {
    throw unauthenticated('the bearer token is not an Assay API token');
  }
  const row = await findTokenBySecretHash(database.db, hashSecret(secret));
  if (!row) throw unauthenticated('the API token is not valid');
  if (row.revoked_at !== null) throw unauthenticated('the API token was revoked');
  if (row.expires_at.getTime() <= Date.now()) throw unauthenticated('the API token has expired');
  await markTokenUsed(database.db, row.id);
  return {
    kind: 'token',
    tokenId: row.id,
    name: row.name,
    workspaceId: row.workspace_id,
    permissions: new Set(row.permissions.filter(isWorkspacePermission)),
  };
}

export interface WorkspaceGrant {
  workspace: Selectable<WorkspacesTable>;
  /** The roles in effect (after the second-factor rule). */
  roles: Role[];
  platformAdmin: boolean;
  permissions: ReadonlySet<WorkspacePermission>;
  /** Roles the caller holds but that wait for a second factor in this session. */
  withheldForMfa: Role[];
  /** For auditors: the one audit period they may see. */
  auditPeriod: { start: string; end: string } | null;
}

/**
 * The caller's rights in a workspace, or null when they have none there — including when the
 * workspace does not exist, so that a guessed slug or id reveals nothing.
 */
export async function resolveGrant(
  database: Database,
  caller: Caller,
  workspaceRef: string,
): Promise<WorkspaceGrant | null> {
  const workspace = await findWorkspaceBySlugOrId(database.db, workspaceRef);
  if (!workspace) return null;
  if (caller.kind === 'token') {
    if (caller.workspaceId !== workspace.id) return null;
    return {
      workspace,
      roles: [],
      platformAdmin: false,
      permissions: caller.permissions,
      withheldForMfa: [],
      auditPeriod: null,
    };
  }
  if (hasPlatformAuthority(caller)) {
    return {
      workspace,
      roles: [],
      platformAdmin: true,
      permissions: new Set(workspacePermissions),
      withheldForMfa: [],
      auditPeriod: null,
    };
  }
  const sso = caller.session.ssoWorkspaceId;
  const memberships = (
    await findMembershipsReaching(database.db, caller.userId, workspace.id, workspace.parent_id)
  ).filter((m) => sso === null || m.workspace_id === sso);
  if (memberships.length === 0) return null;
  const policy = await findSecurityPolicy(database.db, workspace.id);
  const roles: Role[] = [];
  const withheldForMfa: Role[] = [];
  let auditPeriod: WorkspaceGrant['auditPeriod'] = null;
  for (const m of memberships) {
    const needsMfa = rolesRequiringMfa.includes(m.role) || policy?.require_mfa === true;
    if (needsMfa && !caller.session.mfa) {
      withheldForMfa.push(m.role);
      continue;
    }
    roles.push(m.role);
    if (m.role === 'auditor' && m.audit_period_start !== null && m.audit_period_end !== null) {
      auditPeriod = { start: m.audit_period_start, end: m.audit_period_end };
    }
  }
  // An auditor's period bounds what they see only when auditing is all they do here.
  if (roles.some((r) => r !== 'auditor')) auditPeriod = null;
  return {
    workspace,
    roles,
    platformAdmin: false,
    permissions: permissionsOfRoles(roles),
    withheldForMfa,
    auditPeriod,
  };
}

/** The workspaces a caller may list: every one for a platform admin. */
export async function visibleWorkspaces(database: Database, caller: Caller) {
  const all = await listWorkspaces(database.db);
  if (hasPlatformAuthority(caller)) return all;
  if (caller.kind === 'token') return all.filter((w) => w.id === caller.workspaceId);
  const parentOf = new Map(all.map((w) => [w.id, w.parent_id]));
  const sso = caller.session.ssoWorkspaceId;
  const visible = new Set<string>();
  for (const m of await listMembershipsOfUser(database.db, caller.userId)) {
    if (sso !== null && m.workspace_id !== sso) continue;
    visible.add(m.workspace_id);
    // A listed client counts only while it still belongs to this MSP (as in resolveGrant).
    for (const client of m.client_workspace_ids) {
      if (parentOf.get(client) === m.workspace_id) visible.add(client);
    }
  }
  return all.filter((w) => visible.has(w.id));
}
