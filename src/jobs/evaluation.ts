/**
 * Change-triggered evaluation. Whatever stores new facts (an import, a webhook, SCIM) calls
 * `enqueueEvaluation` inside its own transaction with what it touched; the checks those facts
 * trigger are queued as one `evaluate_checks` job per workspace, so a burst of changes coalesces
 * into one pending evaluation. A worker runs it within a fraction of a second; the CLI, where no
 * worker runs, runs it inline as soon as the change commits.
 */
import type { Database, Trx } from '../db/database.ts';
import type { Actor } from '../domains/audit/actor.ts';
import { reconcileGovernance } from '../domains/governance/jml.service.ts';
import type { BatchCounts } from '../domains/ingest/ingest.repository.ts';
import type { StoredEventFacts } from '../domains/ingest/ingest-writer.ts';
import {
  checksTriggeredBy,
  isScopable,
  type RunChecksSummary,
  runChecks,
} from '../domains/monitoring/run-checks.service.ts';
import { hasEnabledChannels } from '../domains/notifications/notifications.repository.ts';
import { sweepNotifications } from '../domains/notifications/notify.service.ts';
import { enqueueJob } from './queue.ts';
import { runJobNow } from './worker.ts';

export const evaluateChecksKind = 'evaluate_checks';
export const scheduledChecksKind = 'scheduled_checks';
const allChecks = '*';

/** The facts a change touched, in the vocabulary of check triggers. */
export interface TouchedFacts {
  eventClasses: number[];
  facts: string[];
  /**
   * When the change is confined to these accounts (events naming them, nothing else), checks that
   * judge each account by its own facts re-evaluate just these accounts.
   */
  identityIds?: string[];
}

/**
 * Past this many accounts a scoped evaluation is no cheaper than a whole one: the checks then
 * run whole. (A pending evaluation absorbs the accounts of every change queued behind it.)
 */
export const maxScopedIdentities = 2000;

export interface QueuedEvaluation {
  jobId: number;
  checkIds: string[];
}

export const workerActor: Actor = { type: 'system', id: 'worker', name: 'Assay worker' };

/**
 * Queues the evaluation of the checks `touched` triggers, in the caller's transaction (so it
 * commits with the change, or not at all). Null when no check is triggered.
 */
export async function enqueueEvaluation(
  trx: Trx,
  workspaceId: string,
  touched: TouchedFacts,
  trigger = 'change',
): Promise<QueuedEvaluation | null> {
  const checkIds = checksTriggeredBy(touched);
  if (checkIds.length === 0) return null;
  const ids = touched.identityIds;
  const scoped = ids && ids.length > 0 && ids.length <= maxScopedIdentities;
  // Pending jobs merge by uniting these arrays, so a check wanted whole by any change stays whole
  // and identity governance is reconciled if any change asks for it.
  const governance = [touchesGovernance(touched) ? 'reconcile' : 'unchanged'];
  const payload = scoped
    ? {
        checkIds: checkIds.filter((id) => !isScopable(id)),
        scopedCheckIds: checkIds.filter(isScopable),
        identityIds: ids,
        triggers: [trigger],
        governance,
      }
    : { checkIds, triggers: [trigger], governance };
  const job = await enqueueJob(trx, workspaceId, evaluateChecksKind, payload, {
    dedupeKey: evaluateChecksKind,
  });
  return { jobId: job.id, checkIds };
}

/** Queues an evaluation of every check (e.g. after settings changed). */
export async function enqueueFullEvaluation(trx: Trx, workspaceId: string, trigger = 'manual') {
  return enqueueJob(
    trx,
    workspaceId,
    evaluateChecksKind,
    { checkIds: [allChecks], triggers: [trigger] },
    { dedupeKey: evaluateChecksKind },
  );
}

/**
 * What a writer's batch touched: the classes of the events it stored, the fact tables it changed
 * and, when the batch is confined to accounts, those accounts. Known from what was written,
 * without reading it back.
 */
export function touchedByWriter(writer: { counts: BatchCounts; stored: StoredEventFacts }): TouchedFacts {
  const { counts, stored } = writer;
  const facts = new Set<string>();
  let eventClasses: number[] = [];
  if (counts.eventsStored > 0) {
    eventClasses = [...stored.classUids].sort((a, b) => a - b);
    // Events name accounts, which may be new to the identity graph or change status.
    facts.add('identities');
  }
  if (counts.people > 0) facts.add('people');
  if (counts.identities > 0) {
    facts.add('identities');
    facts.add('observations');
    facts.add('identity_settings');
  }
  if (counts.entitlementChanges > 0) facts.add('entitlements');
  const touched: TouchedFacts = { eventClasses, facts: [...facts].sort() };
  if (confinedToAccounts(counts) && stored.everyEventNamesAnAccount) {
    touched.identityIds = [...stored.accounts].sort();
  }
  return touched;
}

