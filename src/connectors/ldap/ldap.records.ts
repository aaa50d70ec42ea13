/**
 * A directory snapshot as identity-graph facts, against what the graph already holds for the
 * connector's system (`ldap:<name>`):
 *
 * - every user gives an account snapshot (identity fact, observed at the pull time);
 * - a user whose state changed since the last pull gives an Account Change (3001) event: Create
 *   (new since the last pull), Disable (now unusable), Lock (locked out after failed sign-ins),
 *   Enable (usable again) — and a user the directory no longer returns gives Delete, with every
 *   group it held revoked;
 * - a membership gained or lost gives a Group Management (3006) Add User / Remove User event and
 *   the matching entitlement grant or revocation (privileged by `isPrivilegedEntitlement`).
 *
 * The first pull is a baseline: snapshots and the memberships held, with no events (the directory
 * does not say when those accounts and memberships began). Pulling an unchanged directory again
 * yields snapshots identical to the last ones, which the ingest writer recognises, and nothing else.
 */
import { sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import {
  classify,
  type EventClassName,
  type IdentityRef,
  type IdentityStatus,
  type ImportRecord,
  isPrivilegedEntitlement,
  type NormalizedEvent,
  type RecordPosition,
} from '../../domains/events/event.model.ts';
import { compact, entitlementRecords, eventRecord, ref } from '../shared/importer.ts';
import { type DirectorySnapshot, type DirectoryUser, membershipsByUser } from './ldap.directory.ts';

export interface PriorAccount {
  identityId: string;
  externalId: string;
  userName: string | null;
  email: string | null;
  displayName: string | null;
  status: IdentityStatus;
}

export interface PriorState {
  accounts: Map<string, PriorAccount>;
  /** Entitlement names each account holds now, by external id. */
  held: Map<string, Set<string>>;
}

/** What the identity graph holds for `system`: its accounts and the entitlements they hold. */
export async function readPriorState(trx: Trx, workspaceId: string, system: string): Promise<PriorState> {
  const identities = await trx
    .selectFrom('identities')
    .select(['id', 'external_id', 'user_name', 'email', 'display_name', 'status'])
    .where('workspace_id', '=', workspaceId)
    .where('system', '=', system)
    .execute();
  const accounts = new Map<string, PriorAccount>();
  const byId = new Map<string, string>();
  for (const row of identities) {
    byId.set(row.id, row.external_id);
    accounts.set(row.external_id, {
      identityId: row.id,
      externalId: row.external_id,
      userName: row.user_name,
      email: row.email,
      displayName: row.display_name,
      status: row.status,
    });
  }
  // The entitlements held are the latest change per (account, name) that granted.
  const { rows } = await sql<{ identity_id: string; name: string; granted: boolean }>`
    select distinct on (identity_id, name) identity_id, name, granted
    from entitlement_changes
    where workspace_id = ${workspaceId} and system = ${system}
    order by identity_id, name, at desc, id desc`.execute(trx);
  const held = new Map<string, Set<string>>();
  for (const row of rows) {
    const externalId = byId.get(row.identity_id);
    if (!row.granted || externalId === undefined) continue;
    const set = held.get(externalId) ?? new Set<string>();
    set.add(row.name);
    held.set(externalId, set);
  }
  return { accounts, held };
}

export interface DirectoryPull {
  system: string;
  snapshot: DirectorySnapshot;
  prior: PriorState;
  /** No pull of this connector committed before: record a baseline, no change events. */
  firstPull: boolean;
  lastPulledAt: string | null;
  observedAt: string;
}

export interface DirectorySummary {
  users: number;
  disabledUsers: number;
  groups: number;
  memberships: number;
  created: number;
  disabled: number;
  locked: number;
  enabled: number;
  deleted: number;
  granted: number;
  revoked: number;
}

const statusChange: Record<IdentityStatus, { activity: number; verb: string }> = {
  active: { activity: 2, verb: 'enable' },
  suspended: { activity: 9, verb: 'lock' },
  deprovisioned: { activity: 5, verb: 'disable' },
};

export function directoryRecords(pull: DirectoryPull): {
  records: ImportRecord[];
  summary: DirectorySummary;
} {
  const { system, snapshot, prior, observedAt } = pull;
  const records: ImportRecord[] = [];
  const memberships = membershipsByUser(snapshot);
  const groupByName = new Map(snapshot.groups.map((g) => [g.name, g]));
  const summary: DirectorySummary = {
    users: snapshot.users.length,
    disabledUsers: snapshot.users.filter((u) => u.status !== 'active').length,
    groups: snapshot.groups.length,
    memberships: [...memberships.values()].reduce((n, set) => n + set.size, 0),
    created: 0,
    disabled: 0,
    locked: 0,
    enabled: 0,
    deleted: 0,
    granted: 0,
    revoked: 0,
  };

  /** The moment a change happened: the first hint that falls between the two pulls, else now. */
  const changeTime = (...hints: (string | undefined)[]) => {
    for (const hint of hints) {
      if (hint && hint <= observedAt && (pull.lastPulledAt === null || hint > pull.lastPulledAt)) return hint;
    }
    return observedAt;
  };
  const key = (externalId: string, what: string) => `${system}/${externalId}/${what}/${observedAt}`;
  const event = (
    cls: EventClassName,
    activityId: number,
    action: string,
    sourceKey: string,
    time: string,
    extra: Partial<NormalizedEvent>,
  ): NormalizedEvent => ({
    source: 'ldap',
    sourceKey,
    system,
    time,
    ...classify(cls, activityId),
    action,
    outcome: 'success',
    raw: null,
    ...extra,
  });

  const seen = new Set<string>();
  for (const user of snapshot.users) {
    if (seen.has(user.id)) continue;
    seen.add(user.id);
    const position: RecordPosition = { file: `${system} ${user.dn}` };
    const target = userRef(system, user);
    records.push({
      type: 'identity',
      position,
      identity: compact({
        source: 'ldap' as const,
        system,
        externalId: user.id,
        userName: user.userName,
        email: user.email,
        displayName: user.displayName,
        type: 'user' as const,
        status: user.status,
        createdAt: user.createdAt,
        observedAt,
      }),
    });
    const before = prior.accounts.get(user.id);
    if (!pull.firstPull && (!before || before.status !== user.status)) {
      if (!before) {
        summary.created++;
        records.push(
          eventRecord(
            event(
              'accountChange',
              1,
              'ldap.user.create',
              key(user.id, 'create'),
              changeTime(user.createdAt),
              {
                target,
                accountStatus: user.status,
                raw: user.attributes,
              },
            ),
            position,
          ),
        );
      } else {
        const change = statusChange[user.status];
        if (user.status === 'active') summary.enabled++;
        else if (user.status === 'suspended') summary.locked++;
        else summary.disabled++;
        records.push(
          eventRecord(
            event(
              'accountChange',
              change.activity,
              `ldap.user.${change.verb}`,
              key(user.id, change.verb),
              changeTime(user.statusSince, user.modifiedAt),
              {
                target,
                accountStatus: user.status,
                outcomeReason: user.disabledBy ? `${user.disabledBy} set` : undefined,
                raw: user.attributes,
              },
            ),
            position,
          ),
        );
      }
    }

    // Memberships: what the directory says now against what the graph holds.
    const now = memberships.get(user.id) ?? new Set<string>();
    const held = prior.held.get(user.id) ?? new Set<string>();
    for (const name of [...now].sort()) {
      if (held.has(name)) continue;
      summary.granted++;
      records.push(...membershipRecords(name, true));
    }
    for (const name of [...held].sort()) {
      if (now.has(name)) continue;
      summary.revoked++;
      records.push(...membershipRecords(name, false));
    }

    function membershipRecords(name: string, granted: boolean): ImportRecord[] {
      const entitlement = { name, privileged: isPrivilegedEntitlement(name) };
      if (pull.firstPull) {
        return [
          {
            type: 'entitlement',
            position,
            entitlement: {
              source: 'ldap',
              system,
              identity: target,
              name,
              kind: 'group',
              privileged: entitlement.privileged,
              granted,
              at: observedAt,
            },
          },
        ];
      }
      const group = groupByName.get(name);
      const e = event(
        'groupManagement',
        granted ? 3 : 4,
        granted ? 'ldap.group.member.add' : 'ldap.group.member.remove',
        key(user.id, `group/${name}/${granted ? '+' : '-'}`),
        changeTime(group?.modifiedAt),
        {
          target,
          resources: [{ kind: 'group', id: group?.dn, name }],
          privilege: {
            granted,
            kind: 'group',
            name,
            names: [name],
            privileged: entitlement.privileged,
          },
          raw: { group: group?.dn ?? name, member: user.dn, change: granted ? 'add' : 'remove' },
        },
      );
      return [
        eventRecord(e, position),
        ...entitlementRecords(e, position, target, [entitlement], 'group', granted),
      ];
    }
  }

  // Accounts the directory no longer returns: deleted (or moved out of the connector's base/filter).
  for (const account of prior.accounts.values()) {
    if (seen.has(account.externalId)) continue;
    const held = prior.held.get(account.externalId) ?? new Set<string>();
    if (account.status === 'deprovisioned' && held.size === 0) continue;
    const position: RecordPosition = { file: `${system} ${account.userName ?? account.externalId}` };
    const target: IdentityRef = ref({
      type: 'user',
      system,
      externalId: account.externalId,
      userName: account.userName ?? undefined,
      email: account.email ?? undefined,
      displayName: account.displayName ?? undefined,
    });
    const deleteKey = key(account.externalId, 'delete');
    const deletion = event('accountChange', 6, 'ldap.user.delete', deleteKey, observedAt, {
      target,
      accountStatus: 'deprovisioned',
      outcomeReason: 'no longer returned by the directory',
      raw: { externalId: account.externalId, userName: account.userName, lastStatus: account.status },
    });
    if (account.status !== 'deprovisioned') {
      summary.deleted++;
      records.push(eventRecord(deletion, position));
    }
    for (const name of [...held].sort()) {
      summary.revoked++;
      records.push({
        type: 'entitlement',
        position,
        entitlement: {
          source: 'ldap',
          system,
          identity: target,
          name,
          kind: 'group',
          privileged: isPrivilegedEntitlement(name),
          granted: false,
          at: observedAt,
          ...(account.status !== 'deprovisioned' ? { eventSourceKey: deleteKey } : {}),
        },
      });
    }
  }
  return { records, summary };
}

function userRef(system: string, user: DirectoryUser): IdentityRef {
  return ref({
    type: 'user',
    system,
    externalId: user.id,
    userName: user.userName,
    email: user.email,
    displayName: user.displayName,
  });
}
