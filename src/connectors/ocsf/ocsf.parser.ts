/**
 * OCSF importer (`ocsf`).
 *
 * Accepts OCSF 1.x events already normalised by another tool (Amazon Security Lake exports,
 * SIEM pipelines) as JSON lines or a JSON array. Required per event: `class_uid`, `activity_id`
 * and `time` (epoch milliseconds; `time_dt` is accepted instead). Mapped fields: `metadata.uid`
 * (source key), `metadata.product` (system), `actor.user` (actor), `user` (target account),
 * `status_id` / `status_detail` (outcome), `is_mfa` (Authentication), `privileges` with `user`
 * or `group` (User Access / Group Management), `src_endpoint.ip`, `http_request.user_agent`.
 */
import {
  classify,
  type EntitlementKind,
  eventClasses,
  type IdentityRef,
  type ImportRecord,
  isPrivilegedEntitlement,
  type NormalizedEvent,
  type Outcome,
  type PrivilegeChange,
  type RecordPosition,
} from '../../domains/events/event.model.ts';
import { FieldError } from '../shared/import-context.ts';
import { entitlementRecords, eventRecord, jsonImporter, ref } from '../shared/importer.ts';
import {
  dateTimeValue,
  describe,
  emailOrUndefined,
  epochOrDateTimeValue,
  hashKey,
  isObject,
  type JsonObject,
  looseString,
  optionalObject,
  optionalString,
  requireObject,
} from '../shared/values.ts';

function integer(record: JsonObject, key: string): number {
  const value = record[key];
  if (value === undefined || value === null) throw new FieldError(key, 'required but missing');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new FieldError(key, `expected a non-negative integer, found ${describe(value)}`);
  }
  return value;
}

/** OCSF user object → identity reference (`type_id` 3 = System, 2 = Admin, 1 = User). */
function userRef(user: JsonObject | undefined, system: string): IdentityRef | undefined {
  if (!user) return undefined;
  const name = looseString(user, 'name');
  const email = looseString(user, 'email_addr');
  const typeId = user.type_id;
  return ref({
    type: typeId === 3 ? 'system' : 'user',
    system,
    externalId: looseString(user, 'uid'),
    userName: name ?? email,
    email: emailOrUndefined(email) ?? emailOrUndefined(name),
    displayName: looseString(user, 'full_name'),
  });
}

function outcomeOf(statusId: unknown, status: string | undefined): Outcome {
  if (statusId === 1 || status?.toLowerCase() === 'success') return 'success';
  if (statusId === 2 || status?.toLowerCase() === 'failure') return 'failure';
  return 'unknown';
}

const KNOWN_CLASSES = new Map<number, keyof typeof eventClasses>(
  Object.entries(eventClasses).map(([key, info]) => [info.uid, key as keyof typeof eventClasses]),
);

function normalize(value: unknown, position: RecordPosition): ImportRecord[] {
  const record = requireObject(value, 'an OCSF event');
  const classUid = integer(record, 'class_uid');
  const activityId = integer(record, 'activity_id');
  let time: string;
  if (record.time !== undefined && record.time !== null) time = epochOrDateTimeValue(record.time, 'time');
  else if (record.time_dt !== undefined && record.time_dt !== null)
    time = dateTimeValue(record.time_dt, 'time_dt');
  else throw new FieldError('time', 'required but missing');

  const metadata = optionalObject(record, 'metadata');
  const product = isObject(metadata?.product) ? metadata.product : undefined;
  const productName = looseString(product, 'name');
  const system = productName
    ? productName
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '') || 'ocsf'
    : 'ocsf';

  const known = KNOWN_CLASSES.get(classUid);
  const base = known ? classify(known, activityId, optionalString(record, 'activity_name')) : undefined;
  const className = optionalString(record, 'class_name') ?? base?.className ?? `OCSF class ${classUid}`;
  const activityName =
    optionalString(record, 'activity_name') ??
    base?.activityName ??
    (activityId === 99 ? 'Other' : `Activity ${activityId}`);
  const categoryUid =
    typeof record.category_uid === 'number'
      ? record.category_uid
      : (base?.categoryUid ?? Math.floor(classUid / 1000));
  const categoryName = optionalString(record, 'category_name') ?? base?.categoryName ?? '';

  const actorObject = optionalObject(record, 'actor');
  const actorUser = isObject(actorObject?.user) ? actorObject.user : undefined;
  let actor = userRef(actorUser, system);
  if (!actor && actorObject) {
    const app = looseString(actorObject, 'app_name');
    if (app) actor = ref({ type: 'service', system, userName: app });
  }
  const targetUser = optionalObject(record, 'user');
  const target = userRef(targetUser, system) ?? (classUid === 3002 ? actor : undefined);
  const outcome = outcomeOf(record.status_id, looseString(record, 'status'));

  // Privilege changes: 3005 assign/revoke privileges; 3006 assign/revoke privileges or add/remove user.
  let privilege: PrivilegeChange | undefined;
  let kind: EntitlementKind = 'permission';
  if ((classUid === 3005 || classUid === 3006) && activityId !== 99) {
    const privileges = Array.isArray(record.privileges)
      ? record.privileges.filter((p) => typeof p === 'string')
      : [];
    const group = isObject(record.group) ? looseString(record.group, 'name') : undefined;
    let names: string[] = privileges as string[];
    if (classUid === 3006 && (activityId === 3 || activityId === 4) && group) {
      names = [group];
      kind = 'group';
    }
    if (names.length > 0) {
      const granted = classUid === 3005 ? activityId === 1 : activityId === 1 || activityId === 3;
      privilege = {
        granted,
        kind,
        name: names.join(', '),
        names,
        privileged: names.some(isPrivilegedEntitlement),
      };
    }
  }

  const srcEndpoint = optionalObject(record, 'src_endpoint');
  const httpRequest = optionalObject(record, 'http_request');
  const event: NormalizedEvent = {
    source: 'ocsf',
    sourceKey: looseString(metadata, 'uid') ?? hashKey(record),
    system,
    time,
    classUid,
    className,
    categoryUid,
    categoryName,
    activityId,
    activityName,
    typeUid: typeof record.type_uid === 'number' ? record.type_uid : classUid * 100 + activityId,
    action: activityName,
    outcome,
    outcomeReason: looseString(record, 'status_detail'),
    actor,
    target,
    mfa: typeof record.is_mfa === 'boolean' ? record.is_mfa : undefined,
    privilege,
    srcIp: looseString(srcEndpoint, 'ip'),
    userAgent: looseString(httpRequest, 'user_agent'),
    raw: record,
  };
  const records: ImportRecord[] = [eventRecord(event, position)];
  if (privilege && targetUser) {
    records.push(
      ...entitlementRecords(
        event,
        position,
        target,
        privilege.names.map((name) => ({ name, privileged: isPrivilegedEntitlement(name) })),
        privilege.kind,
        privilege.granted,
      ),
    );
  }
  return records;
}

export const parseOcsf = jsonImporter({
  kind: 'ocsf',
  normalize: (item, position) => normalize(item.value, position),
});
