/**
 * The SCIM operations. Each runs inside the request's one workspace transaction: the SCIM tables
 * change and the identity graph learns of it (through the ingest writer) together, or not at
 * all — so a deactivation is an account status change by the time the response is sent, and a
 * rejected request leaves nothing behind.
 */
import type { Trx } from '../../db/database.ts';
import type { ImportRecord } from '../../domains/events/event.model.ts';
import { ingestPush } from '../webhooks/push-ingest.ts';
import { conflict, notFound, ScimError } from './scim.errors.ts';
import {
  groupCreateRecords,
  groupDeleteRecords,
  groupRenameRecords,
  membershipRecords,
  type UserState,
  userDeleteRecords,
  userWriteRecords,
  type WriteContext,
} from './scim.facts.ts';
import {
  type Filter,
  indexableEquality,
  isObject,
  type JsonObject,
  matches,
  parseFilter,
} from './scim.filter.ts';
import { applyOperation, applyPatch, expandOperation, readPatchRequest } from './scim.patch.ts';
import {
  addMembers,
  bumpGroupVersion,
  type Directory,
  deleteGroup,
  deleteUser,
  findGroup,
  findUser,
  findUserByUserName,
  findUsersByIds,
  groupsOf,
  insertGroup,
  insertUser,
  membersOf,
  pageGroups,
  pageUsers,
  removeMembers,
  type ScimGroupRow,
  type ScimUserRow,
  selectGroups,
  selectUsers,
  updateGroup,
  updateUser,
} from './scim.repository.ts';
import {
  etagOf,
  type MemberInput,
  project,
  readGroup,
  readMembers,
  readUser,
  renderGroup,
  renderUser,
} from './scim.resource.ts';
import {
  enterpriseUserAttributes,
  groupAttributes,
  listResponseUrn,
  maxPageSize,
  userAttributes,
} from './scim.schemas.ts';

export interface ScimScope extends Directory {
  workspaceSlug: string;
  /** `scim:<directory>`: the system the accounts live in. */
  system: string;
  tokenId: string;
  /** `https://host/scim/v2/<workspace>`: the base of every `location`. */
  baseUrl: string;
}

export interface ScimResult {
  status: number;
  body?: JsonObject;
  /** Set on single-resource answers: the ETag header. */
  version?: number;
  location?: string;
  /** Events this request stored (new, not replays): what change-triggered checks start from. */
  storedEventIds: number[];
}

export interface ListQuery {
  filter?: string | undefined;
  startIndex?: string | undefined;
  count?: string | undefined;
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
}

const userSchema = { core: userAttributes, extension: enterpriseUserAttributes };
const groupSchema = { core: groupAttributes };

async function ingest(trx: Trx, scope: ScimScope, records: ImportRecord[]): Promise<number[]> {
  if (records.length === 0) return [];
  return (await ingestPush(trx, scope.workspaceId, records, 'scim')).storedEventIds;
}

