/**
 * GitHub audit log importer (`github-audit-log`).
 *
 * Accepts organisation or enterprise audit-log events as JSON lines (the streaming/export format)
 * or as a JSON array (the REST `GET /orgs/{org}/audit-log` response). Each event becomes one
 * event: pushes, merges and branch-protection changes as 990002 Code Change, membership and
 * permission changes as IAM classes (with entitlement facts), security features switched off or
 * on as Entity Management updates carrying `securitySetting`.
 *
 * `normalizeGitHubWebhook` maps webhook deliveries (push, pull_request, pull_request_review,
 * organization, branch_protection_rule) into the same events, for the webhook receiver.
 */
import {
  type CodeChange,
  classify,
  type EntitlementKind,
  type EventClassification,
  type IdentityRef,
  type IdentityStatus,
  type ImportRecord,
  isPrivilegedEntitlement,
  type NormalizedEvent,
  type PrivilegeChange,
  type RecordPosition,
  type SecuritySettingChange,
} from '../../domains/events/event.model.ts';
import { FieldError } from '../shared/import-context.ts';
import { entitlementRecords, eventRecord, jsonImporter, ref } from '../shared/importer.ts';
import {
  emailOrUndefined,
  epochOrDateTimeValue,
  hashKey,
  isObject,
  type JsonObject,
  looseString,
  optionalString,
  requireObject,
  requireString,
} from '../shared/values.ts';

function systemOf(
  org: string | undefined,
  repository: string | undefined,
  business: string | undefined,
): string {
  const owner = org ?? repository?.split('/')[0];
  if (owner) return `github:${owner}`;
  if (business) return `github-enterprise:${business}`;
  return 'github';
}

function account(
  login: string | undefined,
  system: string,
  options: { id?: string; email?: string; bot?: boolean } = {},
): IdentityRef | undefined {
  if (!login) return undefined;
  return ref({
    type: options.bot || login.endsWith('[bot]') ? 'service' : 'user',
    system,
    externalId: options.id,
    userName: login,
    email: emailOrUndefined(options.email),
  });
}

function branchName(ref: string | undefined): string | undefined {
  return ref?.replace(/^refs\/heads\//, '') || undefined;
}

/** The time of an audit event: `@timestamp`, Panther's renamed `at_sign_timestamp`, or `created_at`. */
function timeOf(record: JsonObject): string {
  for (const key of ['@timestamp', 'at_sign_timestamp', 'created_at']) {
    const value = record[key];
    if (value === undefined || value === null || value === '') continue;
    return epochOrDateTimeValue(value, key);
  }
  throw new FieldError(
    '@timestamp',
    'required but missing (neither "@timestamp" nor "created_at" is present)',
  );
}

interface Mapping {
  cls: EventClassification;
  code?: CodeChange;
  accountStatus?: IdentityStatus;
  grant?: { granted: boolean; kind: EntitlementKind; name: string; privileged: boolean };
  setting?: { name: string; enabled: boolean };
}

/**
 * Whether a `protected_branch.update_*` event weakened the protection, from the new value it
 * carries: enforcement levels `off` / `non_admins` (admins exempt) weaken; allowing force pushes
 * or deletions weakens; `admin_enforced: false` and zero required reviews weaken.
 */
function protectionRelaxed(record: JsonObject): boolean | undefined {
  let relaxed: boolean | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (key === 'allow_force_pushes_enforcement_level' || key === 'allow_deletions_enforcement_level') {
      relaxed = (relaxed ?? false) || (typeof value === 'string' && value !== 'off');
    } else if (key.endsWith('_enforcement_level')) {
      relaxed = (relaxed ?? false) || value === 'off' || value === 'non_admins';
    } else if (key === 'admin_enforced') {
      relaxed = (relaxed ?? false) || value === false;
    } else if (key === 'required_approving_review_count') {
      relaxed = (relaxed ?? false) || value === 0;
    }
  }
  return relaxed;
}

/** Features whose `<feature>.disable` / `.enable` actions switch a security control. */
const SECURITY_FEATURE =
  /secret_scanning|push_protection|dependabot|advanced_security|code_scanning|vulnerability|ip_allow_list|two_factor|saml|sso|oauth_app_restrictions/;

/**
 * A security control switched on or off, from the action name:
 * `org.disable_two_factor_requirement`, `org.saml_disabled`, `secret_scanning.disable`,
 * `business_advanced_security.enabled`, `enterprise.config.disable_anonymous_git_access`.
 */
