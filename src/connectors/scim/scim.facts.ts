/**
 * SCIM writes as identity-graph facts, for the ingest writer:
 *
 * - every user write gives an account snapshot (identity `scim:<directory>` / SCIM id) and, when
 *   something changed, an Account Change (3001) event: Create, Enable, Disable (`active: false`,
 *   account status `deprovisioned`), Delete, or Other "Update" for changed attributes;
 * - every membership change gives a Group Management (3006) Add User / Remove User event with
 *   the matching entitlement grant or revocation (the entitlement is the group's display name);
 *   group creation, rename and deletion give Create / Other "Rename" / Delete events, and a rename
 *   or deletion moves or revokes every member's entitlement.
 *
 * Source keys name the resource, the version the write produced and the change
 * (`scim:okta/Users/<id>/v3/disable`): the same write is stored once however often it is
 * delivered, and a later, real change gets a key of its own.
 */
import {
  classify,
  type EntitlementKind,
  type EventClassName,
  type IdentityRef,
  type IdentityStatus,
  type ImportRecord,
  isPrivilegedEntitlement,
  type NormalizedEvent,
  type RecordPosition,
} from '../../domains/events/event.model.ts';
import { compact, entitlementRecords, eventRecord, ref } from '../shared/importer.ts';
import { isObject, type JsonObject } from './scim.filter.ts';
import { userDisplayName, userEmail } from './scim.resource.ts';

export const scimSource = 'scim' as const;

export interface UserState {
  id: string;
  userName: string;
  active: boolean;
  resource: JsonObject;
  createdAt: Date;
}

export interface GroupState {
  id: string;
  displayName: string;
}

export interface WriteContext {
  /** `scim:<directory>` */
  system: string;
  /** When the request arrived: the time of everything it changed. */
  at: string;
  /** `PATCH /scim/v2/acme/Users/<id>`, for positions in error messages. */
  request: string;
  /** The request as received, passwords removed: the events' raw payload. */
  raw: unknown;
}

export function userRef(system: string, user: Pick<UserState, 'id' | 'userName' | 'resource'>): IdentityRef {
  return ref({
    type: 'user',
    system,
    externalId: user.id,
    userName: user.userName,
    email: userEmail(user.resource, user.userName),
    displayName: userDisplayName(user.resource),
  });
}

function position(ctx: WriteContext): RecordPosition {
  return { file: ctx.request };
}

function event(
  ctx: WriteContext,
  cls: EventClassName,
  activityId: number,
  action: string,
  sourceKey: string,
  extra: Partial<NormalizedEvent>,
  otherName?: string,
): NormalizedEvent {
  return {
    source: scimSource,
    sourceKey,
    system: ctx.system,
    time: ctx.at,
    ...classify(cls, activityId, otherName),
    action,
    outcome: 'success',
    raw: ctx.raw,
    ...extra,
  };
}

function snapshot(ctx: WriteContext, user: UserState, status: IdentityStatus): ImportRecord {
  const account = userRef(ctx.system, user);
  return {
    type: 'identity',
    position: position(ctx),
    identity: compact({
      source: scimSource,
      system: ctx.system,
      externalId: user.id,
      userName: user.userName,
      email: account.email,
      displayName: account.displayName,
      type: 'user' as const,
      status,
      createdAt: user.createdAt.toISOString(),
      observedAt: ctx.at,
    }),
  };
}

const statusOf = (active: boolean): IdentityStatus => (active ? 'active' : 'deprovisioned');

/** What changed besides `active`, by attribute name (for the Update event). */
function changedAttributes(before: JsonObject, after: JsonObject): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  keys.delete('active');
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}

/**
 * Records for a user created (`before` undefined) or changed. `version` is the version the write
 * produced. Returns nothing when nothing changed.
 */
export function userWriteRecords(
  ctx: WriteContext,
  user: UserState,
  before: UserState | undefined,
  version: number,
): ImportRecord[] {
  const key = `${ctx.system}/Users/${user.id}/v${version}`;
  const target = userRef(ctx.system, user);
  const at = position(ctx);
  const records: ImportRecord[] = [snapshot(ctx, user, statusOf(user.active))];
  if (!before) {
    records.push(
      eventRecord(
        event(ctx, 'accountChange', 1, 'scim.user.create', `${key}/create`, {
          target,
          accountStatus: statusOf(user.active),
        }),
        at,
      ),
    );
    return records;
  }
  const changed = changedAttributes(before.resource, user.resource);
  if (changed.length > 0) {
    records.push(
      eventRecord(
        event(
          ctx,
          'accountChange',
          99,
          'scim.user.update',
          `${key}/update`,
          { target, outcomeReason: `changed: ${changed.join(', ')}`.slice(0, 500) },
          'Update',
        ),
        at,
      ),
    );
  }
  if (before.active !== user.active) {
    records.push(
      eventRecord(
        event(
          ctx,
          'accountChange',
          user.active ? 2 : 5,
          user.active ? 'scim.user.enable' : 'scim.user.disable',
          `${key}/${user.active ? 'enable' : 'disable'}`,
          { target, accountStatus: statusOf(user.active) },
        ),
        at,
      ),
    );
  }
  return records.length > 1 ? records : [];
}

