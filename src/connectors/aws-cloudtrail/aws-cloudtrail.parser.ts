/**
 * AWS CloudTrail importer (`aws-cloudtrail`).
 *
 * Accepts CloudTrail log files (`{"Records": [...]}`, as CloudTrail writes them to S3, gzipped or
 * not), a JSON array of records, or one record per line (CloudTrail Lake / EventBridge exports).
 * Each record becomes one event; successful policy attachments and group additions for an IAM
 * user also become entitlement facts.
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
  type SecuritySettingChange,
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

const ACCOUNT_IN_ARN = /^arn:aws[\w-]*:(?:iam|sts)::(\d{12}|[^:]*):/;

function accountOf(arn: string | undefined): string | undefined {
  const match = arn ? ACCOUNT_IN_ARN.exec(arn) : null;
  return match?.[1] || undefined;
}

/** `userIdentity` → the acting principal (see docs/importers.md for the type mapping). */
function actorOf(identity: JsonObject, system: string, account: string | undefined): IdentityRef {
  const type = optionalString(identity, 'type', 'userIdentity.type');
  const arn = optionalString(identity, 'arn', 'userIdentity.arn');
  const userName = optionalString(identity, 'userName', 'userIdentity.userName');
  const accountId =
    optionalString(identity, 'accountId', 'userIdentity.accountId') ?? accountOf(arn) ?? account;
  switch (type) {
    case 'Root':
      return ref({
        type: 'root',
        system,
        externalId: arn ?? (accountId ? `arn:aws:iam::${accountId}:root` : undefined),
        userName: 'root',
      });
    case 'IAMUser':
      return ref({
        type: 'user',
        system,
        externalId: arn ?? (accountId && userName ? `arn:aws:iam::${accountId}:user/${userName}` : undefined),
        userName,
        email: emailOrUndefined(userName),
      });
    case 'AssumedRole':
    case 'FederatedUser': {
      // arn:aws:sts::123456789012:assumed-role/<role>/<session>; the session name is the person
      // for SSO and federated sign-ins, a process name for services.
      const session = arn?.split('/').slice(2).join('/') || arn?.split('/')[1];
      const issuer = isObject(identity.sessionContext) ? identity.sessionContext.sessionIssuer : undefined;
      const role = looseString(isObject(issuer) ? issuer : undefined, 'userName') ?? arn?.split('/')[1];
      const human =
        type === 'FederatedUser' ||
        role?.startsWith('AWSReservedSSO_') ||
        emailOrUndefined(session) !== undefined;
      return ref({
        type: human ? 'user' : 'service',
        system,
        externalId: arn,
        userName: session ?? role,
        email: emailOrUndefined(session),
        displayName: role,
      });
    }
    case 'AWSService':
      return ref({ type: 'service', system, userName: looseString(identity, 'invokedBy') });
    case 'AWSAccount':
      return ref({
        type: 'service',
        system,
        userName: accountId,
        externalId: looseString(identity, 'principalId'),
      });
    case 'IdentityCenterUser':
      return ref({
        type: 'user',
        system,
        externalId: looseString(identity, 'principalId'),
        userName: looseString(isObject(identity.onBehalfOf) ? identity.onBehalfOf : undefined, 'userId'),
      });
    default:
      return ref({
        type: userName ? 'user' : 'system',
        system,
        externalId: arn,
        userName,
        email: emailOrUndefined(userName),
      });
  }
}

interface Mapping {
  cls: EventClassification;
  accountStatus?: IdentityStatus;
  grant?: { granted: boolean; kind: EntitlementKind; on: 'user' | 'group' | 'role' };
  setting?: { name: string; enabled: boolean };
  resource?: string;
}

