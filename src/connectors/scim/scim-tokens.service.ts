/**
 * SCIM bearer tokens: one per identity provider connection, bound to a workspace and a directory
 * name (`okta`, `entra`; default `idp`) whose accounts land in system `scim:<directory>`. The
 * token is shown once, at creation; only its SHA-256 is stored (it carries 256 random bits, so a
 * fast hash is enough). Revoking a token stops that provider's pushes at once.
 */
import type { Database } from '../../db/database.ts';
import { hashSecret, randomSecret } from '../../domains/accounts/credentials.ts';
import type { Actor } from '../../domains/audit/actor.ts';
import { recordAudit } from '../../domains/audit/record-audit.ts';
import { getWorkspace } from '../../domains/workspaces/workspaces.service.ts';
import { AssayError } from '../../errors.ts';
import { insertToken, isUuid, listTokens, revokeToken } from './scim.repository.ts';

/** Recognisable, so secret scanners (and people) can tell a leaked SCIM token. */
export const scimTokenPrefix = 'assay_scim_';
export const defaultDirectory = 'idp';
const directoryPattern = /^[a-z0-9][a-z0-9-]{0,39}$/;

export interface CreatedScimToken {
  id: string;
  workspace: string;
  directory: string;
  system: string;
  name: string;
  /** The bearer token: shown once, never stored. */
  token: string;
  /** The SCIM base path to give the identity provider, after the server's origin. */
  basePath: string;
  createdAt: string;
}

export async function createScimToken(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: { directory?: string | undefined; name?: string | undefined },
): Promise<CreatedScimToken> {
  const directory = (input.directory ?? defaultDirectory).trim().toLowerCase();
  if (!directoryPattern.test(directory)) {
    throw new AssayError(
      'validation_failed',
      `directory "${directory.slice(0, 60)}": use 1–40 lowercase letters, digits or hyphens (e.g. okta, entra)`,
      { field: 'directory' },
    );
  }
  const name = (input.name ?? `${directory} provisioning`).trim();
  if (name.length === 0 || name.length > 100) {
    throw new AssayError('validation_failed', 'name: must be 1–100 characters', { field: 'name' });
  }
  const workspace = await getWorkspace(database, workspaceRef);
  const token = `${scimTokenPrefix}${randomSecret(32)}`;
  const row = await database.inWorkspace(workspace.id, async (trx) => {
    const inserted = await insertToken(trx, {
      workspaceId: workspace.id,
      directory,
      name,
      secretHash: hashSecret(token),
      actorType: actor.type,
      actorId: actor.id,
    });
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'scim_token.created',
      targetType: 'scim_token',
      targetId: inserted.id,
      details: { directory, name },
    });
    return inserted;
  });
  return {
    id: row.id,
    workspace: workspace.slug,
    directory,
    system: `scim:${directory}`,
    name,
    token,
    basePath: `/scim/v2/${workspace.slug}`,
    createdAt: row.created_at.toISOString(),
  };
}

export async function listScimTokens(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  const rows = await database.inWorkspace(workspace.id, (trx) => listTokens(trx, workspace.id));
  return rows.map((row) => ({
    id: row.id,
    directory: row.directory,
    system: `scim:${row.directory}`,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by_id,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  }));
}

export async function revokeScimToken(database: Database, actor: Actor, workspaceRef: string, id: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  const notFound = () =>
    new AssayError('token_not_found', `no active SCIM token ${id.slice(0, 60)} in "${workspace.slug}"`);
  if (!isUuid(id)) throw notFound();
  return database.inWorkspace(workspace.id, async (trx) => {
    const row = await revokeToken(trx, workspace.id, id);
    if (!row) throw notFound();
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'scim_token.revoked',
      targetType: 'scim_token',
      targetId: row.id,
      details: { directory: row.directory, name: row.name },
    });
    return { id: row.id, directory: row.directory, name: row.name, revoked: true };
  });
}