/**
 * Sign-ins alone neither start nor end employment, change an account's status or grant access:
 * deprovisioning, onboarding and review tasks have nothing new to reconcile.
 */
function touchesGovernance(touched: TouchedFacts): boolean {
  const signInClass = 3002;
  return touched.eventClasses.some((c) => c !== signInClass) || touched.facts.some((f) => f !== 'identities');
}

/**
 * A batch of events alone (no roster, snapshot or entitlement rows) changes only what the
 * accounts its events name know: their sign-ins, lifecycle and first appearance.
 */
export function confinedToAccounts(counts: {
  eventsStored: number;
  people: number;
  identities: number;
  entitlementChanges: number;
}): boolean {
  return (
    counts.eventsStored > 0 &&
    counts.people === 0 &&
    counts.identities === 0 &&
    counts.entitlementChanges === 0
  );
}

export interface EvaluationPayload {
  checkIds?: unknown;
  scopedCheckIds?: unknown;
  identityIds?: unknown;
  governance?: unknown;
  triggers?: unknown;
  asOf?: unknown;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The `evaluate_checks` job: run the checks, then tell the subscribed channels what changed. */
export async function runEvaluation(
  database: Database,
  workspaceId: string,
  payload: EvaluationPayload,
  actor: Actor = workerActor,
  options: { countOpenFindings?: boolean } = {},
): Promise<RunChecksSummary> {
  let ids = [...new Set(strings(payload.checkIds))];
  let scopedIds = [...new Set(strings(payload.scopedCheckIds))].filter(isScopable);
  const identityIds = [...new Set(strings(payload.identityIds))];
  const triggers = strings(payload.triggers);
  if (ids.length === 0 && scopedIds.length === 0) ids = [allChecks];
  // Too many accounts merged into one job: evaluating whole is cheaper than account by account.
  if (identityIds.length === 0 || identityIds.length > maxScopedIdentities) {
    ids = [...ids, ...scopedIds];
    scopedIds = [];
  }
  const whole = ids.includes(allChecks);
  // Whether anyone is told of what the run changed, asked in the run's own transaction: most
  // workspaces have no channel, and a transaction of its own would cost more than the question.
  let channels = false;
  const summary = await runChecks(database, actor, workspaceId, {
    checkIds: whole ? undefined : ids.sort(),
    identityScope: whole || scopedIds.length === 0 ? undefined : { checkIds: scopedIds.sort(), identityIds },
    asOf: typeof payload.asOf === 'string' ? new Date(payload.asOf) : undefined,
    trigger: [...new Set(triggers)].sort().join(',') || 'change',
    // Someone waiting on the run (the CLI) is told how many findings are open; a worker is not asked.
    countOpenFindings: options.countOpenFindings ?? false,
    alsoInTransaction: async (trx) => {
      channels = await hasEnabledChannels(trx, workspaceId);
    },
  });
  // New facts may open, confirm or flag deprovisioning and revocation tasks.
  const governance = strings(payload.governance);
  if (governance.length === 0 || governance.includes('reconcile')) {
    await reconcileGovernance(database, workspaceId, actor, { asOf: new Date(summary.asOf) });
  }
  // A channel enabled after the run's transaction hears of it at the next sweep.
  if (channels) await sweepNotifications(database, workspaceId);
  return summary;
}

export type InlineEvaluation =
  | { status: 'evaluated'; summary: RunChecksSummary }
  | { status: 'queued'; jobId: number; reason: string }
  | { status: 'none' };

/**
 * Where no worker runs (the CLI), runs a queued evaluation now, in this process. If a server's
 * worker already holds it, or it fails, it stays with the queue and the result says so.
 */
export async function runQueuedEvaluationNow(
  database: Database,
  evaluation: QueuedEvaluation | null,
  actor: Actor,
  leaseSeconds: number,
): Promise<InlineEvaluation> {
  if (!evaluation) return { status: 'none' };
  const outcome = await runJobNow(
    database,
    evaluation.jobId,
    (job) => runEvaluation(database, job.workspaceId, job.payload, actor, { countOpenFindings: true }),
    { leaseSeconds },
  );
  if (!outcome) return { status: 'queued', jobId: evaluation.jobId, reason: 'a worker is evaluating it' };
  if ('error' in outcome) {
    return {
      status: 'queued',
      jobId: evaluation.jobId,
      reason: `evaluation failed and will be retried: ${outcome.error.message}`,
    };
  }
  return { status: 'evaluated', summary: outcome.value };
}
