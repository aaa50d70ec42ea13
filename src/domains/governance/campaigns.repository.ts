/**
 * Access review campaigns and their items: the queries behind launch (the entitlement snapshot),
 * decisions, delegation, sign-off, recurrence, revocation confirmation and reminders. One typed
 * query per function; callers pass the workspace's transaction.
 */
import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { AccessReviewCampaignsTable, AccessReviewItemsTable } from './governance.tables.ts';

export type CampaignRow = Selectable<AccessReviewCampaignsTable>;
export type ItemRow = Selectable<AccessReviewItemsTable>;

/** Accounts active at `at`, with the person (and manager) HR links them to. */
export async function listActiveAccountsAt(trx: Trx, workspaceId: string, at: Date) {
  const { rows } = await sql<{
    id: string;
    system: string;
    external_id: string;
    user_name: string | null;
    email: string | null;
    non_human: boolean;
    principal_type: string;
    owner: string | null;
    person_email: string | null;
    manager_email: string | null;
  }>`
    select i.id, i.system, i.external_id, i.user_name, i.email, i.non_human, i.principal_type, i.owner,
           p.email as person_email, p.manager_email
      from identities i left join people p on p.id = i.person_id and p.workspace_id = i.workspace_id
     where i.workspace_id = ${workspaceId} and i.status = 'active' and i.first_seen_at <= ${at}
     order by i.system, i.external_id`.execute(trx);
  return rows;
}

/** The latest change per account and entitlement name as of `at` (granted or revoked). */
export async function listLatestEntitlementChangesAt(trx: Trx, workspaceId: string, at: Date) {
  const { rows } = await sql<{
    identity_id: string;
    name: string;
    privileged: boolean;
    granted: boolean;
    at: Date;
  }>`
    select distinct on (identity_id, name) identity_id, name, privileged, granted, at
      from entitlement_changes where workspace_id = ${workspaceId} and at <= ${at}
     order by identity_id, name, at desc, id desc`.execute(trx);
  return rows;
}

/** The MSP (`workspaceId`) staff whose unexpired memberships reach the client workspace. */
export async function listDelegatedMemberships(trx: Trx, workspaceId: string, clientWorkspaceId: string) {
  const { rows } = await sql<{ email: string; role: string; created_at: Date }>`
    select u.email, m.role, m.created_at from memberships m join users u on u.id = m.user_id
     where m.workspace_id = ${workspaceId} and ${clientWorkspaceId} = any(m.client_workspace_ids)
       and (m.expires_at is null or m.expires_at > now())
     order by u.email`.execute(trx);
  return rows;
}

