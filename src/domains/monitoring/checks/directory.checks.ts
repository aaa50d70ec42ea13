/**
 * Built-in checks over directory accounts and their credentials (CC6.1/CC6.2/CC6.6: who can sign
 * in, with what, and whether the directory matches HR). They complement identity.checks.ts with
 * the changes that weaken an account between snapshots: factors removed, accounts used while
 * disabled, accounts created for people HR does not employ, keys left behind.
 */
import { type CheckOutcome, defineCheck } from '../check.types.ts';
import type { EventView, IdentityView } from '../facts.ts';
import { hasEmail, identitySubject, isoDay, personSubject } from './subjects.ts';

const hour = 3600 * 1000;
const day = 24 * hour;

/** OCSF Account Change activities for MFA factors. */
const factorEnabled = 10;
const factorRemoved = 11;

function subjectOf(e: EventView): string | null {
  return e.targetIdentityId ?? e.actorIdentityId;
}

/** The latest MFA factor change per account, among events `include` accepts. */
function latestFactorChanges(events: EventView[], include: (e: EventView) => boolean) {
  const latest = new Map<string, EventView>();
  for (const e of events) {
    if (e.activityId !== factorEnabled && e.activityId !== factorRemoved) continue;
    if (e.outcome === 'failure' || !include(e)) continue;
    const id = subjectOf(e);
    if (id) latest.set(id, e);
  }
  return latest;
}

export const mfaFactorRemoved = defineCheck({
  id: 'identity.mfa_factor_removed',
  controls: ['AC-02', 'AC-11'],
  title: 'An account whose MFA factor was removed enrols one again',
  description:
    'An MFA factor was deactivated, reset or deleted for an account (Okta factor deactivate/reset, AWS ' +
    'DeactivateMFADevice) and no factor was enrolled since, nor does a later snapshot show MFA. At risk during ' +
    'the grace period (default 24 hours) that a re-enrolment normally takes.',
  severity: 'high',
  criteria: ['CC6.1', 'CC6.6'],
  triggers: { eventClasses: [3001], facts: ['observations'], schedule: 'hourly' },
  defaults: {},
  graceHours: 24,
  remediationDays: 2,
  async evaluate(facts) {
    const [events, identities] = await Promise.all([
      facts.events({ classUids: [3001] }),
      facts.identityById(),
    ]);
    const outcomes: CheckOutcome[] = [];
    // Google 2-step verification has its own check (it switches off 2SV as a whole).
    for (const [id, e] of latestFactorChanges(events, (e) => e.system !== 'google-workspace')) {
      const identity = identities.get(id);
      if (identity?.status !== 'active') continue;
      const subject = identitySubject(identity);
      if (e.activityId === factorEnabled) {
        outcomes.push({ subject, status: 'pass', detail: `MFA factor enrolled ${e.time.toISOString()}` });
        continue;
      }
      const snap = identity.snapshot;
      if (snap?.mfaEnabled && snap.observedAt > e.time) {
        outcomes.push({
          subject,
          status: 'pass',
          detail: `MFA shown again by the ${snap.source} snapshot of ${snap.observedAt.toISOString()}`,
        });
        continue;
      }
      outcomes.push({
        subject,
        status: 'fail',
        detail: `MFA factor removed (${e.action}) by ${e.data.actor?.userName ?? 'unknown'} at ${e.time.toISOString()} and none enrolled since`,
        facts: { eventIds: [e.id] },
        since: e.time,
      });
    }
    return outcomes;
  },
});

