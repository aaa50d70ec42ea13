/**
 * The identity graph as people see it: people from HR, their accounts in each system, and the
 * manual corrections automation cannot make (linking an account by hand, declaring a non-human
 * identity with its owner and purpose).
 */
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { insertAuditEntry } from '../audit/audit.repository.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import {
  findIdentityById,
  findPersonByEmail,
  listIdentities,
  listPeople,
  updateIdentity,
} from './identity.repository.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function listWorkspacePeople(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) => listPeople(trx, workspace.id));
}

export async function listWorkspaceIdentities(
  database: Database,
  workspaceRef: string,
  filter: { system?: string | undefined; unlinked?: boolean | undefined } = {},
) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) => listIdentities(trx, workspace.id, filter));
}

export interface UpdateIdentityInput {
  /** Email of the person to link to; null unlinks (and keeps it unlinked). */
  person?: string | null | undefined;
  nonHuman?: boolean | undefined;
  owner?: string | null | undefined;
  purpose?: string | null | undefined;
}

export async function updateWorkspaceIdentity(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  identityId: string,
  input: UpdateIdentityInput,
) {
  const workspace = await getWorkspace(database, workspaceRef);
  if (!uuidPattern.test(identityId)) {
    throw new AssayError(
      'identity_not_found',
      `account "${identityId}" does not exist in "${workspace.slug}"`,
    );
  }
  return database.inWorkspace(workspace.id, async (trx) => {
    const current = await findIdentityById(trx, workspace.id, identityId);
    if (!current)
      throw new AssayError(
        'identity_not_found',
        `account "${identityId}" does not exist in "${workspace.slug}"`,
      );
    const changes: Parameters<typeof updateIdentity>[3] = {};
    if (input.person !== undefined) {
      if (input.person === null) {
        Object.assign(changes, { person_id: null, link_method: null, link_locked: true });
      } else {
        const person = await findPersonByEmail(trx, workspace.id, input.person);
        if (!person) {
          throw new AssayError(
            'validation_failed',
            `person: nobody with email "${input.person}" in "${workspace.slug}"`,
            {
              field: 'person',
            },
          );
        }
        Object.assign(changes, { person_id: person.id, link_method: 'manual', link_locked: true });
      }
    }
    if (input.nonHuman !== undefined) changes.non_human = input.nonHuman;
    if (input.owner !== undefined) changes.owner = input.owner;
    if (input.purpose !== undefined) changes.purpose = input.purpose;
    // Declaring an account non-human without an owner is allowed: the monitors flag it until one is set.
    const row = await updateIdentity(trx, workspace.id, identityId, changes);
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'identity.updated',
      targetType: 'identity',
      targetId: identityId,
      details: { ...input },
    });
    return row;
  });
}