function settingOf(action: string): { name: string; enabled: boolean } | undefined {
  let match = /^(?:org|business|enterprise(?:\.config)?)\.(disable|enable)_([a-z_]+)$/.exec(action);
  if (match) return { name: match[2]!, enabled: match[1] === 'enable' };
  match = /^(?:org|business|enterprise)\.([a-z_]+)_(disabled|enabled)$/.exec(action);
  if (match) return { name: match[1]!, enabled: match[2] === 'enabled' };
  match = /^([a-z_]+)\.(disable|enable|disabled|enabled)$/.exec(action);
  if (match && SECURITY_FEATURE.test(match[1]!))
    return { name: match[1]!, enabled: match[2]!.startsWith('enable') };
  return undefined;
}

/** Whose setting it is: the organisation for `org.*`, the enterprise for `business.*`, else the repository. */
function settingScope(
  action: string,
  repository: string | undefined,
  org: string | undefined,
): SecuritySettingChange['scope'] {
  if (action.startsWith('org.')) return 'organization';
  if (action.startsWith('business') || action.startsWith('enterprise')) return 'enterprise';
  if (repository) return 'repository';
  return org ? 'organization' : 'enterprise';
}

/** GitHub's `permission: admin` on an organisation membership means owner. */
function orgRole(permission: string | undefined): string | undefined {
  if (permission === undefined) return undefined;
  return permission === 'admin' || permission === 'owner' ? 'owner' : 'member';
}

function mapAction(action: string, record: JsonObject, repository: string | undefined): Mapping {
  const protection = (change: CodeChange['change'], extra: Partial<CodeChange> = {}): CodeChange => ({
    change,
    bypass: false,
    protection: action.startsWith('repository_ruleset') ? 'ruleset' : 'branch_protection',
    ...extra,
  });
  switch (action) {
    case 'git.push':
      return { cls: classify('codeChange', 1), code: { change: 'push', bypass: false } };
    case 'pull_request.merge':
    case 'pull_request.merged':
      return { cls: classify('codeChange', 2), code: { change: 'pull_request_merged', bypass: false } };
    case 'protected_branch.create':
    case 'repository_ruleset.create':
      return { cls: classify('codeChange', 3), code: protection('protection_created') };
    case 'protected_branch.destroy':
    case 'repository_ruleset.destroy':
      return {
        cls: classify('codeChange', 3),
        code: protection('protection_removed', { protectionRelaxed: true }),
      };
    case 'repository_ruleset.update': {
      const now = looseString(record, 'ruleset_enforcement');
      const before = looseString(record, 'ruleset_old_enforcement');
      const relaxed = before === undefined ? undefined : before === 'enabled' && now !== 'enabled';
      return {
        cls: classify('codeChange', 3),
        code: protection('protection_updated', { protectionRelaxed: relaxed }),
      };
    }
    case 'protected_branch.policy_override':
    case 'repository_ruleset.bypass':
    case 'repository_branch_protection_evaluation.bypass':
      return {
        cls: classify('codeChange', 4),
        code: protection('protection_bypass', { bypass: true, bypassReason: action }),
      };
    case 'protected_branch.rejected_ref_update':
      return {
        cls: classify('codeChange', 99, 'Push Rejected'),
        code: { change: 'push_rejected', bypass: false },
      };
    case 'git.clone':
    case 'git.fetch':
      return { cls: classify('apiActivity', 2) };
    case 'org.add_member': {
      const role = orgRole(looseString(record, 'permission')) ?? 'member';
      return {
        cls: classify('accountChange', 1),
        accountStatus: 'active',
        grant: { granted: true, kind: 'membership', name: role, privileged: role === 'owner' },
      };
    }
    case 'org.remove_member':
      return {
        cls: classify('accountChange', 6),
        accountStatus: 'deprovisioned',
        grant: { granted: false, kind: 'membership', name: 'member', privileged: false },
      };
    case 'org.update_member': {
      const now = orgRole(looseString(record, 'permission'));
      const before = orgRole(looseString(record, 'old_permission'));
      if (now === 'owner' && before !== 'owner') {
        return {
          cls: classify('userAccessManagement', 1),
          grant: { granted: true, kind: 'membership', name: 'owner', privileged: true },
        };
      }
      if (now === 'member' && before === 'owner') {
        return {
          cls: classify('userAccessManagement', 2),
          grant: { granted: false, kind: 'membership', name: 'owner', privileged: true },
        };
      }
      return { cls: classify('userAccessManagement', 99, 'Update Member') };
    }
    case 'repo.add_member':
    case 'repo.update_member':
    case 'repo.remove_member': {
      const granted = action !== 'repo.remove_member';
      const permission =
        looseString(record, 'permission') ?? looseString(record, 'old_permission') ?? 'access';
      return {
        cls: classify('userAccessManagement', granted ? 1 : 2),
        grant: {
          granted,
          kind: 'permission',
          name: `${repository ?? 'repository'}: ${permission}`,
          privileged: isPrivilegedEntitlement(permission),
        },
      };
    }
    case 'team.add_member':
    case 'team.remove_member': {
      const granted = action === 'team.add_member';
      const team = looseString(record, 'team') ?? 'team';
      return {
        cls: classify('groupManagement', granted ? 3 : 4),
        grant: {
          granted,
          kind: 'group',
          name: team,
          privileged: isPrivilegedEntitlement(team.split('/').pop() ?? ''),
        },
      };
    }
    case 'business.add_admin':
    case 'business.remove_admin': {
      const granted = action === 'business.add_admin';
      return {
        cls: classify('userAccessManagement', granted ? 1 : 2),
        grant: { granted, kind: 'role', name: 'enterprise owner', privileged: true },
      };
    }
    case 'organization_moderators.add_user':
    case 'organization_moderators.remove_user': {
      const granted = action.endsWith('add_user');
      return {
        cls: classify('userAccessManagement', granted ? 1 : 2),
        grant: { granted, kind: 'role', name: 'moderator', privileged: false },
      };
    }
    case 'org.invite_member':
    case 'org.invite_user':
      return { cls: classify('accountChange', 99, 'Invite') };
  }
  if (action.startsWith('protected_branch.update')) {
    return {
      cls: classify('codeChange', 3),
      code: protection('protection_updated', { protectionRelaxed: protectionRelaxed(record) }),
    };
  }
  const setting = settingOf(action);
  if (setting) return { cls: classify('entityManagement', 3), setting };
  const verb = action.split('.').pop() ?? '';
  if (/^(create|add|enable|install|invite|start)/.test(verb)) return { cls: classify('apiActivity', 1) };
  if (/^(access|read|view|download|clone|fetch|list)/.test(verb)) return { cls: classify('apiActivity', 2) };
  if (/^(update|edit|change|rename|transfer|archived|unarchived|set|publicize|conceal)/.test(verb)) {
    return { cls: classify('apiActivity', 3) };
  }
  if (/^(destroy|delete|remove|revoke|disable|uninstall)/.test(verb))
    return { cls: classify('apiActivity', 4) };
  return { cls: classify('apiActivity', 99, action) };
}