export const twoStepVerificationDisabled = defineCheck({
  id: 'identity.two_step_verification_disabled',
  controls: ['AC-02'],
  title: 'Google Workspace users keep 2-step verification on',
  description:
    'A Google Workspace user switched 2-step verification off (user_accounts 2sv_disable) and has not enrolled ' +
    'again: the account signs in with a password alone.',
  severity: 'high',
  criteria: ['CC6.1', 'CC6.6'],
  triggers: { eventClasses: [3001] },
  defaults: {},
  graceHours: 0,
  remediationDays: 2,
  async evaluate(facts) {
    const [events, identities] = await Promise.all([
      facts.events({ classUids: [3001] }),
      facts.identityById(),
    ]);
    const outcomes: CheckOutcome[] = [];
    for (const [id, e] of latestFactorChanges(events, (e) => e.system === 'google-workspace')) {
      const identity = identities.get(id);
      if (identity?.status !== 'active') continue;
      const subject = identitySubject(identity);
      outcomes.push(
        e.activityId === factorEnabled
          ? { subject, status: 'pass', detail: `2-step verification enrolled ${e.time.toISOString()}` }
          : {
              subject,
              status: 'fail',
              detail: `2-step verification switched off at ${e.time.toISOString()}`,
              facts: { eventIds: [e.id] },
              since: e.time,
            },
      );
    }
    return outcomes;
  },
});

export const deactivatedAccountSignin = defineCheck({
  id: 'identity.deactivated_account_signin',
  controls: ['AC-04', 'MON-02'],
  title: 'Suspended or deprovisioned accounts do not sign in',
  description:
    'A successful sign-in, within the look-back window (default 90 days), by an account that its system had ' +
    'suspended or deprovisioned by then and not reactivated: the deactivation did not hold, or was undone ' +
    'without a record.',
  severity: 'critical',
  criteria: ['CC6.2', 'CC7.2'],
  triggers: { eventClasses: [3001, 3002] },
  scope: 'identity',
  defaults: { lookbackDays: 90 },
  graceHours: 0,
  remediationDays: 1,
  async evaluate(facts, settings) {
    const [lifecycle, logins, identities] = await Promise.all([
      facts.events({ classUids: [3001] }),
      facts.events({ classUids: [3002], since: facts.daysAgo(Number(settings.lookbackDays)) }),
      facts.identityById(),
    ]);
    const history = new Map<string, { status: string; at: Date }[]>();
    for (const e of lifecycle) {
      if (!e.data.accountStatus || !e.targetIdentityId || e.outcome === 'failure') continue;
      const list = history.get(e.targetIdentityId) ?? [];
      list.push({ status: e.data.accountStatus, at: e.time });
      history.set(e.targetIdentityId, list);
    }
    const statusAt = (id: string, at: Date) => {
      let status = 'active';
      for (const change of history.get(id) ?? []) if (change.at < at) status = change.status;
      return status;
    };
    const violations = new Map<string, EventView[]>();
    for (const e of logins) {
      if (e.outcome !== 'success' || e.activityId !== 1) continue;
      const id = subjectOf(e);
      if (!id || !history.has(id) || statusAt(id, e.time) === 'active') continue;
      violations.set(id, [...(violations.get(id) ?? []), e]);
    }
    const outcomes: CheckOutcome[] = [];
    for (const [id, changes] of history) {
      if (!changes.some((c) => c.status !== 'active')) continue;
      const identity = identities.get(id);
      if (!identity) continue;
      const bad = violations.get(id) ?? [];
      outcomes.push(
        bad.length === 0
          ? { subject: identitySubject(identity), status: 'pass', detail: 'no sign-in while deactivated' }
          : {
              subject: identitySubject(identity),
              status: 'fail',
              detail: `${bad.length} sign-ins while the account was ${statusAt(id, bad[0]!.time)}, the latest ${bad.at(-1)!.time.toISOString()} (${bad.at(-1)!.system})`,
              facts: { eventIds: bad.map((e) => e.id) },
              since: bad[0]!.time,
            },
      );
    }
    return outcomes;
  },
});

/** Which privileged entitlements each account held at an instant, from the change history. */
function privilegedAt(changes: { identityId: string; name: string; granted: boolean; at: Date }[]) {
  return (identityId: string, at: Date): string[] => {
    const held = new Set<string>();
    for (const c of changes) {
      if (c.identityId !== identityId || c.at > at) continue;
      if (c.granted) held.add(c.name);
      else held.delete(c.name);
    }
    return [...held];
  };
}

