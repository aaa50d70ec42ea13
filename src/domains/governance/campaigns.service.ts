/**
 * Access review campaigns. At launch the entitlements in scope are snapshotted (people's
 * accounts, non-human identities, and the access an MSP's staff hold into this workspace); the
 * snapshot is never refreshed, so later changes are surfaced beside it rather than mixed in.
 * Reviewers (the person's manager, the identity's owner, or a fallback reviewer; delegable)
 * decide keep / revoke / modify with a justification; a revocation becomes a task that closes only
 * when a source confirms the entitlement gone. Sign-off records who, when and the SHA-256 of every
 * decision in the evidence ledger.
 */
import { randomUUID } from 'node:crypto';
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { appendEvidence } from '../evidence/append-evidence.ts';
import { canonicalize, sha256Hex } from '../evidence/core/canonical-json.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import {
  type CampaignRow,
  claimCampaignsDueToLaunch,
  closeAnsweredReminder,
  countItemsByCampaign,
  findCampaign,
  findCampaignItem,
  findEntitlementRemoval,
  findManagerOf,
  findSeriesScheduleHolder,
  getCampaignById,
  type ItemRow,
  insertCampaign,
  insertCampaignItems,
  listActiveAccountsAt,
  listCampaignItems,
  listCampaigns as listCampaignRows,
  listCampaignsDueToLaunch,
  listDelegatedMemberships,
  listEntitlementChangesSinceLaunch,
  listLatestEntitlementChangesAt,
  listOverdueReviewersWithoutReminder,
  reassignUndecidedItems,
  recordItemConfirmation,
  recordItemDecision,
  releaseSavepoint,
  rollbackToSavepoint,
  savepoint,
  setNextLaunch,
  updateCampaign,
} from './campaigns.repository.ts';
import type { AccessReviewItemsTable, Recurrence } from './governance.tables.ts';
import { insertTask, listOpenTasks } from './tasks.repository.ts';
import { completeTaskWithEvidence } from './tasks.service.ts';

export type { CampaignRow, ItemRow };

const day = 24 * 3600 * 1000;
export const revokeKind = 'revoke_entitlement';
export const revokeDelegatedKind = 'revoke_delegated_access';
export const overdueReviewKind = 'access_review_overdue';
export const recurrences: readonly Recurrence[] = ['monthly', 'quarterly', 'annually'];
const recurrenceMonths: Record<Recurrence, number> = { monthly: 1, quarterly: 3, annually: 12 };
const accountAccess = '(account access)';
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CampaignScope {
  systems?: string[] | undefined;
  groups?: string[] | undefined;
  privilegedOnly?: boolean | undefined;
  people?: string[] | undefined;
  includeNonHuman?: boolean | undefined;
  includeDelegated?: boolean | undefined;
}

export interface LaunchInput {
  name: string;
  scope?: CampaignScope | undefined;
  /** Reviewer for items with no manager or owner (e.g. the system owner). */
  fallbackReviewer: string;
  dueInDays?: number | undefined;
  /** Launch the next campaign of the series this often (each with its own snapshot). */
  recurrence?: Recurrence | undefined;
}

export type Decision = 'keep' | 'revoke' | 'modify';
export const decisions: readonly Decision[] = ['keep', 'revoke', 'modify'];

function bad(field: string, message: string): never {
  throw new AssayError('validation_failed', `${field}: ${message}`, { field });
}

function validateLaunch(input: LaunchInput) {
  if (typeof input.name !== 'string' || input.name.trim() === '') bad('name', 'required');
  if (typeof input.fallbackReviewer !== 'string' || !input.fallbackReviewer.includes('@')) {
    bad('fallbackReviewer', 'an email address is required (the reviewer of items with no manager or owner)');
  }
  const due = input.dueInDays ?? 14;
  if (!Number.isInteger(due) || due < 1 || due > 365)
    bad('dueInDays', 'a whole number of days from 1 to 365');
  if (input.recurrence !== undefined && !recurrences.includes(input.recurrence)) {
    bad('recurrence', `one of ${recurrences.join(', ')}`);
  }
  for (const key of ['systems', 'groups', 'people'] as const) {
    const list = input.scope?.[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || v === ''))) {
      bad(`scope.${key}`, 'a list of non-empty names');
    }
  }
  return due;
}

