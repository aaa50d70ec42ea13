/**
 * Okta System Log importer (`okta-system-log`).
 *
 * Accepts Okta LogEvent objects as JSON lines, as a JSON array (the `/api/v1/logs` response) or
 * inside an event hook envelope (`{"eventType": "com.okta.event_hook", "data": {"events": [...]}}`).
 * Each LogEvent becomes one event; successful privilege, group and application grants also become
 * entitlement facts for the target user.
 */
import {
  classify,
  type EntitlementKind,
  type EventClassification,
  type IdentityRef,
  type IdentityStatus,
  type ImportRecord,
  isPrivilegedEntitlement,
  type NormalizedEvent,
  type Outcome,
  type PrivilegeChange,
  type RecordPosition,
  type ResourceRef,
} from '../../domains/events/event.model.ts';
import { FieldError } from '../shared/import-context.ts';
import { entitlementRecords, eventRecord, jsonImporter, ref } from '../shared/importer.ts';
import {
  emailOrUndefined,
  hashKey,
  isObject,
  type JsonObject,
  looseString,
  optionalObject,
  optionalString,
  requireDateTime,
  requireObject,
  requireString,
} from '../shared/values.ts';

const SYSTEM = 'okta';

/** Okta writes "unknown" where it could not resolve an actor; that is no identifier. */
function known(value: string | undefined): string | undefined {
  return value === undefined || value.toLowerCase() === 'unknown' ? undefined : value;
}

function principalType(type: string | undefined): IdentityRef['type'] {
  switch (type) {
    case undefined:
    case 'User':
      return 'user';
    case 'SystemPrincipal':
      return 'system';
    default:
      // PublicClientApp, AppInstance, Client, Token…: non-human principals.
      return 'service';
  }
}

function principal(value: JsonObject, path: string): IdentityRef {
  const alternateId = known(optionalString(value, 'alternateId', `${path}.alternateId`));
  return ref({
    type: principalType(optionalString(value, 'type', `${path}.type`)),
    system: SYSTEM,
    externalId: known(optionalString(value, 'id', `${path}.id`)),
    userName: alternateId,
    email: emailOrUndefined(alternateId),
    displayName: known(optionalString(value, 'displayName', `${path}.displayName`)),
  });
}

function outcomeOf(result: string | undefined): Outcome {
  switch (result?.toUpperCase()) {
    case 'SUCCESS':
    case 'ALLOW':
      return 'success';
    case 'FAILURE':
    case 'DENY':
      return 'failure';
    default:
      return 'unknown';
  }
}

interface Mapping {
  cls: EventClassification;
  accountStatus?: IdentityStatus;
  grant?: { granted: boolean; kind: EntitlementKind; from: 'privilege' | 'group' | 'app' | 'impersonation' };
  authMethod?: string;
  mfaUsed?: boolean;
}

