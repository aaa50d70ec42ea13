/**
 * Built-in checks over the identity graph (CC6: logical access). Each judges one kind of subject
 * and reports the facts behind its verdict.
 */
import { type CheckOutcome, defineCheck } from '../check.types.ts';
import type { IdentityView } from '../facts.ts';
import {
  days,
  hasEmail,
  identitySubject,
  isDirectoryAccount,
  isHumanAccount,
  isoDay,
  personSubject,
} from './subjects.ts';

const hour = 3600 * 1000;
const day = 24 * hour;

export const leaverAccessRemoved = defineCheck({
  id: 'identity.leaver_access_removed',
  title: 'Leavers lose every account within the deprovisioning deadline',
  description:
    'For each person HR records as terminated, every account linked to them must be disabled or removed ' +
    'within the deadline (default 24 hours after the last day worked).',
  severity: 'high',
  criteria: ['CC6.2', 'CC6.3'],
  triggers: {
    eventClasses: [990001, 3001],
    facts: ['people', 'identities', 'observations'],
    schedule: 'hourly',
  },
  scope: 'person',
  defaults: { deadlineHours: 24 },
  graceHours: 0,
  remediationDays: 1,
  async evaluate(facts, settings) {
    const [people, identities] = await Promise.all([facts.people(), facts.identities()]);
    const outcomes: CheckOutcome[] = [];
    for (const person of people) {
      if (person.status !== 'terminated' || !person.terminatedAt) continue;
      const accounts = identities.filter((i) => i.person?.id === person.id);
      const active = accounts.filter((i) => i.status === 'active');
      const deadline = new Date(person.terminatedAt.getTime() + Number(settings.deadlineHours) * hour);
      const factsBehind = {
        terminatedAt: person.terminatedAt.toISOString(),
        deadline: deadline.toISOString(),
        accounts: accounts.map((a) => ({
          id: a.id,
          system: a.system,
          status: a.status,
          since: a.statusSince?.toISOString() ?? null,
        })),
      };
      if (active.length === 0) {
        outcomes.push({
          subject: personSubject(person),
          status: 'pass',
          detail: `all ${accounts.length} accounts disabled`,
          facts: factsBehind,
        });
      } else if (deadline > facts.asOf) {
        outcomes.push({
          subject: personSubject(person),
          status: 'pass',
          detail: `${active.length} accounts still active; deadline ${deadline.toISOString()} not yet passed`,
          facts: factsBehind,
        });
      } else {
        outcomes.push({
          subject: personSubject(person),
          status: 'fail',
          detail: `left ${isoDay(person.endDate ?? person.terminatedAt)} but still has active accounts in ${active
            .map((a) => a.system)
            .join(', ')} (deadline ${deadline.toISOString()})`,
          facts: factsBehind,
          since: deadline,
        });
      }
    }
    return outcomes;
  },
});

export const leaverLoginAfterTermination = defineCheck({
  id: 'identity.leaver_login_after_termination',
  controls: ['AC-04', 'MON-02'],
  title: 'No sign-in by a leaver after their last day',
  description:
    'A successful sign-in to any account of a person after HR ended their employment, within the look-back ' +
    'window (default 90 days).',
  severity: 'critical',
  criteria: ['CC6.2', 'CC7.2'],
  triggers: { eventClasses: [3002, 990001], facts: ['people'] },
  scope: 'person',
  defaults: { lookbackDays: 90 },
  graceHours: 0,
  remediationDays: 1,
  async evaluate(facts, settings) {
    const [people, identities, logins] = await Promise.all([
      facts.people(),
      facts.identities(),
      facts.events({ classUids: [3002], since: facts.daysAgo(Number(settings.lookbackDays)) }),
    ]);
    const outcomes: CheckOutcome[] = [];
    for (const person of people) {
      if (!person.terminatedAt) continue;
      const accountIds = new Set(identities.filter((i) => i.person?.id === person.id).map((i) => i.id));
      const after = logins.filter(
        (e) =>
          e.outcome === 'success' &&
          e.activityId === 1 &&
          e.time > person.terminatedAt! &&
          accountIds.has(e.targetIdentityId ?? e.actorIdentityId ?? ''),
      );
      outcomes.push(
        after.length === 0
          ? { subject: personSubject(person), status: 'pass', detail: 'no sign-in after leaving' }
          : {
              subject: personSubject(person),
              status: 'fail',
              detail: `${after.length} sign-ins after leaving, the latest ${after.at(-1)!.time.toISOString()} (${after.at(-1)!.system})`,
              facts: { eventIds: after.map((e) => e.id) },
              since: after[0]!.time,
            },
      );
    }
    return outcomes;
  },
});

