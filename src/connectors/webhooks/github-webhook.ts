/**
 * GitHub webhook deliveries as normalised records. `push`, `pull_request`,
 * `pull_request_review`, `organization` and `branch_protection_rule` use the GitHub importer's
 * own webhook mapping (src/connectors/github-audit-log), so a delivery and the audit-log entry
 * for the same change read alike. This file adds what that mapping does not cover:
 *
 * - `member` (repository collaborators): User Access Management 3005 grant/revoke of the
 *   permission `<org>/<repo>: <permission>`, privileged for `admin`;
 * - `repository`: Entity Management 3004 create/update/delete of the repository, with
 *   `publicized` / `privatized` as the security setting `private_visibility` switched off / on;
 * - `ping`: acknowledged, nothing to store.
 *
 * Every event's source key is the delivery id (`X-GitHub-Delivery`), so a redelivery is stored once.
 */

import {
  classify,
  type IdentityRef,
  type ImportRecord,
  isPrivilegedEntitlement,
  type NormalizedEvent,
  type RecordPosition,
} from '../../domains/events/event.model.ts';
import { normalizeGitHubWebhook } from '../github-audit-log/github-audit-log.parser.ts';
import { FieldError } from '../shared/import-context.ts';
import { entitlementRecords, eventRecord, ref } from '../shared/importer.ts';
import { dateTimeValue, isObject, type JsonObject, looseString, requireObject } from '../shared/values.ts';

/** Deliveries Assay stores; other events are acknowledged and ignored. */
export const storedGitHubEvents = [
  'push',
  'pull_request',
  'pull_request_review',
  'organization',
  'branch_protection_rule',
  'member',
  'repository',
] as const;

export interface GitHubDelivery {
  eventName: string;
  deliveryId: string;
  receivedAt: string;
  payload: unknown;
}

export interface GitHubRecords {
  records: ImportRecord[];
  /**
   * A collaborator removed or given another permission: their current permissions on the
   * repository (looked up by the receiver) are revoked, except `keep`.
   */
  revokeHeld?: { account: IdentityRef; prefix: string; keep?: string; event: NormalizedEvent };
}

export function isStoredGitHubEvent(name: string): boolean {
  return (storedGitHubEvents as readonly string[]).includes(name);
}

function systemOf(org: string | undefined, repository: string | undefined): string {
  const owner = org ?? repository?.split('/')[0];
  return owner ? `github:${owner}` : 'github';
}

function account(user: JsonObject | undefined, system: string): IdentityRef | undefined {
  const login = looseString(user, 'login');
  if (!login) return undefined;
  return ref({
    type: looseString(user, 'type') === 'Bot' || login.endsWith('[bot]') ? 'service' : 'user',
    system,
    externalId: looseString(user, 'id'),
    userName: login,
  });
}

interface Common {
  body: JsonObject;
  action: string | undefined;
  repo: JsonObject | undefined;
  repository: string | undefined;
  org: string | undefined;
  system: string;
  actor: IdentityRef | undefined;
  position: RecordPosition;
}

function common(delivery: GitHubDelivery): Common {
  const body = requireObject(delivery.payload, `a GitHub ${delivery.eventName} webhook payload`);
  const repo = isObject(body.repository) ? body.repository : undefined;
  const repository = looseString(repo, 'full_name');
  const org =
    looseString(isObject(body.organization) ? body.organization : undefined, 'login') ??
    repository?.split('/')[0];
  const system = systemOf(org, repository);
  return {
    body,
    action: looseString(body, 'action'),
    repo,
    repository,
    org,
    system,
    actor: account(isObject(body.sender) ? body.sender : undefined, system),
    position: { file: `github delivery ${delivery.deliveryId}` },
  };
}

