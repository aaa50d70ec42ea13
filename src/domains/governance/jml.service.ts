/**
 * Leavers: a termination (HR end date or status, or the person's IdP account deactivated —
 * whichever comes first) opens one deprovisioning task per account the person still held, due
 * within the deprovisioning deadline. A task closes only when a source confirms the account
 * disabled or removed (an account-change event, a directory snapshot, or a full credential report
 * that no longer lists it), and the time-to-revoke goes into the evidence ledger. Past the
 * deadline the `identity.leaver_access_removed` check holds the finding; the task links to it.
 *
 * Reconciliation is idempotent and runs as of an instant: after each change-triggered evaluation
 * and on demand (`assay jml evaluate`).
 */
import type { Database, Trx } from '../../db/database.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { Facts, type IdentityView } from '../monitoring/facts.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import {
  confirmDelegatedRevocations,
  confirmRevocations,
  delegatedAccess,
  launchDueCampaigns,
  remindOverdueReviewers,
  revokeDelegatedKind,
} from './campaigns.service.ts';
import { loadGovernanceSettings } from './governance-settings.ts';
import {
  findAccountListing,
  findCheckSetting,
  findLiveFindingOfPerson,
  insertDeprovisioningTask,
} from './jml.repository.ts';
import { onboardingKinds, reconcileJoiners } from './joiners.service.ts';
import { reconcileMovers } from './movers.service.ts';
import {
  linkTasksToFinding,
  listOpenTasks,
  listTasksOfKinds,
  type TaskListFilter,
} from './tasks.repository.ts';
import { completeTaskWithEvidence } from './tasks.service.ts';

const hour = 3600 * 1000;
export const deprovisionKind = 'deprovision_account';
export const leaverCheckId = 'identity.leaver_access_removed';
export const defaultDeadlineHours = 24;

/** Systems whose deactivation of a person's account counts as a termination signal. */
export function isIdentityProvider(system: string): boolean {
  return /^(scim:|okta|entra|azure|google|onelogin|jumpcloud)/i.test(system);
}

/** Systems whose snapshots are complete: an account missing from a newer one was removed. */
function hasFullSnapshots(system: string): boolean {
  return system.startsWith('aws-iam:');
}

export interface ReconcileSummary {
  asOf: string;
  tasksOpened: number;
  tasksConfirmed: number;
  overdue: number;
  revocationsConfirmed: number;
  reviewRemindersOpened: number;
  onboardingOpened: number;
  onboardingCompleted: number;
  onboardingOverdue: number;
  moversDetected: number;
  moverReviewsLaunched: number;
  recurringCampaignsLaunched: number;
  delegatedRevocationsConfirmed: number;
}

interface DeprovisionDetails {
  subjectKey: string;
  personId: string;
  personEmail: string;
  identityId: string;
  system: string;
  account: string;
  terminatedAt: string;
  trigger: 'hr' | 'idp_deactivation';
  deadlineHours: number;
  confirmation?: { at: string; source: string; timeToRevokeSeconds: number; withinDeadline: boolean };
  evidenceId?: string;
}

export async function deprovisioningDeadlineHours(trx: Trx, workspaceId: string): Promise<number> {
  const settings = await findCheckSetting(trx, workspaceId, leaverCheckId);
  const value = Number(settings?.deadlineHours);
  return Number.isFinite(value) && value > 0 ? value : defaultDeadlineHours;
}

const accountName = (i: IdentityView) => i.userName ?? i.email ?? i.externalId;

/** When an account stopped being usable, and who says so; null while it is still usable. */
async function removalOf(
  trx: Trx,
  workspaceId: string,
  identity: IdentityView,
  since: Date,
  asOf: Date,
): Promise<{ at: Date; source: string } | null> {
  if (identity.status !== 'active') {
    return {
      at: identity.statusSince ?? asOf,
      source: identity.snapshot ? `${identity.system} (${identity.snapshot.source})` : identity.system,
    };
  }
  if (!hasFullSnapshots(identity.system)) return null;
  // The newest complete report of the system; an account it no longer lists is gone.
  const row = await findAccountListing(trx, workspaceId, identity.system, identity.id, asOf);
  if (!row?.reported_at || !row.listed_at) return null;
  const reportedAt = new Date(row.reported_at);
  if (reportedAt > since && new Date(row.listed_at) < reportedAt) {
    return { at: reportedAt, source: `${identity.system} (credential report without the account)` };
  }
  return null;
}

