/**
 * Joiners, movers and leavers: the queries behind onboarding sets, job-profile tracking,
 * deprovisioning and the workspace's governance settings. One typed query per function; callers
 * pass the workspace's transaction.
 */
import { sql } from 'kysely';
import type { Trx } from '../../db/database.ts';

// Settings

export async function findGovernanceSettings(trx: Trx, workspaceId: string) {
  const row = await trx
    .selectFrom('governance_settings')
    .select('settings')
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return row?.settings;
}

export async function saveGovernanceSettings(
  trx: Trx,
  workspaceId: string,
  settings: Record<string, unknown>,
) {
  await trx
    .insertInto('governance_settings')
    .values({ workspace_id: workspaceId, settings: JSON.stringify(settings) })
    .onConflict((oc) =>
      oc.column('workspace_id').doUpdateSet({ settings: JSON.stringify(settings), updated_at: new Date() }),
    )
    .execute();
}

// Joiners

/** The people whose onboarding set is already open (they have an access request task). */
export async function listPeopleWithOnboarding(trx: Trx, workspaceId: string, accessRequestKind: string) {
  const { rows } = await sql<{ email: string }>`
    select distinct details ->> 'personEmail' as email from tasks
     where workspace_id = ${workspaceId} and kind = ${accessRequestKind}`.execute(trx);
  return rows.map((r) => r.email);
}

/** Active policies needing acknowledgement whose current version was published by `asOf`. */
export async function listPoliciesNeedingAcknowledgement(trx: Trx, workspaceId: string, asOf: Date) {
  const { rows } = await sql<{ id: string; title: string; version: number }>`
    select p.id, p.title, v.version from policies p join policy_versions v
        on v.id = p.current_version_id and v.workspace_id = p.workspace_id
     where p.workspace_id = ${workspaceId} and p.status = 'active' and p.acknowledgement_required
       and v.published_at is not null and v.published_at <= ${asOf}
     order by p.title`.execute(trx);
  return rows;
}

/** Training courses in effect at `asOf`, by code. */
export async function listActiveCourses(trx: Trx, workspaceId: string, asOf: Date) {
  return trx
    .selectFrom('training_courses')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('active', '=', true)
    .where('effective_from', '<=', asOf)
    .orderBy('code')
    .execute();
}

/** Opens an onboarding item once per subject key; the new task's id, or undefined if it existed. */
export async function insertOnboardingTask(
  trx: Trx,
  workspaceId: string,
  task: { kind: string; title: string; assignee: string | null; dueAt: Date; details: unknown },
) {
  const inserted = await sql<{ id: string }>`
    insert into tasks (workspace_id, kind, title, assignee, status, due_at, details)
    values (${workspaceId}, ${task.kind}, ${task.title}, ${task.assignee}, 'open', ${task.dueAt}, ${JSON.stringify(task.details)}::jsonb)
    on conflict (workspace_id, kind, (details ->> 'subjectKey'))
      where kind in ('onboarding_policy_ack', 'onboarding_training', 'onboarding_access_request',
                     'revoke_delegated_access') do nothing
    returning id`.execute(trx);
  return inserted.rows[0]?.id;
}

/** The first acknowledgement by `email` of the policy at `minVersion` or later, by `asOf`. */
export async function findPolicyAcknowledgement(
  trx: Trx,
  workspaceId: string,
  ack: { policyId: string | null; email: string; minVersion: number; asOf: Date },
) {
  const { rows } = await sql<{ at: Date; evidence_id: string | null }>`
    select a.acknowledged_at as at, a.evidence_id from policy_acknowledgements a
      join policy_versions v on v.id = a.version_id and v.workspace_id = a.workspace_id
     where a.workspace_id = ${workspaceId} and a.policy_id = ${ack.policyId}
       and lower(a.email) = ${ack.email} and v.version >= ${ack.minVersion}
       and a.acknowledged_at <= ${ack.asOf}
     order by a.acknowledged_at limit 1`.execute(trx);
  return rows[0];
}

/** The first completion of the course by `email` between `since` and `asOf`. */
export async function findTrainingCompletion(
  trx: Trx,
  workspaceId: string,
  completion: { courseId: string | null; email: string; since: Date; asOf: Date },
) {
  const { rows } = await sql<{ at: Date; evidence_id: string | null }>`
    select completed_at as at, evidence_id from training_completions
     where workspace_id = ${workspaceId} and course_id = ${completion.courseId}
       and lower(email) = ${completion.email} and completed_at <= ${completion.asOf}
       and completed_at >= ${completion.since}
     order by completed_at limit 1`.execute(trx);
  return rows[0];
}