export const privilegedSigninWithoutMfa = defineCheck({
  id: 'identity.privileged_signin_without_mfa',
  controls: ['AC-02', 'AC-06', 'AC-17'],
  title: 'Administrators sign in with MFA',
  description:
    'A successful interactive sign-in made with a password alone (the source reports no MFA) by an account that ' +
    'held a privileged entitlement at the time and still holds one, within the look-back window (default 30 days).',
  severity: 'critical',
  criteria: ['CC6.1', 'CC6.6'],
  triggers: { eventClasses: [3002, 3005, 3006], facts: ['entitlements'] },
  scope: 'identity',
  defaults: { lookbackDays: 30 },
  graceHours: 0,
  remediationDays: 1,
  async evaluate(facts, settings) {
    const [changes, logins, identities] = await Promise.all([
      facts.entitlementChanges(),
      facts.events({ classUids: [3002], since: facts.daysAgo(Number(settings.lookbackDays)) }),
      facts.identityById(),
    ]);
    const privileged = changes
      .filter((c) => c.privileged)
      .map((c) => ({ identityId: c.identityId, name: c.name, granted: c.granted, at: c.grantedAt }));
    const heldAt = privilegedAt(privileged);
    const outcomes: CheckOutcome[] = [];
    for (const id of new Set(privileged.map((c) => c.identityId))) {
      const identity = identities.get(id);
      if (!identity) continue;
      const held = heldAt(id, facts.asOf);
      const mine = logins.filter(
        (e) =>
          e.outcome === 'success' && e.activityId === 1 && e.data.mfa !== undefined && subjectOf(e) === id,
      );
      const withoutMfa = mine.filter((e) => e.data.mfa === false && heldAt(id, e.time).length > 0);
      if (held.length === 0) {
        outcomes.push({
          subject: identitySubject(identity),
          status: 'pass',
          detail: 'no privileged access held',
        });
      } else if (withoutMfa.length === 0) {
        outcomes.push({
          subject: identitySubject(identity),
          status: 'pass',
          detail: `holds ${held.join(', ')}; ${mine.length} sign-ins in ${settings.lookbackDays} days, all with MFA`,
        });
      } else {
        const latest = withoutMfa.at(-1)!;
        outcomes.push({
          subject: identitySubject(identity),
          status: 'fail',
          detail: `holds ${held.join(', ')} and signed in ${withoutMfa.length} times with a password alone, the latest ${latest.time.toISOString()} (${latest.system})`,
          facts: { eventIds: withoutMfa.map((e) => e.id), entitlements: held },
          since: withoutMfa[0]!.time,
        });
      }
    }
    return outcomes;
  },
});

function evidentlyNonHuman(identity: IdentityView): boolean {
  return identity.nonHuman || identity.principalType !== 'user' || identity.snapshot?.isHumanHint === false;
}

export const accountCreatedWithoutEmployment = defineCheck({
  id: 'identity.account_created_without_employment',
  controls: ['AC-01', 'AC-03'],
  title: 'Accounts are created only for people HR employs',
  description:
    'An account-creation event for a person HR does not list, for a person who had already left, or long ' +
    'before their start date (default more than 30 days). Declared non-human accounts are exempt.',
  severity: 'medium',
  criteria: ['CC6.2'],
  triggers: { eventClasses: [3001, 990001], facts: ['people', 'identities', 'identity_settings'] },
  scope: 'identity',
  defaults: { preboardingDays: 30 },
  graceHours: 0,
  remediationDays: 7,
  async evaluate(facts, settings) {
    const [events, identities] = await Promise.all([
      facts.events({ classUids: [3001] }),
      facts.identityById(),
    ]);
    const created = new Map<string, EventView>();
    for (const e of events) {
      if (e.activityId !== 1 || e.outcome === 'failure' || !e.targetIdentityId) continue;
      if (!created.has(e.targetIdentityId)) created.set(e.targetIdentityId, e);
    }
    const outcomes: CheckOutcome[] = [];
    for (const [id, e] of created) {
      const identity = identities.get(id);
      if (!identity || evidentlyNonHuman(identity)) continue;
      const subject = identitySubject(identity);
      const person = identity.person;
      const at = e.time;
      const why = { eventIds: [e.id], createdAt: at.toISOString() };
      if (!person) {
        // An account known only by a login name cannot be matched to HR; orphaned_accounts asks for a link.
        if (!hasEmail(identity)) continue;
        outcomes.push(
          identity.status !== 'active'
            ? { subject, status: 'pass', detail: 'created without an HR record, since removed' }
            : {
                subject,
                status: 'fail',
                detail: `created ${isoDay(at)} in ${identity.system} for someone HR does not list`,
                facts: why,
                since: at,
              },
        );
        continue;
      }
      const earliest = person.startDate
        ? new Date(person.startDate.getTime() - Number(settings.preboardingDays) * day)
        : null;
      let problem: string | null = null;
      if (person.terminatedAt && at > person.terminatedAt) {
        problem = `created ${isoDay(at)}, after ${person.email} left (${isoDay(person.endDate ?? person.terminatedAt)})`;
      } else if (earliest && at < earliest) {
        problem = `created ${isoDay(at)}, more than ${settings.preboardingDays} days before ${person.email} started (${isoDay(person.startDate!)})`;
      }
      if (problem && identity.status === 'active') {
        outcomes.push({ subject, status: 'fail', detail: problem, facts: why, since: at });
      } else {
        outcomes.push({
          subject,
          status: 'pass',
          detail: problem
            ? `${problem}; since removed`
            : `created ${isoDay(at)} for ${person.email}, employed then`,
        });
      }
    }
    return outcomes;
  },
});