/** Opens, confirms and flags deprovisioning tasks as the facts stand at `asOf`. */
export async function reconcileLeavers(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  asOf: Date,
  facts: Facts = new Facts(trx, workspaceId, asOf),
): Promise<ReconcileSummary> {
  const [people, identities] = await Promise.all([facts.people(), facts.identities()]);
  const deadlineHours = await deprovisioningDeadlineHours(trx, workspaceId);
  const summary: ReconcileSummary = {
    asOf: asOf.toISOString(),
    tasksOpened: 0,
    tasksConfirmed: 0,
    overdue: 0,
    revocationsConfirmed: 0,
    reviewRemindersOpened: 0,
    onboardingOpened: 0,
    onboardingCompleted: 0,
    onboardingOverdue: 0,
    moversDetected: 0,
    moverReviewsLaunched: 0,
    recurringCampaignsLaunched: 0,
    delegatedRevocationsConfirmed: 0,
  };
  const byPerson = new Map<string, IdentityView[]>();
  for (const identity of identities) {
    if (!identity.person) continue;
    byPerson.set(identity.person.id, [...(byPerson.get(identity.person.id) ?? []), identity]);
  }

  for (const person of people) {
    const accounts = byPerson.get(person.id) ?? [];
    // The earliest termination signal: HR, or the IdP taking away the person's only directory account.
    const idp = accounts.filter((a) => isIdentityProvider(a.system));
    const idpDeactivated =
      idp.length > 0 && idp.every((a) => a.status !== 'active' && a.statusSince)
        ? new Date(Math.min(...idp.map((a) => a.statusSince!.getTime())))
        : null;
    const candidates: { at: Date; trigger: DeprovisionDetails['trigger'] }[] = [];
    if (person.terminatedAt) candidates.push({ at: person.terminatedAt, trigger: 'hr' });
    if (idpDeactivated && person.status !== 'on_leave') {
      candidates.push({ at: idpDeactivated, trigger: 'idp_deactivation' });
    }
    candidates.sort((a, b) => a.at.getTime() - b.at.getTime());
    const termination = candidates[0];
    if (!termination) continue;
    for (const account of accounts) {
      // Accounts already unusable before the termination need no task.
      if (account.status !== 'active' && account.statusSince && account.statusSince <= termination.at)
        continue;
      if (account.firstSeenAt > asOf) continue;
      const details: DeprovisionDetails = {
        subjectKey: `deprovision:${account.id}`,
        personId: person.id,
        personEmail: person.email,
        identityId: account.id,
        system: account.system,
        account: accountName(account),
        terminatedAt: termination.at.toISOString(),
        trigger: termination.trigger,
        deadlineHours,
      };
      const taskId = await insertDeprovisioningTask(trx, workspaceId, {
        kind: deprovisionKind,
        title: `Remove ${details.account} from ${account.system} (${person.email} left)`,
        assignee: person.managerEmail,
        dueAt: new Date(termination.at.getTime() + deadlineHours * hour),
        details,
      });
      if (taskId) {
        summary.tasksOpened++;
        await recordAudit(trx, {
          workspaceId,
          actor,
          action: 'governance.deprovisioning_task_opened',
          targetType: 'task',
          targetId: taskId,
          details: { ...details },
        });
      }
    }
  }

  const open = await listOpenTasks(trx, workspaceId, deprovisionKind);
  const byId = new Map(identities.map((i) => [i.id, i]));
  for (const task of open) {
    const details = task.details as unknown as DeprovisionDetails;
    const identity = byId.get(details.identityId);
    const terminatedAt = new Date(details.terminatedAt);
    const removal = identity ? await removalOf(trx, workspaceId, identity, terminatedAt, asOf) : null;
    if (removal) {
      const at = removal.at < terminatedAt ? terminatedAt : removal.at;
      const seconds = Math.round((at.getTime() - terminatedAt.getTime()) / 1000);
      const confirmation = {
        at: at.toISOString(),
        source: removal.source,
        timeToRevokeSeconds: seconds,
        withinDeadline: seconds <= details.deadlineHours * 3600,
      };
      await completeTaskWithEvidence(trx, workspaceId, actor, task.id, {
        at,
        evidence: {
          kind: 'identity.deprovisioning_confirmed',
          controls: [],
          criteria: ['CC6.2', 'CC6.3'],
          subject: { type: 'account', id: details.identityId, name: `${details.system}/${details.account}` },
          effectiveAt: at,
          collector: { type: 'system', id: 'assay.governance', name: 'Assay identity governance' },
          content: { task: task.id, person: details.personEmail, ...details, confirmation },
        },
        details: { ...details, confirmation },
        audit: { action: 'governance.deprovisioning_confirmed', details: { ...confirmation } },
      });
      summary.tasksConfirmed++;
    } else if (task.due_at && task.due_at <= asOf) {
      summary.overdue++;
      if (!task.finding_id) {
        // The leaver check holds the finding for the person; the overdue task points to it.
        const finding = await findLiveFindingOfPerson(trx, workspaceId, leaverCheckId, details.personId);
        if (finding) await linkTasksToFinding(trx, workspaceId, [task.id], finding.id);
      }
    }
  }
  summary.revocationsConfirmed = await confirmRevocations(trx, workspaceId, actor, asOf);
  summary.reviewRemindersOpened = await remindOverdueReviewers(trx, workspaceId, actor, asOf);
  return summary;
}

