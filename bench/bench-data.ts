/**
 * Shared fixtures of the readiness, export and API benchmarks: scratch databases (embedded on
 * disk, or a scratch database on a PostgreSQL server) and bulk fillers that write, in SQL, rows
 * in the shapes the product writes — normalised events as the importers store them, the identity
 * graph, control status intervals, and evidence ledger entries with canonical envelopes and leaf
 * hashes — so that a year of a large workspace is generated in seconds rather than imported.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { type Config, loadConfig } from '../src/config.ts';
import { type Database, openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { systemActor } from '../src/domains/audit/actor.ts';
import { trustServicesCategories } from '../src/domains/catalog/catalog.types.ts';
import { MerkleTreeBuilder } from '../src/domains/evidence/core/merkle.ts';
import { readLeafHashes } from '../src/domains/evidence/evidence.repository.ts';
import { checkpointNow } from '../src/domains/evidence/evidence.service.ts';
import { setScope } from '../src/domains/scope/scope.service.ts';
import { createWorkspace } from '../src/domains/workspaces/workspaces.service.ts';

export interface Engine {
  label: 'embedded' | 'postgresql';
  database: Database;
  /** What a child process needs to open the same database (after this one is closed, embedded). */
  config: Pick<Config, 'dataDir' | 'databaseUrl'>;
  /** Closes the connection, keeping the data (so a child process can open it). */
  close(): Promise<void>;
  /** Closes (if still open) and deletes the database. */
  dispose(): Promise<void>;
}

