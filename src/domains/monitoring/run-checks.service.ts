/**
 * Evaluates checks for one workspace at one instant and turns the verdicts into the records a
 * Type II audit needs: a result per check and subject, findings opened and closed (with tasks for
 * their owners), and each control's status timeline, where a change of status is drift.
 */
import { randomUUID } from 'node:crypto';
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { insertAuditEntry } from '../audit/audit.repository.ts';
import { listControlRows } from '../controls/controls.repository.ts';
import { appendPrepared, type PreparedAppend, prepareAppend } from '../evidence/append-evidence.ts';
import { announceExpiredExceptions, transitionFinding } from '../findings/exceptions.service.ts';
import {
  closeControlInterval,
  completeTasksForFinding,
  countOpenFindingsByCheck,
  currentControlStatuses,
  type FindingRow,
  finishCheckRun,
  insertCheckResults,
  insertCheckRun,
  insertFindings,
  insertTasks,
  listActiveExceptions,
  listCheckSettings,
  listChecksWithOpenFindings,
  listLiveFindings,
  listLiveFindingsOfSubjects,
  type NewCheckResult,
  type NewFinding,
  type NewTask,
  openControlInterval,
  updateFinding,
} from '../findings/findings.repository.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { type CheckDefinition, type CheckOutcome, subjectKey } from './check.types.ts';
import { builtInCheckById, builtInChecks } from './checks/index.ts';
import { controlsServedBy, loadCustomChecks } from './checks.service.ts';
import { selectAccountsOfSamePeople } from './facts.repository.ts';
import { Facts } from './facts.ts';

const hour = 3600 * 1000;
const day = 24 * hour;

export interface RunChecksOptions {
  /** Evaluate as at this instant (default: now). */
  asOf?: Date | undefined;
  /** Only these checks (default: all enabled). */
  checkIds?: string[] | undefined;
  /** What caused the run: `manual`, `import`, `schedule`, `webhook`… */
  trigger?: string | undefined;
  /**
   * Checks to re-evaluate for a few accounts only (a change confined to them): each must be
   * account-scoped (`scope: 'identity'`); one also listed in `checkIds` runs whole.
   */
  identityScope?: { checkIds: string[]; identityIds: string[] } | undefined;
  /** Further reads or writes of the caller's, in the run's transaction once its results are written. */
  alsoInTransaction?: ((trx: Trx) => Promise<void>) | undefined;
  /** Count the open findings of the checks run for the summary (default true). */
  countOpenFindings?: boolean | undefined;
}

export interface RunChecksSummary {
  runId: string;
  workspace: string;
  asOf: string;
  checks: number;
  results: number;
  failures: number;
  findingsOpened: number;
  findingsClosed: number;
  /** Open findings of the checks run; null when not counted (`countOpenFindings: false`). */
  findingsOpen: number | null;
  /** When some checks judged only the accounts a change named: how many accounts, and which checks. */
  scoped: { accounts: number; checks: string[] } | null;
  drift: { control: string; from: string; to: string }[];
}

/** Whether a change confined to some accounts may re-evaluate this check for those accounts (or their people) alone. */
export function isScopable(checkId: string): boolean {
  return builtInCheckById.get(checkId)?.scope !== undefined;
}

/** The checks a set of changed facts touches (change-triggered evaluation). */
export function checksTriggeredBy(change: { eventClasses?: number[]; facts?: string[] }): string[] {
  const classes = new Set(change.eventClasses ?? []);
  const facts = new Set(change.facts ?? []);
  return builtInChecks
    .filter(
      (c) =>
        (c.triggers.eventClasses ?? []).some((k) => classes.has(k)) ||
        (c.triggers.facts ?? []).some((f) => facts.has(f)),
    )
    .map((c) => c.id);
}

export function resolveChecks(checkIds: string[] | undefined): CheckDefinition[] {
  if (!checkIds) return [...builtInChecks];
  return checkIds.map((id) => {
    const check = builtInCheckById.get(id);
    if (!check) {
      throw new AssayError('validation_failed', `unknown check "${id}" (see assay checks list)`, {
        field: 'checks',
      });
    }
    return check;
  });
}