/** eventType → OCSF class and activity (see docs/importers.md). */
function mapEventType(eventType: string): Mapping {
  switch (eventType) {
    case 'user.session.start':
      return { cls: classify('authentication', 1) };
    case 'user.session.end':
      return { cls: classify('authentication', 2) };
    case 'user.authentication.sso':
      return { cls: classify('authentication', 1), authMethod: 'sso' };
    case 'user.authentication.auth_via_mfa':
      return { cls: classify('authentication', 99, 'MFA Verification'), mfaUsed: true };
    case 'user.lifecycle.create':
      return { cls: classify('accountChange', 1) };
    case 'user.lifecycle.activate':
    case 'user.lifecycle.reactivate':
    case 'user.lifecycle.unsuspend':
      return { cls: classify('accountChange', 2), accountStatus: 'active' };
    case 'user.lifecycle.deactivate':
      return { cls: classify('accountChange', 5), accountStatus: 'deprovisioned' };
    case 'user.lifecycle.suspend':
      return { cls: classify('accountChange', 5), accountStatus: 'suspended' };
    case 'user.lifecycle.delete.initiated':
    case 'user.lifecycle.delete.completed':
      return { cls: classify('accountChange', 6), accountStatus: 'deprovisioned' };
    case 'user.account.update_password':
      return { cls: classify('accountChange', 3) };
    case 'user.account.reset_password':
      return { cls: classify('accountChange', 4) };
    case 'user.account.lock':
    case 'user.account.lock.limit':
      return { cls: classify('accountChange', 9) };
    case 'user.mfa.factor.activate':
    case 'system.mfa.factor.activate':
      return { cls: classify('accountChange', 10) };
    case 'user.mfa.factor.deactivate':
    case 'system.mfa.factor.deactivate':
    case 'user.mfa.factor.reset_all':
    case 'user.mfa.factor.suspend':
      return { cls: classify('accountChange', 11) };
    case 'user.account.privilege.grant':
      return {
        cls: classify('userAccessManagement', 1),
        grant: { granted: true, kind: 'role', from: 'privilege' },
      };
    case 'user.account.privilege.revoke':
      return {
        cls: classify('userAccessManagement', 2),
        grant: { granted: false, kind: 'role', from: 'privilege' },
      };
    case 'group.user_membership.add':
      return { cls: classify('groupManagement', 3), grant: { granted: true, kind: 'group', from: 'group' } };
    case 'group.user_membership.remove':
      return { cls: classify('groupManagement', 4), grant: { granted: false, kind: 'group', from: 'group' } };
    case 'application.user_membership.add':
      return {
        cls: classify('userAccessManagement', 1),
        grant: { granted: true, kind: 'application', from: 'app' },
      };
    case 'application.user_membership.remove':
      return {
        cls: classify('userAccessManagement', 2),
        grant: { granted: false, kind: 'application', from: 'app' },
      };
    case 'user.session.impersonation.grant':
      return {
        cls: classify('userAccessManagement', 1),
        grant: { granted: true, kind: 'permission', from: 'impersonation' },
      };
    case 'user.session.impersonation.revoke':
      return {
        cls: classify('userAccessManagement', 2),
        grant: { granted: false, kind: 'permission', from: 'impersonation' },
      };
    case 'system.api_token.create':
      return { cls: classify('entityManagement', 1) };
    case 'system.api_token.revoke':
      return { cls: classify('entityManagement', 4) };
  }
  if (eventType.startsWith('user.authentication.') || eventType.startsWith('user.session.')) {
    return { cls: classify('authentication', 99, eventType) };
  }
  if (eventType.startsWith('user.lifecycle.') || eventType.startsWith('user.account.')) {
    return { cls: classify('accountChange', 99, eventType) };
  }
  const verb = eventType.split('.').pop() ?? '';
  if (/^(create|add|activate)/.test(verb)) return { cls: classify('apiActivity', 1) };
  if (/^(read|show|view|list|get)/.test(verb)) return { cls: classify('apiActivity', 2) };
  if (/^(update|change|modify)/.test(verb)) return { cls: classify('apiActivity', 3) };
  if (/^(delete|remove|revoke|deactivate)/.test(verb)) return { cls: classify('apiActivity', 4) };
  return { cls: classify('apiActivity', 99, eventType) };
}

const PASSWORD_AUTHENTICATOR = /^password$/i;

/**
 * Whether MFA was used for an authentication, from what the LogEvent states:
 * - `user.authentication.auth_via_mfa` is an MFA verification;
 * - `authenticationContext.authenticationProvider: FACTOR_PROVIDER` or a
 *   `debugContext.debugData.factor` means a factor was presented;
 * - Okta Identity Engine lists the authenticators used as `AuthenticatorEnrollment` targets:
 *   any authenticator other than Password means MFA, Password alone means none;
 * otherwise undefined (the event does not say; classic-engine session starts often do not).
 */
function mfaUsed(record: JsonObject, targets: JsonObject[], mapping: Mapping): boolean | undefined {
  if (mapping.mfaUsed !== undefined) return mapping.mfaUsed;
  if (mapping.cls.classUid !== 3002) return undefined;
  const context = isObject(record.authenticationContext) ? record.authenticationContext : undefined;
  if (looseString(context, 'authenticationProvider') === 'FACTOR_PROVIDER') return true;
  const debugData = isObject(record.debugContext) ? optionalDebugData(record.debugContext) : undefined;
  if (looseString(debugData, 'factor') !== undefined) return true;
  const authenticators = targets
    .filter((target) => target.type === 'AuthenticatorEnrollment')
    .map((target) => looseString(target, 'displayName') ?? '');
  if (authenticators.length === 0) return undefined;
  return authenticators.some((name) => !PASSWORD_AUTHENTICATOR.test(name));
}

function optionalDebugData(debugContext: JsonObject): JsonObject | undefined {
  return isObject(debugContext.debugData) ? debugContext.debugData : undefined;
}

