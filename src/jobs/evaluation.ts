/**
 * Change-triggered evaluation. Whatever stores new facts (an import, a webhook, SCIM) calls
 * `enqueueEvaluation` inside its own transaction with what it touched; the checks those facts
 * trigger are queued as one `evaluate_checks` job per workspace, so a burst of changes coalesces
 * into one pending evaluation. A worker runs it within a fraction of a second; the CLI, where no
 * worker runs, runs it inline as soon as the change commits.
 */
import { sql } from 'kysely';
import type { Database, Trx } from '../db/database.ts';
import type { Actor } from '../domains/audit/actor.ts';
import { reconcileGovernance } from '../domains/governance/jml.service.ts';
import {
  checksTriggeredBy,
  type RunChecksSummary,
  runChecks,
} from '../domains/monitoring/run-checks.service.ts';
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
}

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
  const job = await enqueueJob(
    trx,
    workspaceId,
    evaluateChecksKind,
    { checkIds, triggers: [trigger] },
    { dedupeKey: evaluateChecksKind },
  );
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

/** What an import batch touched: the classes of the events it stored, and the fact tables it changed. */
export async function touchedByImport(
  trx: Trx,
  workspaceId: string,
  batchId: string,
  counts: { eventsStored: number; people: number; identities: number; entitlementChanges: number },
): Promise<TouchedFacts> {
  const facts = new Set<string>();
  let eventClasses: number[] = [];
  if (counts.eventsStored > 0) {
    const { rows } = await sql<{ class_uid: number }>`
      select distinct class_uid from events where workspace_id = ${workspaceId} and batch_id = ${batchId}
      order by class_uid`.execute(trx);
    eventClasses = rows.map((r) => r.class_uid);
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
  return { eventClasses, facts: [...facts].sort() };
}

export interface EvaluationPayload {
  checkIds?: unknown;
  triggers?: unknown;
  asOf?: unknown;
}

/** The `evaluate_checks` job: run the checks, then tell the subscribed channels what changed. */
export async function runEvaluation(
  database: Database,
  workspaceId: string,
  payload: EvaluationPayload,
  actor: Actor = workerActor,
): Promise<RunChecksSummary> {
  const ids = Array.isArray(payload.checkIds)
    ? payload.checkIds.filter((c): c is string => typeof c === 'string')
    : [];
  const triggers = Array.isArray(payload.triggers)
    ? payload.triggers.filter((t) => typeof t === 'string')
    : [];
  const summary = await runChecks(database, actor, workspaceId, {
    checkIds: ids.length === 0 || ids.includes(allChecks) ? undefined : ids.sort(),
    asOf: typeof payload.asOf === 'string' ? new Date(payload.asOf) : undefined,
    trigger: [...new Set(triggers)].sort().join(',') || 'change',
  });
  // New facts may open, confirm or flag deprovisioning and revocation tasks.
  await reconcileGovernance(database, workspaceId, actor, { asOf: new Date(summary.asOf) });
  await sweepNotifications(database, workspaceId);
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
    (job) => runEvaluation(database, job.workspaceId, job.payload, actor),
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