function firstString(record: JsonObject, key: string): string | undefined {
  const value = record[key];
  // Enterprise exports may give `org` as a list of organisations.
  if (Array.isArray(value)) return typeof value[0] === 'string' && value[0] !== '' ? value[0] : undefined;
  return optionalString(record, key);
}

function normalize(value: unknown, position: RecordPosition): ImportRecord[] {
  const record = requireObject(value, 'a GitHub audit log event');
  const action = requireString(record, 'action');
  if (!action.includes('.')) {
    throw new FieldError(
      'action',
      `"${action}" is not an audit-log action (expected "area.verb"); webhook payloads are not audit-log events`,
    );
  }
  const time = timeOf(record);
  const org = firstString(record, 'org');
  const repository = optionalString(record, 'repo') ?? optionalString(record, 'repository');
  const business = optionalString(record, 'business');
  const system = systemOf(org, repository, business);
  const actorLogin = optionalString(record, 'actor');
  const actor = account(actorLogin, system, {
    id: optionalString(record, 'actor_id'),
    email: looseString(record, 'external_identity_nameid'),
    bot: record.actor_is_bot === true,
  });
  const userLogin = optionalString(record, 'user');
  const target = account(userLogin, system, { id: optionalString(record, 'user_id') });
  const mapping = mapAction(action, record, repository);

  let securitySetting: SecuritySettingChange | undefined;
  if (mapping.setting) {
    const scope = settingScope(action, repository, org);
    securitySetting = {
      name: mapping.setting.name,
      enabled: mapping.setting.enabled,
      scope,
      subject: scope === 'repository' ? repository : scope === 'organization' ? org : (business ?? org),
    };
  }
  let privilege: PrivilegeChange | undefined;
  if (mapping.grant) {
    const { granted, kind, name, privileged } = mapping.grant;
    privilege = { granted, kind, name, names: [name], privileged };
  }
  const documentId = optionalString(record, '_document_id');
  const event: NormalizedEvent = {
    source: 'github-audit-log',
    sourceKey: documentId ?? hashKey(record),
    system,
    time,
    ...mapping.cls,
    action,
    // The audit log records what happened; failed attempts are not logged.
    outcome: 'success',
    actor,
    target,
    accountStatus: mapping.accountStatus,
    privilege,
    securitySetting,
    organization: org,
    repository,
    branch: branchName(optionalString(record, 'branch')),
    code: mapping.code,
    srcIp: looseString(record, 'actor_ip'),
    userAgent: looseString(record, 'user_agent'),
    raw: record,
  };
  const records: ImportRecord[] = [eventRecord(event, position)];
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
  return records;
}