/** `If-Match` (RFC 7644 §3.14): a write to a resource that changed since is refused. */
export function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const current = String(version);
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
  if (!tags.includes(current)) {
    throw new ScimError(412, `the resource is at version ${etagOf(version)}, not ${ifMatch.slice(0, 100)}`);
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// ---------------------------------------------------------------------------------------------
// Users

function userState(row: ScimUserRow): UserState {
  return {
    id: row.id,
    userName: row.user_name,
    active: row.active,
    resource: row.resource,
    createdAt: row.created_at,
  };
}

async function renderUsers(trx: Trx, scope: ScimScope, rows: ScimUserRow[]): Promise<JsonObject[]> {
  const memberships = await groupsOf(
    trx,
    scope.workspaceId,
    rows.map((r) => r.id),
  );
  return rows.map((row) =>
    renderUser(
      {
        resourceType: 'User',
        id: row.id,
        created: row.created_at,
        lastModified: row.updated_at,
        version: row.version,
        location: `${scope.baseUrl}/Users/${row.id}`,
      },
      row.resource,
      memberships
        .filter((m) => m.user_id === row.id)
        .map((m) => ({
          id: m.group_id,
          displayName: m.display_name,
          location: `${scope.baseUrl}/Groups/${m.group_id}`,
        })),
    ),
  );
}

async function userResult(
  trx: Trx,
  scope: ScimScope,
  row: ScimUserRow,
  status: number,
  storedEventIds: number[],
) {
  const [body] = await renderUsers(trx, scope, [row]);
  return {
    status,
    body: body!,
    version: row.version,
    location: `${scope.baseUrl}/Users/${row.id}`,
    storedEventIds,
  };
}

async function assertUserNameFree(trx: Trx, scope: ScimScope, userName: string, exceptId?: string) {
  const holder = await findUserByUserName(trx, scope, userName);
  if (holder && holder.id !== exceptId) {
    throw conflict(`a user with userName "${userName.slice(0, 100)}" already exists`);
  }
}

export async function createUser(
  trx: Trx,
  scope: ScimScope,
  ctx: WriteContext,
  body: unknown,
): Promise<ScimResult> {
  const input = readUser(body, true);
  await assertUserNameFree(trx, scope, input.userName);
  const row = await insertUser(trx, scope, input);
  const stored = await ingest(trx, scope, userWriteRecords(ctx, userState(row), undefined, row.version));
  return userResult(trx, scope, row, 201, stored);
}

export async function getUser(trx: Trx, scope: ScimScope, id: string, query: ListQuery): Promise<ScimResult> {
  const row = await findUser(trx, scope, id);
  if (!row) throw notFound(`User ${id.slice(0, 100)} not found`);
  const result = await userResult(trx, scope, row, 200, []);
  return { ...result, body: project(result.body, query.attributes, query.excludedAttributes) };
}

/** PUT and PATCH end here: store the new state if it differs, and say what changed. */
async function writeUser(
  trx: Trx,
  scope: ScimScope,
  ctx: WriteContext,
  row: ScimUserRow,
  next: JsonObject,
): Promise<ScimResult> {
  const input = readUser(next, row.active);
  if (input.userName.toLowerCase() !== row.user_name.toLowerCase()) {
    await assertUserNameFree(trx, scope, input.userName, row.id);
  }
  // A request that changes nothing (a retry, most often) leaves the version and the graph alone.
  if (sameJson(input.resource, row.resource) && input.userName === row.user_name) {
    return userResult(trx, scope, row, 200, []);
  }
  const updated = await updateUser(trx, scope, row.id, input);
  const stored = await ingest(
    trx,
    scope,
    userWriteRecords(ctx, userState(updated), userState(row), updated.version),
  );
  return userResult(trx, scope, updated, 200, stored);
}

export async function replaceUser(
  trx: Trx,
  scope: ScimScope,
  ctx: WriteContext,
  id: string,
  body: unknown,
  ifMatch: string | undefined,
): Promise<ScimResult> {
  const row = await findUser(trx, scope, id, true);
  if (!row) throw notFound(`User ${id.slice(0, 100)} not found`);
  checkIfMatch(ifMatch, row.version);
  return writeUser(trx, scope, ctx, row, readUser(body, row.active).resource);
}

export async function patchUser(
  trx: Trx,
  scope: ScimScope,
  ctx: WriteContext,
  id: string,
  body: unknown,
  ifMatch: string | undefined,
): Promise<ScimResult> {
  const operations = readPatchRequest(body);
  const row = await findUser(trx, scope, id, true);
  if (!row) throw notFound(`User ${id.slice(0, 100)} not found`);
  checkIfMatch(ifMatch, row.version);
  return writeUser(trx, scope, ctx, row, applyPatch(row.resource, userSchema, operations));
}

export async function removeUser(
  trx: Trx,
  scope: ScimScope,
  ctx: WriteContext,
  id: string,
  ifMatch: string | undefined,
): Promise<ScimResult> {
  const row = await findUser(trx, scope, id, true);
  if (!row) throw notFound(`User ${id.slice(0, 100)} not found`);
  checkIfMatch(ifMatch, row.version);
  const user = userState(row);
  const records: ImportRecord[] = [];
  // Leaving the directory ends every group membership: each is an entitlement revoked.
  for (const membership of await groupsOf(trx, scope.workspaceId, [row.id])) {
    const group = await bumpGroupVersion(trx, scope, membership.group_id);
    records.push(
      ...membershipRecords(
        ctx,
        { id: group.id, displayName: group.display_name },
        group.version,
        user,
        false,
      ),
    );
  }
  records.push(...userDeleteRecords(ctx, user, row.version + 1));
  await deleteUser(trx, scope, row.id);
  const stored = await ingest(trx, scope, records);
  return { status: 204, storedEventIds: stored };
}

// ---------------------------------------------------------------------------------------------
// Listing (both resource types)

interface Page {
  startIndex: number;
  count: number;
}

function readPage(query: ListQuery): Page {
  const integer = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined || text.trim() === '') return fallback;
    if (!/^-?\d{1,9}$/.test(text.trim())) {
      throw new ScimError(400, `${name}: expected an integer, found "${text.slice(0, 20)}"`, 'invalidValue');
    }
    return Number(text.trim());
  };
  // RFC 7644 §3.4.2.4: a startIndex below 1 means 1; a negative count means 0.
  const startIndex = Math.max(1, integer('startIndex', query.startIndex, 1));
  const count = Math.min(maxPageSize, Math.max(0, integer('count', query.count, 100)));
  return { startIndex, count };
}