export function userDeleteRecords(ctx: WriteContext, user: UserState, version: number): ImportRecord[] {
  return [
    snapshot(ctx, user, 'deprovisioned'),
    eventRecord(
      event(
        ctx,
        'accountChange',
        6,
        'scim.user.delete',
        `${ctx.system}/Users/${user.id}/v${version}/delete`,
        {
          target: userRef(ctx.system, user),
          accountStatus: 'deprovisioned',
        },
      ),
      position(ctx),
    ),
  ];
}

const groupResource = (group: GroupState) => ({ kind: 'group', id: group.id, name: group.displayName });

function grantRecords(
  ctx: WriteContext,
  carrier: NormalizedEvent,
  members: UserState[],
  name: string,
  granted: boolean,
): ImportRecord[] {
  const kind: EntitlementKind = 'group';
  return members.flatMap((member) =>
    entitlementRecords(
      carrier,
      position(ctx),
      userRef(ctx.system, member),
      [{ name, privileged: isPrivilegedEntitlement(name) }],
      kind,
      granted,
    ),
  );
}

/** One Add User / Remove User event per member, each with its entitlement change. */
export function membershipRecords(
  ctx: WriteContext,
  group: GroupState,
  version: number,
  member: UserState,
  granted: boolean,
): ImportRecord[] {
  const name = group.displayName;
  const carrier = event(
    ctx,
    'groupManagement',
    granted ? 3 : 4,
    granted ? 'scim.group.member.add' : 'scim.group.member.remove',
    `${ctx.system}/Groups/${group.id}/v${version}/${granted ? 'add' : 'remove'}/${member.id}`,
    {
      target: userRef(ctx.system, member),
      resources: [groupResource(group)],
      privilege: { granted, kind: 'group', name, names: [name], privileged: isPrivilegedEntitlement(name) },
      // One event per member: each keeps the change it records, not the whole request again
      // (a PATCH adding a thousand members would otherwise store it a thousand times).
      raw: { request: ctx.request, group: groupResource(group), member: member.id, granted },
    },
  );
  return [eventRecord(carrier, position(ctx)), ...grantRecords(ctx, carrier, [member], name, granted)];
}

export function groupCreateRecords(ctx: WriteContext, group: GroupState, version: number): ImportRecord[] {
  return [
    eventRecord(
      event(
        ctx,
        'groupManagement',
        6,
        'scim.group.create',
        `${ctx.system}/Groups/${group.id}/v${version}/create`,
        {
          resources: [groupResource(group)],
        },
      ),
      position(ctx),
    ),
  ];
}

/** A rename: members lose the entitlement under the old name and hold it under the new one. */
export function groupRenameRecords(
  ctx: WriteContext,
  group: GroupState,
  previousName: string,
  version: number,
  members: UserState[],
): ImportRecord[] {
  const carrier = event(
    ctx,
    'groupManagement',
    99,
    'scim.group.rename',
    `${ctx.system}/Groups/${group.id}/v${version}/rename`,
    { resources: [groupResource(group)], outcomeReason: `renamed from "${previousName}"`.slice(0, 500) },
    'Rename',
  );
  return [
    eventRecord(carrier, position(ctx)),
    ...grantRecords(ctx, carrier, members, previousName, false),
    ...grantRecords(ctx, carrier, members, group.displayName, true),
  ];
}

export function groupDeleteRecords(
  ctx: WriteContext,
  group: GroupState,
  version: number,
  members: UserState[],
): ImportRecord[] {
  const carrier = event(
    ctx,
    'groupManagement',
    5,
    'scim.group.delete',
    `${ctx.system}/Groups/${group.id}/v${version}/delete`,
    { resources: [groupResource(group)] },
  );
  return [
    eventRecord(carrier, position(ctx)),
    ...grantRecords(ctx, carrier, members, group.displayName, false),
  ];
}

/** The request as evidence: passwords never leave the request. */
export function redactPasswords(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((item) => redactPasswords(item, depth + 1));
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  const pathNamesPassword = typeof value.path === 'string' && /password/i.test(value.path);
  for (const [key, item] of Object.entries(value)) {
    if (/^password$/i.test(key) || (pathNamesPassword && key.toLowerCase() === 'value'))
      out[key] = '[redacted]';
    else out[key] = redactPasswords(item, depth + 1);
  }
  return out;
}