export const parseGitHubAuditLog = jsonImporter({
  kind: 'github-audit-log',
  normalize: (item, position) => normalize(item.value, position),
});

// ---------------------------------------------------------------------------------------------
// Webhooks

export interface WebhookDelivery {
  /** Where the payload came from (the receiver's request, or a file). */
  position: RecordPosition;
  /** `X-GitHub-Delivery`: the source key when given (else a hash of event and payload). */
  deliveryId?: string;
  /** When the delivery arrived: the event time for payloads that carry none (organization). */
  receivedAt?: string;
}

const ENFORCEMENT_RANK: Record<string, number> = { off: 0, non_admins: 1, everyone: 2 };

/**
 * Whether a `branch_protection_rule.edited` delivery weakened the rule, from its `changes`
 * (`{setting: {from: old}}`) against the rule's new values: a lower enforcement level, force
 * pushes or deletions allowed to more people, fewer required reviews, or a requirement turned off.
 */
function relaxedByChanges(rule: JsonObject, changes: JsonObject): boolean {
  return Object.entries(changes).some(([key, change]) => {
    if (!isObject(change) || !('from' in change)) return false;
    const before = change.from;
    const after = rule[key];
    if (key === 'allow_force_pushes_enforcement_level' || key === 'allow_deletions_enforcement_level') {
      return (ENFORCEMENT_RANK[String(after)] ?? 0) > (ENFORCEMENT_RANK[String(before)] ?? 0);
    }
    if (key.endsWith('_enforcement_level') || key === 'required_conversation_resolution_level') {
      return (ENFORCEMENT_RANK[String(after)] ?? 0) < (ENFORCEMENT_RANK[String(before)] ?? 0);
    }
    if (typeof before === 'number' && typeof after === 'number') return after < before;
    if (typeof before === 'boolean' && typeof after === 'boolean') return before && !after;
    return false;
  });
}

/**
 * Normalises one GitHub webhook delivery (`X-GitHub-Event` name and JSON payload) into the same
 * records the audit log gives: push (a force push is a bypass), pull_request (closed + merged is a
 * merge), pull_request_review, organization (member_added/removed), branch_protection_rule.
 * Throws `FieldError` for a payload that lacks what its event needs.
 */