export const orphanedAccounts = defineCheck({
  id: 'identity.orphaned_accounts',
  title: 'Every account belongs to a person or is a declared non-human identity',
  description:
    'Active accounts in directories (IdP, cloud IAM, workspace suites) must link to a person in HR, or be ' +
    'declared non-human with an owner. Accounts named only by a login (no email) must be linked by hand.',
  severity: 'high',
  criteria: ['CC6.1', 'CC6.2'],
  triggers: { eventClasses: [3001], facts: ['people', 'identities', 'observations'] },
  scope: 'identity',
  defaults: {},
  graceHours: 0,
  remediationDays: 7,
  async evaluate(facts) {
    const identities = await facts.identities();
    const outcomes: CheckOutcome[] = [];
    for (const identity of identities) {
      if (identity.principalType !== 'user' || identity.status !== 'active' || !isDirectoryAccount(identity))
        continue;
      if (identity.nonHuman) continue;
      if (identity.person) {
        outcomes.push({
          subject: identitySubject(identity),
          status: 'pass',
          detail: `belongs to ${identity.person.email}`,
        });
      } else if (!hasEmail(identity) && identity.snapshot?.isHumanHint === false) {
      } else {
        outcomes.push({
          subject: identitySubject(identity),
          status: 'fail',
          detail: `active ${identity.system} account with no person in HR and not declared non-human`,
          facts: {
            system: identity.system,
            externalId: identity.externalId,
            firstSeenAt: identity.firstSeenAt.toISOString(),
          },
          since: identity.firstSeenAt,
        });
      }
    }
    return outcomes;
  },
});

function isNonHuman(identity: IdentityView): boolean {
  return (
    identity.nonHuman || identity.principalType === 'service' || identity.snapshot?.isHumanHint === false
  );
}

export const serviceAccountOwner = defineCheck({
  id: 'identity.service_account_owner',
  title: 'Service accounts have a named owner',
  description:
    'Non-human identities (declared, labelled by the source, or with programmatic credentials only) need an owner ' +
    'who answers for them.',
  severity: 'medium',
  criteria: ['CC6.1', 'CC6.2'],
  triggers: { facts: ['identities', 'observations', 'identity_settings'] },
  scope: 'identity',
  defaults: {},
  graceHours: 0,
  remediationDays: 14,
  async evaluate(facts) {
    const identities = await facts.identities();
    return identities
      .filter((i) => i.status === 'active' && i.principalType !== 'root' && isNonHuman(i))
      .map(
        (i): CheckOutcome =>
          i.owner
            ? { subject: identitySubject(i), status: 'pass', detail: `owned by ${i.owner}` }
            : {
                subject: identitySubject(i),
                status: 'fail',
                detail: `non-human ${i.system} account with no owner declared`,
                facts: {
                  nonHumanBecause: i.nonHuman
                    ? 'declared'
                    : i.principalType === 'service'
                      ? 'source label'
                      : 'no console password',
                },
                since: i.firstSeenAt,
              },
      );
  },
});