function privilegeOf(
  mapping: Mapping,
  debugData: JsonObject | undefined,
  targets: JsonObject[],
): PrivilegeChange | undefined {
  const grant = mapping.grant;
  if (!grant) return undefined;
  let name: string | undefined;
  let names: string[] = [];
  let privileged: boolean;
  switch (grant.from) {
    case 'privilege': {
      // "Organization administrator, Application administrator (all)": one role per item.
      const key = grant.granted ? 'privilegeGranted' : 'privilegeRevoked';
      name = optionalString(debugData, key, `debugContext.debugData.${key}`);
      if (name === undefined) throw new FieldError(`debugContext.debugData.${key}`, 'required but missing');
      names = name
        .split(/,\s*/)
        .map((part) => part.trim())
        .filter((part) => part !== '');
      privileged = names.some(isPrivilegedEntitlement);
      break;
    }
    case 'group':
    case 'app': {
      const type = grant.from === 'group' ? 'UserGroup' : 'AppInstance';
      const target = targets.find((candidate) => candidate.type === type);
      name = looseString(target, 'displayName') ?? looseString(target, 'alternateId');
      if (name === undefined) throw new FieldError('target', `no ${type} target names the ${grant.kind}`);
      names = [name];
      privileged = grant.from === 'group' && isPrivilegedEntitlement(name);
      break;
    }
    case 'impersonation':
      // Okta Support acting as users of the org: privileged by definition.
      name = 'Okta Support impersonation';
      names = [name];
      privileged = true;
      break;
  }
  return { granted: grant.granted, kind: grant.kind, name, names, privileged };
}

function normalize(value: unknown, position: RecordPosition): ImportRecord[] {
  const record = requireObject(value, 'an Okta LogEvent');
  const eventType = requireString(record, 'eventType');
  if (eventType === 'com.okta.event_hook') {
    throw new FieldError('data.events', 'event hook envelope without a "data.events" array');
  }
  const time = requireDateTime(record, 'published');
  const uuid = optionalString(record, 'uuid');
  const actorObject = optionalObject(record, 'actor');
  const actor = actorObject ? principal(actorObject, 'actor') : undefined;

  const targetValue = record.target;
  if (targetValue !== undefined && targetValue !== null && !Array.isArray(targetValue)) {
    throw new FieldError('target', 'expected an array of targets');
  }
  const targets: JsonObject[] = [];
  for (const [index, target] of (Array.isArray(targetValue) ? targetValue : []).entries()) {
    if (!isObject(target)) throw new FieldError(`target[${index}]`, 'expected an object');
    targets.push(target);
  }
  const userIndex = targets.findIndex((target) => target.type === 'User');
  const userTarget = userIndex >= 0 ? principal(targets[userIndex]!, `target[${userIndex}]`) : undefined;
  const resources: ResourceRef[] = targets
    .filter((_, index) => index !== userIndex)
    .map((target) => ({
      kind: looseString(target, 'type') ?? 'unknown',
      id: known(looseString(target, 'id')),
      name: known(looseString(target, 'displayName') ?? looseString(target, 'alternateId')),
    }));

  const outcomeObject = optionalObject(record, 'outcome');
  const outcome = outcomeOf(optionalString(outcomeObject, 'result', 'outcome.result'));
  const debugContext = optionalObject(record, 'debugContext');
  const debugData = debugContext ? optionalDebugData(debugContext) : undefined;
  const outcomeReason =
    looseString(outcomeObject, 'reason') ??
    (outcome === 'failure' ? looseString(debugData, 'loginResult') : undefined);
  const client = optionalObject(record, 'client');
  const userAgent = isObject(client?.userAgent) ? looseString(client.userAgent, 'rawUserAgent') : undefined;

  const mapping = mapEventType(eventType);
  const privilege = privilegeOf(mapping, debugData, targets);
  const event: NormalizedEvent = {
    source: 'okta-system-log',
    sourceKey: uuid ?? hashKey(record),
    system: SYSTEM,
    time,
    ...mapping.cls,
    action: eventType,
    outcome,
    outcomeReason,
    actor,
    target: userTarget ?? (mapping.cls.classUid === 3002 ? actor : undefined),
    resources,
    mfa: mfaUsed(record, targets, mapping),
    authMethod: mapping.authMethod,
    accountStatus: outcome === 'success' ? mapping.accountStatus : undefined,
    privilege,
    srcIp: looseString(client, 'ipAddress'),
    userAgent,
    raw: record,
  };
  const records: ImportRecord[] = [eventRecord(event, position)];
  if (privilege && mapping.grant) {
    const each = privilege.names.map((name) => ({
      name,
      privileged:
        mapping.grant?.from === 'app'
          ? false
          : mapping.grant?.from === 'impersonation' || isPrivilegedEntitlement(name),
    }));
    records.push(...entitlementRecords(event, position, userTarget, each, privilege.kind, privilege.granted));
  }
  return records;
}

export const parseOktaSystemLog = jsonImporter({
  kind: 'okta-system-log',
  envelopes: [['data', 'events']],
  normalize: (item, position) => normalize(item.value, position),
});