export function normalizeGitHubWebhook(
  eventName: string,
  payload: unknown,
  delivery: WebhookDelivery,
): ImportRecord[] {
  const { position, deliveryId, receivedAt } = delivery;
  const body = requireObject(payload, `a GitHub ${eventName} webhook payload`);
  const repo = isObject(body.repository) ? body.repository : undefined;
  const organization = isObject(body.organization) ? body.organization : undefined;
  const repository = looseString(repo, 'full_name');
  const orgLogin = looseString(organization, 'login') ?? repository?.split('/')[0];
  const system = systemOf(orgLogin, repository, undefined);
  const sender = isObject(body.sender) ? body.sender : undefined;
  const actor = account(looseString(sender, 'login'), system, {
    id: looseString(sender, 'id'),
    bot: looseString(sender, 'type') === 'Bot',
  });
  const action = looseString(body, 'action');
  let cls: EventClassification;
  let code: CodeChange | undefined;
  let time: string | undefined;
  let branch: string | undefined;
  let target: IdentityRef | undefined;
  let accountStatus: IdentityStatus | undefined;
  let privilege: PrivilegeChange | undefined;
  switch (eventName) {
    case 'push': {
      const forced = body.forced === true;
      const commits = Array.isArray(body.commits) ? body.commits.length : undefined;
      branch = branchName(looseString(body, 'ref'));
      cls = classify('codeChange', 1);
      code = { change: 'push', bypass: forced, forcePush: forced, commitCount: commits };
      if (forced) code.bypassReason = 'force push';
      const head = isObject(body.head_commit) ? body.head_commit : undefined;
      const pushedAt = isObject(repo) ? repo.pushed_at : undefined;
      time =
        looseString(head, 'timestamp') !== undefined
          ? epochOrDateTimeValue(looseString(head, 'timestamp'), 'head_commit.timestamp')
          : pushedAt !== undefined
            ? typeof pushedAt === 'number'
              ? new Date(pushedAt * 1000).toISOString()
              : epochOrDateTimeValue(pushedAt, 'repository.pushed_at')
            : undefined;
      break;
    }
    case 'pull_request': {
      const pr = isObject(body.pull_request) ? body.pull_request : undefined;
      if (!pr) throw new FieldError('pull_request', 'required but missing');
      const merged = pr.merged === true;
      const base = isObject(pr.base) ? pr.base : undefined;
      branch = looseString(base, 'ref');
      const mergedBy = isObject(pr.merged_by) ? looseString(pr.merged_by, 'login') : undefined;
      if (action === 'closed' && merged) {
        cls = classify('codeChange', 2);
        code = { change: 'pull_request_merged', bypass: false, pullRequest: Number(pr.number), mergedBy };
        time = epochOrDateTimeValue(pr.merged_at, 'pull_request.merged_at');
      } else {
        cls = classify('codeChange', 99, `Pull Request ${action ?? 'Event'}`);
        code = { change: 'pull_request_closed', bypass: false, pullRequest: Number(pr.number) };
        const when = pr.closed_at ?? pr.updated_at;
        time =
          when === undefined || when === null
            ? undefined
            : epochOrDateTimeValue(when, 'pull_request.updated_at');
      }
      if (!Number.isInteger(code.pullRequest)) delete code.pullRequest;
      break;
    }
    case 'pull_request_review': {
      const review = isObject(body.review) ? body.review : undefined;
      if (!review) throw new FieldError('review', 'required but missing');
      const pr = isObject(body.pull_request) ? body.pull_request : undefined;
      cls = classify('codeChange', 99, 'Review Submitted');
      code = {
        change: 'review_submitted',
        bypass: false,
        reviewState: looseString(review, 'state'),
        pullRequest: pr && Number.isInteger(pr.number) ? (pr.number as number) : undefined,
      };
      branch = isObject(pr?.base) ? looseString(pr.base, 'ref') : undefined;
      time = epochOrDateTimeValue(review.submitted_at, 'review.submitted_at');
      break;
    }
    case 'organization': {
      const membership = isObject(body.membership) ? body.membership : undefined;
      const user = isObject(membership?.user) ? membership.user : undefined;
      target = account(looseString(user, 'login'), system, { id: looseString(user, 'id') });
      const role = looseString(membership, 'role') === 'admin' ? 'owner' : 'member';
      if (action === 'member_added') {
        cls = classify('accountChange', 1);
        accountStatus = 'active';
        privilege = {
          granted: true,
          kind: 'membership',
          name: role,
          names: [role],
          privileged: role === 'owner',
        };
      } else if (action === 'member_removed') {
        cls = classify('accountChange', 6);
        accountStatus = 'deprovisioned';
        privilege = {
          granted: false,
          kind: 'membership',
          name: role,
          names: [role],
          privileged: role === 'owner',
        };
      } else {
        cls = classify('accountChange', 99, `Organization ${action ?? 'Event'}`);
      }
      break;
    }
    case 'branch_protection_rule': {
      const rule = isObject(body.rule) ? body.rule : undefined;
      if (!rule) throw new FieldError('rule', 'required but missing');
      branch = looseString(rule, 'name');
      cls = classify('codeChange', 3);
      const change =
        action === 'created'
          ? 'protection_created'
          : action === 'deleted'
            ? 'protection_removed'
            : 'protection_updated';
      code = { change, bypass: false, protection: 'branch_protection' };
      if (change === 'protection_removed') code.protectionRelaxed = true;
      else if (change === 'protection_updated') {
        code.protectionRelaxed = isObject(body.changes)
          ? relaxedByChanges(rule, body.changes)
          : protectionRelaxed(rule);
      }
      const when = rule.updated_at ?? rule.created_at;
      time = when === undefined || when === null ? undefined : epochOrDateTimeValue(when, 'rule.updated_at');
      break;
    }
    default:
      cls = classify('apiActivity', 99, `${eventName}${action ? `.${action}` : ''}`);
  }
  time ??= receivedAt === undefined ? undefined : epochOrDateTimeValue(receivedAt, 'receivedAt');
  if (time === undefined)
    throw new FieldError('timestamp', `the ${eventName} payload carries no time and no receivedAt was given`);
  const event: NormalizedEvent = {
    source: 'github-audit-log',
    sourceKey: deliveryId ?? hashKey({ event: eventName, payload: body }),
    system,
    time,
    ...cls,
    action: action ? `${eventName}.${action}` : eventName,
    outcome: 'success',
    actor,
    target,
    accountStatus,
    privilege,
    organization: orgLogin,
    repository,
    branch,
    code,
    raw: body,
  };
  const records: ImportRecord[] = [eventRecord(event, position)];
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
  return records;
}
