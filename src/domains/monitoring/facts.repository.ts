/** The reads checks evaluate over, each bounded by the as-of instant. */
import { type RawBuilder, sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import { rawPayload } from '../ingest/ingest.repository.ts';

export async function selectPeople(trx: Trx, workspaceId: string) {
  return trx.selectFrom('people').selectAll().where('workspace_id', '=', workspaceId).execute();
}

/**
 * The accounts an evaluation scoped to a change looks at (see `Facts`); undefined means all. Every
 * read below narrows to them when given.
 */
export type IdentityScope = readonly string[] | undefined;

/** The people these accounts belong to, and every account of those people. */
export async function selectAccountsOfSamePeople(
  trx: Trx,
  workspaceId: string,
  identityIds: readonly string[],
) {
  const result = await sql<{ id: string; person_id: string }>`
    select mine.id, mine.person_id from identities mine
    where mine.workspace_id = ${workspaceId} and mine.person_id in (
      select person_id from identities
      where workspace_id = ${workspaceId} and id = any(${[...identityIds]}::uuid[]) and person_id is not null)`.execute(
    trx,
  );
  return {
    personIds: [...new Set(result.rows.map((r) => r.person_id))],
    identityIds: result.rows.map((r) => r.id),
  };
}

export async function selectIdentities(trx: Trx, workspaceId: string, asOf: Date, scope?: IdentityScope) {
  let q = trx
    .selectFrom('identities')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('first_seen_at', '<=', asOf);
  if (scope) q = q.where(sql<boolean>`id = any(${[...scope]}::uuid[])`);
  return q.execute();
}

/**
 * Per identity and source, the latest snapshot taken at or before `asOf` — or, when none was taken
 * by then, the earliest one after it (a report pulled later is the best record of that time).
 */
export async function selectObservations(trx: Trx, workspaceId: string, asOf: Date, scope?: IdentityScope) {
  const result = await sql<{
    identity_id: string;
    source: string;
    observed_at: Date;
    status: string;
    mfa_enabled: boolean | null;
    password_enabled: boolean | null;
    last_login_at: Date | null;
    password_last_used_at: Date | null;
    data: Record<string, unknown>;
  }>`
    select distinct on (identity_id, source)
      identity_id, source, observed_at, status, mfa_enabled, password_enabled, last_login_at,
      password_last_used_at, data
    from identity_observations
    where workspace_id = ${workspaceId}${scope ? sql` and identity_id = any(${[...scope]}::uuid[])` : sql``}
    order by identity_id, source, (observed_at <= ${asOf}) desc,
      case when observed_at <= ${asOf} then observed_at end desc,
      observed_at asc`.execute(trx);
  return result.rows;
}

/** Which events one read wants, within the window and accounts all reads of a batch share. */
export interface EventFilter {
  classUids?: number[];
  since?: Date;
}

export interface EventQuery extends EventFilter {
  until: Date;
  /** Only events whose actor or target is one of these accounts. */
  identityIds?: IdentityScope;
}

function selectEventRows(trx: Trx, workspaceId: string, query: { until: Date; identityIds?: IdentityScope }) {
  let q = trx
    .selectFrom('events')
    .select([
      'id',
      'source',
      'source_key',
      'system',
      'time',
      'class_uid',
      'activity_id',
      'action',
      'outcome',
      'actor_identity_id',
      'target_identity_id',
      'repository',
      'data',
    ])
    .where('workspace_id', '=', workspaceId)
    .where('time', '<=', query.until);
  if (query.identityIds) {
    const ids = [...query.identityIds];
    q = q.where(
      sql<boolean>`(actor_identity_id = any(${ids}::uuid[]) or target_identity_id = any(${ids}::uuid[]))`,
    );
  }
  return q.orderBy('time').orderBy('id');
}

function filterSql(filter: EventFilter): RawBuilder<boolean> {
  const parts: RawBuilder<unknown>[] = [];
  if (filter.classUids && filter.classUids.length > 0)
    parts.push(sql`class_uid in (${sql.join(filter.classUids)})`);
  if (filter.since) parts.push(sql`time >= ${filter.since}`);
  return parts.length === 0 ? sql<boolean>`true` : sql<boolean>`(${sql.join(parts, sql` and `)})`;
}

export async function selectEvents(trx: Trx, workspaceId: string, query: EventQuery) {
  return selectEventRows(trx, workspaceId, query).where(filterSql(query)).execute();
}

export type EventFactRow = Awaited<ReturnType<typeof selectEvents>>[number];

// Filters per statement: each is one bit of the int4 that says which filters a row matched.
const filtersPerStatement = 31;

/**
 * Several reads of events in one statement (each event read once, however many of them want it),
 * returned per filter in the order given, each list in time order as `selectEvents` returns it.
 */
export async function selectEventsOfFilters(
  trx: Trx,
  workspaceId: string,
  shared: { until: Date; identityIds?: IdentityScope },
  filters: EventFilter[],
): Promise<EventFactRow[][]> {
  if (filters.length === 1) return [await selectEvents(trx, workspaceId, { ...shared, ...filters[0] })];
  const lists: EventFactRow[][] = [];
  for (let from = 0; from < filters.length; from += filtersPerStatement) {
    const group = filters.slice(from, from + filtersPerStatement);
    const rows = await selectEventRows(trx, workspaceId, shared)
      .select(
        sql<number>`(${sql.join(
          group.map((f, bit) => sql`(case when ${filterSql(f)} then ${sql.lit(2 ** bit)} else 0 end)`),
          sql` + `,
        )})::int`.as('matched'),
      )
      .where(sql<boolean>`(${sql.join(group.map(filterSql), sql` or `)})`)
      .execute();
    const grouped: EventFactRow[][] = group.map(() => []);
    for (const { matched, ...row } of rows) {
      for (let bit = 0; bit < group.length; bit++) if (matched & (2 ** bit)) grouped[bit]!.push(row);
    }
    lists.push(...grouped);
  }
  return lists;
}

/**
 * Events of the given vendor actions with the vendor's record as received. Only for the few
 * settings the normalised model does not carry yet (network rules, repository visibility, deploy
 * key permissions); checks read normalised fields wherever those exist.
 */
export async function selectVendorRecords(trx: Trx, workspaceId: string, actions: string[], until: Date) {
  if (actions.length === 0) return [];
  return trx
    .selectFrom('events')
    .leftJoin('evidence_items', (join) =>
      join
        .onRef('evidence_items.workspace_id', '=', 'events.workspace_id')
        .on(sql<boolean>`evidence_items.id = events.evidence_id::uuid`),
    )
    .select([
      'events.id',
      'events.system',
      'events.time',
      'events.action',
      'events.outcome',
      'events.actor_identity_id',
      'events.repository',
      'events.data',
      rawPayload.as('raw'),
    ])
    .where('events.workspace_id', '=', workspaceId)
    .where('events.action', 'in', actions)
    .where('events.time', '<=', until)
    .orderBy('events.time')
    .orderBy('events.id')
    .execute();
}

export async function selectEntitlementChanges(
  trx: Trx,
  workspaceId: string,
  asOf: Date,
  scope?: IdentityScope,
) {
  let q = trx
    .selectFrom('entitlement_changes')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('at', '<=', asOf);
  if (scope) q = q.where(sql<boolean>`identity_id = any(${[...scope]}::uuid[])`);
  return q.orderBy('at').orderBy('id').execute();
}

/** Per identity, the latest successful interactive sign-in at or before `asOf`. */
export async function selectLastLogins(trx: Trx, workspaceId: string, asOf: Date, scope?: IdentityScope) {
  const only = scope
    ? sql` and (actor_identity_id = any(${[...scope]}::uuid[]) or target_identity_id = any(${[...scope]}::uuid[]))`
    : sql``;
  const result = await sql<{ identity_id: string; last_login: Date }>`
    select coalesce(target_identity_id, actor_identity_id) as identity_id, max(time) as last_login
    from events
    where workspace_id = ${workspaceId} and class_uid = 3002 and activity_id = 1
      and outcome = 'success' and time <= ${asOf}
      and coalesce(target_identity_id, actor_identity_id) is not null${only}
    group by 1`.execute(trx);
  return result.rows;
}