export async function insertCampaign(
  trx: Trx,
  workspaceId: string,
  values: Omit<Insertable<AccessReviewCampaignsTable>, 'workspace_id'>,
) {
  return trx
    .insertInto('access_review_campaigns')
    .values({ ...values, workspace_id: workspaceId })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertCampaignItems(
  trx: Trx,
  workspaceId: string,
  items: Omit<Insertable<AccessReviewItemsTable>, 'workspace_id'>[],
) {
  await trx
    .insertInto('access_review_items')
    .values(items.map((i) => ({ ...i, workspace_id: workspaceId })))
    .execute();
}

export async function findCampaign(trx: Trx, workspaceId: string, id: string) {
  return trx
    .selectFrom('access_review_campaigns')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** A campaign known to exist (e.g. one just locked). */
export async function getCampaignById(trx: Trx, workspaceId: string, id: string) {
  return trx
    .selectFrom('access_review_campaigns')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

export async function listCampaigns(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('access_review_campaigns')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('launched_at', 'desc')
    .execute();
}

/** Per campaign, how many items it has and how many are decided. */
export async function countItemsByCampaign(trx: Trx, workspaceId: string) {
  const { rows } = await sql<{ campaign_id: string; items: number; decided: number }>`
    select campaign_id, count(*)::int as items, count(decision)::int as decided from access_review_items
     where workspace_id = ${workspaceId} group by campaign_id`.execute(trx);
  return rows;
}

/** Series whose next launch is due by `asOf` (a read, before any lock is taken). */
export async function listCampaignsDueToLaunch(trx: Trx, workspaceId: string, asOf: Date) {
  return trx
    .selectFrom('access_review_campaigns')
    .select(['id', 'scope'])
    .where('workspace_id', '=', workspaceId)
    .where('next_launch_at', '<=', asOf)
    .execute();
}

/** Locks the due series' campaigns, skipping those another process is launching. */
export async function claimCampaignsDueToLaunch(trx: Trx, workspaceId: string, asOf: Date) {
  const { rows } = await sql<{ id: string }>`
    select id from access_review_campaigns
     where workspace_id = ${workspaceId} and next_launch_at <= ${asOf}
     order by next_launch_at, id for update skip locked`.execute(trx);
  return rows;
}

export async function setNextLaunch(trx: Trx, workspaceId: string, campaignId: string, at: Date | null) {
  await trx
    .updateTable('access_review_campaigns')
    .set({ next_launch_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', campaignId)
    .execute();
}

/** The series' campaign holding the schedule, else its latest. */
export async function findSeriesScheduleHolder(trx: Trx, workspaceId: string, seriesId: string) {
  return trx
    .selectFrom('access_review_campaigns')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('series_id', '=', seriesId)
    .orderBy(sql`next_launch_at is not null`, 'desc')
    .orderBy('launched_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();
}

export async function updateCampaign(
  trx: Trx,
  workspaceId: string,
  campaignId: string,
  changes: Updateable<AccessReviewCampaignsTable>,
) {
  return trx
    .updateTable('access_review_campaigns')
    .set(changes)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', campaignId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listCampaignItems(trx: Trx, workspaceId: string, campaignId: string) {
  return trx
    .selectFrom('access_review_items')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('campaign_id', '=', campaignId)
    .orderBy('reviewer')
    .orderBy('system')
    .orderBy('account')
    .orderBy('entitlement')
    .execute();
}

export async function findCampaignItem(trx: Trx, workspaceId: string, campaignId: string, itemId: string) {
  return trx
    .selectFrom('access_review_items')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('campaign_id', '=', campaignId)
    .where('id', '=', itemId)
    .executeTakeFirst();
}

/** An entitlement change to a campaign's account after its launch. */
export interface ChangeSinceLaunchRow {
  identity_id: string;
  system: string;
  name: string;
  granted: boolean;
  privileged: boolean;
  at: Date;
  source: string;
}

/** Entitlement changes to the campaign's accounts after launch. */
export async function listEntitlementChangesSinceLaunch(
  trx: Trx,
  workspaceId: string,
  campaignId: string,
  launchedAt: Date,
) {
  const { rows } = await sql<ChangeSinceLaunchRow>`
    select c.identity_id, c.system, c.name, c.granted, c.privileged, c.at, c.source
      from entitlement_changes c
     where c.workspace_id = ${workspaceId} and c.at > ${launchedAt}
       and c.identity_id in (select identity_id from access_review_items
                              where workspace_id = ${workspaceId} and campaign_id = ${campaignId}
                                and identity_id is not null)
     order by c.at, c.id`.execute(trx);
  return rows;
}

export async function recordItemDecision(
  trx: Trx,
  workspaceId: string,
  itemId: string,
  decision: Pick<
    Updateable<AccessReviewItemsTable>,
    'decision' | 'justification' | 'decided_by' | 'decided_at' | 'task_id'
  >,
) {
  return trx
    .updateTable('access_review_items')
    .set(decision)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', itemId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Closes the reviewer's overdue reminder once they have nothing left to decide in the campaign. */
export async function closeAnsweredReminder(
  trx: Trx,
  workspaceId: string,
  reminderKind: string,
  campaignId: string,
  reviewer: string,
  at: Date,
) {
  await sql`
    update tasks set status = 'done', completed_at = ${at}
     where workspace_id = ${workspaceId} and kind = ${reminderKind} and status = 'open'
       and details ->> 'campaignId' = ${campaignId} and details ->> 'reviewer' = ${reviewer}
       and not exists (select 1 from access_review_items i where i.workspace_id = ${workspaceId}
                         and i.campaign_id = ${campaignId} and i.reviewer = ${reviewer}
                         and i.decision is null)`.execute(trx);
}

/** Hands a reviewer's undecided items to another reviewer; the ids of the items moved. */
export async function reassignUndecidedItems(
  trx: Trx,
  workspaceId: string,
  campaignId: string,
  from: string,
  to: string,
) {
  return trx
    .updateTable('access_review_items')
    .set({ reviewer: to, delegated_from: from })
    .where('workspace_id', '=', workspaceId)
    .where('campaign_id', '=', campaignId)
    .where('reviewer', '=', from)
    .where('decision', 'is', null)
    .returning('id')
    .execute();
}

/** The first removal of an entitlement (a revoking change, or the account gone) in the window. */
export async function findEntitlementRemoval(
  trx: Trx,
  workspaceId: string,
  identityId: string,
  entitlement: string,
  since: Date,
  asOf: Date,
) {
  const { rows } = await sql<{ at: Date; source: string }>`
    select at, source from (
      select c.at, c.source, c.granted from entitlement_changes c
       where c.workspace_id = ${workspaceId} and c.identity_id = ${identityId} and c.name = ${entitlement}
         and c.at >= ${since} and c.at <= ${asOf}
      union all
      select i.status_at as at, i.system as source, false as granted from identities i
       where i.workspace_id = ${workspaceId} and i.id = ${identityId} and i.status <> 'active'
         and i.status_at >= ${since} and i.status_at <= ${asOf}
    ) s where not granted order by at limit 1`.execute(trx);
  return rows[0];
}

/** Records on the items behind a revocation task that the source confirmed it. */
export async function recordItemConfirmation(
  trx: Trx,
  workspaceId: string,
  taskId: string,
  confirmation: { confirmed_at: Date; confirmation: string; evidence_id: string },
) {
  await trx
    .updateTable('access_review_items')
    .set(confirmation)
    .where('workspace_id', '=', workspaceId)
    .where('task_id', '=', taskId)
    .execute();
}

/** Reviewers with undecided items in past-due open campaigns who have no open reminder yet. */
export async function listOverdueReviewersWithoutReminder(
  trx: Trx,
  workspaceId: string,
  reminderKind: string,
  asOf: Date,
) {
  const { rows } = await sql<{ campaign_id: string; name: string; reviewer: string; undecided: number }>`
    select c.id as campaign_id, c.name, i.reviewer, count(*)::int as undecided
      from access_review_campaigns c join access_review_items i on i.campaign_id = c.id and i.workspace_id = c.workspace_id
     where c.workspace_id = ${workspaceId} and c.status = 'open' and c.due_at <= ${asOf} and i.decision is null
       and not exists (select 1 from tasks t where t.workspace_id = c.workspace_id and t.kind = ${reminderKind}
                          and t.status = 'open' and t.details ->> 'campaignId' = c.id::text
                          and t.details ->> 'reviewer' = i.reviewer)
     group by c.id, c.name, i.reviewer order by c.id, i.reviewer`.execute(trx);
  return rows;
}

/** The manager HR records for a person (matched on email, case-insensitively). */
export async function findManagerOf(trx: Trx, workspaceId: string, email: string) {
  const row = await trx
    .selectFrom('people')
    .select('manager_email')
    .where('workspace_id', '=', workspaceId)
    .where(sql<boolean>`lower(email) = lower(${email})`)
    .executeTakeFirst();
  return row?.manager_email ?? null;
}

/** Mover reviews with their item, decided and flagged counts. */
export async function countMoverReviewItems(trx: Trx, workspaceId: string) {
  const { rows } = await sql<{ id: string; items: number; decided: number; flagged: number }>`
    select c.id, count(i.id)::int as items, count(i.decision)::int as decided, count(i.flag)::int as flagged
      from access_review_campaigns c
      left join access_review_items i on i.campaign_id = c.id and i.workspace_id = c.workspace_id
     where c.workspace_id = ${workspaceId} and c.kind = 'mover'
     group by c.id`.execute(trx);
  return rows;
}

export async function listMoverReviews(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('access_review_campaigns')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('kind', '=', 'mover')
    .orderBy('launched_at', 'desc')
    .orderBy('id')
    .execute();
}

/** The open mover review of a person, if any. */
export async function findOpenMoverReview(trx: Trx, workspaceId: string, subjectEmail: string) {
  return trx
    .selectFrom('access_review_campaigns')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('kind', '=', 'mover')
    .where('status', '=', 'open')
    .where('subject_email', '=', subjectEmail)
    .executeTakeFirst();
}

/**
 * Savepoints inside the caller's transaction, so one launch that finds nothing in scope can be
 * undone without losing the rest of the reconciliation.
 */
type SavepointName = 'recurring_launch' | 'mover_review';

export async function savepoint(trx: Trx, name: SavepointName) {
  await sql`savepoint ${sql.raw(name)}`.execute(trx);
}

export async function releaseSavepoint(trx: Trx, name: SavepointName) {
  await sql`release savepoint ${sql.raw(name)}`.execute(trx);
}

export async function rollbackToSavepoint(trx: Trx, name: SavepointName) {
  await sql`rollback to savepoint ${sql.raw(name)}`.execute(trx);
}