export interface SnapshotItem {
  identity_id: string | null;
  subject_type: AccessReviewItemsTable['subject_type'];
  system: string;
  account: string;
  person_email: string | null;
  owner: string | null;
  entitlement: string;
  privileged: boolean;
  granted_at: Date | null;
  reviewer: string;
}

/** The entitlements in scope as they stand at `at`: latest change per account and name that granted. */
export async function snapshot(
  trx: Trx,
  workspaceId: string,
  scope: CampaignScope,
  at: Date,
  fallback: string,
): Promise<SnapshotItem[]> {
  const accounts = await listActiveAccountsAt(trx, workspaceId, at);
  const held = await listLatestEntitlementChangesAt(trx, workspaceId, at);
  const byIdentity = new Map<string, typeof held>();
  for (const h of held)
    if (h.granted) byIdentity.set(h.identity_id, [...(byIdentity.get(h.identity_id) ?? []), h]);
  const people = new Set((scope.people ?? []).map((p) => p.toLowerCase()));
  const items: SnapshotItem[] = [];
  for (const a of accounts) {
    const nonHuman = a.non_human || a.principal_type === 'service';
    if (nonHuman && scope.includeNonHuman === false) continue;
    if (scope.systems && !scope.systems.includes(a.system)) continue;
    if (
      people.size > 0 &&
      ![a.person_email, a.person_email ? null : a.email, a.person_email ? null : a.user_name].some(
        (e) => e && people.has(e.toLowerCase()),
      )
    )
      continue;
    const entitlements = (byIdentity.get(a.id) ?? []).map((h) => ({
      name: h.name,
      privileged: h.privileged,
      at: new Date(h.at) as Date | null,
    }));
    // An account with no group or role is still access to review.
    if (entitlements.length === 0) entitlements.push({ name: accountAccess, privileged: false, at: null });
    for (const e of entitlements) {
      if (scope.groups && !scope.groups.includes(e.name)) continue;
      if (scope.privilegedOnly && !e.privileged) continue;
      items.push({
        identity_id: a.id,
        subject_type: nonHuman ? 'non_human' : a.person_email ? 'person' : 'unlinked',
        system: a.system,
        account: a.user_name ?? a.email ?? a.external_id,
        person_email: a.person_email,
        owner: a.owner,
        entitlement: e.name,
        privileged: e.privileged,
        granted_at: e.at,
        reviewer: (nonHuman ? a.owner : a.manager_email) ?? fallback,
      });
    }
  }
  return items;
}

/** The MSP staff whose memberships reach this (client) workspace: access held by outsiders. */
export async function delegatedAccess(
  database: Database,
  workspace: { id: string; parent_id: string | null },
) {
  if (!workspace.parent_id) return [];
  const parentId = workspace.parent_id;
  return database.inWorkspace(parentId, (trx) => listDelegatedMemberships(trx, parentId, workspace.id));
}

type Delegated = Awaited<ReturnType<typeof delegatedAccess>>;

/** A scope that reviews everything also reviews the MSP staff's delegated access. */
export function wantsDelegated(scope: CampaignScope): boolean {
  return !(
    scope.includeDelegated === false ||
    scope.systems ||
    scope.people ||
    scope.groups ||
    scope.privilegedOnly
  );
}

/** The next launch of a series: a whole number of periods after `from`, strictly after `asOf`. */
export function nextLaunch(from: Date, recurrence: Recurrence, asOf: Date): Date {
  const months = recurrenceMonths[recurrence];
  let n = 1;
  let next = addMonthsUtc(from, months);
  while (next <= asOf && n < 1200) {
    n++;
    next = addMonthsUtc(from, months * n);
  }
  return next;
}

function addMonthsUtc(date: Date, months: number): Date {
  const d = new Date(date.getTime());
  const dayOfMonth = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(dayOfMonth, last));
  return d;
}

export interface LaunchOptions {
  kind?: 'review' | 'mover';
  subjectEmail?: string | null;
  moverChange?: Record<string, unknown> | null;
  /** Every item reviewed by this person (a mover review: the new manager). */
  reviewer?: string | undefined;
  /** Part of a series already (a recurring launch). */
  seriesId?: string | undefined;
  seriesName?: string | undefined;
  /** When the series launches next (default: one period after this launch). */
  nextLaunchAt?: Date | undefined;
  /** Items to flag, by `system\u0000entitlement`. */
  flag?: ((item: SnapshotItem) => { flag: string; reason: string } | null) | undefined;
}

