/**
 * API tokens: one workspace, an explicit set of permissions, an expiry (at most a year), and
 * revocable. The secret is shown once, at creation; only its SHA-256 is stored. A token made
 * through the API can hold only permissions its creator holds in that workspace.
 */
import type { Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import { isWorkspacePermission, type WorkspacePermission } from '../access/permissions.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { findToken, insertToken, listTokenRows, revokeTokenRow } from './accounts.repository.ts';
import type { ApiTokensTable } from './accounts.tables.ts';
import { hashSecret, newApiTokenSecret } from './credentials.ts';

export const maxTokenLifetimeDays = 366;
export const defaultTokenLifetimeDays = 90;

export interface CreateTokenInput {
  name: string;
  permissions: string[];
  expiresAt?: Date | undefined;
}

export interface TokenAuthority {
  actor: Actor;
  /** The person creating it (their removal from the workspace revokes it); null at the CLI. */
  userId: string | null;
  /** Permissions the creator may hand on; undefined: any (the operator). */
  grantable?: ReadonlySet<WorkspacePermission> | undefined;
}

export async function createApiToken(
  database: Database,
  authority: TokenAuthority,
  workspaceRef: string,
  input: CreateTokenInput,
) {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) {
    throw new AssayError('validation_failed', 'name: must be 1–100 characters', { field: 'name' });
  }
  const permissions = [...new Set(input.permissions.map((p) => p.trim()).filter((p) => p !== ''))];
  if (permissions.length === 0) {
    throw new AssayError('validation_failed', 'permissions: name at least one permission', {
      field: 'permissions',
    });
  }
  for (const p of permissions) {
    if (!isWorkspacePermission(p)) {
      throw new AssayError('validation_failed', `permissions: unknown permission "${p}"`, {
        field: 'permissions',
      });
    }
    if (authority.grantable && !authority.grantable.has(p)) {
      throw new AssayError(
        'forbidden',
        `you cannot grant "${p}": a token holds only permissions its creator holds`,
      );
    }
  }
  const now = Date.now();
  const expiresAt = input.expiresAt ?? new Date(now + defaultTokenLifetimeDays * 86_400_000);
  if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now) {
    throw new AssayError('validation_failed', 'expiresAt: must be in the future', { field: 'expiresAt' });
  }
  if (expiresAt.getTime() > now + maxTokenLifetimeDays * 86_400_000) {
    throw new AssayError('validation_failed', `expiresAt: at most ${maxTokenLifetimeDays} days ahead`, {
      field: 'expiresAt',
    });
  }
  const workspace = await getWorkspace(database, workspaceRef);
  const secret = newApiTokenSecret();
  const row = await database.inWorkspace(workspace.id, async (trx) => {
    const inserted = await insertToken(trx, {
      workspaceId: workspace.id,
      name,
      secretHash: hashSecret(secret),
      permissions,
      createdByType: authority.actor.type,
      createdById: authority.actor.id,
      createdByUserId: authority.userId,
      expiresAt,
    });
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor: authority.actor,
      action: 'token.created',
      targetType: 'api_token',
      targetId: inserted.id,
      details: { name, permissions, expiresAt: expiresAt.toISOString() },
    });
    return inserted;
  });
  return { row, secret, workspace };
}

export async function listApiTokens(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) => listTokenRows(trx, workspace.id));
}

export async function revokeApiToken(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  tokenId: string,
) {
  const workspace = await getWorkspace(database, workspaceRef);
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tokenId);
  const notFound = () =>
    new AssayError('token_not_found', `token "${tokenId}" does not exist in "${workspace.slug}"`);
  if (!isUuid) throw notFound();
  return database.inWorkspace(workspace.id, async (trx) => {
    const existing = await findToken(trx, workspace.id, tokenId.toLowerCase());
    if (!existing) throw notFound();
    const row = (await revokeTokenRow(trx, workspace.id, existing.id)) ?? existing;
    if (existing.revoked_at === null) {
      await recordAudit(trx, {
        workspaceId: workspace.id,
        actor,
        action: 'token.revoked',
        targetType: 'api_token',
        targetId: row.id,
        details: { name: row.name },
      });
    }
    return row;
  });
}

export function presentToken(row: Selectable<ApiTokensTable>) {
  const now = Date.now();
  return {
    id: row.id,
    name: row.name,
    permissions: row.permissions,
    createdBy: `${row.created_by_type}:${row.created_by_id}`,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    status: row.revoked_at !== null ? 'revoked' : row.expires_at.getTime() <= now ? 'expired' : 'active',
  };
}

/** Parses a lifetime like `90d`, `12h` or `2w` (CLI `--expires`). */
export function parseLifetime(text: string, field: string): number {
  const match = /^(\d{1,4})([hdw])$/.exec(text.trim());
  if (!match) {
    throw new AssayError('validation_failed', `${field} "${text}": use a number and h, d or w (e.g. 90d)`, {
      field,
    });
  }
  const n = Number(match[1]);
  const unit = match[2] === 'h' ? 3_600_000 : match[2] === 'd' ? 86_400_000 : 7 * 86_400_000;
  if (n <= 0) throw new AssayError('validation_failed', `${field}: must be more than zero`, { field });
  return n * unit;
}
