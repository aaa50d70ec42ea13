import { sql } from 'kysely';
import type { Trx } from '../../db/database.ts';

export async function selectEvidenceForControls(trx: Trx, workspaceId: string, from: Date, to: Date) {
  return trx
    .selectFrom('evidence_items')
    .select(['id', 'kind', 'control_ids', 'effective_at'])
    .where('workspace_id', '=', workspaceId)
    .where('effective_at', '>=', from)
    .where('effective_at', '<', to)
    .where(sql<boolean>`cardinality(control_ids) > 0`)
    .orderBy('effective_at')
    .execute();
}

export async function selectStatusIntervals(trx: Trx, workspaceId: string, from: Date, to: Date) {
  return trx
    .selectFrom('control_status_intervals')
    .select(['control_id', 'status', 'valid_from', 'valid_to'])
    .where('workspace_id', '=', workspaceId)
    .where('valid_from', '<', to)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', from)]))
    .orderBy('valid_from')
    .execute();
}

export async function selectExceptionsOverlapping(trx: Trx, workspaceId: string, from: Date, to: Date) {
  return trx
    .selectFrom('exceptions')
    .select(['id', 'check_id', 'subject_key', 'approved_at', 'expires_at', 'revoked_at'])
    .where('workspace_id', '=', workspaceId)
    .where('approved_at', '<', to)
    .where('expires_at', '>', from)
    .execute();
}

export interface CodeChangeRow {
  id: number;
  time: Date;
  /** `push`, `pull_request_merged` or `protection_bypass`. */
  change: string;
  /** The event's repository, else its normalised record's (`data.repository`), else ''. */
  repository_label: string;
  /** The event's repository column only, or '' (how a merge is labelled). */
  repository: string;
  /** `data.code.pullRequest` as text, for merges. */
  pull_request: string | null;
  /** Whether the change bypassed branch protection (`data.code.bypass` is truthy). */
  bypass: boolean;
  /** For merges: approved by someone other than its author, at or before the merge. */
  approved: boolean;
}

/**
 * The code changes (class 990002) in [from, to) up to `until` that the change populations list —
 * pushes, merges and protection bypasses — each with the few fields an occurrence needs. Whether
 * a merge was independently approved is decided here: an approving review of the same
 * repository and pull request (both as stored, a missing one matching a missing one), by someone
 * other than the merge's author (its target user, else its actor), submitted no later than the
 * merge, among the same period's events. That is counted with two running counts per pull
 * request, in time order: approvals so far, and approvals so far by the merge's author; there is
 * an independent one when the first is larger. No join, so no plan that compares every merge with
 * every review; and reviews never leave the database, nor any other part of an event's data (at
 * a million events, carrying each change's data to the application was most of the report's time).
 */