/** Snapshots and stores a campaign inside the caller's transaction. */
export async function launchIn(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  input: LaunchInput,
  delegated: Delegated,
  launchedAt: Date,
  options: LaunchOptions = {},
) {
  const dueInDays = input.dueInDays ?? 14;
  const scope: CampaignScope = input.scope ?? {};
  const items = await snapshot(trx, workspaceId, scope, launchedAt, input.fallbackReviewer);
  for (const d of delegated) {
    items.push({
      identity_id: null,
      subject_type: 'delegated',
      system: 'assay (MSP delegated access)',
      account: d.email,
      person_email: d.email,
      owner: null,
      entitlement: `msp:${d.role}`,
      privileged: ['owner', 'admin'].includes(d.role),
      granted_at: new Date(d.created_at),
      reviewer: input.fallbackReviewer,
    });
  }
  if (items.length === 0) bad('scope', 'nothing in scope: no active account matches');
  if (options.reviewer) for (const i of items) i.reviewer = options.reviewer;
  const snapshotSha256 = sha256Hex(
    canonicalize(items.map((i) => ({ ...i, granted_at: i.granted_at?.toISOString() ?? null }))),
  );
  const id = randomUUID();
  const campaign = await insertCampaign(trx, workspaceId, {
    id,
    name: input.name.trim(),
    scope: JSON.stringify(scope),
    status: 'open',
    launched_at: launchedAt,
    launched_by: actor.name ?? actor.id,
    due_at: new Date(launchedAt.getTime() + dueInDays * day),
    snapshot_sha256: snapshotSha256,
    kind: options.kind ?? 'review',
    subject_email: options.subjectEmail ?? null,
    mover_change: options.moverChange ? JSON.stringify(options.moverChange) : null,
    fallback_reviewer: input.fallbackReviewer,
    due_in_days: dueInDays,
    recurrence: input.recurrence ?? null,
    series_id: input.recurrence ? (options.seriesId ?? id) : null,
    series_name: input.recurrence ? (options.seriesName ?? input.name.trim()) : null,
    next_launch_at: input.recurrence
      ? (options.nextLaunchAt ?? nextLaunch(launchedAt, input.recurrence, launchedAt))
      : null,
  });
  await insertCampaignItems(
    trx,
    workspaceId,
    items.map((i) => {
      const flag = options.flag?.(i) ?? null;
      return {
        ...i,
        campaign_id: campaign.id,
        flag: flag?.flag ?? null,
        flag_reason: flag?.reason ?? null,
      };
    }),
  );
  await recordAudit(trx, {
    workspaceId,
    actor,
    action: 'governance.campaign_launched',
    targetType: 'access_review_campaign',
    targetId: campaign.id,
    details: {
      name: campaign.name,
      kind: campaign.kind,
      scope: { ...scope },
      items: items.length,
      snapshotSha256,
      recurrence: campaign.recurrence,
      seriesId: campaign.series_id,
    },
  });
  return campaign;
}

export async function launchCampaign(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: LaunchInput,
) {
  validateLaunch(input);
  const workspace = await getWorkspace(database, workspaceRef);
  const scope: CampaignScope = input.scope ?? {};
  const launchedAt = new Date();
  const delegated = wantsDelegated(scope) ? await delegatedAccess(database, workspace) : [];
  return database.inWorkspace(workspace.id, (trx) =>
    launchIn(trx, workspace.id, actor, input, delegated, launchedAt),
  );
}

/**
 * The scheduler's part of recurring campaigns: each series whose next launch is due launches its
 * next campaign (a fresh snapshot of the same scope) and hands the schedule on to it. Rows are
 * claimed with SKIP LOCKED, so two processes never launch the same one twice.
 */
