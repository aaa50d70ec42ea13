/**
 * The normalised facts Assay's file importers produce (DESIGN.md §3 "Events" and "Identity graph").
 *
 * Every importer turns a vendor file into a stream of `ImportRecord`s:
 *
 * - `event`       something that happened (a sign-in, a grant, a push, a termination), shaped after
 *                 OCSF 1.x classes, with the vendor's original object in `raw` and a source-unique
 *                 `sourceKey` so that replays are stored once (invariant 2);
 * - `person`      a person from HR (the root of the identity graph);
 * - `identity`    an account in one system, observed at a point in time (credential reports);
 * - `entitlement` a role, group, policy or permission an account gained or lost at a time;
 * - `rejected`    a record the importer could not accept, with where and why (only when the caller
 *                 asked for `onError: 'collect'`; otherwise the importer throws `import_rejected`).
 *
 * Checks read the normalised fields, never `raw`: everything a control needs (MFA used, last
 * sign-in, key rotation age, root use, privilege grants, leavers, protection bypasses, security
 * settings switched off) has a field here. The schemas are TypeBox so that storage and the HTTP API
 * can validate the same shapes.
 */
import { type Static, Type } from 'typebox';

// ---------------------------------------------------------------------------------------------
// Import kinds

/** The file importers (`assay import KIND FILE`). */
export const importKinds = [
  'okta-system-log',
  'aws-iam-credential-report',
  'aws-cloudtrail',
  'github-audit-log',
  'google-workspace-reports',
  'hr-roster',
  'bamboohr',
  'ocsf',
] as const;
export type ImportKind = (typeof importKinds)[number];

export function isImportKind(value: string): value is ImportKind {
  return (importKinds as readonly string[]).includes(value);
}

export const ImportKindSchema = Type.Union([
  Type.Literal('okta-system-log'),
  Type.Literal('aws-iam-credential-report'),
  Type.Literal('aws-cloudtrail'),
  Type.Literal('github-audit-log'),
  Type.Literal('google-workspace-reports'),
  Type.Literal('hr-roster'),
  Type.Literal('bamboohr'),
  Type.Literal('ocsf'),
]);
// The list and the schema must name the same kinds.
const kindsMatch: [ImportKind] extends [Static<typeof ImportKindSchema>]
  ? [Static<typeof ImportKindSchema>] extends [ImportKind]
    ? true
    : false
  : false = true;
void kindsMatch;

/**
 * Sources that push facts to Assay rather than being imported from a file (so they are no
 * `assay import` kind): `scim` is the SCIM 2.0 service provider (src/connectors/scim).
 */
export const pushSources = ['scim'] as const;
/**
 * Sources Assay pulls from on its own (src/connectors/ldap, src/connectors/git), configured as
 * connectors (`assay connector add`): `ldap` reads a directory's users and groups, `git` a
 * repository's history.
 */
export const pullSources = ['ldap', 'git'] as const;
export const EventSourceSchema = Type.Union([
  ImportKindSchema,
  Type.Literal('scim'),
  Type.Literal('ldap'),
  Type.Literal('git'),
]);
export type EventSource = Static<typeof EventSourceSchema>;

// ---------------------------------------------------------------------------------------------
// Shared parts

