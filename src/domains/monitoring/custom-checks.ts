/**
 * Custom checks: a workspace states a rule as a CEL expression over one kind of subject
 * (`identity`, `person` or `event`) and Assay evaluates it alongside the built-in checks, with no
 * code deployed. The expression states what every subject must satisfy: true passes, false fails,
 * anything else (or a missing field) is `no_data` with the reason.
 *
 * Each kind exposes one variable of the same name (a map of the fields below) and `now`, the
 * instant evaluated as of (a timestamp), so `identity.lastLoginAt > now - duration("2160h")`
 * reads "signed in within 90 days". Event checks judge each account by its events in the look-back
 * window (setting `lookbackDays`, default 30): it fails when any of its events does not satisfy
 * the expression.
 */
import { Environment } from '@marcbachmann/cel-js';
import { AssayError } from '../../errors.ts';
import type { CheckDefinition, CheckOutcome, Severity, Subject } from './check.types.ts';
import { identitySubject, personSubject } from './checks/subjects.ts';
import type { EventView, Facts, IdentityView, PersonView } from './facts.ts';

export const subjectKinds = ['identity', 'person', 'event'] as const;
export type SubjectKind = (typeof subjectKinds)[number];

/** The fields each subject kind exposes to expressions (documented in docs/checks.md). */
export const subjectFields: Record<SubjectKind, Record<string, string>> = {
  identity: {
    id: 'string',
    system: 'string — okta, aws-iam:<account>, github:<org>, google-workspace…',
    externalId: 'string',
    userName: 'string or null',
    email: 'string or null',
    principalType: 'string — user, root, service, system',
    nonHuman: 'bool — declared non-human',
    owner: 'string or null',
    status: 'string — active, suspended, deprovisioned',
    firstSeenAt: 'timestamp',
    lastLoginAt: 'timestamp or null',
    mfaEnabled: 'bool or null — from the latest snapshot',
    passwordEnabled: 'bool or null',
    accessKeys: 'list of {active: bool, lastRotatedAt: timestamp or null, lastUsedAt: timestamp or null}',
    entitlements: 'list of string — held now',
    privileged: 'bool — holds a privileged entitlement',
    person: 'map or null — {email, name, status, department, title, startDate, terminatedAt}',
  },
  person: {
    id: 'string',
    employeeId: 'string',
    name: 'string',
    email: 'string',
    title: 'string or null',
    department: 'string or null',
    managerEmail: 'string or null',
    status: 'string — active, terminated, on_leave',
    startDate: 'timestamp or null',
    endDate: 'timestamp or null',
    terminatedAt: 'timestamp or null',
    accounts: 'list of {system, userName, status}',
    activeAccounts: 'int — accounts still active',
  },
  event: {
    id: 'int',
    system: 'string',
    time: 'timestamp',
    classUid: 'int — OCSF class (3002 Authentication…)',
    activityId: 'int',
    action: 'string — the vendor action (user.session.start, ConsoleLogin, git.push)',
    outcome: 'string — success, failure, unknown',
    mfa: 'bool or null',
    authMethod: 'string or null',
    actor: 'map or null — {type, userName, email}',
    target: 'map or null — {type, userName, email}',
    repository: 'string or null',
    branch: 'string or null',
    organization: 'string or null',
    srcIp: 'string or null',
  },
};

const environments = new Map<SubjectKind, Environment>();

function environment(kind: SubjectKind): Environment {
  let env = environments.get(kind);
  if (!env) {
    env = new Environment({ unlistedVariablesAreDyn: false })
      .registerVariable(kind, 'map')
      .registerVariable('now', 'google.protobuf.Timestamp');
    environments.set(kind, env);
  }
  return env;
}

export function isSubjectKind(value: string): value is SubjectKind {
  return (subjectKinds as readonly string[]).includes(value);
}

interface CelErrorLike {
  summary?: string;
  message?: string;
  range?: { start: number; end: number };
}

/**
 * Parses and type-checks an expression. Throws `validation_failed` naming the field, the
 * position (1-based column) and the reason, e.g. `expression: column 16: Unexpected token: EOF`.
 */
