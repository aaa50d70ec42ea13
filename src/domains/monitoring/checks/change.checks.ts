/**
 * Built-in checks over code changes and system security settings (CC8.1 change management,
 * CC6/CC7 configuration that protects access and detection).
 */
import { type CheckOutcome, defineCheck } from '../check.types.ts';
import type { EventView } from '../facts.ts';
import { settingsWithDedicatedChecks } from './cloud.checks.ts';
import { organizationSubject, repositorySubject } from './subjects.ts';

function groupByRepository(events: EventView[]) {
  const byRepo = new Map<string, EventView[]>();
  for (const e of events) {
    const repo = e.repository ?? e.data.repository;
    if (!repo) continue;
    byRepo.set(repo, [...(byRepo.get(repo) ?? []), e]);
  }
  return byRepo;
}

export const directPushProtectedBranch = defineCheck({
  id: 'change.direct_push_protected_branch',
  title: 'No change bypasses branch protection',
  description:
    'A push or merge that overrode branch protection or a ruleset, or a force push rewriting a protected branch, ' +
    'within the look-back window (default 90 days).',
  severity: 'high',
  criteria: ['CC8.1'],
  triggers: { eventClasses: [990002] },
  defaults: { lookbackDays: 90 },
  graceHours: 0,
  remediationDays: 5,
  async evaluate(facts, settings) {
    const events = await facts.events({
      classUids: [990002],
      since: facts.daysAgo(Number(settings.lookbackDays)),
    });
    const outcomes: CheckOutcome[] = [];
    for (const [repo, list] of groupByRepository(events)) {
      const bypasses = list.filter((e) => e.data.code?.bypass === true);
      outcomes.push(
        bypasses.length === 0
          ? {
              subject: repositorySubject(repo),
              status: 'pass',
              detail: `${list.length} changes, none bypassed protection`,
            }
          : {
              subject: repositorySubject(repo),
              status: 'fail',
              detail: `${bypasses.length} changes bypassed protection, the latest by ${bypasses.at(-1)!.data.actor?.userName ?? 'unknown'} on ${bypasses.at(-1)!.data.branch ?? 'a branch'} at ${bypasses.at(-1)!.time.toISOString()}`,
              facts: { eventIds: bypasses.map((e) => e.id) },
              since: bypasses[0]!.time,
            },
      );
    }
    return outcomes;
  },
});

export const branchProtectionWeakened = defineCheck({
  id: 'change.branch_protection_weakened',
  title: 'Branch protection stays in place',
  description: 'The latest change to a protected branch removed or weakened its protection.',
  severity: 'high',
  criteria: ['CC8.1'],
  triggers: { eventClasses: [990002] },
  defaults: {},
  graceHours: 0,
  remediationDays: 2,
  async evaluate(facts) {
    const events = await facts.events({ classUids: [990002] });
    const outcomes: CheckOutcome[] = [];
    for (const [repo, list] of groupByRepository(events)) {
      const latestByBranch = new Map<string, EventView>();
      for (const e of list) {
        const change = e.data.code?.change;
        if (
          change === 'protection_created' ||
          change === 'protection_updated' ||
          change === 'protection_removed'
        ) {
          latestByBranch.set(e.data.branch ?? '*', e);
        }
      }
      if (latestByBranch.size === 0) {
        outcomes.push({ subject: repositorySubject(repo), status: 'pass', detail: 'no protection changes' });
        continue;
      }
      const weakened = [...latestByBranch.values()].filter(
        (e) => e.data.code?.change === 'protection_removed' || e.data.code?.protectionRelaxed === true,
      );
      outcomes.push(
        weakened.length === 0
          ? {
              subject: repositorySubject(repo),
              status: 'pass',
              detail: 'protection in place on every tracked branch',
            }
          : {
              subject: repositorySubject(repo),
              status: 'fail',
              detail: `protection ${weakened[0]!.data.code?.change === 'protection_removed' ? 'removed from' : 'weakened on'} ${weakened.map((e) => e.data.branch ?? 'a branch').join(', ')} by ${weakened[0]!.data.actor?.userName ?? 'unknown'} at ${weakened[0]!.time.toISOString()}`,
              facts: { eventIds: weakened.map((e) => e.id) },
              since: weakened[0]!.time,
            },
      );
    }
    return outcomes;
  },
});