function listResponse(page: Page, total: number, resources: JsonObject[], query: ListQuery): JsonObject {
  return {
    schemas: [listResponseUrn],
    totalResults: total,
    startIndex: page.startIndex,
    itemsPerPage: resources.length,
    Resources: resources.map((r) => project(r, query.attributes, query.excludedAttributes)),
  };
}

async function filtered<Row>(
  filter: Filter,
  page: Page,
  rows: Row[],
  render: (rows: Row[]) => Promise<JsonObject[]>,
): Promise<{ total: number; resources: JsonObject[] }> {
  const rendered = (await render(rows)).filter((resource) => matches(resource, filter));
  return {
    total: rendered.length,
    resources: rendered.slice(page.startIndex - 1, page.startIndex - 1 + page.count),
  };
}

export async function listUsers(trx: Trx, scope: ScimScope, query: ListQuery): Promise<ScimResult> {
  const page = readPage(query);
  if (query.filter !== undefined && query.filter.trim() !== '') {
    const filter = parseFilter(query.filter);
    const rows = await selectUsers(trx, scope, indexableEquality(filter));
    const { total, resources } = await filtered(filter, page, rows, (r) => renderUsers(trx, scope, r));
    return { status: 200, body: listResponse(page, total, resources, query), storedEventIds: [] };
  }
  const { rows, total } = await pageUsers(trx, scope, page.startIndex - 1, page.count);
  const resources = await renderUsers(trx, scope, rows);
  return { status: 200, body: listResponse(page, total, resources, query), storedEventIds: [] };
}

// ---------------------------------------------------------------------------------------------
// Groups

async function renderGroups(trx: Trx, scope: ScimScope, rows: ScimGroupRow[], withMembers: boolean) {
  const members = withMembers
    ? await membersOf(
        trx,
        scope.workspaceId,
        rows.map((r) => r.id),
      )
    : [];
  return rows.map((row) =>
    renderGroup(
      {
        resourceType: 'Group',
        id: row.id,
        created: row.created_at,
        lastModified: row.updated_at,
        version: row.version,
        location: `${scope.baseUrl}/Groups/${row.id}`,
      },
      row.resource,
      members
        .filter((m) => m.group_id === row.id)
        .map((m) => ({
          id: m.user_id,
          display: m.display ?? m.user_name,
          location: `${scope.baseUrl}/Users/${m.user_id}`,
        })),
    ),
  );
}

/** Members are not loaded when the caller excluded them (Entra asks so for large groups). */
function wantsMembers(query: ListQuery): boolean {
  const excluded = (query.excludedAttributes ?? '').split(',').map((s) => s.trim().toLowerCase());
  if (excluded.includes('members')) return false;
  if (query.attributes !== undefined && query.attributes.trim() !== '') {
    return query.attributes
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .some((a) => a === 'members' || a.startsWith('members.'));
  }
  return true;
}

async function groupResult(
  trx: Trx,
  scope: ScimScope,
  row: ScimGroupRow,
  status: number,
  storedEventIds: number[],
  query: ListQuery = {},
): Promise<ScimResult> {
  const [body] = await renderGroups(trx, scope, [row], wantsMembers(query));
  return {
    status,
    body: project(body!, query.attributes, query.excludedAttributes),
    version: row.version,
    location: `${scope.baseUrl}/Groups/${row.id}`,
    storedEventIds,
  };
}