export async function selectCodeChanges(
  trx: Trx,
  workspaceId: string,
  from: Date,
  to: Date,
  until: Date,
): Promise<CodeChangeRow[]> {
  const result = await sql<CodeChangeRow>`
    with changes as materialized (
      -- Only scalars past this point: the sorts below carry narrow rows, not each event's data.
      select id, time, change,
        coalesce(repository, data_repository, '') as repository_label,
        coalesce(repository, '') as repository,
        code->'pullRequest' #>> '{}' as pull_request,
        -- Repository and pull request as stored (a number is not its string), as one sortable text.
        (coalesce(to_jsonb(repository)::text, 'null') || ' ' || coalesce(code->'pullRequest', 'null')::text)
          collate "C" as pull_request_key,
        -- JavaScript truthiness of the stored value.
        case jsonb_typeof(code->'bypass')
          when 'boolean' then (code->'bypass')::boolean
          when 'number' then (code->'bypass')::numeric <> 0
          when 'string' then code->>'bypass' <> ''
          when 'object' then true
          when 'array' then true
          else false
        end as bypass,
        -- A review's reviewer; a merge's author.
        case when change = 'pull_request_merged'
          then coalesce(target->>'userName', actor->>'userName')
          else actor->>'userName' end collate "C" as person,
        coalesce(change = 'review_submitted' and code->>'reviewState' ~* 'approved', false) as approval
      from (
        select id, time, repository, data->>'repository' as data_repository, code, code->>'change' as change,
          data->'actor' as actor, data->'target' as target
        from (
          select id, time, repository, data, data->'code' as code
          from events
          where workspace_id = ${workspaceId} and class_uid = 990002
            and time >= ${from} and time < ${to} and time <= ${until}
          -- Each event's data is read once, here (offset 0 keeps the planner from inlining it).
          offset 0
        ) d
      ) e
      where change in ('push', 'pull_request_merged', 'protection_bypass', 'review_submitted')
    )
    select id, time, change, repository_label, repository,
      case when change = 'pull_request_merged' then pull_request end as pull_request,
      bypass,
      change = 'pull_request_merged' and approvals > own_approvals as approved
    from (
      select id, time, change, repository_label, repository, pull_request, bypass,
        count(*) filter (where approval) over (
          partition by pull_request_key order by time range between unbounded preceding and current row
        ) as approvals,
        count(*) filter (where approval) over (
          partition by pull_request_key, person order by time range between unbounded preceding and current row
        ) as own_approvals
      from changes
    ) w
    where change <> 'review_submitted'
    order by time, id`.execute(trx);
  return result.rows;
}

export interface LeaverAccountRow {
  id: string;
  system: string;
  person_id: string;
  /** The latest snapshot of the account (over its sources) as of `asOf`, if any. */
  snapshot_status: string | null;
  snapshot_at: Date | null;
  /** The latest successful lifecycle event that set the account's status, up to `asOf`. */
  event_status: string | null;
  event_at: Date | null;
}

/**
 * The accounts of these people (leavers) known at `asOf`, with what their status is judged from:
 * the same latest snapshot and latest lifecycle event the checks read (Facts.identities), but
 * for these accounts only — the termination population needs nothing of anyone else's accounts,
 * nor anyone's sign-ins.
 */
export async function selectLeaverAccounts(
  trx: Trx,
  workspaceId: string,
  personIds: readonly string[],
  asOf: Date,
): Promise<LeaverAccountRow[]> {
  if (personIds.length === 0) return [];
  const result = await sql<LeaverAccountRow>`
    with accounts as (
      select id, system, person_id from identities
      where workspace_id = ${workspaceId} and first_seen_at <= ${asOf}
        and person_id = any(${sql.val(personIds)}::uuid[])
    ),
    -- Per account and source: the latest snapshot at or before asOf, else the earliest after it.
    by_source as (
      select distinct on (o.identity_id, o.source) o.identity_id, o.source, o.status, o.observed_at
      from identity_observations o
      where o.workspace_id = ${workspaceId} and o.identity_id in (select id from accounts)
      order by o.identity_id, o.source, (o.observed_at <= ${asOf}) desc,
        case when o.observed_at <= ${asOf} then o.observed_at end desc, o.observed_at asc
    ),
    -- Then the latest over the sources (the first source in order on a tie).
    snapshot as (
      select distinct on (identity_id) identity_id, status, observed_at
      from by_source order by identity_id, observed_at desc, source
    ),
    lifecycle as (
      select distinct on (target_identity_id) target_identity_id, data->>'accountStatus' as status, time
      from events
      where workspace_id = ${workspaceId} and class_uid = 3001 and time <= ${asOf}
        and target_identity_id in (select id from accounts)
        and jsonb_typeof(data->'accountStatus') = 'string' and data->>'accountStatus' <> ''
        and outcome is distinct from 'failure'
      order by target_identity_id, time desc, id desc
    )
    select a.id, a.system, a.person_id,
      s.status as snapshot_status, s.observed_at as snapshot_at,
      l.status as event_status, l.time as event_at
    from accounts a
    left join snapshot s on s.identity_id = a.id
    left join lifecycle l on l.target_identity_id = a.id
    order by a.id`.execute(trx);
  return result.rows;
}