/** Where a record came from inside the imported file (1-based line, 0-based byte offset). */
export const RecordPositionSchema = Type.Object({
  file: Type.Optional(Type.String()),
  line: Type.Optional(Type.Integer({ minimum: 1 })),
  byteOffset: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type RecordPosition = Static<typeof RecordPositionSchema>;

/**
 * What kind of principal acted or is affected. `root` is a cloud account's root user (AWS), kept
 * apart because its every use is a finding; `service` is a non-human principal the source itself
 * labels as such (a bot, an assumed service role, an API key); `system` is the vendor acting on its
 * own (Okta system events, HR feeds).
 */
export const PrincipalTypeSchema = Type.Union([
  Type.Literal('user'),
  Type.Literal('root'),
  Type.Literal('service'),
  Type.Literal('system'),
]);
export type PrincipalType = Static<typeof PrincipalTypeSchema>;

/**
 * An account in one system, as an event or entitlement names it. `system` says which directory
 * the account lives in (see `IdentityFact.system`); `externalId` is that system's stable id (Okta
 * user id, AWS ARN, GitHub login). People are joined to accounts by `email` (lower-cased), which is
 * set only when the source gives a real address.
 */
export const IdentityRefSchema = Type.Object({
  type: PrincipalTypeSchema,
  system: Type.Optional(Type.String()),
  externalId: Type.Optional(Type.String()),
  userName: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  displayName: Type.Optional(Type.String()),
});
export type IdentityRef = Static<typeof IdentityRefSchema>;

/** Account status in its system. `deprovisioned` = deactivated or deleted: it can no longer sign in. */
export const IdentityStatusSchema = Type.Union([
  Type.Literal('active'),
  Type.Literal('suspended'),
  Type.Literal('deprovisioned'),
]);
export type IdentityStatus = Static<typeof IdentityStatusSchema>;

export const EntitlementKindSchema = Type.Union([
  Type.Literal('role'),
  Type.Literal('group'),
  Type.Literal('policy'),
  Type.Literal('application'),
  Type.Literal('permission'),
  Type.Literal('membership'),
]);
export type EntitlementKind = Static<typeof EntitlementKindSchema>;

/** Something an event touched that is not an account: a group, app, policy, key, trail, token. */
export const ResourceRefSchema = Type.Object({
  kind: Type.String(),
  id: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
});
export type ResourceRef = Static<typeof ResourceRefSchema>;

// ---------------------------------------------------------------------------------------------
// Event classes (OCSF 1.x, plus Assay's own 99xxxx classes where OCSF has none)

interface ClassInfo {
  readonly uid: number;
  readonly name: string;
  readonly categoryUid: number;
  readonly categoryName: string;
  readonly activities: Readonly<Record<number, string>>;
}

const iam = { categoryUid: 3, categoryName: 'Identity & Access Management' } as const;

/**
 * The classes importers emit. Activity ids follow OCSF 1.x; 99 is "Other" and then
 * `activityName` carries the specific activity (for example "Create Access Key").
 */
export const eventClasses = {
  accountChange: {
    uid: 3001,
    name: 'Account Change',
    ...iam,
    activities: {
      1: 'Create',
      2: 'Enable',
      3: 'Password Change',
      4: 'Password Reset',
      5: 'Disable',
      6: 'Delete',
      7: 'Attach Policy',
      8: 'Detach Policy',
      9: 'Lock',
      10: 'MFA Factor Enable',
      11: 'MFA Factor Disable',
      99: 'Other',
    },
  },
  authentication: {
    uid: 3002,
    name: 'Authentication',
    ...iam,
    activities: { 1: 'Logon', 2: 'Logoff', 3: 'Authentication Ticket', 6: 'Preauth', 99: 'Other' },
  },
  entityManagement: {
    uid: 3004,
    name: 'Entity Management',
    ...iam,
    activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
  },
  userAccessManagement: {
    uid: 3005,
    name: 'User Access Management',
    ...iam,
    activities: { 1: 'Assign Privileges', 2: 'Revoke Privileges', 99: 'Other' },
  },
  groupManagement: {
    uid: 3006,
    name: 'Group Management',
    ...iam,
    activities: {
      1: 'Assign Privileges',
      2: 'Revoke Privileges',
      3: 'Add User',
      4: 'Remove User',
      5: 'Delete',
      6: 'Create',
      99: 'Other',
    },
  },
  apiActivity: {
    uid: 6003,
    name: 'API Activity',
    categoryUid: 6,
    categoryName: 'Application Activity',
    activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
  },
  /** Assay: HR employment changes (a hire, a change of role, a termination). */
  employmentChange: {
    uid: 990001,
    name: 'Employment Change',
    categoryUid: 99,
    categoryName: 'Assay',
    activities: { 1: 'Hire', 2: 'Role Change', 3: 'Termination', 99: 'Other' },
  },
  /** Assay: changes to source code and its protections (pushes, merges, branch protection). */
  codeChange: {
    uid: 990002,
    name: 'Code Change',
    categoryUid: 99,
    categoryName: 'Assay',
    activities: {
      1: 'Push',
      2: 'Pull Request Merged',
      3: 'Branch Protection Change',
      4: 'Protection Bypass',
      99: 'Other',
    },
  },
} as const satisfies Record<string, ClassInfo>;

export type EventClassName = keyof typeof eventClasses;

export interface EventClassification {
  classUid: number;
  className: string;
  categoryUid: number;
  categoryName: string;
  activityId: number;
  activityName: string;
  /** OCSF `type_uid` = class_uid × 100 + activity_id. */
  typeUid: number;
}

/** Fills the class/activity fields; `otherName` names an activity 99 ("Other"). */
export function classify(cls: EventClassName, activityId: number, otherName?: string): EventClassification {
  const info: ClassInfo = eventClasses[cls];
  const known = info.activities[activityId];
  const activityName = activityId === 99 ? (otherName ?? 'Other') : (known ?? otherName ?? 'Other');
  return {
    classUid: info.uid,
    className: info.name,
    categoryUid: info.categoryUid,
    categoryName: info.categoryName,
    activityId,
    activityName,
    typeUid: info.uid * 100 + activityId,
  };
}

// ---------------------------------------------------------------------------------------------
// Privileged entitlements

const PRIVILEGED_NAME = /admin|owner|superuser|poweruser|fullaccess|full[ _-]access/i;

/**
 * The documented rule for which entitlements are privileged (CC6.1/CC6.3: privileged access needs
 * approval and review). An entitlement is privileged when its name, case-insensitively:
 *
 * - contains `admin` — every Okta administrator role ("Super administrator", "Organization
 *   administrator", "Application administrator (all)", "Read only admin"…; even read-only admins
 *   see the whole directory), AWS `AdministratorAccess`, `AWSReservedSSO_…Admin…` roles, groups
 *   named like `admins`, Google admin roles, GitHub repository permission `admin`;
 * - contains `owner` — GitHub organisation/enterprise owners;
 * - contains `superuser` or `poweruser` — AWS `PowerUserAccess`;
 * - contains `FullAccess` — AWS managed policies granting a whole service (`IAMFullAccess`,
 *   `AmazonS3FullAccess`, …);
 * - or the importer marks it so from content rather than name: an AWS inline policy that allows
 *   `*` or `iam:*` (see the CloudTrail importer).
 *
 * Everything else (read-only policies, plain memberships, application assignments) is not.
 */
export function isPrivilegedEntitlement(name: string): boolean {
  return PRIVILEGED_NAME.test(name);
}

// ---------------------------------------------------------------------------------------------
// Normalised event

export const OutcomeSchema = Type.Union([
  Type.Literal('success'),
  Type.Literal('failure'),
  Type.Literal('unknown'),
]);
export type Outcome = Static<typeof OutcomeSchema>;

/** A grant or removal of an entitlement, carried by every event that changes access. */
export const PrivilegeChangeSchema = Type.Object({
  /** true = granted/assigned/added, false = revoked/removed. */
  granted: Type.Boolean(),
  kind: EntitlementKindSchema,
  /** The entitlement as the vendor states it (Okta may list several roles in one string). */
  name: Type.String(),
  /** The individual entitlements; each is also yielded as an `entitlement` record on success. */
  names: Type.Array(Type.String()),
  /** true when any of `names` is privileged (see `isPrivilegedEntitlement`). */
  privileged: Type.Boolean(),
});
export type PrivilegeChange = Static<typeof PrivilegeChangeSchema>;

/**
 * A security control of a system switched on or off: an organisation's two-factor requirement,
 * SAML SSO, secret scanning, CloudTrail logging. `name` is a stable Assay name (see
 * docs/importers.md for the mapping from vendor actions).
 */
export const SecuritySettingChangeSchema = Type.Object({
  name: Type.String(),
  enabled: Type.Boolean(),
  scope: Type.Union([
    Type.Literal('organization'),
    Type.Literal('enterprise'),
    Type.Literal('repository'),
    Type.Literal('account'),
  ]),
  /** The organisation, repository (`org/repo`) or account the setting belongs to. */
  subject: Type.Optional(Type.String()),
});
export type SecuritySettingChange = Static<typeof SecuritySettingChangeSchema>;

export const CodeChangeKindSchema = Type.Union([
  Type.Literal('push'),
  Type.Literal('pull_request_merged'),
  Type.Literal('pull_request_closed'),
  Type.Literal('review_submitted'),
  Type.Literal('protection_created'),
  Type.Literal('protection_updated'),
  Type.Literal('protection_removed'),
  Type.Literal('protection_bypass'),
  Type.Literal('push_rejected'),
]);
export type CodeChangeKind = Static<typeof CodeChangeKindSchema>;

/** Details of a 990002 Code Change event (repository and branch are top-level event fields). */
export const CodeChangeSchema = Type.Object({
  change: CodeChangeKindSchema,
  /**
   * true when the change went around a protection: a branch-protection or ruleset override
   * (`protected_branch.policy_override`, ruleset bypass) or a force push (history rewritten).
   */
  bypass: Type.Boolean(),
  bypassReason: Type.Optional(Type.String()),
  forcePush: Type.Optional(Type.Boolean()),
  /** Which protection mechanism a protection_* change concerns. */
  protection: Type.Optional(Type.Union([Type.Literal('branch_protection'), Type.Literal('ruleset')])),
  /** true when a protection was removed or weakened (set only when the source makes it knowable). */
  protectionRelaxed: Type.Optional(Type.Boolean()),
  pullRequest: Type.Optional(Type.Integer()),
  mergedBy: Type.Optional(Type.String()),
  reviewState: Type.Optional(Type.String()),
  commitCount: Type.Optional(Type.Integer({ minimum: 0 })),
  /** The commit the event is about (full object name), when the source names one (git). */
  commit: Type.Optional(Type.String()),
  /** The commit's parents: two or more for a merge commit. */
  parents: Type.Optional(Type.Array(Type.String())),
  /**
   * The commit's signature as git verifies it (`%G?`): `good`, `good_untrusted` (valid, key of
   * unknown trust), `expired` (good signature, expired), `expired_key`, `revoked_key`, `bad`,
   * `unverifiable` (no key to check it with) or `none` (unsigned).
   */
  signature: Type.Optional(
    Type.Union([
      Type.Literal('good'),
      Type.Literal('good_untrusted'),
      Type.Literal('expired'),
      Type.Literal('expired_key'),
      Type.Literal('revoked_key'),
      Type.Literal('bad'),
      Type.Literal('unverifiable'),
      Type.Literal('none'),
    ]),
  ),
  /** Other authors a commit credits (`Co-authored-by:` trailers), as email addresses. */
  coAuthors: Type.Optional(Type.Array(Type.String())),
});
export type CodeChange = Static<typeof CodeChangeSchema>;

/** Details of a 990001 Employment Change event. */
export const EmploymentChangeSchema = Type.Object({
  change: Type.Union([Type.Literal('hire'), Type.Literal('role_change'), Type.Literal('termination')]),
  employeeId: Type.String(),
  email: Type.Optional(Type.String()),
  /** The date it takes effect (YYYY-MM-DD); absent when HR states the change but not its date. */
  effectiveDate: Type.Optional(Type.String()),
  title: Type.Optional(Type.String()),
  department: Type.Optional(Type.String()),
});
export type EmploymentChange = Static<typeof EmploymentChangeSchema>;

export const NormalizedEventSchema = Type.Object({
  /** The importer kind (or push or pull source) that produced the event. */
  source: EventSourceSchema,
  /**
   * Unique within `source`: the vendor's event id (Okta `uuid`, CloudTrail `eventID`, GitHub
   * `_document_id`, Google `id.time`+`id.uniqueQualifier`+event) or, where the vendor gives none,
   * `sha256:` + the hash of the canonical record (sorted keys) — so a replay gets the same key.
   */
  sourceKey: Type.String(),
  /** The system the event happened in: `okta`, `aws-iam:<account>`, `github:<org>`, `google-workspace`, `hr`. */
  system: Type.String(),
  /** When it happened (ISO 8601, UTC, millisecond precision). */
  time: Type.String(),
  classUid: Type.Integer(),
  className: Type.String(),
  categoryUid: Type.Integer(),
  categoryName: Type.String(),
  activityId: Type.Integer(),
  activityName: Type.String(),
  typeUid: Type.Integer(),
  /** The vendor's own name for the action (`user.session.start`, `ConsoleLogin`, `git.push`). */
  action: Type.String(),
  outcome: OutcomeSchema,
  outcomeReason: Type.Optional(Type.String()),
  actor: Type.Optional(IdentityRefSchema),
  /** The account the event is about (signed in, created, granted, terminated…). */
  target: Type.Optional(IdentityRefSchema),
  /** Other things touched: groups, applications, policies, keys, trails, tokens. */
  resources: Type.Optional(Type.Array(ResourceRefSchema)),
  /** Authentication events: whether MFA was used. Absent when the source does not say. */
  mfa: Type.Optional(Type.Boolean()),
  /** Authentication events: how (`console`, `password`, `sso`, `api`). */
  authMethod: Type.Optional(Type.String()),
  /** Lifecycle events: the target account's status after the event. */
  accountStatus: Type.Optional(IdentityStatusSchema),
  privilege: Type.Optional(PrivilegeChangeSchema),
  securitySetting: Type.Optional(SecuritySettingChangeSchema),
  /** Organisation (GitHub org, Okta org) the event belongs to, when known. */
  organization: Type.Optional(Type.String()),
  /** `org/repo` for code and repository events. */
  repository: Type.Optional(Type.String()),
  /** Branch name without `refs/heads/`. */
  branch: Type.Optional(Type.String()),
  code: Type.Optional(CodeChangeSchema),
  employment: Type.Optional(EmploymentChangeSchema),
  srcIp: Type.Optional(Type.String()),
  userAgent: Type.Optional(Type.String()),
  /** The vendor's record exactly as read. */
  raw: Type.Unknown(),
});
export type NormalizedEvent = Static<typeof NormalizedEventSchema>;

// ---------------------------------------------------------------------------------------------
// Identity graph facts

export const EmploymentStatusSchema = Type.Union([
  Type.Literal('active'),
  Type.Literal('terminated'),
  Type.Literal('on_leave'),
]);
export type EmploymentStatus = Static<typeof EmploymentStatusSchema>;

/** A person as HR states them on `observedAt`. Keyed by (`source`, `employeeId`). */
export const PersonFactSchema = Type.Object({
  source: ImportKindSchema,
  employeeId: Type.String(),
  name: Type.String(),
  /** Lower-cased work email: the key that joins a person to their accounts. */
  email: Type.String(),
  title: Type.Optional(Type.String()),
  department: Type.Optional(Type.String()),
  managerEmail: Type.Optional(Type.String()),
  /** The manager's employee id, when HR gives an id rather than an email (BambooHR). */
  managerEmployeeId: Type.Optional(Type.String()),
  /** `full_time`, `part_time`, `contractor`, `intern`, `temporary` or HR's own word, snake_cased. */
  employmentType: Type.Optional(Type.String()),
  /** YYYY-MM-DD */
  startDate: Type.Optional(Type.String()),
  /** YYYY-MM-DD: last day of employment (may be in the future for a notice period). */
  endDate: Type.Optional(Type.String()),
  status: EmploymentStatusSchema,
  observedAt: Type.String(),
});
export type PersonFact = Static<typeof PersonFactSchema>;

export const AccessKeySchema = Type.Object({
  /** 1 or 2 in an AWS credential report. */
  slot: Type.Optional(Type.Integer()),
  id: Type.Optional(Type.String()),
  active: Type.Boolean(),
  /** When the key was created or last rotated: its age is `observedAt - lastRotatedAt`. */
  lastRotatedAt: Type.String(),
  lastUsedAt: Type.Optional(Type.String()),
  lastUsedRegion: Type.Optional(Type.String()),
  lastUsedService: Type.Optional(Type.String()),
});
export type AccessKey = Static<typeof AccessKeySchema>;

/**
 * An account in one system as observed at `observedAt` (a snapshot such as an IAM credential
 * report). `system` is `okta`, `aws-iam:<account id>`, `github:<org>` or `google-workspace`.
 */
export const IdentityFactSchema = Type.Object({
  source: EventSourceSchema,
  system: Type.String(),
  /** The system's stable id for the account (AWS: the ARN). */
  externalId: Type.String(),
  userName: Type.String(),
  email: Type.Optional(Type.String()),
  displayName: Type.Optional(Type.String()),
  type: PrincipalTypeSchema,
  status: IdentityStatusSchema,
  /**
   * The source's hint whether a human uses the account: true when it can sign in interactively
   * (console password), false when it only has programmatic credentials; absent when unknown.
   * A hint only: owners declare non-human identities in Assay.
   */
  isHumanHint: Type.Optional(Type.Boolean()),
  mfaEnabled: Type.Optional(Type.Boolean()),
  passwordEnabled: Type.Optional(Type.Boolean()),
  /** Last interactive sign-in. */
  lastLoginAt: Type.Optional(Type.String()),
  passwordLastUsedAt: Type.Optional(Type.String()),
  passwordLastChangedAt: Type.Optional(Type.String()),
  createdAt: Type.Optional(Type.String()),
  accessKeys: Type.Optional(Type.Array(AccessKeySchema)),
  /** Signing certificates (AWS), same shape as keys. */
  certificates: Type.Optional(Type.Array(AccessKeySchema)),
  observedAt: Type.String(),
});
export type IdentityFact = Static<typeof IdentityFactSchema>;

/** An entitlement an account gained (`granted: true`) or lost (`granted: false`) at `at`. */
export const EntitlementFactSchema = Type.Object({
  source: EventSourceSchema,
  system: Type.String(),
  identity: IdentityRefSchema,
  name: Type.String(),
  kind: EntitlementKindSchema,
  privileged: Type.Boolean(),
  granted: Type.Boolean(),
  at: Type.String(),
  /** The `sourceKey` of the event that stated it. */
  eventSourceKey: Type.Optional(Type.String()),
});
export type EntitlementFact = Static<typeof EntitlementFactSchema>;

// ---------------------------------------------------------------------------------------------
// Import records

export const ImportRecordSchema = Type.Union([
  Type.Object({ type: Type.Literal('event'), position: RecordPositionSchema, event: NormalizedEventSchema }),
  Type.Object({ type: Type.Literal('person'), position: RecordPositionSchema, person: PersonFactSchema }),
  Type.Object({
    type: Type.Literal('identity'),
    position: RecordPositionSchema,
    identity: IdentityFactSchema,
  }),
  Type.Object({
    type: Type.Literal('entitlement'),
    position: RecordPositionSchema,
    entitlement: EntitlementFactSchema,
  }),
  Type.Object({
    type: Type.Literal('rejected'),
    position: RecordPositionSchema,
    field: Type.Optional(Type.String()),
    reason: Type.String(),
    /** The full message, as `import_rejected` would carry it. */
    message: Type.String(),
  }),
]);
export type ImportRecord = Static<typeof ImportRecordSchema>;
export type RejectedRecord = Extract<ImportRecord, { type: 'rejected' }>;