const GRANTS: Record<string, Mapping['grant'] & { cls: EventClassification }> = {
  AttachUserPolicy: { granted: true, kind: 'policy', on: 'user', cls: classify('userAccessManagement', 1) },
  PutUserPolicy: { granted: true, kind: 'policy', on: 'user', cls: classify('userAccessManagement', 1) },
  DetachUserPolicy: { granted: false, kind: 'policy', on: 'user', cls: classify('userAccessManagement', 2) },
  DeleteUserPolicy: { granted: false, kind: 'policy', on: 'user', cls: classify('userAccessManagement', 2) },
  AddUserToGroup: { granted: true, kind: 'group', on: 'user', cls: classify('groupManagement', 3) },
  RemoveUserFromGroup: { granted: false, kind: 'group', on: 'user', cls: classify('groupManagement', 4) },
  AttachGroupPolicy: { granted: true, kind: 'policy', on: 'group', cls: classify('groupManagement', 1) },
  PutGroupPolicy: { granted: true, kind: 'policy', on: 'group', cls: classify('groupManagement', 1) },
  DetachGroupPolicy: { granted: false, kind: 'policy', on: 'group', cls: classify('groupManagement', 2) },
  DeleteGroupPolicy: { granted: false, kind: 'policy', on: 'group', cls: classify('groupManagement', 2) },
  AttachRolePolicy: { granted: true, kind: 'policy', on: 'role', cls: classify('entityManagement', 3) },
  PutRolePolicy: { granted: true, kind: 'policy', on: 'role', cls: classify('entityManagement', 3) },
  DetachRolePolicy: { granted: false, kind: 'policy', on: 'role', cls: classify('entityManagement', 3) },
  DeleteRolePolicy: { granted: false, kind: 'policy', on: 'role', cls: classify('entityManagement', 3) },
};

/** Security controls switched off or on by one API call. */
const SETTINGS: Record<string, { name: string; enabled: boolean }> = {
  StopLogging: { name: 'cloudtrail_logging', enabled: false },
  DeleteTrail: { name: 'cloudtrail_logging', enabled: false },
  StartLogging: { name: 'cloudtrail_logging', enabled: true },
  DeleteDetector: { name: 'guardduty', enabled: false },
  StopConfigurationRecorder: { name: 'aws_config_recording', enabled: false },
  DeleteConfigurationRecorder: { name: 'aws_config_recording', enabled: false },
  StartConfigurationRecorder: { name: 'aws_config_recording', enabled: true },
  DisableSecurityHub: { name: 'security_hub', enabled: false },
  EnableSecurityHub: { name: 'security_hub', enabled: true },
  DeleteAccountPasswordPolicy: { name: 'password_policy', enabled: false },
};

function mapEventName(eventName: string): Mapping {
  const grant = GRANTS[eventName];
  if (grant) {
    const { cls, ...rest } = grant;
    return { cls, grant: rest };
  }
  const setting = SETTINGS[eventName];
  switch (eventName) {
    case 'ConsoleLogin':
      return { cls: classify('authentication', 1) };
    case 'CheckMfa':
      return { cls: classify('authentication', 99, 'MFA Verification') };
    case 'SwitchRole':
    case 'ExitRole':
    case 'RenewRole':
      return { cls: classify('authentication', 99, eventName) };
    case 'CreateUser':
      return { cls: classify('accountChange', 1), accountStatus: 'active' };
    case 'DeleteUser':
      return { cls: classify('accountChange', 6), accountStatus: 'deprovisioned' };
    case 'CreateLoginProfile':
      return { cls: classify('accountChange', 99, 'Create Login Profile') };
    case 'DeleteLoginProfile':
      return { cls: classify('accountChange', 99, 'Delete Login Profile') };
    case 'UpdateLoginProfile':
    case 'ChangePassword':
    case 'PasswordUpdated':
      return { cls: classify('accountChange', 3) };
    case 'EnableMFADevice':
      return { cls: classify('accountChange', 10) };
    case 'DeactivateMFADevice':
    case 'DeleteVirtualMFADevice':
      return { cls: classify('accountChange', 11) };
    case 'CreateVirtualMFADevice':
      return { cls: classify('entityManagement', 1), resource: 'mfa_device' };
    case 'CreateAccessKey':
      return { cls: classify('entityManagement', 1), resource: 'access_key' };
    case 'UpdateAccessKey':
      return { cls: classify('entityManagement', 3), resource: 'access_key' };
    case 'DeleteAccessKey':
      return { cls: classify('entityManagement', 4), resource: 'access_key' };
    case 'CreateRole':
      return { cls: classify('entityManagement', 1), resource: 'role' };
    case 'DeleteRole':
      return { cls: classify('entityManagement', 4), resource: 'role' };
    case 'CreateGroup':
      return { cls: classify('groupManagement', 6), resource: 'group' };
    case 'DeleteGroup':
      return { cls: classify('groupManagement', 5), resource: 'group' };
  }
  let cls: EventClassification;
  if (/^(Create|Put|Run|Add|Attach|Start|Enable|Import|Register|Associate)/.test(eventName)) {
    cls = classify('apiActivity', 1);
  } else if (/^(Get|List|Describe|Lookup|Head|Search|Select|Check)/.test(eventName)) {
    cls = classify('apiActivity', 2);
  } else if (/^(Update|Set|Modify|Change|Reset|Tag|Untag|Upload|Replace)/.test(eventName)) {
    cls = classify('apiActivity', 3);
  } else if (
    /^(Delete|Remove|Detach|Stop|Terminate|Disable|Deregister|Disassociate|Revoke)/.test(eventName)
  ) {
    cls = classify('apiActivity', 4);
  } else {
    cls = classify('apiActivity', 99, eventName);
  }
  return setting ? { cls, setting } : { cls };
}

