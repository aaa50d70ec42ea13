/**
 * Google Workspace reports importer (`google-workspace-reports`).
 *
 * Accepts Admin SDK Reports API activities (`activities.list` items: `{kind, id{time,
 * uniqueQualifier, applicationName, customerId}, actor, ipAddress, events[]}`) as a JSON array,
 * as the raw `{"items": [...]}` response, or one activity per line. Flattened copies of the
 * parameters that some collectors add (Sentinel's `event_name`, `USER_EMAIL`, …) are ignored in
 * favour of `events[].parameters`.
 *
 * One activity may hold several events; each becomes one normalised event, keyed
 * `<applicationName>:<uniqueQualifier>:<time>:<index>:<name>`.
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
  type SecuritySettingChange,
} from '../../domains/events/event.model.ts';
import { FieldError } from '../shared/import-context.ts';
import { entitlementRecords, eventRecord, jsonImporter, ref } from '../shared/importer.ts';
import {
  dateTimeValue,
  emailOrUndefined,
  hashKey,
  isObject,
  type JsonObject,
  looseString,
  optionalObject,
  optionalString,
  requireObject,
  requireString,
} from '../shared/values.ts';

const SYSTEM = 'google-workspace';

type ParameterValue = string | boolean | number | string[] | undefined;

/** `parameters[]` → name → value (value, boolValue, intValue, multiValue, multiIntValue). */
function parametersOf(event: JsonObject, path: string): Map<string, ParameterValue> {
  const out = new Map<string, ParameterValue>();
  const list = event.parameters;
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw new FieldError(`${path}.parameters`, 'expected an array');
  list.forEach((parameter, index) => {
    if (!isObject(parameter)) throw new FieldError(`${path}.parameters[${index}]`, 'expected an object');
    const name = looseString(parameter, 'name');
    if (!name) return;
    let value: ParameterValue;
    if (typeof parameter.boolValue === 'boolean') value = parameter.boolValue;
    else if (Array.isArray(parameter.multiValue)) value = parameter.multiValue.map(String);
    else if (Array.isArray(parameter.multiIntValue)) value = parameter.multiIntValue.map(String);
    else if (parameter.intValue !== undefined) value = Number(parameter.intValue);
    else value = looseString(parameter, 'value');
    out.set(name, value);
  });
  return out;
}