/** The users a member list names; ids that name no user of this directory are left out. */
async function knownMembers(trx: Trx, scope: ScimScope, members: MemberInput[]) {
  const users = await findUsersByIds(
    trx,
    scope,
    members.map((m) => m.value),
  );
  const byId = new Map(users.map((u) => [u.id, u]));
  const out = new Map<string, { user: ScimUserRow; display: string | undefined }>();
  for (const member of members) {
    const user = byId.get(member.value.toLowerCase()) ?? byId.get(member.value);
    if (user) out.set(user.id, { user, display: member.display });
  }
  return out;
}

export async function createGroup(
  trx: Trx,
  scope: ScimScope,
  ctx: WriteContext,
  body: unknown,
): Promise<ScimResult> {
  const input = readGroup(body);
  const row = await insertGroup(trx, scope, input);
  const members = await knownMembers(trx, scope, input.members ?? []);
  await addMembers(
    trx,
    scope.workspaceId,
    row.id,
    [...members.values()].map((m) => ({ userId: m.user.id, display: m.display })),
  );
  const group = { id: row.id, displayName: row.display_name };
  const records = [
    ...groupCreateRecords(ctx, group, row.version),
    ...[...members.values()].flatMap((m) =>
      membershipRecords(ctx, group, row.version, userState(m.user), true),
    ),
  ];
  return groupResult(trx, scope, row, 201, await ingest(trx, scope, records));
}

export async function getGroup(
  trx: Trx,
  scope: ScimScope,
  id: string,
  query: ListQuery,
): Promise<ScimResult> {
  const row = await findGroup(trx, scope, id);
  if (!row) throw notFound(`Group ${id.slice(0, 100)} not found`);
  return groupResult(trx, scope, row, 200, [], query);
}

export async function listGroups(trx: Trx, scope: ScimScope, query: ListQuery): Promise<ScimResult> {
  const page = readPage(query);
  const withMembers = wantsMembers(query);
  if (query.filter !== undefined && query.filter.trim() !== '') {
    const filter = parseFilter(query.filter);
    const rows = await selectGroups(trx, scope, indexableEquality(filter));
    const { total, resources } = await filtered(filter, page, rows, (r) => renderGroups(trx, scope, r, true));
    const shown = withMembers ? resources : resources.map(({ members: _m, ...rest }) => rest);
    return { status: 200, body: listResponse(page, total, shown, query), storedEventIds: [] };
  }
  const { rows, total } = await pageGroups(trx, scope, page.startIndex - 1, page.count);
  const resources = await renderGroups(trx, scope, rows, withMembers);
  return { status: 200, body: listResponse(page, total, resources, query), storedEventIds: [] };
}

/**
 * Stores a group's new state: attributes, then members (`next` = the member ids it should have),
 * and the events and entitlement changes that follow from the difference.
 */
async function writeGroup(
  trx: Trx,
  scope: ScimScope,
  ctx: WriteContext,
  row: ScimGroupRow,
  nextResource: JsonObject,
  nextMembers: MemberInput[],
  query: ListQuery,
): Promise<ScimResult> {
  const input = readGroup(nextResource);
  const current = await membersOf(trx, scope.workspaceId, [row.id]);
  const currentIds = new Set(current.map((m) => m.user_id));
  const wanted = await knownMembers(trx, scope, nextMembers);
  const added = [...wanted.values()].filter((m) => !currentIds.has(m.user.id));
  const removedIds = [...currentIds].filter((id) => !wanted.has(id));
  const attributesChanged = !sameJson(input.resource, row.resource);
  if (!attributesChanged && added.length === 0 && removedIds.length === 0) {
    return groupResult(trx, scope, row, 200, [], query);
  }
  const updated = await updateGroup(trx, scope, row.id, input);
  await removeMembers(trx, scope.workspaceId, row.id, removedIds);
  await addMembers(
    trx,
    scope.workspaceId,
    row.id,
    added.map((m) => ({ userId: m.user.id, display: m.display })),
  );
  const before = { id: row.id, displayName: row.display_name };
  const after = { id: row.id, displayName: updated.display_name };
  const removedUsers = await findUsersByIds(trx, scope, removedIds);
  const keptUsers = (
    await findUsersByIds(
      trx,
      scope,
      [...currentIds].filter((id) => wanted.has(id)),
    )
  ).map(userState);
  const records: ImportRecord[] = [
    // Removed members lose the entitlement under the name they held it by.
    ...removedUsers.flatMap((u) => membershipRecords(ctx, before, updated.version, userState(u), false)),
    ...(before.displayName !== after.displayName
      ? groupRenameRecords(ctx, after, before.displayName, updated.version, keptUsers)
      : []),
    ...added.flatMap((m) => membershipRecords(ctx, after, updated.version, userState(m.user), true)),
  ];
  return groupResult(trx, scope, updated, 200, await ingest(trx, scope, records), query);
}