export async function launchDueCampaigns(
  database: Database,
  workspace: { id: string; parent_id: string | null },
  actor: Actor,
  asOf: Date,
): Promise<number> {
  const due = await database.inWorkspace(workspace.id, (trx) =>
    listCampaignsDueToLaunch(trx, workspace.id, asOf),
  );
  if (due.length === 0) return 0;
  const needsDelegated = due.some((c) => wantsDelegated(c.scope as CampaignScope));
  const delegated = needsDelegated ? await delegatedAccess(database, workspace) : [];
  return database.inWorkspace(workspace.id, async (trx) => {
    const rows = await claimCampaignsDueToLaunch(trx, workspace.id, asOf);
    let launched = 0;
    for (const { id } of rows) {
      const previous = await getCampaignById(trx, workspace.id, id);
      const recurrence = previous.recurrence;
      if (!recurrence || !previous.next_launch_at) continue;
      const scope = previous.scope as CampaignScope;
      const seriesName = previous.series_name ?? previous.name;
      await setNextLaunch(trx, workspace.id, previous.id, null);
      try {
        await savepoint(trx, 'recurring_launch');
        await launchIn(
          trx,
          workspace.id,
          actor,
          {
            name: `${seriesName} ${periodLabel(asOf, recurrence)}`,
            scope,
            fallbackReviewer: previous.fallback_reviewer ?? previous.launched_by,
            dueInDays: previous.due_in_days ?? 14,
            recurrence,
          },
          wantsDelegated(scope) ? delegated : [],
          asOf,
          {
            seriesId: previous.series_id ?? previous.id,
            seriesName,
            // The cadence keeps to the series' schedule, however late this launch ran.
            nextLaunchAt: nextLaunch(previous.next_launch_at, recurrence, asOf),
          },
        );
        await releaseSavepoint(trx, 'recurring_launch');
        launched++;
      } catch (error) {
        if (!(error instanceof AssayError) || error.code !== 'validation_failed') throw error;
        // Nothing in scope this period: the series waits for the next one instead of failing.
        await rollbackToSavepoint(trx, 'recurring_launch');
        await setNextLaunch(
          trx,
          workspace.id,
          previous.id,
          nextLaunch(previous.next_launch_at, recurrence, asOf),
        );
        await recordAudit(trx, {
          workspaceId: workspace.id,
          actor,
          action: 'governance.recurring_campaign_skipped',
          targetType: 'access_review_campaign',
          targetId: previous.id,
          details: { reason: (error as Error).message },
        });
      }
    }
    return launched;
  });
}

