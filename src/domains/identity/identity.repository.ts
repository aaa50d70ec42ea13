import { sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { EntitlementFact, IdentityFact, PersonFact } from '../events/event.model.ts';
import { canonicalize } from '../evidence/core/canonical-json.ts';

export async function upsertPerson(trx: Trx, workspaceId: string, person: PersonFact) {
  const values = {
    workspace_id: workspaceId,
    employee_id: person.employeeId,
    source: person.source,
    name: person.name,
    email: person.email.toLowerCase(),
    title: person.title ?? null,
    department: person.department ?? null,
    manager_email: person.managerEmail?.toLowerCase() ?? null,
    employment_type: person.employmentType ?? null,
    start_date: person.startDate ?? null,
    end_date: person.endDate ?? null,
    status: person.status,
    observed_at: person.observedAt,
  };
  const { workspace_id: _w, employee_id: _e, ...update } = values;
  return trx
    .insertInto('people')
    .values(values)
    .onConflict((oc) =>
      oc
        .columns(['workspace_id', 'employee_id'])
        .doUpdateSet({ ...update, updated_at: new Date() })
        // An older roster must not overwrite a newer one, and an unchanged row is left alone so
        // that re-importing the same roster changes nothing.
        .where('people.observed_at', '<=', new Date(person.observedAt))
        .where(
          sql<boolean>`(people.name, people.email, people.title, people.department, people.manager_email,
            people.employment_type, people.start_date, people.end_date, people.status)
            is distinct from (excluded.name, excluded.email, excluded.title, excluded.department,
            excluded.manager_email, excluded.employment_type, excluded.start_date, excluded.end_date,
            excluded.status)`,
        ),
    )
    .returning(['id', 'email', 'status', 'end_date', 'title', 'department', 'manager_email'])
    .executeTakeFirst();
}

export async function findPersonByEmployeeId(trx: Trx, workspaceId: string, employeeId: string) {
  return trx
    .selectFrom('people')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('employee_id', '=', employeeId)
    .executeTakeFirst();
}

export interface IdentityKey {
  system: string;
  externalId?: string | undefined;
  userName?: string | undefined;
  email?: string | undefined;
}

/** Finds an account by its system id, else by user name, else by email, within one system. */
export async function findIdentity(trx: Trx, workspaceId: string, key: IdentityKey) {
  const base = trx
    .selectFrom('identities')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('system', '=', key.system);
  if (key.externalId) {
    const row = await base.where('external_id', '=', key.externalId).executeTakeFirst();
    if (row) return row;
  }
  if (key.userName) {
    const row = await base
      .where((eb) => eb.or([eb('user_name', '=', key.userName!), eb('external_id', '=', key.userName!)]))
      .orderBy('created_at')
      .executeTakeFirst();
    if (row) return row;
  }
  if (key.email) {
    const row = await base
      .where('email', '=', key.email.toLowerCase())
      .orderBy('created_at')
      .executeTakeFirst();
    if (row) return row;
  }
  return undefined;
}

export async function insertIdentity(
  trx: Trx,
  workspaceId: string,
  values: {
    system: string;
    externalId: string;
    userName?: string | undefined;
    email?: string | undefined;
    displayName?: string | undefined;
    principalType: string;
    seenAt: string;
  },
) {
  return trx
    .insertInto('identities')
    .values({
      workspace_id: workspaceId,
      system: values.system,
      external_id: values.externalId,
      user_name: values.userName ?? null,
      email: values.email?.toLowerCase() ?? null,
      display_name: values.displayName ?? null,
      principal_type: values.principalType,
      first_seen_at: values.seenAt,
      last_seen_at: values.seenAt,
    })
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'system', 'external_id']).doUpdateSet({ updated_at: new Date() }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Fills in what a later record tells about an account (never erases what is known). */
export async function enrichIdentity(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: {
    userName?: string | undefined;
    email?: string | undefined;
    displayName?: string | undefined;
    externalId?: string | undefined;
    seenAt: string;
  },
) {
  await trx
    .updateTable('identities')
    .set((eb) => ({
      user_name: eb.fn.coalesce('user_name', eb.val(values.userName ?? null)),
      email: eb.fn.coalesce('email', eb.val(values.email?.toLowerCase() ?? null)),
      display_name: eb.fn.coalesce('display_name', eb.val(values.displayName ?? null)),
      first_seen_at: sql`least(first_seen_at, ${values.seenAt}::timestamptz)`,
      last_seen_at: sql`greatest(last_seen_at, ${values.seenAt}::timestamptz)`,
      updated_at: new Date(),
    }))
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/** Records an account's status as of `at`, unless a later status is already known. */
export async function setIdentityStatus(
  trx: Trx,
  workspaceId: string,
  id: string,
  status: string,
  at: string,
) {
  await trx
    .updateTable('identities')
    .set({ status: status as 'active', status_at: at, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where((eb) => eb.or([eb('status_at', 'is', null), eb('status_at', '<=', new Date(at))]))
    .execute();
}

function splitFact(fact: IdentityFact) {
  const {
    source,
    observedAt,
    status,
    mfaEnabled,
    passwordEnabled,
    lastLoginAt,
    passwordLastUsedAt,
    ...rest
  } = fact;
  return { source, observedAt, status, mfaEnabled, passwordEnabled, lastLoginAt, passwordLastUsedAt, rest };
}

/**
 * Whether a snapshot says nothing new: identical to the latest one already held for the account
 * and source (so re-importing the same report changes nothing).
 */
export async function observationUnchanged(
  trx: Trx,
  workspaceId: string,
  identityId: string,
  fact: IdentityFact,
) {
  const f = splitFact(fact);
  const latest = await trx
    .selectFrom('identity_observations')
    .select(['status', 'mfa_enabled', 'password_enabled', 'last_login_at', 'password_last_used_at', 'data'])
    .where('workspace_id', '=', workspaceId)
    .where('identity_id', '=', identityId)
    .where('source', '=', f.source)
    .orderBy('observed_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const sameTime = (a: Date | null, b: string | undefined) =>
    (a?.getTime() ?? null) === (b ? Date.parse(b) : null);
  return Boolean(
    latest &&
      latest.status === f.status &&
      latest.mfa_enabled === (f.mfaEnabled ?? null) &&
      latest.password_enabled === (f.passwordEnabled ?? null) &&
      sameTime(latest.last_login_at, f.lastLoginAt) &&
      sameTime(latest.password_last_used_at, f.passwordLastUsedAt) &&
      canonicalize(latest.data) === canonicalize(JSON.parse(JSON.stringify(f.rest))),
  );
}

export async function insertIdentityObservation(
  trx: Trx,
  workspaceId: string,
  identityId: string,
  fact: IdentityFact,
  batchId: string | null,
  evidenceId: string | null,
) {
  const f = splitFact(fact);
  const result = await trx
    .insertInto('identity_observations')
    .values({
      workspace_id: workspaceId,
      identity_id: identityId,
      source: f.source,
      observed_at: f.observedAt,
      status: f.status,
      mfa_enabled: f.mfaEnabled ?? null,
      password_enabled: f.passwordEnabled ?? null,
      last_login_at: f.lastLoginAt ?? null,
      password_last_used_at: f.passwordLastUsedAt ?? null,
      data: JSON.stringify(f.rest),
      batch_id: batchId,
      evidence_id: evidenceId,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'identity_id', 'source', 'observed_at']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return result !== undefined;
}

export async function insertEntitlementChange(
  trx: Trx,
  workspaceId: string,
  identityId: string,
  fact: EntitlementFact,
  sourceKey: string,
  eventId: number | null,
) {
  const result = await trx
    .insertInto('entitlement_changes')
    .values({
      workspace_id: workspaceId,
      identity_id: identityId,
      system: fact.system,
      name: fact.name,
      kind: fact.kind,
      privileged: fact.privileged,
      granted: fact.granted,
      at: fact.at,
      event_id: eventId,
      source: fact.source,
      source_key: sourceKey,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'source', 'source_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return result !== undefined;
}

/**
 * Links unlinked accounts to people by email or alias (case-insensitive): all of the workspace's,
 * or only `identityIds`. Manual links are kept (`link_locked`). Returns how many were linked.
 */
export async function linkIdentitiesByEmail(
  trx: Trx,
  workspaceId: string,
  identityIds?: string[],
): Promise<number> {
  const only = identityIds ? sql` and i.id = any(${identityIds}::uuid[])` : sql``;
  const byEmail = await sql<{ id: string }>`
    update identities i set person_id = p.id, link_method = 'email', updated_at = now()
    from people p
    where i.workspace_id = ${workspaceId} and p.workspace_id = ${workspaceId}
      and i.person_id is null and not i.link_locked${only}
      and (lower(i.email) = p.email or lower(i.user_name) = p.email)
    returning i.id`.execute(trx);
  const byAlias = await sql<{ id: string }>`
    update identities i set person_id = p.id, link_method = 'alias', updated_at = now()
    from people p
    where i.workspace_id = ${workspaceId} and p.workspace_id = ${workspaceId}
      and i.person_id is null and not i.link_locked${only}
      and (lower(i.email) = any(p.aliases) or lower(i.user_name) = any(p.aliases))
    returning i.id`.execute(trx);
  return byEmail.rows.length + byAlias.rows.length;
}

export async function listPeople(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('people')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('email')
    .execute();
}

export async function findPersonByEmail(trx: Trx, workspaceId: string, email: string) {
  return trx
    .selectFrom('people')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('email', '=', email.toLowerCase())
    .executeTakeFirst();
}

export async function listIdentities(
  trx: Trx,
  workspaceId: string,
  filter: { system?: string | undefined; unlinked?: boolean | undefined; personId?: string | undefined } = {},
) {
  let query = trx.selectFrom('identities').selectAll().where('workspace_id', '=', workspaceId);
  if (filter.system !== undefined) query = query.where('system', '=', filter.system);
  if (filter.unlinked) query = query.where('person_id', 'is', null).where('non_human', '=', false);
  if (filter.personId !== undefined) query = query.where('person_id', '=', filter.personId);
  return query.orderBy('system').orderBy('external_id').execute();
}

export async function findIdentityById(trx: Trx, workspaceId: string, id: string) {
  return trx
    .selectFrom('identities')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function updateIdentity(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: {
    person_id?: string | null;
    link_method?: 'manual' | null;
    link_locked?: boolean;
    non_human?: boolean;
    owner?: string | null;
    purpose?: string | null;
  },
) {
  return trx
    .updateTable('identities')
    .set({ ...values, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
