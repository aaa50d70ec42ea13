/** A workspace's sign-in policy: owners and admins always need a second factor; a workspace can
 * require one of every member too. */
import type { Database } from '../../db/database.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { findSecurityPolicy, upsertSecurityPolicy } from './accounts.repository.ts';

export async function getSecurityPolicy(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  const row = await database.inWorkspace(workspace.id, (trx) => findSecurityPolicy(trx, workspace.id));
  return { workspace: workspace.slug, requireMfa: row?.require_mfa ?? false };
}

export async function setSecurityPolicy(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: { requireMfa: boolean },
) {
  const workspace = await getWorkspace(database, workspaceRef);
  await database.inWorkspace(workspace.id, async (trx) => {
    const previous = await findSecurityPolicy(trx, workspace.id);
    await upsertSecurityPolicy(trx, workspace.id, input.requireMfa);
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'security_policy.set',
      targetType: 'workspace',
      targetId: workspace.id,
      details: { requireMfa: input.requireMfa, previous: previous?.require_mfa ?? false },
    });
  });
  return { workspace: workspace.slug, requireMfa: input.requireMfa };
}