function text(params: Map<string, ParameterValue>, name: string): string | undefined {
  const value = params.get(name);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

interface Mapping {
  cls: EventClassification;
  outcome?: Outcome;
  accountStatus?: IdentityStatus;
  /** The account the event is about is the actor (sign-ins, own 2SV or password changes). */
  selfTarget?: boolean;
  grant?: { granted: boolean; kind: EntitlementKind; nameFrom: string[]; privileged?: boolean };
  setting?: { name: string; enabledFrom: string };
}

function mapEvent(application: string, name: string): Mapping {
  if (application === 'login') {
    switch (name) {
      case 'login_success':
        return { cls: classify('authentication', 1), outcome: 'success', selfTarget: true };
      case 'login_failure':
        return { cls: classify('authentication', 1), outcome: 'failure', selfTarget: true };
      case 'logout':
        return { cls: classify('authentication', 2), outcome: 'success', selfTarget: true };
      case 'login_verification':
        return { cls: classify('authentication', 99, 'MFA Verification'), selfTarget: true };
      default:
        return { cls: classify('authentication', 99, name), selfTarget: true };
    }
  }
  if (application === 'user_accounts') {
    switch (name) {
      case '2sv_enroll':
        return { cls: classify('accountChange', 10), selfTarget: true };
      case '2sv_disable':
        return { cls: classify('accountChange', 11), selfTarget: true };
      case 'password_edit':
        return { cls: classify('accountChange', 3), selfTarget: true };
      default:
        return { cls: classify('accountChange', 99, name), selfTarget: true };
    }
  }
  if (application === 'admin') {
    switch (name) {
      case 'CREATE_USER':
        return { cls: classify('accountChange', 1), accountStatus: 'active' };
      case 'DELETE_USER':
        return { cls: classify('accountChange', 6), accountStatus: 'deprovisioned' };
      case 'SUSPEND_USER':
        return { cls: classify('accountChange', 5), accountStatus: 'suspended' };
      case 'UNSUSPEND_USER':
      case 'UNDELETE_USER':
        return { cls: classify('accountChange', 2), accountStatus: 'active' };
      case 'CHANGE_PASSWORD':
        return { cls: classify('accountChange', 4) };
      case 'ASSIGN_ROLE':
        return {
          cls: classify('userAccessManagement', 1),
          grant: { granted: true, kind: 'role', nameFrom: ['ROLE_NAME'] },
        };
      case 'UNASSIGN_ROLE':
        return {
          cls: classify('userAccessManagement', 2),
          grant: { granted: false, kind: 'role', nameFrom: ['ROLE_NAME'] },
        };
      case 'GRANT_ADMIN_PRIVILEGE':
        return {
          cls: classify('userAccessManagement', 1),
          grant: { granted: true, kind: 'role', nameFrom: [], privileged: true },
        };
      case 'REVOKE_ADMIN_PRIVILEGE':
        return {
          cls: classify('userAccessManagement', 2),
          grant: { granted: false, kind: 'role', nameFrom: [], privileged: true },
        };
      case 'ADD_GROUP_MEMBER':
        return {
          cls: classify('groupManagement', 3),
          grant: { granted: true, kind: 'group', nameFrom: ['GROUP_EMAIL'] },
        };
      case 'REMOVE_GROUP_MEMBER':
        return {
          cls: classify('groupManagement', 4),
          grant: { granted: false, kind: 'group', nameFrom: ['GROUP_EMAIL'] },
        };
      case 'USER_LICENSE_ASSIGNMENT':
        return {
          cls: classify('userAccessManagement', 1),
          grant: {
            granted: true,
            kind: 'application',
            nameFrom: ['NEW_VALUE', 'PRODUCT_NAME'],
            privileged: false,
          },
        };
      case 'USER_LICENSE_REVOKE':
        return {
          cls: classify('userAccessManagement', 2),
          grant: {
            granted: false,
            kind: 'application',
            nameFrom: ['OLD_VALUE', 'PRODUCT_NAME'],
            privileged: false,
          },
        };
      case 'ENFORCE_STRONG_AUTHENTICATION':
        return {
          cls: classify('entityManagement', 3),
          setting: { name: 'two_step_verification_enforced', enabledFrom: 'NEW_VALUE' },
        };
      case 'ALLOW_STRONG_AUTHENTICATION':
        return {
          cls: classify('entityManagement', 3),
          setting: { name: 'two_step_verification_allowed', enabledFrom: 'NEW_VALUE' },
        };
    }
    const verb = name.split('_')[0] ?? '';
    const activity =
      {
        CREATE: 1,
        ADD: 1,
        ASSIGN: 1,
        GRANT: 1,
        CHANGE: 3,
        UPDATE: 3,
        EDIT: 3,
        DELETE: 4,
        REMOVE: 4,
        REVOKE: 4,
      }[verb] ?? 99;
    return { cls: classify('apiActivity', activity, name) };
  }
  return { cls: classify('apiActivity', 99, `${application}.${name}`) };
}

/**
 * MFA for a sign-in: `is_second_factor`, or the challenge methods used — any method other than
 * `password` (google_prompt, totp, security_key, backup_code, …) means MFA; `password` alone
 * means none. SAML sign-ins leave it to the identity provider (undefined).
 */
function mfaOf(params: Map<string, ParameterValue>, name: string): boolean | undefined {
  const second = params.get('is_second_factor');
  if (typeof second === 'boolean') return second && text(params, 'login_challenge_status') !== 'failed';
  if (text(params, 'login_type') === 'saml') return undefined;
  const methods = params.get('login_challenge_method');
  const list = Array.isArray(methods) ? methods : typeof methods === 'string' ? [methods] : [];
  if (list.length === 0) return undefined;
  if (name === 'login_failure') return undefined;
  return list.some((method) => method !== 'password' && method !== 'none');
}

function bool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (/^(true|on|enabled|yes)$/i.test(value)) return true;
  if (/^(false|off|disabled|no)$/i.test(value)) return false;
  return undefined;
}