export async function embeddedEngine(prefix: string): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), `assay-bench-${prefix}-`));
  const dataDir = join(dir, 'data');
  const database = await openDatabase(loadConfig({ dataDir }, {}));
  await migrate(database);
  let open = true;
  const close = async () => {
    if (open) await database.close();
    open = false;
  };
  return {
    label: 'embedded',
    database,
    config: { dataDir, databaseUrl: undefined },
    close,
    async dispose() {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A scratch database on the server `url` names, created for the run and dropped after it. */
export async function serverEngine(url: string): Promise<Engine> {
  const scratch = `assay_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${scratch}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${scratch}`;
  const database = await openDatabase({ dataDir: tmpdir(), databaseUrl: target.toString() });
  await migrate(database);
  let open = true;
  const close = async () => {
    if (open) await database.close();
    open = false;
  };
  return {
    label: 'postgresql',
    database,
    config: { dataDir: tmpdir(), databaseUrl: target.toString() },
    close,
    async dispose() {
      await close();
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      await dropper.query(`drop database if exists ${scratch} with (force)`);
      await dropper.end();
    },
  };
}

/**
 * The PostgreSQL server of the run, if any: ASSAY_BENCH_DATABASE_URL, else DATABASE_URL, else
 * ASSAY_TEST_DATABASE_URL (as the ledger and import benchmarks).
 */
export function benchServerUrl(config: Config): string | undefined {
  const explicit = process.env.ASSAY_BENCH_DATABASE_URL;
  return explicit !== undefined && explicit !== ''
    ? explicit
    : (config.databaseUrl ?? config.testDatabaseUrl);
}

/** A workspace with every Trust Services category in scope, and its controls. */
export async function benchWorkspace(database: Database, slug: string): Promise<string> {
  const row = await createWorkspace(database, systemActor, { slug });
  await setScope(database, systemActor, slug, [...trustServicesCategories]);
  return row.id;
}

/**
 * Brings the workspace to `total` controls by copying catalog controls under new template ids
 * (`<template>.<n>`), with their frequency and checks, as a programme with its own controls has.
 */
export async function padControls(database: Database, workspaceId: string, total: number): Promise<number> {
  await sql`
    insert into controls (workspace_id, template_id, title, description, frequency, owner_role, criteria,
      evidence, checks)
    select c.workspace_id, c.template_id || '.' || g.n, c.title || ' (' || g.n || ')', c.description,
      c.frequency, c.owner_role, c.criteria, c.evidence, c.checks
    from (select *, row_number() over (order by template_id) as r, count(*) over () as k
          from controls where workspace_id = ${workspaceId}) c
    cross join generate_series(1, 100) as g(n)
    where (g.n - 1) * c.k + c.r <= ${total} - c.k
  `.execute(database.db);
  const row = await sql<{
    n: number;
  }>`select count(*)::int as n from controls where workspace_id = ${workspaceId}`.execute(database.db);
  return row.rows[0]!.n;
}

export interface HistoryShape {
  identities: number;
  events: number;
  /** Period start (00:00 UTC); the history spans the 365 days from it. */
  from: Date;
}

const iso = (column: string) => `to_char((${column}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * A year of a large workspace: HR people, their Okta accounts (some leavers, a few kept access or
 * lost it late), privileged grants, account lifecycle events, sign-ins, and GitHub pull requests
 * (a review, a merge, a push each; one in twenty merged without an independent approval),
 * `events` rows in total.
 */
export async function fillHistory(database: Database, workspaceId: string, shape: HistoryShape) {
  const db = database.db;
  const n = shape.identities;
  const from = shape.from.toISOString();
  const leavers = Math.max(1, Math.floor(n * 0.03));
  const grants = Math.max(1, Math.floor(n * 0.2));
  const prs = Math.max(1, Math.floor(shape.events * 0.04));
  const lifecycle = n + leavers - Math.ceil(leavers / 15);
  const signIns = shape.events - lifecycle - grants - 3 * prs;
  if (signIns < 0) throw new Error('too few events for the identities');

  await sql`
    insert into people (workspace_id, employee_id, source, name, email, title, department, manager_email,
      employment_type, start_date, end_date, status, observed_at)
    select ${workspaceId}::uuid, 'E' || lpad(i::text, 6, '0'), 'hr-roster', 'Person ' || i,
      'person' || i || '@bench.example', 'Engineer', 'Dept ' || (i % 40), 'person' || (i % 100) || '@bench.example',
      'employee', date '2020-01-01' + (i % 1500),
      case when i < ${leavers} then (${from}::timestamptz + (i * 300 / ${leavers}) * interval '1 day')::date end,
      case when i < ${leavers} then 'terminated' else 'active' end, ${from}::timestamptz
    from generate_series(0, ${n - 1}::int) as i`.execute(db);
  await sql`
    insert into identities (workspace_id, system, external_id, user_name, email, display_name, status, status_at,
      person_id, link_method, first_seen_at, last_seen_at)
    select p.workspace_id, 'okta', '00u' || substr(p.employee_id, 2), p.email, p.email, p.name,
      case when i < ${leavers} and i % 15 <> 0 then 'deprovisioned' else 'active' end, null, p.id, 'email',
      ${from}::timestamptz - interval '30 days', ${from}::timestamptz + interval '364 days'
    from people p cross join lateral (select substr(p.employee_id, 2)::int as i) x
    where p.workspace_id = ${workspaceId}`.execute(db);

  const ids = sql`(select id, email, display_name, external_id, substr(external_id, 4)::int as n from identities
    where workspace_id = ${workspaceId} and system = 'okta')`;
  const actor = (alias: string) =>
    sql.raw(`jsonb_build_object('type', 'user', 'system', 'okta', 'externalId', ${alias}.external_id,
      'userName', ${alias}.email, 'email', ${alias}.email, 'displayName', ${alias}.display_name)`);

  // Account lifecycle: each account created before the period, leavers deactivated (most within a
  // day, one in ten days late, one in fifteen never).
  await sql`
    insert into events (workspace_id, source, source_key, system, time, class_uid, activity_id, type_uid, action,
      outcome, actor_identity_id, target_identity_id, repository, data, raw)
    select ${workspaceId}::uuid, 'okta-system-log', 'bench-life-' || k.kind || '-' || a.n, 'okta', k.t, 3001, k.activity,
      300100 + k.activity, k.action, 'success', null, a.id, null,
      jsonb_build_object('source', 'okta-system-log', 'sourceKey', 'bench-life-' || k.kind || '-' || a.n,
        'system', 'okta', 'time', ${sql.raw(iso('k.t'))}, 'classUid', 3001, 'className', 'Account Change',
        'categoryUid', 3, 'categoryName', 'Identity & Access Management', 'activityId', k.activity,
        'activityName', k.activity_name, 'typeUid', 300100 + k.activity, 'action', k.action, 'outcome', 'success',
        'target', ${actor('a')}, 'accountStatus', k.status),
      jsonb_build_object('uuid', 'bench-life-' || k.kind || '-' || a.n, 'eventType', k.action, 'published', ${sql.raw(iso('k.t'))})
    from ${ids} a
    cross join lateral (
      select 'c' as kind, ${from}::timestamptz - interval '30 days' + a.n * interval '1 second' as t, 1 as activity,
        'Create' as activity_name, 'user.lifecycle.create' as action, 'active' as status
      union all
      select 'd', ${from}::timestamptz + ((a.n * 300 / ${leavers}) + 1) * interval '1 day'
          + case when a.n % 10 = 0 then interval '5 days' else interval '3 hours' end,
        5, 'Disable', 'user.lifecycle.deactivate', 'deprovisioned'
      where a.n < ${leavers} and a.n % 15 <> 0
    ) k`.execute(db);

  // Privileged grants (admin roles), each with its entitlement change.
  await sql`
    with g as (
      select i, a.id, a.email, a.display_name, a.external_id,
        ${from}::timestamptz + (i::bigint * 365 * 86400 / ${grants}) * interval '1 second' as t
      from generate_series(0, ${grants - 1}::int) as i join ${ids} a on a.n = (i * 7) % ${n}
    ), e as (
      insert into events (workspace_id, source, source_key, system, time, class_uid, activity_id, type_uid, action,
        outcome, actor_identity_id, target_identity_id, repository, data, raw)
      select ${workspaceId}::uuid, 'okta-system-log', 'bench-grant-' || g.i, 'okta', g.t, 3005, 1, 300501,
        'user.account.privilege.grant', 'success', null, g.id, null,
        jsonb_build_object('source', 'okta-system-log', 'sourceKey', 'bench-grant-' || g.i, 'system', 'okta',
          'time', ${sql.raw(iso('g.t'))}, 'classUid', 3005, 'className', 'User Access Management', 'categoryUid', 3,
          'categoryName', 'Identity & Access Management', 'activityId', 1, 'activityName', 'Assign Privileges',
          'typeUid', 300501, 'action', 'user.account.privilege.grant', 'outcome', 'success', 'target', ${actor('g')},
          'privilege', jsonb_build_object('granted', true, 'kind', 'role', 'name', 'Super administrator',
            'names', jsonb_build_array('Super administrator'), 'privileged', true)),
        jsonb_build_object('uuid', 'bench-grant-' || g.i, 'eventType', 'user.account.privilege.grant')
      from g
      returning id, target_identity_id, time, source_key
    )
    insert into entitlement_changes (workspace_id, identity_id, system, name, kind, privileged, granted, at,
      event_id, source, source_key)
    select ${workspaceId}::uuid, e.target_identity_id, 'okta', 'Super administrator', 'role', true, true, e.time, e.id,
      'okta-system-log', e.source_key
    from e`.execute(db);

  // Sign-ins, in slices so that each statement stays modest on the embedded database.
  const slice = 200_000;
  for (let start = 0; start < signIns; start += slice) {
    const end = Math.min(signIns, start + slice);
    await sql`
      insert into events (workspace_id, source, source_key, system, time, class_uid, activity_id, type_uid, action,
        outcome, actor_identity_id, target_identity_id, repository, data, raw)
      select ${workspaceId}::uuid, 'okta-system-log', 'bench-signin-' || s.i, 'okta', s.t, 3002, 1, 300201,
        'user.session.start', s.outcome, a.id, null, null,
        jsonb_build_object('source', 'okta-system-log', 'sourceKey', 'bench-signin-' || s.i, 'system', 'okta',
          'time', ${sql.raw(iso('s.t'))}, 'classUid', 3002, 'className', 'Authentication', 'categoryUid', 3,
          'categoryName', 'Identity & Access Management', 'activityId', 1, 'activityName', 'Logon',
          'typeUid', 300201, 'action', 'user.session.start', 'outcome', s.outcome, 'actor', ${actor('a')},
          'mfa', s.i % 50 <> 0, 'authMethod', 'sso', 'srcIp', '203.0.' || (s.i / 256 % 256) || '.' || (s.i % 256),
          'userAgent', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/120.0'),
        jsonb_build_object('uuid', 'bench-signin-' || s.i, 'published', ${sql.raw(iso('s.t'))},
          'eventType', 'user.session.start', 'displayMessage', 'User login to Okta', 'severity', 'INFO',
          'actor', jsonb_build_object('id', a.external_id, 'type', 'User', 'alternateId', a.email,
            'displayName', a.display_name),
          'outcome', jsonb_build_object('result', upper(s.outcome)))
      from (
        select i, ${from}::timestamptz + (i::bigint * 365 * 86400 / ${signIns}) * interval '1 second' as t,
          case when i % 40 = 0 then 'failure' else 'success' end as outcome
        from generate_series(${start}::int, ${end - 1}::int) as i
      ) s join ${ids} a on a.n = (s.i::bigint * 7919) % ${n}::int`.execute(db);
  }

  // Pull requests: an approving review by someone else (missing for one in twenty), the merge an
  // hour later, a push to the default branch.
  await sql`
    insert into events (workspace_id, source, source_key, system, time, class_uid, activity_id, type_uid, action,
      outcome, actor_identity_id, target_identity_id, repository, data, raw)
    select ${workspaceId}::uuid, 'github-audit-log', 'bench-code-' || c.kind || '-' || p.i, 'github:bench',
      p.t + c.delay, 990002, c.activity, 99000200 + c.activity, c.action, 'success', a.id, null, p.repo,
      jsonb_build_object('source', 'github-audit-log', 'sourceKey', 'bench-code-' || c.kind || '-' || p.i,
        'system', 'github:bench', 'time', ${sql.raw(iso('p.t + c.delay'))}, 'classUid', 990002,
        'className', 'Code Change', 'categoryUid', 99, 'categoryName', 'Assay', 'activityId', c.activity,
        'activityName', c.activity_name, 'typeUid', 99000200 + c.activity, 'action', c.action, 'outcome', 'success',
        'actor', jsonb_build_object('type', 'user', 'system', 'github:bench', 'userName', 'gh-' || a.n),
        'target', case when c.kind = 'm' then jsonb_build_object('type', 'user', 'system', 'github:bench',
          'userName', 'gh-' || p.author) end,
        'organization', 'bench', 'repository', p.repo, 'branch', 'main',
        'code', jsonb_strip_nulls(jsonb_build_object('change', c.change, 'bypass', false, 'pullRequest', p.i,
          'reviewState', case when c.kind = 'r' then 'approved' end))),
      jsonb_build_object('_document_id', 'bench-code-' || c.kind || '-' || p.i, 'action', c.action, 'repo', p.repo)
    from (
      select i, 'bench/repo-' || (i % 60) as repo, (i * 13) % ${n} as author,
        ${from}::timestamptz + (i::bigint * 360 * 86400 / ${prs}) * interval '1 second' as t
      from generate_series(0, ${prs - 1}::int) as i
    ) p
    cross join lateral (
      select 'r' as kind, interval '0' as delay, 'pull_request_review.submit' as action, 'review_submitted' as change,
        3 as activity, 'Review' as activity_name,
        case when p.i % 20 = 0 then p.author else (p.author + 1) % ${n} end as who
      union all select 'm', interval '1 hour', 'pull_request.merged', 'pull_request_merged', 2, 'Merge', p.author
      union all select 'p', interval '2 hours', 'git.push', 'push', 1, 'Push', p.author
    ) c
    join ${ids} a on a.n = c.who`.execute(db);

  await sql`analyze events`.execute(db);
  return { signIns, pullRequests: prs, leavers, grants, lifecycle };
}

/**
 * Control status intervals for the year: every control monitored week by week, passing except
 * one week in thirteen failing and one week in twenty-six without data.
 */
export async function fillStatusIntervals(database: Database, workspaceId: string, from: Date) {
  await sql`
    insert into control_status_intervals (workspace_id, control_id, status, valid_from, valid_to, reason)
    select c.workspace_id, c.id,
      case when (w + c.r) % 26 = 0 then 'no_data' when (w + c.r) % 13 = 0 then 'failing' else 'passing' end,
      ${from.toISOString()}::timestamptz + w * interval '7 days',
      ${from.toISOString()}::timestamptz + (w + 1) * interval '7 days', 'bench'
    from (select *, row_number() over (order by template_id) as r from controls where workspace_id = ${workspaceId}) c
    cross join generate_series(0, 52) as w`.execute(database.db);
}

/**
 * `count` evidence ledger entries proving the workspace's controls (round robin), effective
 * through the year from `from`: canonical envelopes, content hashes and leaf hashes computed by
 * the database, then the ledger head and a signed checkpoint — what appendEvidence would leave.
 */
export async function fillEvidence(database: Database, workspaceId: string, count: number, from: Date) {
  const db = database.db;
  const start = await sql<{ n: number }>`
    select coalesce(max(leaf_index) + 1, 0)::int as n from evidence_items where workspace_id = ${workspaceId}`.execute(
    db,
  );
  const base = start.rows[0]!.n;
  const counted = await sql<{ n: number }>`
    select count(*)::int as n from controls where workspace_id = ${workspaceId}`.execute(db);
  const controls = counted.rows[0]!.n;
  const seconds = Math.max(1, Math.floor((364 * 86400) / Math.max(1, count)));
  const step = 50_000;
  for (let first = 0; first < count; first += step) {
    const last = Math.min(count, first + step);
    await sql`
      insert into evidence_items (workspace_id, leaf_index, id, kind, control_ids, criterion_ids, subject_type,
        subject_id, effective_at, collected_at, stale_after, collector_type, collector_id, content_sha256, content,
        envelope, leaf_hash)
      select ${workspaceId}::uuid, e.leaf, e.id, 'control.operation', array[e.control], e.criteria, 'control',
        e.control, e.at, e.at, null, 'manual', 'bench', e.content_sha256, e.content, e.envelope,
        sha256('\\x00'::bytea || e.envelope)
      from (
        select c.*, convert_to(
          '{"blob":null,"collectedAt":"' || c.iso || '","collector":{"id":"bench","name":null,"type":"manual"},'
          || '"contentSha256":"' || c.content_sha256 || '","effectiveAt":"' || c.iso || '","id":"' || c.id
          || '","kind":"control.operation","proves":{"controls":' || to_jsonb(array[c.control])::text
          || ',"criteria":' || to_jsonb(c.criteria)::text || '},"staleAfter":null,'
          || '"subject":{"id":"' || c.control || '","name":null,"type":"control"},'
          || '"type":"assay.evidence/v1","workspace":"' || ${workspaceId} || '"}', 'UTF8') as envelope
        from (
          select b.*, encode(sha256(b.content), 'hex') as content_sha256
          from (
            select ${base} + i as leaf, gen_random_uuid() as id, k.template_id as control, k.criteria,
              ${from.toISOString()}::timestamptz + i * ${seconds} * interval '1 second' as at,
              ${sql.raw(iso(`'${from.toISOString()}'::timestamptz + i * ${seconds} * interval '1 second'`))} as iso,
              convert_to('{"note":"operated as designed","operator":"person' || (i % 500) || '@bench.example","n":'
                || i || '}', 'UTF8') as content
            from (select i, i % ${controls}::int as slot
                  from generate_series(${first}::bigint, ${last - 1}::bigint) as i) g
            join (select template_id, criteria, row_number() over (order by template_id) - 1 as r
                  from controls where workspace_id = ${workspaceId}) k on k.r = g.slot
          ) b
        ) c
      ) e`.execute(db);
  }
  const total = base + count;
  const hashes = await database.inWorkspace(workspaceId, (trx) => readLeafHashes(trx, workspaceId, total));
  const builder = new MerkleTreeBuilder();
  for (let i = 0; i < total; i++) builder.append(hashes.subarray(i * 32, i * 32 + 32));
  const frontier = builder.frontier();
  await db
    .insertInto('evidence_ledger_heads')
    .values({ workspace_id: workspaceId, tree_size: frontier.size, frontier: frontier.hashes })
    .onConflict((oc) =>
      oc.column('workspace_id').doUpdateSet({ tree_size: frontier.size, frontier: frontier.hashes }),
    )
    .execute();
  await checkpointNow(database, systemActor, workspaceId);
  return total;
}