function yesNo(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'yes' || lower === 'true') return true;
  if (lower === 'no' || lower === 'false') return false;
  return undefined;
}

/** Whether an inline policy document allows every action, or every IAM action. */
function allowsEverything(document: string | undefined): boolean {
  if (!document) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(document.includes('%7B') ? decodeURIComponent(document) : document);
  } catch {
    return false;
  }
  if (!isObject(parsed)) return false;
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
  return statements.some((statement) => {
    if (!isObject(statement) || statement.Effect !== 'Allow') return false;
    const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
    return actions.some((action) => action === '*' || action === '*:*' || action === 'iam:*');
  });
}

function normalize(value: unknown, position: RecordPosition): ImportRecord[] {
  const record = requireObject(value, 'a CloudTrail record');
  if (Array.isArray(record.Records)) {
    throw new FieldError('Records', 'a log file nested inside another value; import the log file itself');
  }
  const eventName = requireString(record, 'eventName');
  const time = requireDateTime(record, 'eventTime');
  const identity = optionalObject(record, 'userIdentity');
  if (!identity) throw new FieldError('userIdentity', 'required but missing');
  const account =
    optionalString(record, 'recipientAccountId') ??
    optionalString(identity, 'accountId', 'userIdentity.accountId') ??
    accountOf(optionalString(identity, 'arn', 'userIdentity.arn'));
  const system = account ? `aws-iam:${account}` : 'aws-iam';
  const actor = actorOf(identity, system, account);
  const request = optionalObject(record, 'requestParameters');
  const response = optionalObject(record, 'responseElements');
  const additional = optionalObject(record, 'additionalEventData');

  // Outcome: an errorCode means the call failed; sign-in style events answer Success/Failure.
  const errorCode = optionalString(record, 'errorCode');
  const errorMessage = looseString(record, 'errorMessage');
  const answer = looseString(response, eventName);
  let outcome: Outcome;
  if (errorCode) outcome = 'failure';
  else if (answer === 'Success') outcome = 'success';
  else if (answer === 'Failure') outcome = 'failure';
  else if (eventName === 'ConsoleLogin') outcome = 'unknown';
  else outcome = 'success';
  const outcomeReason = errorCode ? [errorCode, errorMessage].filter(Boolean).join(': ') : errorMessage;

  const mapping = mapEventName(eventName);
  const identityType = looseString(identity, 'type');
  const federated = identityType === 'AssumedRole' || identityType === 'FederatedUser';
  let mfa: boolean | undefined;
  let authMethod: string | undefined;
  if (eventName === 'ConsoleLogin') {
    // For federated sign-ins AWS always says MFAUsed: No — MFA happened at the identity
    // provider, so AWS cannot know; we say unknown rather than repeat a misleading "No".
    mfa = federated ? undefined : yesNo(looseString(additional, 'MFAUsed'));
    authMethod = federated ? 'sso' : 'console';
  } else if (eventName === 'CheckMfa') {
    mfa = outcome === 'success' ? true : undefined;
    authMethod = 'console';
  }

  // The IAM user an IAM call is about.
  const targetUserName = looseString(request, 'userName');
  const target =
    targetUserName && mapping.grant?.on !== 'group' && mapping.grant?.on !== 'role'
      ? ref({
          type: 'user',
          system,
          userName: targetUserName,
          externalId: account ? `arn:aws:iam::${account}:user/${targetUserName}` : undefined,
          email: emailOrUndefined(targetUserName),
        })
      : mapping.cls.classUid === 3002
        ? actor
        : undefined;

  const resources: ResourceRef[] = [];
  let privilege: PrivilegeChange | undefined;
  let entitlementIdentity: IdentityRef | undefined;
  if (mapping.grant) {
    const grant = mapping.grant;
    let name: string | undefined;
    let privileged = false;
    if (grant.kind === 'group') {
      name = optionalString(request, 'groupName', 'requestParameters.groupName');
      if (!name) throw new FieldError('requestParameters.groupName', 'required but missing');
      privileged = isPrivilegedEntitlement(name);
    } else {
      const policyArn = optionalString(request, 'policyArn', 'requestParameters.policyArn');
      name = policyArn
        ? policyArn.split('/').pop()
        : optionalString(request, 'policyName', 'requestParameters.policyName');
      if (!name) throw new FieldError('requestParameters.policyArn', 'required but missing');
      privileged = isPrivilegedEntitlement(name) || allowsEverything(looseString(request, 'policyDocument'));
      resources.push({ kind: 'policy', id: policyArn, name });
    }
    const holder =
      grant.on === 'group'
        ? looseString(request, 'groupName')
        : grant.on === 'role'
          ? looseString(request, 'roleName')
          : undefined;
    if (holder) resources.push({ kind: grant.on, name: holder });
    privilege = { granted: grant.granted, kind: grant.kind, name, names: [name], privileged };
    if (grant.on === 'user') entitlementIdentity = target;
  } else if (mapping.resource) {
    const accessKey = isObject(response?.accessKey) ? response.accessKey : undefined;
    resources.push({
      kind: mapping.resource,
      id: looseString(accessKey, 'accessKeyId') ?? looseString(request, 'accessKeyId'),
      name: looseString(request, 'roleName') ?? looseString(request, 'groupName'),
    });
  }

  let securitySetting: SecuritySettingChange | undefined;
  if (mapping.setting) {
    const trail = looseString(request, 'name');
    securitySetting = { ...mapping.setting, scope: 'account', subject: account };
    if (trail) resources.push({ kind: 'trail', name: trail });
  }

  const eventID = optionalString(record, 'eventID');
  const event: NormalizedEvent = {
    source: 'aws-cloudtrail',
    sourceKey: eventID ?? hashKey(record),
    system,
    time,
    ...mapping.cls,
    action: eventName,
    outcome,
    outcomeReason,
    actor,
    target,
    resources,
    mfa,
    authMethod,
    accountStatus: outcome === 'success' ? mapping.accountStatus : undefined,
    privilege,
    securitySetting,
    srcIp: looseString(record, 'sourceIPAddress'),
    userAgent: looseString(record, 'userAgent'),
    raw: record,
  };
  const records: ImportRecord[] = [eventRecord(event, position)];
  if (privilege && mapping.grant) {
    records.push(
      ...entitlementRecords(
        event,
        position,
        entitlementIdentity,
        [{ name: privilege.name, privileged: privilege.privileged }],
        privilege.kind,
        privilege.granted,
      ),
    );
  }
  return records;
}

export const parseAwsCloudTrail = jsonImporter({
  kind: 'aws-cloudtrail',
  envelopes: [['Records']],
  normalize: (item, position) => normalize(item.value, position),
});