export const mfaEnabled = defineCheck({
  id: 'identity.mfa_enabled',
  title: 'Accounts that can sign in interactively have MFA',
  description:
    'An account with a console or password sign-in and no MFA device enrolled, per the latest snapshot.',
  severity: 'high',
  criteria: ['CC6.1', 'CC6.6'],
  triggers: { facts: ['observations', 'identities'] },
  scope: 'identity',
  defaults: {},
  graceHours: 0,
  remediationDays: 3,
  async evaluate(facts) {
    const identities = await facts.identities();
    const outcomes: CheckOutcome[] = [];
    for (const i of identities) {
      const snap = i.snapshot;
      if (!snap || snap.mfaEnabled === null || i.status !== 'active') continue;
      if (snap.passwordEnabled === false && i.principalType !== 'root') continue;
      outcomes.push(
        snap.mfaEnabled
          ? { subject: identitySubject(i), status: 'pass', detail: 'MFA enrolled' }
          : {
              subject: identitySubject(i),
              status: 'fail',
              detail: `${i.system} account can sign in with a password but has no MFA`,
              facts: { snapshotSource: snap.source, observedAt: snap.observedAt.toISOString() },
            },
      );
    }
    return outcomes;
  },
});

export const loginWithoutMfa = defineCheck({
  id: 'identity.login_without_mfa',
  title: 'No interactive sign-in without MFA',
  description:
    'A successful interactive sign-in the source reports as made without MFA, within the look-back window.',
  severity: 'high',
  criteria: ['CC6.1', 'CC6.6'],
  triggers: { eventClasses: [3002] },
  scope: 'identity',
  defaults: { lookbackDays: 30 },
  graceHours: 0,
  remediationDays: 3,
  async evaluate(facts, settings) {
    const [identities, logins] = await Promise.all([
      facts.identityById(),
      facts.events({ classUids: [3002], since: facts.daysAgo(Number(settings.lookbackDays)) }),
    ]);
    const byIdentity = new Map<string, { withMfa: number; without: typeof logins }>();
    for (const e of logins) {
      if (e.outcome !== 'success' || e.activityId !== 1 || e.data.mfa === undefined) continue;
      const id = e.targetIdentityId ?? e.actorIdentityId;
      if (!id) continue;
      const entry = byIdentity.get(id) ?? { withMfa: 0, without: [] };
      if (e.data.mfa) entry.withMfa++;
      else entry.without.push(e);
      byIdentity.set(id, entry);
    }
    const outcomes: CheckOutcome[] = [];
    for (const [id, entry] of byIdentity) {
      const identity = identities.get(id);
      if (!identity) continue;
      outcomes.push(
        entry.without.length === 0
          ? {
              subject: identitySubject(identity),
              status: 'pass',
              detail: `${entry.withMfa} sign-ins, all with MFA`,
            }
          : {
              subject: identitySubject(identity),
              status: 'fail',
              detail: `${entry.without.length} sign-ins without MFA, the latest ${entry.without.at(-1)!.time.toISOString()} (${entry.without.at(-1)!.action})`,
              facts: { eventIds: entry.without.map((e) => e.id) },
              since: entry.without[0]!.time,
            },
      );
    }
    return outcomes;
  },
});

export const dormantAccounts = defineCheck({
  id: 'identity.dormant_accounts',
  title: 'No dormant interactive credentials',
  description:
    'An active account whose password or interactive sign-in has not been used for the dormancy period (default ' +
    '90 days), counted back from the evaluation time.',
  severity: 'medium',
  criteria: ['CC6.2'],
  triggers: { eventClasses: [3002], facts: ['observations'], schedule: 'daily' },
  scope: 'identity',
  defaults: { dormantDays: 90 },
  graceHours: 0,
  remediationDays: 14,
  async evaluate(facts, settings) {
    const identities = await facts.identities();
    const limit = facts.daysAgo(Number(settings.dormantDays));
    const outcomes: CheckOutcome[] = [];
    for (const i of identities) {
      if (i.status !== 'active' || !isHumanAccount(i)) continue;
      const snap = i.snapshot;
      if (snap && snap.passwordEnabled === false) continue;
      const created = snap?.createdAt ?? i.firstSeenAt;
      const lastUse = i.lastLoginAt;
      if (!lastUse) {
        if (snap?.passwordEnabled && created < limit) {
          outcomes.push({
            subject: identitySubject(i),
            status: 'fail',
            detail: `password never used since the account was created ${isoDay(created)}`,
            facts: { createdAt: created.toISOString() },
            since: new Date(created.getTime() + Number(settings.dormantDays) * day),
          });
        }
        continue;
      }
      outcomes.push(
        lastUse >= limit
          ? { subject: identitySubject(i), status: 'pass', detail: `last used ${isoDay(lastUse)}` }
          : {
              subject: identitySubject(i),
              status: 'fail',
              detail: `${snap?.passwordEnabled ? 'console password' : 'account'} unused for ${days(facts.asOf.getTime() - lastUse.getTime())} days (last used ${isoDay(lastUse)})`,
              facts: { lastUsedAt: lastUse.toISOString() },
              since: new Date(lastUse.getTime() + Number(settings.dormantDays) * day),
            },
      );
    }
    return outcomes;
  },
});