export const multipleActiveAccessKeys = defineCheck({
  id: 'identity.multiple_active_access_keys',
  controls: ['AC-09'],
  title: 'Each account has at most one active access key',
  description:
    'More active programmatic access keys than allowed (default one) on one account: a rotation left unfinished ' +
    'or a second key nobody tracks.',
  severity: 'low',
  criteria: ['CC6.1'],
  triggers: { facts: ['observations'], eventClasses: [3004] },
  defaults: { maxActiveKeys: 1 },
  graceHours: 0,
  remediationDays: 14,
  async evaluate(facts, settings) {
    const identities = await facts.identities();
    const outcomes: CheckOutcome[] = [];
    for (const i of identities) {
      const active = (i.snapshot?.accessKeys ?? []).filter((k) => k.active);
      if (i.status !== 'active' || active.length === 0) continue;
      outcomes.push(
        active.length <= Number(settings.maxActiveKeys)
          ? { subject: identitySubject(i), status: 'pass', detail: `${active.length} active access key` }
          : {
              subject: identitySubject(i),
              status: 'fail',
              detail: `${active.length} active access keys (at most ${settings.maxActiveKeys} allowed)`,
              facts: {
                keys: active.map((k) => ({
                  id: k.id ?? null,
                  lastRotatedAt: k.lastRotatedAt?.toISOString() ?? null,
                })),
              },
            },
      );
    }
    return outcomes;
  },
});