export async function runChecks(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  options: RunChecksOptions = {},
): Promise<RunChecksSummary> {
  const asOf = options.asOf ?? new Date();
  if (Number.isNaN(asOf.getTime())) {
    throw new AssayError('validation_failed', 'asOf: not a valid date-time', { field: 'asOf' });
  }
  // Custom checks (custom.*) live in the workspace; they are loaded inside its transaction.
  const isCustom = (id: string) => id.startsWith('custom.');
  const scope = options.identityScope;
  let requested: CheckDefinition[];
  let customIds: string[] | undefined;
  let scoped: Scope | undefined;
  // Scoping applies to a named set of checks; a run of every check is whole.
  if (scope && options.checkIds !== undefined && scope.checkIds.length > 0) {
    const whole = new Set(options.checkIds ?? []);
    const partial = resolveChecks(scope.checkIds).filter((c) => !whole.has(c.id));
    const notScoped = partial.find((c) => c.scope === undefined);
    if (notScoped) {
      throw new AssayError('validation_failed', `check "${notScoped.id}" cannot be scoped to accounts`, {
        field: 'identityScope.checkIds',
      });
    }
    requested = [...resolveChecks(options.checkIds?.filter((id) => !isCustom(id)) ?? []), ...partial];
    customIds = options.checkIds?.filter(isCustom) ?? [];
    scoped =
      partial.length > 0
        ? { checkIds: new Set(partial.map((c) => c.id)), identityIds: [...new Set(scope.identityIds)].sort() }
        : undefined;
  } else {
    requested = resolveChecks(options.checkIds?.filter((id) => !isCustom(id)));
    customIds = options.checkIds?.filter(isCustom);
  }
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const custom = customIds?.length === 0 ? [] : await loadCustomChecks(trx, workspace.id, customIds);
    return evaluate(trx, {
      workspaceId: workspace.id,
      slug: workspace.slug,
      actor,
      requested: [...requested, ...custom],
      asOf,
      trigger: options.trigger ?? 'manual',
      scope: scoped,
      alsoInTransaction: options.alsoInTransaction,
      countOpen: options.countOpenFindings ?? true,
    });
  });
}

/** The part of a run confined to some accounts: these checks judge only these accounts. */
interface Scope {
  checkIds: Set<string>;
  identityIds: string[];
}

/** One evaluation, as runChecks resolved it. */
interface Evaluation {
  workspaceId: string;
  slug: string;
  actor: Actor;
  /** The checks asked for (built-in and custom); disabled ones are dropped here. */
  requested: CheckDefinition[];
  asOf: Date;
  trigger: string;
  scope: Scope | undefined;
  alsoInTransaction: RunChecksOptions['alsoInTransaction'];
  /** Whether the summary counts every open finding of the checks run. */
  countOpen: boolean;
}