export const independentApproval = defineCheck({
  id: 'change.independent_approval',
  title: 'Merged changes have an independent approval',
  description: 'Every merged pull request needs an approving review by someone other than its author.',
  severity: 'high',
  criteria: ['CC8.1'],
  triggers: { eventClasses: [990002] },
  defaults: { lookbackDays: 90 },
  graceHours: 0,
  remediationDays: 5,
  async evaluate(facts, settings) {
    const events = await facts.events({
      classUids: [990002],
      since: facts.daysAgo(Number(settings.lookbackDays)),
    });
    const outcomes: CheckOutcome[] = [];
    for (const [repo, list] of groupByRepository(events)) {
      const merged = list.filter((e) => e.data.code?.change === 'pull_request_merged');
      if (merged.length === 0) continue;
      const approvals = list.filter(
        (e) => e.data.code?.change === 'review_submitted' && /approved/i.test(e.data.code?.reviewState ?? ''),
      );
      const unapproved = merged.filter((m) => {
        const author = m.data.target?.userName ?? m.data.actor?.userName;
        return !approvals.some(
          (a) =>
            a.data.code?.pullRequest === m.data.code?.pullRequest &&
            a.data.actor?.userName !== author &&
            a.time <= m.time,
        );
      });
      outcomes.push(
        unapproved.length === 0
          ? {
              subject: repositorySubject(repo),
              status: 'pass',
              detail: `${merged.length} merges, all independently approved`,
            }
          : {
              subject: repositorySubject(repo),
              status: 'fail',
              detail: `${unapproved.length} of ${merged.length} merged pull requests had no independent approval (#${unapproved.map((m) => m.data.code?.pullRequest ?? '?').join(', #')})`,
              facts: { eventIds: unapproved.map((e) => e.id) },
              since: unapproved[0]!.time,
            },
      );
    }
    return outcomes;
  },
});

/** The latest state of each security setting, per system and subject. */
async function latestSettings(facts: Parameters<typeof directPushProtectedBranch.evaluate>[0]) {
  const events = await facts.events();
  const latest = new Map<string, EventView>();
  for (const e of events) {
    const setting = e.data.securitySetting;
    if (!setting) continue;
    latest.set(`${e.system}\u0000${setting.subject ?? ''}\u0000${setting.name}`, e);
  }
  return [...latest.values()];
}

const mfaSetting = /two[_-]?factor|mfa|2fa/i;

export const orgMfaRequirement = defineCheck({
  id: 'identity.org_mfa_requirement',
  controls: ['AC-02', 'AC-11'],
  title: "An organisation's two-factor requirement stays on",
  description:
    'A source system (e.g. a GitHub organisation) switched off its requirement that members use two-factor sign-in.',
  severity: 'high',
  criteria: ['CC6.1', 'CC6.6'],
  triggers: { eventClasses: [3004, 6003, 990002] },
  defaults: {},
  graceHours: 0,
  remediationDays: 1,
  async evaluate(facts) {
    return (await latestSettings(facts))
      .filter((e) => mfaSetting.test(e.data.securitySetting!.name))
      .map((e): CheckOutcome => {
        const s = e.data.securitySetting!;
        const subject = organizationSubject(e.system, s.subject ?? e.data.organization ?? e.system);
        return s.enabled
          ? { subject, status: 'pass', detail: `${s.name} enabled` }
          : {
              subject,
              status: 'fail',
              detail: `${s.name} disabled by ${e.data.actor?.userName ?? 'unknown'} at ${e.time.toISOString()}`,
              facts: { eventIds: [e.id] },
              since: e.time,
            };
      });
  },
});

export const securitySettingDisabled = defineCheck({
  id: 'monitoring.security_setting_disabled',
  controls: ['MON-05', 'OPS-04'],
  title: 'Security settings stay on',
  description:
    'A security control of a system (SSO enforcement, secret scanning, audit logging and the like) was switched off ' +
    'and not switched back on.',
  severity: 'high',
  criteria: ['CC7.1', 'CC7.2'],
  triggers: { eventClasses: [3004, 6003, 990002] },
  defaults: {},
  graceHours: 0,
  remediationDays: 2,
  async evaluate(facts) {
    return (await latestSettings(facts))
      .filter(
        (e) =>
          !mfaSetting.test(e.data.securitySetting!.name) &&
          !settingsWithDedicatedChecks.has(e.data.securitySetting!.name),
      )
      .map((e): CheckOutcome => {
        const s = e.data.securitySetting!;
        const target = s.subject ?? e.data.organization ?? e.system;
        const subject =
          s.scope === 'repository' ? repositorySubject(target) : organizationSubject(e.system, target);
        return s.enabled
          ? {
              subject: { ...subject, id: `${subject.id}#${s.name}` },
              status: 'pass',
              detail: `${s.name} enabled`,
            }
          : {
              subject: { ...subject, id: `${subject.id}#${s.name}` },
              status: 'fail',
              detail: `${s.name} switched off by ${e.data.actor?.userName ?? 'unknown'} at ${e.time.toISOString()}`,
              facts: { eventIds: [e.id] },
              since: e.time,
            };
      });
  },
});

export const changeChecks = [
  directPushProtectedBranch,
  branchProtectionWeakened,
  independentApproval,
  orgMfaRequirement,
  securitySettingDisabled,
];