/** Cancels the open tasks of these kinds belonging to these people. */
export async function cancelOpenTasksOfPeople(
  trx: Trx,
  workspaceId: string,
  kinds: readonly string[],
  emails: string[],
  at: Date,
) {
  await trx
    .updateTable('tasks')
    .set({ status: 'cancelled', completed_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('kind', 'in', [...kinds])
    .where('status', '=', 'open')
    .where(sql<boolean>`details ->> 'personEmail' in (${sql.join(emails)})`)
    .execute();
}

/** Cancels open directory-triggered tasks (no HR record) whose person has no active account left. */
export async function cancelDirectoryTasksWithoutAccount(
  trx: Trx,
  workspaceId: string,
  kinds: readonly string[],
  at: Date,
) {
  await sql`
    update tasks t set status = 'cancelled', completed_at = ${at}
     where t.workspace_id = ${workspaceId} and t.status = 'open'
       and t.kind in (${sql.join([...kinds])})
       and t.details ->> 'trigger' = 'scim' and t.details ->> 'personId' is null
       and not exists (select 1 from identities i where i.workspace_id = t.workspace_id and i.status = 'active'
                         and (lower(i.email) = t.details ->> 'personEmail'
                              or lower(i.user_name) = t.details ->> 'personEmail'))`.execute(trx);
}

export async function findTaskOfKind(trx: Trx, workspaceId: string, taskId: string, kind: string) {
  return trx
    .selectFrom('tasks')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', taskId)
    .where('kind', '=', kind)
    .executeTakeFirst();
}

/** When the person's first account (linked by HR, or by email or user name) appeared. */
export async function findFirstAccountAt(trx: Trx, workspaceId: string, email: string) {
  const { rows } = await sql<{ first: Date | null }>`
    select min(i.first_seen_at) as first from identities i
      left join people p on p.id = i.person_id and p.workspace_id = i.workspace_id
     where i.workspace_id = ${workspaceId}
       and (lower(p.email) = ${email} or lower(i.email) = ${email}
            or lower(i.user_name) = ${email})`.execute(trx);
  return rows[0]?.first ? new Date(rows[0].first) : null;
}

// Movers

/** The SCIM users of every directory, with the resource their job profile is read from. */
export async function listScimUsers(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('scim_users')
    .select(['id', 'directory', 'user_name', 'active', 'resource'])
    .where('workspace_id', '=', workspaceId)
    .execute();
}

export async function listJobProfiles(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('governance_job_profiles')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .execute();
}

export interface JobProfileValues {
  title: string | null;
  department: string | null;
  manager_email: string | null;
  seen_at: Date;
}

/** Stores the first profile seen of a person in a source (the baseline). */
export async function insertJobProfile(
  trx: Trx,
  workspaceId: string,
  source: string,
  email: string,
  values: JobProfileValues,
) {
  await trx
    .insertInto('governance_job_profiles')
    .values({ workspace_id: workspaceId, source, email, ...values })
    .onConflict((oc) => oc.columns(['workspace_id', 'source', 'email']).doNothing())
    .execute();
}

/**
 * Moves a stored profile on, only if it is still `before` (two reconciliations may run at once);
 * the number of rows moved (0 or 1).
 */
export async function advanceJobProfile(
  trx: Trx,
  workspaceId: string,
  source: string,
  email: string,
  before: { title: string | null; department: string | null; manager_email: string | null },
  values: JobProfileValues,
) {
  const moved = await trx
    .updateTable('governance_job_profiles')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('source', '=', source)
    .where('email', '=', email)
    .where(sql<boolean>`title is not distinct from ${before.title}`)
    .where(sql<boolean>`department is not distinct from ${before.department}`)
    .where(sql<boolean>`manager_email is not distinct from ${before.manager_email}`)
    .executeTakeFirst();
  return Number(moved.numUpdatedRows);
}

// Leavers

/** The deprovisioning deadline set on the leaver check, if any (raw setting). */
export async function findCheckSetting(trx: Trx, workspaceId: string, checkId: string) {
  const row = await trx
    .selectFrom('check_settings')
    .select('settings')
    .where('workspace_id', '=', workspaceId)
    .where('check_id', '=', checkId)
    .executeTakeFirst();
  return row?.settings as Record<string, unknown> | undefined;
}

/** When the system's newest complete report ran (by `asOf`), and when it last listed the account. */
export async function findAccountListing(
  trx: Trx,
  workspaceId: string,
  system: string,
  identityId: string,
  asOf: Date,
) {
  const { rows } = await sql<{ reported_at: Date | null; listed_at: Date | null }>`
    select (select max(x.last_listed_at) from identities x
             where x.workspace_id = ${workspaceId} and x.system = ${system}
               and x.last_listed_at <= ${asOf}) as reported_at,
           i.last_listed_at as listed_at
      from identities i where i.workspace_id = ${workspaceId} and i.id = ${identityId}`.execute(trx);
  return rows[0];
}

/** Opens a deprovisioning task once per account; the new task's id, or undefined if it existed. */
export async function insertDeprovisioningTask(
  trx: Trx,
  workspaceId: string,
  task: { kind: string; title: string; assignee: string | null; dueAt: Date; details: unknown },
) {
  const inserted = await sql<{ id: string }>`
    insert into tasks (workspace_id, kind, title, assignee, status, due_at, details)
    values (${workspaceId}, ${task.kind}, ${task.title}, ${task.assignee}, 'open', ${task.dueAt},
            ${JSON.stringify(task.details)}::jsonb)
    on conflict (workspace_id, kind, (details ->> 'subjectKey'))
      where kind in ('deprovision_account', 'revoke_entitlement') do nothing
    returning id`.execute(trx);
  return inserted.rows[0]?.id;
}

/** The live finding of a check about a person (subject id), if any. */
export async function findLiveFindingOfPerson(
  trx: Trx,
  workspaceId: string,
  checkId: string,
  personId: string,
) {
  return trx
    .selectFrom('findings')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('check_id', '=', checkId)
    .where('status', '<>', 'closed')
    .where(sql<boolean>`subject ->> 'id' = ${personId}`)
    .executeTakeFirst();
}