export function validateExpression(kind: SubjectKind, expression: string): void {
  if (expression.trim() === '' || expression.length > 4000) {
    throw new AssayError('validation_failed', 'expression: must be 1–4000 characters', {
      field: 'expression',
    });
  }
  let result: { valid: boolean; type?: string; error?: CelErrorLike };
  try {
    result = environment(kind).check(expression) as typeof result;
  } catch (error) {
    result = { valid: false, error: error as CelErrorLike };
  }
  if (!result.valid) {
    const error = result.error ?? {};
    const start = error.range?.start;
    const reason = error.summary ?? error.message?.split('\n')[0] ?? 'not a valid CEL expression';
    const where = start === undefined ? '' : ` column ${start + 1}:`;
    throw new AssayError('validation_failed', `expression:${where} ${reason}`, {
      field: 'expression',
      ...(start === undefined ? {} : { position: start + 1 }),
    });
  }
  if (result.type !== 'bool' && result.type !== 'dyn') {
    throw new AssayError(
      'validation_failed',
      `expression: must yield a bool (true = the ${kind} passes), but yields ${result.type}`,
      { field: 'expression' },
    );
  }
}

export interface CustomCheckRecord {
  checkId: string;
  title: string;
  description: string;
  subjectKind: SubjectKind;
  expression: string;
  severity: Severity;
  criteria: string[];
  controlIds: string[];
}

const remediationDays: Record<Severity, number> = { critical: 1, high: 3, medium: 14, low: 30 };

function identityContext(i: IdentityView, privilegedNames: Set<string>, held: string[]) {
  const p = i.person;
  return {
    id: i.id,
    system: i.system,
    externalId: i.externalId,
    userName: i.userName,
    email: i.email,
    displayName: i.displayName,
    principalType: i.principalType,
    nonHuman: i.nonHuman,
    owner: i.owner,
    status: i.status,
    firstSeenAt: i.firstSeenAt,
    lastLoginAt: i.lastLoginAt,
    mfaEnabled: i.snapshot?.mfaEnabled ?? null,
    passwordEnabled: i.snapshot?.passwordEnabled ?? null,
    accessKeys: (i.snapshot?.accessKeys ?? []).map((k) => ({
      active: k.active,
      lastRotatedAt: k.lastRotatedAt,
      lastUsedAt: k.lastUsedAt,
    })),
    entitlements: held,
    privileged: held.some((name) => privilegedNames.has(name)),
    person: p
      ? {
          email: p.email,
          name: p.name,
          status: p.status,
          department: p.department,
          title: p.title,
          startDate: p.startDate,
          terminatedAt: p.terminatedAt,
        }
      : null,
  };
}

function personContext(p: PersonView, accounts: IdentityView[]) {
  return {
    id: p.id,
    employeeId: p.employeeId,
    name: p.name,
    email: p.email,
    title: p.title,
    department: p.department,
    managerEmail: p.managerEmail,
    status: p.status,
    startDate: p.startDate,
    endDate: p.endDate,
    terminatedAt: p.terminatedAt,
    accounts: accounts.map((a) => ({ system: a.system, userName: a.userName, status: a.status })),
    activeAccounts: accounts.filter((a) => a.status === 'active').length,
  };
}

function eventContext(e: EventView) {
  const ref = (r: EventView['data']['actor']) =>
    r ? { type: r.type, userName: r.userName ?? null, email: r.email ?? null } : null;
  return {
    id: e.id,
    system: e.system,
    time: e.time,
    classUid: e.classUid,
    activityId: e.activityId,
    action: e.action,
    outcome: e.outcome,
    mfa: e.data.mfa ?? null,
    authMethod: e.data.authMethod ?? null,
    actor: ref(e.data.actor),
    target: ref(e.data.target),
    repository: e.repository ?? e.data.repository ?? null,
    branch: e.data.branch ?? null,
    organization: e.data.organization ?? null,
    srcIp: e.data.srcIp ?? null,
  };
}

function reasonOf(error: unknown): string {
  const e = error as CelErrorLike;
  return (e?.summary ?? e?.message?.split('\n')[0] ?? String(error)).slice(0, 200);
}

