/**
 * Memberships give a person one role in one workspace. On an MSP workspace a membership can also
 * name client workspaces it reaches (explicitly: none by default). Auditors get one audit period
 * and an expiry. Only an owner (or the operator, or a platform admin) grants or removes the
 * owner role, and the last owner cannot be removed.
 */
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import { isRole, type Role } from '../access/permissions.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { findWorkspaceBySlugOrId } from '../workspaces/workspaces.repository.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import {
  countOwners,
  deleteMembership,
  findMembership,
  findUserByEmail,
  listMembers,
  revokeTokensCreatedBy,
  upsertMembership,
} from './accounts.repository.ts';
import { insertUserAudited, normaliseEmail } from './users.service.ts';

/** Who is changing memberships: the operator at the CLI, or a caller with their powers here. */
export interface MembershipAuthority {
  actor: Actor;
  /** Whether the owner role may be granted or removed by this actor. */
  mayManageOwners: boolean;
}

export interface AddMemberInput {
  email: string;
  role: string;
  /** MSP workspaces only: client workspaces (slugs or ids) this membership reaches. */
  clients?: string[] | undefined;
  expiresAt?: Date | null | undefined;
  auditPeriod?: { start: string; end: string } | undefined;
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/;

function validDate(text: string): boolean {
  if (!datePattern.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

export async function addMember(
  database: Database,
  authority: MembershipAuthority,
  workspaceRef: string,
  input: AddMemberInput,
) {
  const bad = (field: string, message: string): never => {
    throw new AssayError('validation_failed', `${field}: ${message}`, { field });
  };
  const email = normaliseEmail(input.email);
  if (!isRole(input.role)) {
    bad(
      'role',
      `unknown role "${input.role}" (expected owner, admin, compliance_manager, control_owner, reviewer, employee or auditor)`,
    );
  }
  const role = input.role as Role;
  const workspace = await getWorkspace(database, workspaceRef);
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt !== null && expiresAt.getTime() <= Date.now()) bad('expiresAt', 'must be in the future');
  let period: { start: string; end: string } | null = null;
  if (role === 'auditor') {
    if (!input.auditPeriod) bad('auditPeriod', 'an auditor is given one audit period (FROM..TO)');
    if (expiresAt === null) bad('expiresAt', "an auditor's access must expire");
  }
  if (input.auditPeriod) {
    if (role !== 'auditor') bad('auditPeriod', 'only auditors are limited to an audit period');
    const { start, end } = input.auditPeriod!;
    if (!validDate(start) || !validDate(end)) bad('auditPeriod', 'dates are YYYY-MM-DD');
    if (start > end) bad('auditPeriod', 'the period ends before it starts');
    period = { start, end };
  }
  if (role === 'owner' && !authority.mayManageOwners) {
    throw new AssayError('forbidden', 'only an owner may grant the owner role');
  }
  const clientIds: string[] = [];
  const clientSlugs: string[] = [];
  for (const ref of input.clients ?? []) {
    if (workspace.kind !== 'msp') {
      bad(
        'clients',
        `"${workspace.slug}" is not an MSP workspace: only MSP memberships reach client workspaces`,
      );
    }
    const client = await findWorkspaceBySlugOrId(database.db, ref);
    if (!client || client.parent_id !== workspace.id) {
      bad('clients', `"${ref}" is not a client workspace of "${workspace.slug}"`);
    }
    if (!clientIds.includes(client!.id)) {
      clientIds.push(client!.id);
      clientSlugs.push(client!.slug);
    }
  }
  return database.inSystem(async (trx) => {
    let user = await findUserByEmail(trx, email);
    let userCreated = false;
    if (!user) {
      // A person added before they ever signed in: they sign in through SSO, or the operator sets a password.
      user = await insertUserAudited(trx, authority.actor, {
        email,
        displayName: '',
        passwordHash: null,
        platformAdmin: false,
      });
      userCreated = true;
    }
    const previous = await findMembership(trx, workspace.id, user.id);
    if (previous?.role === 'owner' && role !== 'owner') {
      if (!authority.mayManageOwners)
        throw new AssayError('forbidden', 'only an owner may change an owner’s role');
      if ((await countOwners(trx, workspace.id)) <= 1) {
        throw new AssayError(
          'last_owner',
          `${email} is the last owner of "${workspace.slug}": add another owner first`,
        );
      }
    }
    const row = await upsertMembership(trx, {
      workspaceId: workspace.id,
      userId: user.id,
      role,
      clientWorkspaceIds: clientIds,
      auditPeriodStart: period?.start ?? null,
      auditPeriodEnd: period?.end ?? null,
      expiresAt,
      createdBy: `${authority.actor.type}:${authority.actor.id}`,
    });
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor: authority.actor,
      action: previous ? 'member.updated' : 'member.added',
      targetType: 'membership',
      targetId: row.id,
      details: {
        email,
        role,
        previousRole: previous?.role ?? null,
        clients: clientSlugs,
        auditPeriod: period,
        expiresAt: expiresAt?.toISOString() ?? null,
      },
    });
    return { membership: row, user, workspace, userCreated, clients: clientSlugs };
  });
}

export async function listWorkspaceMembers(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  const rows = await database.inWorkspace(workspace.id, (trx) => listMembers(trx, workspace.id));
  return { workspace, rows };
}

/** Removes a membership (by membership id or email) and revokes the API tokens that person made here. */
export async function removeMember(
  database: Database,
  authority: MembershipAuthority,
  workspaceRef: string,
  memberRef: string,
) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inSystem(async (trx) => {
    const members = await listMembers(trx, workspace.id);
    const ref = memberRef.trim().toLowerCase();
    const member = members.find((m) => m.id === ref || m.email === ref);
    if (!member) {
      throw new AssayError('member_not_found', `"${memberRef}" is not a member of "${workspace.slug}"`);
    }
    if (member.role === 'owner') {
      if (!authority.mayManageOwners) throw new AssayError('forbidden', 'only an owner may remove an owner');
      if ((await countOwners(trx, workspace.id)) <= 1) {
        throw new AssayError('last_owner', `${member.email} is the last owner of "${workspace.slug}"`);
      }
    }
    await deleteMembership(trx, member.id);
    const revoked = await revokeTokensCreatedBy(trx, workspace.id, member.user_id);
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor: authority.actor,
      action: 'member.removed',
      targetType: 'membership',
      targetId: member.id,
      details: { email: member.email, role: member.role, tokensRevoked: revoked.map((t) => t.id) },
    });
    return { member, tokensRevoked: revoked };
  });
}

export type MemberRow = Awaited<ReturnType<typeof listMembers>>[number];

export function presentMember(row: MemberRow, slugById: Map<string, string>) {
  return {
    id: row.id,
    userId: row.user_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    clients: row.client_workspace_ids.map((id) => slugById.get(id) ?? id),
    auditPeriod:
      row.audit_period_start !== null && row.audit_period_end !== null
        ? { start: row.audit_period_start, end: row.audit_period_end }
        : null,
    expiresAt: row.expires_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}