function normalize(value: unknown, position: RecordPosition): ImportRecord[] {
  const activity = requireObject(value, 'a Google Workspace activity');
  const id = optionalObject(activity, 'id');
  if (!id) throw new FieldError('id', 'required but missing');
  const time = dateTimeValue(id.time, 'id.time');
  const application = requireString(id, 'applicationName', 'id.applicationName');
  const qualifier = optionalString(id, 'uniqueQualifier', 'id.uniqueQualifier');
  const events = activity.events;
  if (!Array.isArray(events) || events.length === 0)
    throw new FieldError('events', 'required: a non-empty array');
  const actorObject = optionalObject(activity, 'actor');
  const callerType = optionalString(actorObject, 'callerType', 'actor.callerType');
  const actorEmail = optionalString(actorObject, 'email', 'actor.email');
  const actor: IdentityRef | undefined = actorObject
    ? ref({
        type: callerType === 'KEY' ? 'service' : 'user',
        system: SYSTEM,
        externalId:
          optionalString(actorObject, 'profileId', 'actor.profileId') ??
          optionalString(actorObject, 'key', 'actor.key'),
        userName: actorEmail ?? optionalString(actorObject, 'key', 'actor.key'),
        email: emailOrUndefined(actorEmail),
      })
    : undefined;

  const records: ImportRecord[] = [];
  events.forEach((entry, index) => {
    const path = `events[${index}]`;
    if (!isObject(entry)) throw new FieldError(path, 'expected an object');
    const name = requireString(entry, 'name', `${path}.name`);
    const params = parametersOf(entry, path);
    const mapping = mapEvent(application, name);
    const userEmail = text(params, 'USER_EMAIL');
    const target = mapping.selfTarget
      ? actor
      : userEmail
        ? ref({ type: 'user', system: SYSTEM, userName: userEmail, email: emailOrUndefined(userEmail) })
        : undefined;
    let outcome: Outcome = mapping.outcome ?? 'success';
    if (name === 'login_verification' && text(params, 'login_challenge_status') === 'failed')
      outcome = 'failure';

    let privilege: PrivilegeChange | undefined;
    if (mapping.grant) {
      const grant = mapping.grant;
      const named = grant.nameFrom
        .map((key) => text(params, key))
        .find((candidate) => candidate !== undefined);
      const entitlement = named ?? (grant.privileged ? 'Super Admin' : undefined);
      if (!entitlement)
        throw new FieldError(`${path}.parameters`, `${grant.nameFrom.join(' or ')} required but missing`);
      privilege = {
        granted: grant.granted,
        kind: grant.kind,
        name: entitlement,
        names: [entitlement],
        privileged: grant.privileged ?? isPrivilegedEntitlement(entitlement),
      };
    }
    let securitySetting: SecuritySettingChange | undefined;
    if (mapping.setting) {
      const enabled = bool(text(params, mapping.setting.enabledFrom));
      if (enabled !== undefined) {
        securitySetting = {
          name: mapping.setting.name,
          enabled,
          scope: 'organization',
          subject: optionalString(id, 'customerId', 'id.customerId') ?? text(params, 'ORG_UNIT_NAME'),
        };
      }
    }
    const event: NormalizedEvent = {
      source: 'google-workspace-reports',
      sourceKey: qualifier
        ? `${application}:${qualifier}:${time}:${index}:${name}`
        : `${hashKey(activity)}:${index}`,
      system: SYSTEM,
      time,
      ...mapping.cls,
      action: `${application}.${name}`,
      outcome,
      actor,
      target,
      mfa: mapping.cls.classUid === 3002 ? mfaOf(params, name) : undefined,
      authMethod: application === 'login' ? text(params, 'login_type') : undefined,
      accountStatus: mapping.accountStatus,
      privilege,
      securitySetting,
      srcIp: looseString(activity, 'ipAddress'),
      raw: activity,
    };
    records.push(eventRecord(event, position));
    if (privilege) {
      records.push(
        ...entitlementRecords(
          event,
          position,
          target,
          [{ name: privilege.name, privileged: privilege.privileged }],
          privilege.kind,
          privilege.granted,
        ),
      );
    }
  });
  return records;
}

export const parseGoogleWorkspaceReports = jsonImporter({
  kind: 'google-workspace-reports',
  envelopes: [['items']],
  normalize: (item, position) => normalize(item.value, position),
});