export const accessKeyAge = defineCheck({
  id: 'identity.access_key_age',
  title: 'Access keys are rotated within the maximum age',
  description:
    'Active programmatic access keys older than the maximum age (default 90 days) since created or rotated.',
  severity: 'medium',
  criteria: ['CC6.1', 'CC6.7'],
  triggers: { facts: ['observations'], eventClasses: [3004], schedule: 'daily' },
  scope: 'identity',
  defaults: { maxAgeDays: 90 },
  graceHours: 0,
  remediationDays: 14,
  async evaluate(facts, settings) {
    const identities = await facts.identities();
    const limit = facts.daysAgo(Number(settings.maxAgeDays));
    const outcomes: CheckOutcome[] = [];
    for (const i of identities) {
      const keys = (i.snapshot?.accessKeys ?? []).filter((k) => k.active && k.lastRotatedAt);
      if (i.status !== 'active' || keys.length === 0) continue;
      const old = keys.filter((k) => k.lastRotatedAt! < limit);
      outcomes.push(
        old.length === 0
          ? {
              subject: identitySubject(i),
              status: 'pass',
              detail: `${keys.length} active keys, all rotated within ${settings.maxAgeDays} days`,
            }
          : {
              subject: identitySubject(i),
              status: 'fail',
              detail: `access key last rotated ${days(facts.asOf.getTime() - old[0]!.lastRotatedAt!.getTime())} days ago (${isoDay(old[0]!.lastRotatedAt!)})`,
              facts: {
                keys: old.map((k) => ({ id: k.id ?? null, lastRotatedAt: k.lastRotatedAt!.toISOString() })),
              },
              since: new Date(old[0]!.lastRotatedAt!.getTime() + Number(settings.maxAgeDays) * day),
            },
      );
    }
    return outcomes;
  },
});

export const unusedAccessKeys = defineCheck({
  id: 'identity.unused_access_keys',
  controls: ['AC-09', 'AC-07'],
  title: 'No unused active access keys',
  description:
    'An active access key never used, or unused for the dormancy period (default 90 days), should be removed.',
  severity: 'low',
  criteria: ['CC6.1', 'CC6.2'],
  triggers: { facts: ['observations'], schedule: 'daily' },
  scope: 'identity',
  defaults: { unusedDays: 90 },
  graceHours: 0,
  remediationDays: 30,
  async evaluate(facts, settings) {
    const identities = await facts.identities();
    const limit = facts.daysAgo(Number(settings.unusedDays));
    const outcomes: CheckOutcome[] = [];
    for (const i of identities) {
      const keys = (i.snapshot?.accessKeys ?? []).filter((k) => k.active);
      if (i.status !== 'active' || keys.length === 0) continue;
      const unused = keys.filter((k) =>
        k.lastUsedAt ? k.lastUsedAt < limit : (k.lastRotatedAt ?? facts.asOf) < limit,
      );
      outcomes.push(
        unused.length === 0
          ? { subject: identitySubject(i), status: 'pass', detail: 'every active key in use' }
          : {
              subject: identitySubject(i),
              status: 'fail',
              detail: `${unused.length} active access keys unused for over ${settings.unusedDays} days`,
              facts: {
                keys: unused.map((k) => ({
                  id: k.id ?? null,
                  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
                })),
              },
            },
      );
    }
    return outcomes;
  },
});