/** Wraps a stored custom check as a check the engine runs like any built-in one. */
export function customCheckDefinition(record: CustomCheckRecord): CheckDefinition {
  const kind = record.subjectKind;
  const program = environment(kind).parse(record.expression);
  const judge = (context: Record<string, unknown>, now: Date): { ok: boolean | null; reason?: string } => {
    try {
      const value = program({ [kind]: context, now });
      return typeof value === 'boolean'
        ? { ok: value }
        : { ok: null, reason: `yielded ${typeof value}, not a bool` };
    } catch (error) {
      return { ok: null, reason: reasonOf(error) };
    }
  };
  const outcome = (
    subject: Subject,
    verdict: { ok: boolean | null; reason?: string },
    facts?: Record<string, unknown>,
  ): CheckOutcome =>
    verdict.ok === true
      ? { subject, status: 'pass', detail: `satisfies ${record.title}` }
      : verdict.ok === false
        ? {
            subject,
            status: 'fail',
            detail: `does not satisfy: ${record.expression}`,
            ...(facts ? { facts } : {}),
          }
        : { subject, status: 'no_data', detail: `cannot judge: ${verdict.reason}` };

  return {
    id: record.checkId,
    title: record.title,
    description: record.description || `Custom check over each ${kind}: ${record.expression}`,
    severity: record.severity,
    criteria: record.criteria,
    controls: record.controlIds,
    triggers:
      kind === 'event'
        ? { eventClasses: [3001, 3002, 3004, 3005, 3006, 6003, 990001, 990002], schedule: 'daily' }
        : kind === 'person'
          ? { eventClasses: [990001], facts: ['people', 'identities'], schedule: 'daily' }
          : { facts: ['identities', 'observations', 'entitlements', 'identity_settings'], schedule: 'daily' },
    defaults: kind === 'event' ? { lookbackDays: 30 } : {},
    graceHours: 0,
    remediationDays: remediationDays[record.severity],
    async evaluate(facts: Facts, settings: Record<string, number | boolean | string>) {
      const now = facts.asOf;
      if (kind === 'identity') {
        const [identities, held] = await Promise.all([facts.identities(), facts.held()]);
        const privileged = new Set(held.filter((e) => e.privileged).map((e) => e.name));
        const heldBy = new Map<string, string[]>();
        for (const e of held) heldBy.set(e.identityId, [...(heldBy.get(e.identityId) ?? []), e.name]);
        return identities.map((i) =>
          outcome(identitySubject(i), judge(identityContext(i, privileged, heldBy.get(i.id) ?? []), now)),
        );
      }
      if (kind === 'person') {
        const [people, identities] = await Promise.all([facts.people(), facts.identities()]);
        return people.map((p) =>
          outcome(
            personSubject(p),
            judge(
              personContext(
                p,
                identities.filter((i) => i.person?.id === p.id),
              ),
              now,
            ),
          ),
        );
      }
      const [events, identities] = await Promise.all([
        facts.events({ since: facts.daysAgo(Number(settings.lookbackDays ?? 30)) }),
        facts.identityById(),
      ]);
      const byActor = new Map<
        string,
        { subject: Subject; failing: number[]; unjudged: string | null; seen: number }
      >();
      for (const e of events) {
        const identity = e.actorIdentityId ? identities.get(e.actorIdentityId) : undefined;
        const subject: Subject = identity
          ? identitySubject(identity)
          : { type: 'system', id: e.system, name: e.system, system: e.system };
        const key = `${subject.type}:${subject.id}`;
        const entry = byActor.get(key) ?? { subject, failing: [], unjudged: null, seen: 0 };
        byActor.set(key, entry);
        entry.seen++;
        const verdict = judge(eventContext(e), now);
        if (verdict.ok === false) entry.failing.push(e.id);
        else if (verdict.ok === null) entry.unjudged ??= verdict.reason ?? 'unknown';
      }
      return [...byActor.values()].map(
        (entry): CheckOutcome =>
          entry.failing.length > 0
            ? {
                subject: entry.subject,
                status: 'fail',
                detail: `${entry.failing.length} of ${entry.seen} events do not satisfy: ${record.expression}`,
                facts: { eventIds: entry.failing.slice(0, 100) },
              }
            : entry.unjudged
              ? { subject: entry.subject, status: 'no_data', detail: `cannot judge: ${entry.unjudged}` }
              : {
                  subject: entry.subject,
                  status: 'pass',
                  detail: `${entry.seen} events satisfy ${record.title}`,
                },
      );
    },
  };
}