/**
 * The governance reaction to new facts: the hook after each change-triggered evaluation, and the
 * explicit `assay jml evaluate` / `POST …/governance/evaluate`.
 */
export async function reconcileGovernance(
  database: Database,
  workspaceRef: string,
  actor: Actor,
  options: { asOf?: Date | undefined } = {},
): Promise<ReconcileSummary> {
  const workspace = await getWorkspace(database, workspaceRef);
  const asOf = options.asOf ?? new Date();
  // Recurring campaigns due by now launch first, each in its own snapshot.
  const launched = await launchDueCampaigns(database, workspace, actor, asOf);
  // Who of the MSP's staff still reaches this client (read in the MSP's own workspace).
  const reach = workspace.parent_id ? await delegatedAccess(database, workspace) : [];
  return database.inWorkspace(workspace.id, async (trx) => {
    const facts = new Facts(trx, workspace.id, asOf);
    const summary = await reconcileLeavers(trx, workspace.id, actor, asOf, facts);
    const settings = await loadGovernanceSettings(trx, workspace.id);
    const joiners = await reconcileJoiners(trx, workspace.id, actor, asOf, facts, settings);
    const movers = await reconcileMovers(trx, workspace.id, actor, asOf, facts, settings);
    const delegated = workspace.parent_id
      ? await confirmDelegatedRevocations(trx, workspace.id, actor, asOf, reach)
      : 0;
    return {
      ...summary,
      ...joiners,
      ...movers,
      recurringCampaignsLaunched: launched,
      delegatedRevocationsConfirmed: delegated,
    };
  });
}

export type TaskFilter = Pick<TaskListFilter, 'kind' | 'status'>;

/** Deprovisioning and revocation tasks with their confirmations. */
export async function listGovernanceTasks(database: Database, workspaceRef: string, filter: TaskFilter = {}) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) =>
    listTasksOfKinds(
      trx,
      workspace.id,
      [
        deprovisionKind,
        'revoke_entitlement',
        'access_review_overdue',
        revokeDelegatedKind,
        ...onboardingKinds,
      ],
      { kind: filter.kind, status: filter.status },
    ),
  );
}