export async function replaceGroup(
  trx: Trx,
  scope: ScimScope,
  ctx: WriteContext,
  id: string,
  body: unknown,
  ifMatch: string | undefined,
  query: ListQuery,
): Promise<ScimResult> {
  const row = await findGroup(trx, scope, id, true);
  if (!row) throw notFound(`Group ${id.slice(0, 100)} not found`);
  checkIfMatch(ifMatch, row.version);
  const input = readGroup(body);
  // PUT replaces the whole group: a body without members leaves it with none (RFC 7644 §3.5.1).
  return writeGroup(trx, scope, ctx, row, input.resource, input.members ?? [], query);
}

/** Applies one member operation to the ordered member list. */
function applyMemberOperation(
  members: MemberInput[],
  op: 'add' | 'replace' | 'remove',
  path: ReturnType<typeof expandOperation>[number]['path'],
  value: unknown,
): MemberInput[] {
  if (path.filter) {
    // members[value eq "…"]: evaluated over {value, display, type}. Members' sub-attributes are
    // immutable, so only a removal through a filter changes anything.
    if (op !== 'remove' || path.subAfterFilter !== undefined) return members;
    const filter = path.filter;
    return members.filter(
      (m) => !matches({ value: m.value, display: m.display ?? '', type: 'User' }, filter, 'members'),
    );
  }
  if (path.attr.sub !== undefined) return members;
  if (op === 'remove') {
    if (value === undefined || value === null) return [];
    const doomed = new Set(readMembers(value).map((m) => m.value.toLowerCase()));
    return members.filter((m) => !doomed.has(m.value.toLowerCase()));
  }
  const given = readMembers(value);
  if (op === 'replace') return given;
  const known = new Set(members.map((m) => m.value.toLowerCase()));
  return [...members, ...given.filter((m) => !known.has(m.value.toLowerCase()))];
}

export async function patchGroup(
  trx: Trx,
  scope: ScimScope,
  ctx: WriteContext,
  id: string,
  body: unknown,
  ifMatch: string | undefined,
  query: ListQuery,
): Promise<ScimResult> {
  const operations = readPatchRequest(body);
  const row = await findGroup(trx, scope, id, true);
  if (!row) throw notFound(`Group ${id.slice(0, 100)} not found`);
  checkIfMatch(ifMatch, row.version);
  const resource = structuredClone(row.resource);
  let members: MemberInput[] = (await membersOf(trx, scope.workspaceId, [row.id])).map((m) =>
    m.display === null ? { value: m.user_id } : { value: m.user_id, display: m.display },
  );
  for (const operation of operations) {
    for (const { op, path, value } of expandOperation(operation)) {
      if (path.attr.urn === undefined && path.attr.attr.toLowerCase() === 'members') {
        members = applyMemberOperation(members, op, path, value);
      } else {
        applyOperation(resource, groupSchema, op, path, value);
      }
    }
  }
  if (!isObject(resource)) throw new ScimError(400, 'the patched group is not an object', 'invalidValue');
  return writeGroup(trx, scope, ctx, row, resource, members, query);
}

export async function removeGroup(
  trx: Trx,
  scope: ScimScope,
  ctx: WriteContext,
  id: string,
  ifMatch: string | undefined,
): Promise<ScimResult> {
  const row = await findGroup(trx, scope, id, true);
  if (!row) throw notFound(`Group ${id.slice(0, 100)} not found`);
  checkIfMatch(ifMatch, row.version);
  const members = await membersOf(trx, scope.workspaceId, [row.id]);
  const users = (
    await findUsersByIds(
      trx,
      scope,
      members.map((m) => m.user_id),
    )
  ).map(userState);
  const records = groupDeleteRecords(
    ctx,
    { id: row.id, displayName: row.display_name },
    row.version + 1,
    users,
  );
  await deleteGroup(trx, scope, row.id);
  return { status: 204, storedEventIds: await ingest(trx, scope, records) };
}