function periodLabel(at: Date, recurrence: Recurrence): string {
  const year = at.getUTCFullYear();
  if (recurrence === 'annually') return String(year);
  if (recurrence === 'quarterly') return `${year}-Q${Math.floor(at.getUTCMonth() / 3) + 1}`;
  return `${year}-${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Starts, changes or stops a campaign's recurrence (on the series' latest campaign). */
export async function setRecurrence(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  campaignId: string,
  recurrence: Recurrence | 'none',
) {
  if (recurrence !== 'none' && !recurrences.includes(recurrence)) {
    bad('recurrence', `one of ${recurrences.join(', ')} or none`);
  }
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const campaign = await loadCampaign(trx, workspace.id, workspace.slug, campaignId);
    if (campaign.kind === 'mover') bad('recurrence', 'a mover review does not recur');
    // The series' campaign holding the schedule (else its latest) carries the recurrence.
    const latest = campaign.series_id
      ? await findSeriesScheduleHolder(trx, workspace.id, campaign.series_id)
      : campaign;
    const now = new Date();
    const updated = await updateCampaign(
      trx,
      workspace.id,
      latest.id,
      recurrence === 'none'
        ? { recurrence: null, next_launch_at: null }
        : {
            recurrence,
            series_id: latest.series_id ?? latest.id,
            series_name: latest.series_name ?? latest.name,
            fallback_reviewer: latest.fallback_reviewer ?? latest.launched_by,
            next_launch_at: nextLaunch(new Date(latest.launched_at), recurrence, now),
          },
    );
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'governance.campaign_recurrence_set',
      targetType: 'access_review_campaign',
      targetId: latest.id,
      details: { recurrence, nextLaunchAt: updated.next_launch_at?.toISOString() ?? null },
    });
    return updated;
  });
}

async function loadCampaign(trx: Trx, workspaceId: string, slug: string, id: string): Promise<CampaignRow> {
  const row = uuidPattern.test(id) ? await findCampaign(trx, workspaceId, id) : undefined;
  if (!row)
    throw new AssayError('campaign_not_found', `access review campaign "${id}" does not exist in "${slug}"`);
  return row;
}

/** Entitlement changes to in-scope accounts after launch: not under review, but shown. */
async function changesSinceLaunch(trx: Trx, workspaceId: string, campaign: CampaignRow) {
  const rows = await listEntitlementChangesSinceLaunch(trx, workspaceId, campaign.id, campaign.launched_at);
  return rows.map((r) => ({ ...r, at: new Date(r.at) }));
}

export async function listCampaigns(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const campaigns = await listCampaignRows(trx, workspace.id);
    const counts = await countItemsByCampaign(trx, workspace.id);
    const byId = new Map(counts.map((c) => [c.campaign_id, c]));
    return campaigns.map((c) => ({
      campaign: c,
      items: byId.get(c.id)?.items ?? 0,
      decided: byId.get(c.id)?.decided ?? 0,
    }));
  });
}

export async function getCampaign(database: Database, workspaceRef: string, id: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const campaign = await loadCampaign(trx, workspace.id, workspace.slug, id);
    const items = await listCampaignItems(trx, workspace.id, campaign.id);
    const changes = await changesSinceLaunch(trx, workspace.id, campaign);
    return { workspace: workspace.slug, campaign, items, changesSinceLaunch: changes };
  });
}

export interface DecideInput {
  item: string;
  decision: Decision;
  justification: string;
  /** Who decides (email); must be the item's reviewer or the reviewer it was delegated to. */
  reviewer: string;
}

export async function decideItem(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  campaignId: string,
  input: DecideInput,
) {
  if (!decisions.includes(input.decision)) bad('decision', `one of ${decisions.join(', ')}`);
  if (typeof input.justification !== 'string' || input.justification.trim().length < 3) {
    bad('justification', 'required: say why (at least 3 characters)');
  }
  if (typeof input.reviewer !== 'string' || !input.reviewer.includes('@'))
    bad('reviewer', 'an email address');
  if (!uuidPattern.test(input.item)) bad('item', `"${input.item}" is not an item id`);
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const campaign = await loadCampaign(trx, workspace.id, workspace.slug, campaignId);
    if (campaign.status !== 'open') {
      throw new AssayError(
        'campaign_state_invalid',
        `campaign "${campaign.name}" is signed off; decisions are final`,
      );
    }
    if (campaign.kind === 'mover' && input.decision === 'modify') {
      bad('decision', 'keep or revoke in a mover review');
    }
    const item = await findCampaignItem(trx, workspace.id, campaign.id, input.item);
    if (!item) bad('item', `"${input.item}" is not an item of campaign "${campaign.name}"`);
    if (item.reviewer.toLowerCase() !== input.reviewer.toLowerCase()) {
      bad('reviewer', `${input.reviewer} is not the reviewer of this item (${item.reviewer} is)`);
    }
    const decidedAt = new Date();
    let taskId: string | null = item.task_id;
    const revocation =
      input.decision === 'revoke' && !taskId ? revocationTask(campaign, item, decidedAt) : null;
    if (revocation) {
      const task = await insertTask(trx, workspace.id, {
        kind: revocation.kind,
        title: revocation.title,
        finding_id: null,
        assignee: input.reviewer,
        status: 'open',
        due_at: new Date(decidedAt.getTime() + 7 * day),
        completed_at: null,
        details: JSON.stringify(revocation.details),
      });
      taskId = task.id;
    }
    const updated = await recordItemDecision(trx, workspace.id, item.id, {
      decision: input.decision,
      justification: input.justification.trim(),
      decided_by: input.reviewer,
      decided_at: decidedAt,
      task_id: taskId,
    });
    // A reviewer with nothing left to decide has answered their reminder.
    await closeAnsweredReminder(trx, workspace.id, overdueReviewKind, campaign.id, item.reviewer, decidedAt);
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'governance.review_decided',
      targetType: 'access_review_item',
      targetId: item.id,
      details: { campaign: campaign.id, decision: input.decision, reviewer: input.reviewer, taskId },
    });
    return updated;
  });
}

/** Hands an item (or all of a reviewer's open items) to another reviewer. */
export async function delegateItems(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  campaignId: string,
  input: { from: string; to: string },
) {
  if (typeof input.to !== 'string' || !input.to.includes('@')) bad('to', 'an email address');
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const campaign = await loadCampaign(trx, workspace.id, workspace.slug, campaignId);
    if (campaign.status !== 'open') throw new AssayError('campaign_state_invalid', 'campaign is signed off');
    const rows = await reassignUndecidedItems(trx, workspace.id, campaign.id, input.from, input.to);
    if (rows.length === 0) bad('from', `${input.from} has no undecided items in this campaign`);
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'governance.review_delegated',
      targetType: 'access_review_campaign',
      targetId: campaign.id,
      details: { from: input.from, to: input.to, items: rows.length },
    });
    return { delegated: rows.length };
  });
}

/** The decisions as signed: canonical, in a stable order. */
export function decisionsDocument(campaign: CampaignRow, items: ItemRow[]) {
  return {
    campaign: campaign.id,
    snapshotSha256: campaign.snapshot_sha256,
    decisions: items
      .map((i) => ({
        item: i.id,
        system: i.system,
        account: i.account,
        entitlement: i.entitlement,
        reviewer: i.decided_by,
        decision: i.decision,
        justification: i.justification,
        decidedAt: i.decided_at ? new Date(i.decided_at).toISOString() : null,
      }))
      .sort((a, b) => a.item.localeCompare(b.item)),
  };
}

export async function signOffCampaign(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  campaignId: string,
  input: { signer: string },
) {
  if (typeof input.signer !== 'string' || !input.signer.includes('@')) bad('signer', 'an email address');
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const campaign = await loadCampaign(trx, workspace.id, workspace.slug, campaignId);
    if (campaign.status !== 'open')
      throw new AssayError('campaign_state_invalid', 'campaign is already signed off');
    const items = await listCampaignItems(trx, workspace.id, campaign.id);
    const undecided = items.filter((i) => !i.decision);
    if (undecided.length > 0) {
      throw new AssayError(
        'campaign_state_invalid',
        `${undecided.length} items are undecided (reviewers: ${[...new Set(undecided.map((i) => i.reviewer))].join(', ')})`,
      );
    }
    const document = decisionsDocument(campaign, items);
    const decisionsSha256 = sha256Hex(canonicalize(document));
    const signedAt = new Date();
    const [evidence] = await appendEvidence(trx, workspace.id, [
      {
        kind: 'access_review.sign_off',
        criteria: ['CC6.1', 'CC6.2', 'CC6.3'],
        subject: { type: 'access_review_campaign', id: campaign.id, name: campaign.name },
        effectiveAt: signedAt,
        collector: { type: 'user', id: actor.id, name: input.signer },
        content: { signer: input.signer, signedAt: signedAt.toISOString(), decisionsSha256, ...document },
      },
    ]);
    const updated = await updateCampaign(trx, workspace.id, campaign.id, {
      status: 'signed_off',
      signed_off_at: signedAt,
      signed_off_by: input.signer,
      decisions_sha256: decisionsSha256,
      evidence_id: evidence!.id,
    });
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'governance.campaign_signed_off',
      targetType: 'access_review_campaign',
      targetId: campaign.id,
      details: { signer: input.signer, decisionsSha256, evidenceId: evidence!.id },
    });
    return updated;
  });
}

/**
 * Closes revocation tasks whose entitlement a source has since removed (a revoking change, or the
 * account itself deprovisioned), recording the confirmation as evidence.
 */
export async function confirmRevocations(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  asOf: Date,
): Promise<number> {
  const open = await listOpenTasks(trx, workspaceId, revokeKind);
  let confirmed = 0;
  for (const task of open) {
    const d = task.details as Record<string, string>;
    const decidedAt = new Date(d.decidedAt ?? task.created_at);
    const removal = await findEntitlementRemoval(
      trx,
      workspaceId,
      d.identityId as string,
      d.entitlement as string,
      decidedAt,
      asOf,
    );
    if (!removal) continue;
    const at = new Date(removal.at);
    await completeTaskWithEvidence(trx, workspaceId, actor, task.id, {
      at,
      evidence: {
        kind: 'access_review.revocation_confirmed',
        criteria: ['CC6.2', 'CC6.3'],
        subject: { type: 'account', id: String(d.identityId), name: `${d.system}/${d.account}` },
        effectiveAt: at,
        collector: { type: 'system', id: 'assay.governance', name: 'Assay identity governance' },
        content: { task: task.id, ...d, confirmedAt: at.toISOString(), source: removal.source },
      },
      details: d,
      audit: {
        action: 'governance.revocation_confirmed',
        details: { at: at.toISOString(), source: removal.source },
      },
      beforeAudit: (evidenceId) =>
        recordItemConfirmation(trx, workspaceId, task.id, {
          confirmed_at: at,
          confirmation: removal.source,
          evidence_id: evidenceId,
        }),
    });
    confirmed++;
  }
  return confirmed;
}

/**
 * Closes delegated-access revocations once no membership of the MSP gives that person that role
 * in this workspace any more (`reach`: the memberships reaching it now).
 */
export async function confirmDelegatedRevocations(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  asOf: Date,
  reach: Delegated,
): Promise<number> {
  const open = await listOpenTasks(trx, workspaceId, revokeDelegatedKind);
  let confirmed = 0;
  for (const task of open) {
    const d = task.details as Record<string, string>;
    const still = reach.some(
      (r) => r.email.toLowerCase() === String(d.account).toLowerCase() && r.role === d.role,
    );
    if (still) continue;
    const source = 'assay (the MSP membership no longer reaches this workspace)';
    await completeTaskWithEvidence(trx, workspaceId, actor, task.id, {
      at: asOf,
      evidence: {
        kind: 'access_review.revocation_confirmed',
        criteria: ['CC6.2', 'CC6.3'],
        subject: { type: 'delegated_access', id: String(d.account), name: `${d.system}/${d.account}` },
        effectiveAt: asOf,
        collector: { type: 'system', id: 'assay.governance', name: 'Assay identity governance' },
        content: { task: task.id, ...d, confirmedAt: asOf.toISOString(), source },
      },
      details: d,
      audit: { action: 'governance.revocation_confirmed', details: { at: asOf.toISOString(), source } },
      beforeAudit: (evidenceId) =>
        recordItemConfirmation(trx, workspaceId, task.id, {
          confirmed_at: asOf,
          confirmation: source,
          evidence_id: evidenceId,
        }),
    });
    confirmed++;
  }
  return confirmed;
}

/** The campaign's reviewer-by-reviewer CSV report. */
export async function campaignReport(database: Database, workspaceRef: string, id: string) {
  const { campaignReportCsv } = await import('./campaign-report.ts');
  const detail = await getCampaign(database, workspaceRef, id);
  return { name: detail.campaign.name, csv: campaignReportCsv(detail.campaign, detail.items) };
}

/**
 * Reminders and escalation: once a campaign is past due, each reviewer with undecided items gets
 * one task (assigned to them, escalated to their own manager from HR when known).
 */
export async function remindOverdueReviewers(trx: Trx, workspaceId: string, actor: Actor, asOf: Date) {
  const rows = await listOverdueReviewersWithoutReminder(trx, workspaceId, overdueReviewKind, asOf);
  for (const row of rows) {
    const escalatedTo = await findManagerOf(trx, workspaceId, row.reviewer);
    const task = await insertTask(trx, workspaceId, {
      kind: overdueReviewKind,
      title: `${row.undecided} overdue access review decisions in "${row.name}"`,
      finding_id: null,
      assignee: row.reviewer,
      status: 'open',
      due_at: asOf,
      completed_at: null,
      details: JSON.stringify({
        campaignId: row.campaign_id,
        reviewer: row.reviewer,
        undecided: row.undecided,
        escalatedTo,
      }),
    });
    await recordAudit(trx, {
      workspaceId,
      actor,
      action: 'governance.review_overdue',
      targetType: 'task',
      targetId: task.id,
      details: { campaign: row.campaign_id, reviewer: row.reviewer, undecided: row.undecided },
    });
  }
  return rows.length;
}

/** The task a revoke decision opens: removing an account's entitlement, or an MSP's delegated access. */
function revocationTask(campaign: CampaignRow, item: ItemRow, decidedAt: Date) {
  const common = {
    campaignId: campaign.id,
    itemId: item.id,
    system: item.system,
    account: item.account,
    entitlement: item.entitlement,
    decidedAt: decidedAt.toISOString(),
  };
  if (item.identity_id) {
    return {
      kind: revokeKind,
      title: `Revoke ${item.entitlement} from ${item.account} in ${item.system} (access review "${campaign.name}")`,
      details: { subjectKey: `revoke:${item.id}`, ...common, identityId: item.identity_id },
    };
  }
  if (item.subject_type === 'delegated') {
    // The MSP's access into this workspace: done when their membership no longer reaches it.
    return {
      kind: revokeDelegatedKind,
      title: `Remove ${item.account}'s MSP access (${item.entitlement}) to this workspace (access review "${campaign.name}")`,
      details: {
        subjectKey: `revoke-delegated:${item.id}`,
        ...common,
        role: item.entitlement.replace(/^msp:/, ''),
      },
    };
  }
  return null;
}
