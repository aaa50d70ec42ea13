/**
 * SQL for the SCIM service provider: tokens, users, groups and memberships, always filtered by
 * workspace and directory (row-level security enforces the workspace a second time).
 */
import { sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { JsonObject } from './scim.filter.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Only well-formed ids reach the database: anything else simply names no resource. */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

export interface Directory {
  workspaceId: string;
  directory: string;
}

// ---------------------------------------------------------------------------------------------
// Tokens

export async function findActiveToken(trx: Trx, workspaceId: string, secretHash: string) {
  return trx
    .selectFrom('scim_tokens')
    .select(['id', 'directory', 'name'])
    .where('workspace_id', '=', workspaceId)
    .where('secret_hash', '=', secretHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function findTokenById(trx: Trx, workspaceId: string, id: string) {
  return trx
    .selectFrom('scim_tokens')
    .select(['id', 'directory'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Marks a token used, at most once every five minutes (so reads stay nearly write-free). */
export async function touchToken(trx: Trx, workspaceId: string, tokenId: string) {
  await trx
    .updateTable('scim_tokens')
    .set({ last_used_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', tokenId)
    .where((eb) =>
      eb.or([
        eb('last_used_at', 'is', null),
        eb('last_used_at', '<', sql<Date>`now() - interval '5 minutes'`),
      ]),
    )
    .execute();
}

export async function insertToken(
  trx: Trx,
  values: {
    workspaceId: string;
    directory: string;
    name: string;
    secretHash: string;
    actorType: string;
    actorId: string;
  },
) {
  return trx
    .insertInto('scim_tokens')
    .values({
      workspace_id: values.workspaceId,
      directory: values.directory,
      name: values.name,
      secret_hash: values.secretHash,
      created_by_type: values.actorType,
      created_by_id: values.actorId,
    })
    .returning(['id', 'directory', 'name', 'created_at'])
    .executeTakeFirstOrThrow();
}

export async function listTokens(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('scim_tokens')
    .select(['id', 'directory', 'name', 'created_at', 'created_by_id', 'revoked_at', 'last_used_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .execute();
}

export async function revokeToken(trx: Trx, workspaceId: string, id: string) {
  return trx
    .updateTable('scim_tokens')
    .set({ revoked_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning(['id', 'directory', 'name'])
    .executeTakeFirst();
}

// ---------------------------------------------------------------------------------------------
// Users

export async function findUser(trx: Trx, d: Directory, id: string, forUpdate = false) {
  if (!isUuid(id)) return undefined;
  let query = trx
    .selectFrom('scim_users')
    .selectAll()
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory)
    .where('id', '=', id);
  // A write locks the row first, so two identical requests (an IdP's retry racing the original)
  // apply one after the other and the second sees the first's result.
  if (forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findUserByUserName(trx: Trx, d: Directory, userName: string) {
  return trx
    .selectFrom('scim_users')
    .selectAll()
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory)
    .where(sql<string>`lower(user_name)`, '=', userName.toLowerCase())
    .executeTakeFirst();
}

export async function findUsersByIds(trx: Trx, d: Directory, ids: string[]) {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  return trx
    .selectFrom('scim_users')
    .selectAll()
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory)
    .where('id', 'in', valid)
    .execute();
}

export type ScimUserRow = NonNullable<Awaited<ReturnType<typeof findUser>>>;

export interface Narrowing {
  attr: string;
  value: string;
}

/** Users in creation order; `narrow` limits the rows read to an equality the indexes answer. */
export async function selectUsers(trx: Trx, d: Directory, narrow: Narrowing | undefined) {
  let query = trx
    .selectFrom('scim_users')
    .selectAll()
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory);
  if (narrow?.attr === 'username')
    query = query.where(sql<string>`lower(user_name)`, '=', narrow.value.toLowerCase());
  else if (narrow?.attr === 'externalid') query = query.where('external_id', '=', narrow.value);
  else if (narrow?.attr === 'id') {
    if (!isUuid(narrow.value)) return [];
    query = query.where('id', '=', narrow.value);
  }
  return query.orderBy('created_at').orderBy('id').execute();
}

export async function pageUsers(trx: Trx, d: Directory, offset: number, limit: number) {
  const [rows, total] = await Promise.all([
    limit === 0
      ? Promise.resolve([])
      : trx
          .selectFrom('scim_users')
          .selectAll()
          .where('workspace_id', '=', d.workspaceId)
          .where('directory', '=', d.directory)
          .orderBy('created_at')
          .orderBy('id')
          .offset(offset)
          .limit(limit)
          .execute(),
    countRows(trx, 'scim_users', d),
  ]);
  return { rows, total };
}

async function countRows(trx: Trx, table: 'scim_users' | 'scim_groups', d: Directory) {
  const row = await trx
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertUser(
  trx: Trx,
  d: Directory,
  values: { userName: string; externalId: string | undefined; active: boolean; resource: JsonObject },
) {
  return trx
    .insertInto('scim_users')
    .values({
      workspace_id: d.workspaceId,
      directory: d.directory,
      user_name: values.userName,
      external_id: values.externalId ?? null,
      active: values.active,
      resource: JSON.stringify(values.resource),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateUser(
  trx: Trx,
  d: Directory,
  id: string,
  values: { userName: string; externalId: string | undefined; active: boolean; resource: JsonObject },
) {
  return trx
    .updateTable('scim_users')
    .set((eb) => ({
      user_name: values.userName,
      external_id: values.externalId ?? null,
      active: values.active,
      resource: JSON.stringify(values.resource),
      version: eb('version', '+', 1),
      updated_at: sql<Date>`now()`,
    }))
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteUser(trx: Trx, d: Directory, id: string) {
  await trx
    .deleteFrom('scim_users')
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory)
    .where('id', '=', id)
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Groups

export async function findGroup(trx: Trx, d: Directory, id: string, forUpdate = false) {
  if (!isUuid(id)) return undefined;
  let query = trx
    .selectFrom('scim_groups')
    .selectAll()
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory)
    .where('id', '=', id);
  if (forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export type ScimGroupRow = NonNullable<Awaited<ReturnType<typeof findGroup>>>;

export async function selectGroups(trx: Trx, d: Directory, narrow: Narrowing | undefined) {
  let query = trx
    .selectFrom('scim_groups')
    .selectAll()
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory);
  if (narrow?.attr === 'displayname') {
    query = query.where(sql<string>`lower(display_name)`, '=', narrow.value.toLowerCase());
  } else if (narrow?.attr === 'externalid') query = query.where('external_id', '=', narrow.value);
  else if (narrow?.attr === 'id') {
    if (!isUuid(narrow.value)) return [];
    query = query.where('id', '=', narrow.value);
  }
  return query.orderBy('created_at').orderBy('id').execute();
}

export async function pageGroups(trx: Trx, d: Directory, offset: number, limit: number) {
  const [rows, total] = await Promise.all([
    limit === 0
      ? Promise.resolve([])
      : trx
          .selectFrom('scim_groups')
          .selectAll()
          .where('workspace_id', '=', d.workspaceId)
          .where('directory', '=', d.directory)
          .orderBy('created_at')
          .orderBy('id')
          .offset(offset)
          .limit(limit)
          .execute(),
    countRows(trx, 'scim_groups', d),
  ]);
  return { rows, total };
}

export async function insertGroup(
  trx: Trx,
  d: Directory,
  values: { displayName: string; externalId: string | undefined; resource: JsonObject },
) {
  return trx
    .insertInto('scim_groups')
    .values({
      workspace_id: d.workspaceId,
      directory: d.directory,
      display_name: values.displayName,
      external_id: values.externalId ?? null,
      resource: JSON.stringify(values.resource),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateGroup(
  trx: Trx,
  d: Directory,
  id: string,
  values: { displayName: string; externalId: string | undefined; resource: JsonObject },
) {
  return trx
    .updateTable('scim_groups')
    .set((eb) => ({
      display_name: values.displayName,
      external_id: values.externalId ?? null,
      resource: JSON.stringify(values.resource),
      version: eb('version', '+', 1),
      updated_at: sql<Date>`now()`,
    }))
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A new version for a group whose members changed because a user was deleted. */
export async function bumpGroupVersion(trx: Trx, d: Directory, id: string) {
  return trx
    .updateTable('scim_groups')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteGroup(trx: Trx, d: Directory, id: string) {
  await trx
    .deleteFrom('scim_groups')
    .where('workspace_id', '=', d.workspaceId)
    .where('directory', '=', d.directory)
    .where('id', '=', id)
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Memberships

export async function membersOf(trx: Trx, workspaceId: string, groupIds: string[]) {
  if (groupIds.length === 0) return [];
  return trx
    .selectFrom('scim_group_members as m')
    .innerJoin('scim_users as u', 'u.id', 'm.user_id')
    .select(['m.group_id', 'm.user_id', 'm.display', 'u.user_name', 'u.resource'])
    .where('m.workspace_id', '=', workspaceId)
    .where('m.group_id', 'in', groupIds)
    .orderBy('m.added_at')
    .orderBy('m.user_id')
    .execute();
}

export async function groupsOf(trx: Trx, workspaceId: string, userIds: string[]) {
  if (userIds.length === 0) return [];
  return trx
    .selectFrom('scim_group_members as m')
    .innerJoin('scim_groups as g', 'g.id', 'm.group_id')
    .select(['m.user_id', 'm.group_id', 'g.display_name'])
    .where('m.workspace_id', '=', workspaceId)
    .where('m.user_id', 'in', userIds)
    .orderBy('g.display_name')
    .orderBy('g.id')
    .execute();
}

export async function addMembers(
  trx: Trx,
  workspaceId: string,
  groupId: string,
  members: { userId: string; display: string | undefined }[],
) {
  if (members.length === 0) return;
  await trx
    .insertInto('scim_group_members')
    .values(
      members.map((m) => ({
        workspace_id: workspaceId,
        group_id: groupId,
        user_id: m.userId,
        display: m.display ?? null,
      })),
    )
    .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
    .execute();
}

export async function removeMembers(trx: Trx, workspaceId: string, groupId: string, userIds: string[]) {
  if (userIds.length === 0) return;
  await trx
    .deleteFrom('scim_group_members')
    .where('workspace_id', '=', workspaceId)
    .where('group_id', '=', groupId)
    .where('user_id', 'in', userIds)
    .execute();
}