async function evaluate(trx: Trx, evaluation: Evaluation): Promise<RunChecksSummary> {
  const { workspaceId, slug, actor, requested, asOf, trigger, scope, alsoInTransaction, countOpen } =
    evaluation;
  const runId = randomUUID();
  const overrides = new Map((await listCheckSettings(trx, workspaceId)).map((s) => [s.check_id, s]));
  const checks = requested.filter((c) => overrides.get(c.id)?.enabled !== false);
  await insertCheckRun(trx, { id: runId, workspaceId, trigger, asOf, checkIds: checks.map((c) => c.id) });

  const controls = await listControlRows(trx, workspaceId);
  const controlsByCheck = new Map<string, typeof controls>();
  for (const check of new Set([...builtInChecks, ...requested])) {
    controlsByCheck.set(check.id, controlsServedBy(controls, check));
  }
  // Exceptions that lapsed by asOf are announced first; their findings reopen below.
  const expired = await announceExpiredExceptions(trx, workspaceId, actor, checks, asOf);
  const exceptions = await listActiveExceptions(trx, workspaceId, asOf);
  const exceptionFor = (checkId: string, key: string) =>
    exceptions.find((e) => e.check_id === checkId && e.subject_key === key) ?? null;
  const isScoped = (check: CheckDefinition) => scope?.checkIds.has(check.id) === true;
  // Person-scoped checks judge the people of the changed accounts, over all of their accounts.
  const people =
    scope && checks.some((c) => isScoped(c) && c.scope === 'person')
      ? await selectAccountsOfSamePeople(trx, workspaceId, scope.identityIds)
      : { personIds: [], identityIds: [] };
  const inScope = new Set([
    ...(scope?.identityIds ?? []).map((id) => subjectKey({ type: 'identity', id, name: '' })),
    ...people.personIds.map((id) => subjectKey({ type: 'person', id, name: '' })),
  ]);
  const live = new Map<string, FindingRow>();
  const [whole, scopedLive] = await Promise.all([
    listLiveFindings(
      trx,
      workspaceId,
      checks.filter((c) => !isScoped(c)).map((c) => c.id),
    ),
    listLiveFindingsOfSubjects(
      trx,
      workspaceId,
      checks.filter(isScoped).map((c) => c.id),
      [...inScope],
    ),
  ]);
  for (const f of [...whole, ...scopedLive]) live.set(`${f.check_id}\u0000${f.subject_key}`, f);

  const facts = new Facts(trx, workspaceId, asOf);
  // One set of scoped facts serves account- and person-scoped checks alike: the changed accounts
  // and every account of their people (verdicts on anyone else are dropped below).
  const scopedFacts = scope
    ? new Facts(
        trx,
        workspaceId,
        asOf,
        [...new Set([...scope.identityIds, ...people.identityIds])].sort(),
        facts,
      )
    : facts;
  const newFindings: NewFinding[] = [];
  const newTasks: (Omit<NewTask, 'findingId' | 'assignee' | 'dueAt'> & { live: string })[] = [];
  const results: NewCheckResult[] = [];
  const atRisk = new Set<string>();
  const evaluated = new Set<string>();
  let opened = 0;
  let closed = 0;
  let failures = 0;

  // First every check judges; then all verdicts go into the ledger in one append; then findings.
  const judged: {
    check: CheckDefinition;
    mapped: typeof controls;
    seen: Set<string>;
    outcomes: CheckOutcome[];
  }[] = [];
  // The checks judge side by side, so that the reads they want at the same point go to the
  // database together (see Facts.events); all are settled before anything can roll back.
  const verdicts = await Promise.allSettled(
    checks.map(async (check) => {
      const settings = {
        ...check.defaults,
        ...((overrides.get(check.id)?.settings ?? {}) as Record<string, never>),
      };
      return check.evaluate(isScoped(check) ? scopedFacts : facts, settings);
    }),
  );
  for (const [index, check] of checks.entries()) {
    const verdict = verdicts[index]!;
    if (verdict.status === 'rejected') throw verdict.reason;
    const evaluatedOutcomes: CheckOutcome[] = verdict.value;
    const scoped = isScoped(check);
    evaluated.add(check.id);
    const mapped = controlsByCheck.get(check.id) ?? [];
    const seen = new Set<string>();
    const outcomes = evaluatedOutcomes.filter((o) => {
      const key = subjectKey(o.subject);
      // A scoped run speaks only of its accounts and people: another account seen through a
      // shared event is judged on partial facts, so its verdict is left to its own evaluation.
      if (scoped && !inScope.has(key)) return false;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    judged.push({ check, mapped, seen, outcomes });
  }
  const { byCheck: evidenceByCheck, prepared: resultEvidence } = await prepareResultEvidence(
    trx,
    workspaceId,
    judged,
    asOf,
    runId,
  );
  for (const { check, mapped, seen, outcomes } of judged) {
    const evidenceBySubject = evidenceByCheck.get(check.id) ?? new Map<string, string>();
    for (const outcome of outcomes) {
      const key = subjectKey(outcome.subject);
      const evidenceId = evidenceBySubject.get(key) ?? null;
      results.push({
        workspace_id: workspaceId,
        run_id: runId,
        check_id: check.id,
        subject_key: key,
        subject: outcome.subject,
        status: outcome.status,
        detail: outcome.detail,
        facts: outcome.facts ?? {},
        as_of: asOf,
        evidence_id: evidenceId,
      });
      const current = live.get(`${check.id}\u0000${key}`);
      if (outcome.status === 'fail') {
        failures++;
        const since = outcome.since ?? asOf;
        if (check.graceHours > 0 && since.getTime() + check.graceHours * hour > asOf.getTime()) {
          atRisk.add(check.id);
          continue;
        }
        const exception = exceptionFor(check.id, key);
        if (!current) {
          // New findings and their tasks are written together after the checks, in few statements.
          newFindings.push({
            workspace_id: workspaceId,
            check_id: check.id,
            subject_key: key,
            subject: outcome.subject,
            control_ids: mapped.map((c) => c.template_id),
            criteria: check.criteria,
            severity: check.severity,
            status: exception ? 'suppressed' : 'open',
            detail: outcome.detail,
            opened_at: asOf,
            closed_at: null,
            deadline: new Date(asOf.getTime() + check.remediationDays * day),
            owner: mapped.find((c) => c.owner)?.owner ?? null,
            closing_evidence_id: null,
            exception_id: exception?.id ?? null,
            evidence_ids: evidenceId ? [evidenceId] : [],
          });
          opened++;
          if (!exception) {
            newTasks.push({
              workspaceId,
              kind: 'remediate_finding',
              title: `${check.title}: ${outcome.subject.name}`,
              live: `${check.id}\u0000${key}`,
              details: { checkId: check.id, subject: outcome.subject },
            });
          }
        } else {
          const status = exception ? 'suppressed' : 'open';
          if (
            current.detail !== outcome.detail ||
            current.status !== status ||
            current.exception_id !== (exception?.id ?? null)
          ) {
            live.set(
              `${check.id}\u0000${key}`,
              await transitionFinding(
                trx,
                workspaceId,
                current,
                { status, exceptionId: exception?.id ?? null, detail: outcome.detail },
                check,
                asOf,
                expired,
              ),
            );
          }
        }
      } else if (current && (outcome.status === 'pass' || outcome.status === 'not_applicable')) {
        await updateFinding(trx, workspaceId, current.id, {
          status: 'closed',
          closed_at: asOf,
          detail: `resolved: ${outcome.detail}`,
          closing_evidence_id: evidenceId,
        });
        await completeTasksForFinding(trx, workspaceId, current.id, 'done', asOf);
        live.delete(`${check.id}\u0000${key}`);
        closed++;
      }
    }
    // A subject the check no longer judges (account removed, repository gone) closes its finding.
    for (const [liveKey, finding] of live) {
      if (finding.check_id !== check.id || seen.has(finding.subject_key)) continue;
      await updateFinding(trx, workspaceId, finding.id, {
        status: 'closed',
        closed_at: asOf,
        detail: 'resolved: the subject is no longer in scope of this check',
      });
      await completeTasksForFinding(trx, workspaceId, finding.id, 'done', asOf);
      live.delete(liveKey);
      closed++;
    }
  }
  const inserted = await insertFindings(trx, newFindings);
  const byLiveKey = new Map(inserted.map((f) => [`${f.check_id}\u0000${f.subject_key}`, f]));
  await insertTasks(
    trx,
    newTasks.map(({ live: key, ...task }) => {
      const finding = byLiveKey.get(key)!;
      return { ...task, findingId: finding.id, assignee: finding.owner, dueAt: finding.deadline };
    }),
  );
  await insertCheckResults(trx, results);
  // Counting every open finding costs more as findings accumulate; a change's evaluation needs
  // only which checks have one (a control fails while one of its checks does).
  const openByCheck = countOpen
    ? await countOpenFindingsByCheck(
        trx,
        workspaceId,
        checks.map((c) => c.id),
      )
    : null;
  const checksWithOpenFindings = openByCheck
    ? new Set(openByCheck.keys())
    : await listChecksWithOpenFindings(
        trx,
        workspaceId,
        checks.map((c) => c.id),
      );

  const drift = await updateControlTimelines(
    trx,
    workspaceId,
    runId,
    asOf,
    controls,
    controlsByCheck,
    evaluated,
    checksWithOpenFindings,
    atRisk,
    new Set(checks.filter(isScoped).map((c) => c.id)),
    results,
  );
  await finishCheckRun(trx, workspaceId, runId, results.length, failures);
  await insertAuditEntry(trx, {
    workspaceId,
    actor,
    action: 'checks.run',
    targetType: 'check_run',
    targetId: runId,
    details: {
      trigger,
      asOf: asOf.toISOString(),
      checks: checks.length,
      opened,
      closed,
      drift: drift.length,
      ...(scope
        ? { scopedTo: { accounts: scope.identityIds.length, checks: [...scope.checkIds].sort() } }
        : {}),
    },
  });
  await alsoInTransaction?.(trx);
  // Last, so that the workspace's ledger head, which imports of the same workspace also need, is
  // held only from here to the commit.
  await appendPrepared(trx, resultEvidence);
  const openCount = openByCheck ? [...openByCheck.values()].reduce((sum, n) => sum + n, 0) : null;
  return {
    runId,
    workspace: slug,
    asOf: asOf.toISOString(),
    checks: checks.length,
    results: results.length,
    failures,
    findingsOpened: opened,
    findingsClosed: closed,
    findingsOpen: openCount,
    scoped: scope ? { accounts: scope.identityIds.length, checks: [...scope.checkIds].sort() } : null,
    drift,
  };
}

// Results are preserved in the ledger per check and run, in items of this many subjects.
const resultsPerEvidenceItem = 1000;

/**
 * Prepares the checks' verdicts for the evidence ledger (the raw material of Type II: each day's
 * monitoring), all for one append at the end of the run, and returns per check the evidence id
 * per subject, which findings and results cite.
 */
async function prepareResultEvidence(
  trx: Trx,
  workspaceId: string,
  judged: { check: CheckDefinition; mapped: { template_id: string }[]; outcomes: CheckOutcome[] }[],
  asOf: Date,
  runId: string,
): Promise<{ byCheck: Map<string, Map<string, string>>; prepared: PreparedAppend }> {
  const chunks: { check: CheckDefinition; controls: { template_id: string }[]; chunk: CheckOutcome[] }[] = [];
  for (const { check, mapped, outcomes } of judged) {
    for (let i = 0; i < outcomes.length; i += resultsPerEvidenceItem)
      chunks.push({ check, controls: mapped, chunk: outcomes.slice(i, i + resultsPerEvidenceItem) });
  }
  const byCheck = new Map<string, Map<string, string>>();
  const prepared = await prepareAppend(
    trx,
    workspaceId,
    chunks.map(({ check, controls, chunk }) => ({
      kind: 'check.result',
      controls: controls.map((c) => c.template_id),
      criteria: check.criteria,
      subject:
        chunk.length === 1
          ? { type: chunk[0]!.subject.type, id: chunk[0]!.subject.id, name: chunk[0]!.subject.name }
          : null,
      effectiveAt: asOf,
      collector: { type: 'check', id: check.id, name: check.title },
      content: {
        checkId: check.id,
        runId,
        asOf: asOf.toISOString(),
        results: chunk.map((o) => ({
          subject: o.subject,
          status: o.status,
          detail: o.detail,
          facts: o.facts ?? {},
        })),
      },
    })),
  );
  chunks.forEach(({ check, chunk }, index) => {
    const bySubject = byCheck.get(check.id) ?? new Map<string, string>();
    byCheck.set(check.id, bySubject);
    for (const o of chunk) bySubject.set(subjectKey(o.subject), prepared.ids[index]!);
  });
  return { byCheck, prepared };
}

/** Recomputes the status of every control a run touched and records changes as new intervals. */
async function updateControlTimelines(
  trx: Trx,
  workspaceId: string,
  runId: string,
  asOf: Date,
  controls: Awaited<ReturnType<typeof listControlRows>>,
  controlsByCheck: Map<string, typeof controls>,
  evaluated: Set<string>,
  failing: Set<string>,
  atRisk: Set<string>,
  partial: Set<string>,
  results: NewCheckResult[],
) {
  const checksByControl = new Map<string, string[]>();
  for (const [checkId, list] of controlsByCheck) {
    for (const control of list)
      checksByControl.set(control.id, [...(checksByControl.get(control.id) ?? []), checkId]);
  }
  const judged = new Set(
    results.filter((r) => r.status === 'pass' || r.status === 'fail').map((r) => r.check_id),
  );
  const current = new Map((await currentControlStatuses(trx, workspaceId)).map((i) => [i.control_id, i]));
  const drift: { control: string; from: string; to: string }[] = [];
  for (const control of controls) {
    const checkIds = checksByControl.get(control.id) ?? [];
    if (!checkIds.some((id) => evaluated.has(id))) continue;
    let status: 'passing' | 'failing' | 'at_risk' | 'no_data';
    let reason: string;
    const failingChecks = checkIds.filter((id) => failing.has(id));
    if (failingChecks.length > 0) {
      status = 'failing';
      reason = `open findings from ${failingChecks.join(', ')}`;
    } else if (checkIds.some((id) => atRisk.has(id))) {
      status = 'at_risk';
      reason = `failures within their grace period: ${checkIds.filter((id) => atRisk.has(id)).join(', ')}`;
    } else if (checkIds.some((id) => judged.has(id))) {
      status = 'passing';
      reason = `all results pass: ${checkIds.filter((id) => judged.has(id)).join(', ')}`;
    } else {
      // The checks ran and found nothing to judge (no accounts, no changes): monitoring operated
      // and nothing was wrong. A gap is a day no check ran at all, which has no interval.
      status = 'passing';
      reason = `evaluated; nothing to judge: ${checkIds.filter((id) => evaluated.has(id)).join(', ')}`;
    }
    const previous = current.get(control.id);
    // A run scoped to some accounts cannot tell that others are no longer at risk: that stays
    // until a whole evaluation (scheduled, or the next unscoped change) says otherwise.
    if (status === 'passing' && previous?.status === 'at_risk' && checkIds.some((id) => partial.has(id)))
      continue;
    if (previous?.status === status) continue;
    if (previous) {
      // A retrospective run older than the current interval does not rewrite the timeline.
      if (previous.valid_from > asOf) continue;
      await closeControlInterval(trx, workspaceId, previous.id, asOf);
    }
    await openControlInterval(trx, { workspaceId, controlId: control.id, status, at: asOf, runId, reason });
    drift.push({ control: control.template_id, from: previous?.status ?? control.status, to: status });
  }
  return drift;
}