function baseEvent(
  delivery: GitHubDelivery,
  c: Common,
): Omit<NormalizedEvent, keyof ReturnType<typeof classify>> {
  return {
    source: 'github-audit-log',
    sourceKey: delivery.deliveryId,
    system: c.system,
    time: delivery.receivedAt,
    action: c.action ? `${delivery.eventName}.${c.action}` : delivery.eventName,
    outcome: 'success',
    actor: c.actor,
    organization: c.org,
    repository: c.repository,
    raw: c.body,
  };
}

/** `changes.permission.to`, `changes.role_name.to` or the payload's own `permission`. */
function newPermission(body: JsonObject): string | undefined {
  const changes = isObject(body.changes) ? body.changes : undefined;
  for (const key of ['permission', 'role_name']) {
    const change = isObject(changes?.[key]) ? (changes[key] as JsonObject) : undefined;
    const to = looseString(change, 'to');
    if (to) return to;
  }
  return looseString(body, 'permission');
}

function memberRecords(delivery: GitHubDelivery, c: Common): GitHubRecords {
  const member = isObject(c.body.member) ? c.body.member : undefined;
  const target = account(member, c.system);
  if (!target) throw new FieldError('member.login', 'required but missing');
  if (!c.repository) throw new FieldError('repository.full_name', 'required but missing');
  const prefix = `${c.repository}: `;
  const permission = newPermission(c.body);
  const granted = c.action !== 'removed';
  const name = `${prefix}${permission ?? 'access'}`;
  const privileged = permission !== undefined && isPrivilegedEntitlement(permission);
  const event: NormalizedEvent = {
    ...baseEvent(delivery, c),
    ...classify('userAccessManagement', granted ? 1 : 2),
    target,
    privilege: { granted, kind: 'permission', name, names: [name], privileged },
  };
  const records: ImportRecord[] = [eventRecord(event, c.position)];
  if (granted && (c.action === 'added' || permission !== undefined)) {
    records.push(
      ...entitlementRecords(event, c.position, target, [{ name, privileged }], 'permission', true),
    );
  }
  // A removal (or a change of permission) ends whatever the collaborator held on the repository.
  const revokeHeld =
    c.action === 'removed' || (c.action === 'edited' && permission !== undefined)
      ? { account: target, prefix, ...(granted ? { keep: name } : {}), event }
      : undefined;
  return revokeHeld ? { records, revokeHeld } : { records };
}

function repositoryRecords(delivery: GitHubDelivery, c: Common): GitHubRecords {
  if (!c.repository || !c.repo) throw new FieldError('repository.full_name', 'required but missing');
  const activity = c.action === 'created' ? 1 : c.action === 'deleted' ? 4 : 3;
  const event: NormalizedEvent = {
    ...baseEvent(delivery, c),
    ...classify('entityManagement', activity),
    resources: [{ kind: 'repository', id: looseString(c.repo, 'id'), name: c.repository }],
  };
  if (c.action === 'created') {
    const created = c.repo.created_at;
    // Repository payloads give created_at as an ISO string (or epoch seconds on push payloads).
    if (typeof created === 'string') event.time = dateTimeValue(created, 'repository.created_at');
  }
  if (c.action === 'publicized' || c.action === 'privatized') {
    event.securitySetting = {
      name: 'private_visibility',
      enabled: c.action === 'privatized',
      scope: 'repository',
      subject: c.repository,
    };
  }
  return { records: [eventRecord(event, c.position)] };
}

/**
 * The records a stored delivery gives. Throws `FieldError` when the payload lacks what its event
 * needs (the receiver answers 400 and stores nothing).
 */
export function normalizeGitHubDelivery(delivery: GitHubDelivery): GitHubRecords {
  switch (delivery.eventName) {
    case 'member':
      return memberRecords(delivery, common(delivery));
    case 'repository':
      return repositoryRecords(delivery, common(delivery));
    default:
      return {
        records: normalizeGitHubWebhook(delivery.eventName, delivery.payload, {
          position: { file: `github delivery ${delivery.deliveryId}` },
          deliveryId: delivery.deliveryId,
          receivedAt: delivery.receivedAt,
        }),
      };
  }
}