export const rootAccountUse = defineCheck({
  id: 'identity.root_account_use',
  title: 'The cloud root account is not used',
  description:
    'Any sign-in or API call by a cloud account root user within the look-back window (default 90 days).',
  severity: 'critical',
  criteria: ['CC6.1', 'CC6.3', 'CC7.2'],
  triggers: { eventClasses: [3002, 6003, 3004, 3005, 3001], facts: ['observations'] },
  scope: 'identity',
  defaults: { lookbackDays: 90 },
  graceHours: 0,
  remediationDays: 2,
  async evaluate(facts, settings) {
    const [identities, events] = await Promise.all([
      facts.identities(),
      facts.events({ since: facts.daysAgo(Number(settings.lookbackDays)) }),
    ]);
    const since = facts.daysAgo(Number(settings.lookbackDays));
    return identities
      .filter((i) => i.principalType === 'root')
      .map((root): CheckOutcome => {
        const uses = events.filter((e) => e.actorIdentityId === root.id && e.outcome === 'success');
        const passwordUse = root.snapshot?.passwordLastUsedAt;
        const recentPasswordUse =
          passwordUse && passwordUse >= since && passwordUse <= facts.asOf ? passwordUse : null;
        if (uses.length === 0 && !recentPasswordUse) {
          return {
            subject: identitySubject(root),
            status: 'pass',
            detail: `root unused in the last ${settings.lookbackDays} days`,
          };
        }
        const latest = uses.at(-1);
        return {
          subject: identitySubject(root),
          status: 'fail',
          detail: latest
            ? `root user ${latest.action} at ${latest.time.toISOString()} (${uses.length} uses in ${settings.lookbackDays} days)`
            : `root password used ${recentPasswordUse!.toISOString()}`,
          facts: {
            eventIds: uses.map((e) => e.id),
            passwordLastUsedAt: recentPasswordUse?.toISOString() ?? null,
          },
          since: uses[0]?.time ?? recentPasswordUse ?? facts.asOf,
        };
      });
  },
});

export const rootMfa = defineCheck({
  id: 'identity.root_account_mfa',
  controls: ['AC-10'],
  title: 'The cloud root account has MFA and no access keys',
  description: 'The root user must have an MFA device and no active access keys.',
  severity: 'critical',
  criteria: ['CC6.1'],
  triggers: { facts: ['observations'] },
  scope: 'identity',
  defaults: {},
  graceHours: 0,
  remediationDays: 1,
  async evaluate(facts) {
    const identities = await facts.identities();
    return identities
      .filter((i) => i.principalType === 'root' && i.snapshot)
      .map((root): CheckOutcome => {
        const problems: string[] = [];
        if (root.snapshot!.mfaEnabled === false) problems.push('no MFA device');
        if (root.snapshot!.accessKeys.some((k) => k.active)) problems.push('active access keys');
        return problems.length === 0
          ? { subject: identitySubject(root), status: 'pass', detail: 'MFA on, no access keys' }
          : {
              subject: identitySubject(root),
              status: 'fail',
              detail: `root user has ${problems.join(' and ')}`,
            };
      });
  },
});

export const privilegeWithoutRequest = defineCheck({
  id: 'identity.privilege_without_request',
  title: 'Privileged access is granted only on an approved request',
  description:
    'Every privileged entitlement held (administrator roles, full-access policies, owners) needs an approved ' +
    'access request or an approved exception.',
  severity: 'high',
  criteria: ['CC6.2', 'CC6.3'],
  triggers: { eventClasses: [3005, 3006], facts: ['entitlements'] },
  scope: 'identity',
  defaults: {},
  graceHours: 0,
  remediationDays: 3,
  async evaluate(facts) {
    const [held, identities] = await Promise.all([facts.held(), facts.identityById()]);
    const byIdentity = new Map<string, typeof held>();
    for (const e of held) {
      if (!e.privileged) continue;
      byIdentity.set(e.identityId, [...(byIdentity.get(e.identityId) ?? []), e]);
    }
    const outcomes: CheckOutcome[] = [];
    for (const [identityId, entitlements] of byIdentity) {
      const identity = identities.get(identityId);
      if (!identity) continue;
      outcomes.push({
        subject: identitySubject(identity),
        status: 'fail',
        detail: `holds ${entitlements.map((e) => `${e.name} (${e.system}, granted ${isoDay(e.grantedAt)})`).join(', ')} with no approved access request`,
        facts: {
          entitlements: entitlements.map((e) => ({
            name: e.name,
            system: e.system,
            grantedAt: e.grantedAt.toISOString(),
            eventId: e.eventId,
          })),
        },
        since: entitlements[0]!.grantedAt,
      });
    }
    return outcomes;
  },
});