export const leaverAccessKeyUsed = defineCheck({
  id: 'identity.leaver_access_key_used',
  controls: ['AC-04', 'MON-02'],
  title: "A leaver's keys and accounts are not used after they leave",
  description:
    'Programmatic use of any account of a person after HR ended their employment, within the look-back window ' +
    '(default 90 days): an access key used after the last day (credential report), or API activity by the account.',
  severity: 'critical',
  criteria: ['CC6.2', 'CC7.2'],
  triggers: { eventClasses: [6003, 3004, 3005, 3006, 990001], facts: ['people', 'observations'] },
  defaults: { lookbackDays: 90 },
  graceHours: 0,
  remediationDays: 1,
  async evaluate(facts, settings) {
    const since = facts.daysAgo(Number(settings.lookbackDays));
    const [people, identities, events] = await Promise.all([
      facts.people(),
      facts.identities(),
      facts.events({ classUids: [6003, 3004, 3005, 3006], since }),
    ]);
    const outcomes: CheckOutcome[] = [];
    for (const person of people) {
      const left = person.terminatedAt;
      if (!left) continue;
      const accounts = identities.filter((i) => i.person?.id === person.id);
      if (accounts.length === 0) continue;
      const ids = new Set(accounts.map((a) => a.id));
      const keyUses = accounts.flatMap((a) =>
        (a.snapshot?.accessKeys ?? [])
          .filter(
            (k) => k.lastUsedAt && k.lastUsedAt > left && k.lastUsedAt >= since && k.lastUsedAt <= facts.asOf,
          )
          .map((k) => ({ system: a.system, key: k.id ?? null, at: k.lastUsedAt! })),
      );
      const calls = events.filter(
        (e) => e.outcome === 'success' && e.time > left && e.actorIdentityId && ids.has(e.actorIdentityId),
      );
      if (keyUses.length === 0 && calls.length === 0) {
        outcomes.push({ subject: personSubject(person), status: 'pass', detail: 'no use after leaving' });
        continue;
      }
      const first = [...keyUses.map((k) => k.at), ...calls.map((e) => e.time)].sort(
        (a, b) => a.getTime() - b.getTime(),
      )[0]!;
      const parts = [
        ...(keyUses.length > 0
          ? [`access key used ${keyUses.map((k) => `${isoDay(k.at)} (${k.system})`).join(', ')}`]
          : []),
        ...(calls.length > 0
          ? [
              `${calls.length} API calls, the latest ${calls.at(-1)!.action} ${calls.at(-1)!.time.toISOString()}`,
            ]
          : []),
      ];
      outcomes.push({
        subject: personSubject(person),
        status: 'fail',
        detail: `left ${isoDay(person.endDate ?? left)} but ${parts.join('; ')}`,
        facts: {
          terminatedAt: left.toISOString(),
          keyUses: keyUses.map((k) => ({ ...k, at: k.at.toISOString() })),
          eventIds: calls.map((e) => e.id),
        },
        since: first,
      });
    }
    return outcomes;
  },
});

export const rootAccessKeyCreated = defineCheck({
  id: 'identity.root_access_key_created',
  controls: ['AC-10'],
  title: 'No access key is created for the cloud root user',
  description:
    'CreateAccessKey called for the AWS root user itself (no IAM user named) and the key not deleted since, nor ' +
    'absent from a later credential report.',
  severity: 'critical',
  criteria: ['CC6.1', 'CC6.3'],
  triggers: { eventClasses: [3004], facts: ['observations'] },
  defaults: {},
  graceHours: 0,
  remediationDays: 1,
  async evaluate(facts) {
    const [events, identities] = await Promise.all([
      facts.events({ classUids: [3004] }),
      facts.identityById(),
    ]);
    const latest = new Map<string, EventView>();
    for (const e of events) {
      if (e.action !== 'CreateAccessKey' && e.action !== 'DeleteAccessKey') continue;
      if (e.outcome === 'failure' || !e.actorIdentityId || e.data.target) continue;
      if (identities.get(e.actorIdentityId)?.principalType !== 'root') continue;
      latest.set(e.actorIdentityId, e);
    }
    const outcomes: CheckOutcome[] = [];
    for (const [id, e] of latest) {
      const root = identities.get(id)!;
      const snap = root.snapshot;
      const clearedLater = snap && snap.observedAt > e.time && !snap.accessKeys.some((k) => k.active);
      if (e.action === 'DeleteAccessKey' || clearedLater) {
        outcomes.push({
          subject: identitySubject(root),
          status: 'pass',
          detail:
            e.action === 'DeleteAccessKey'
              ? `root access key deleted ${e.time.toISOString()}`
              : `no active root key in the credential report of ${snap!.observedAt.toISOString()}`,
        });
      } else {
        const key = e.data.resources?.find((r) => r.kind === 'access_key')?.id;
        outcomes.push({
          subject: identitySubject(root),
          status: 'fail',
          detail: `root access key ${key ?? ''} created at ${e.time.toISOString()}`.replace('  ', ' '),
          facts: { eventIds: [e.id], accessKeyId: key ?? null },
          since: e.time,
        });
      }
    }
    return outcomes;
  },
});

export const directoryChecks = [
  mfaFactorRemoved,
  twoStepVerificationDisabled,
  deactivatedAccountSignin,
  privilegedSigninWithoutMfa,
  accountCreatedWithoutEmployment,
  multipleActiveAccessKeys,
  leaverAccessKeyUsed,
  rootAccessKeyCreated,
];