export const privilegedWithoutMfa = defineCheck({
  id: 'identity.privileged_without_mfa',
  controls: ['AC-02', 'AC-06'],
  title: 'Privileged accounts have MFA',
  description: 'An account holding a privileged entitlement whose latest snapshot shows no MFA device.',
  severity: 'critical',
  criteria: ['CC6.1', 'CC6.3'],
  triggers: { facts: ['entitlements', 'observations'] },
  scope: 'identity',
  defaults: {},
  graceHours: 0,
  remediationDays: 1,
  async evaluate(facts) {
    const [held, identities] = await Promise.all([facts.held(), facts.identityById()]);
    const outcomes: CheckOutcome[] = [];
    for (const id of new Set(held.filter((e) => e.privileged).map((e) => e.identityId))) {
      const identity = identities.get(id);
      if (!identity?.snapshot || identity.snapshot.mfaEnabled === null) continue;
      outcomes.push(
        identity.snapshot.mfaEnabled
          ? { subject: identitySubject(identity), status: 'pass', detail: 'privileged and MFA enrolled' }
          : {
              subject: identitySubject(identity),
              status: 'fail',
              detail: 'holds privileged access without MFA',
            },
      );
    }
    return outcomes;
  },
});

export const failedLoginBurst = defineCheck({
  id: 'identity.failed_login_burst',
  controls: ['MON-02', 'AC-11'],
  title: 'Repeated failed sign-ins are investigated',
  description:
    'Ten or more failed sign-ins for one account within an hour (possible password guessing) in the look-back window.',
  severity: 'medium',
  criteria: ['CC7.2', 'CC6.1'],
  triggers: { eventClasses: [3002] },
  scope: 'identity',
  defaults: { threshold: 10, lookbackDays: 7 },
  graceHours: 0,
  remediationDays: 2,
  async evaluate(facts, settings) {
    const [identities, events] = await Promise.all([
      facts.identityById(),
      facts.events({ classUids: [3002], since: facts.daysAgo(Number(settings.lookbackDays)) }),
    ]);
    const failures = new Map<string, Date[]>();
    for (const e of events) {
      if (e.outcome !== 'failure') continue;
      const id = e.targetIdentityId ?? e.actorIdentityId;
      if (id) failures.set(id, [...(failures.get(id) ?? []), e.time]);
    }
    const outcomes: CheckOutcome[] = [];
    for (const [id, times] of failures) {
      const identity = identities.get(id);
      if (!identity) continue;
      let worst = 0;
      let start = 0;
      for (let end = 0; end < times.length; end++) {
        while (times[end]!.getTime() - times[start]!.getTime() > hour) start++;
        worst = Math.max(worst, end - start + 1);
      }
      outcomes.push(
        worst >= Number(settings.threshold)
          ? {
              subject: identitySubject(identity),
              status: 'fail',
              detail: `${worst} failed sign-ins within one hour`,
            }
          : {
              subject: identitySubject(identity),
              status: 'pass',
              detail: `${times.length} failed sign-ins, no burst`,
            },
      );
    }
    return outcomes;
  },
});

export const identityChecks = [
  leaverAccessRemoved,
  leaverLoginAfterTermination,
  orphanedAccounts,
  serviceAccountOwner,
  mfaEnabled,
  loginWithoutMfa,
  dormantAccounts,
  accessKeyAge,
  unusedAccessKeys,
  rootAccountUse,
  rootMfa,
  privilegeWithoutRequest,
  privilegedWithoutMfa,
  failedLoginBurst,
];
