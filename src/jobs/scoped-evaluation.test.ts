/**
 * Change-triggered evaluation scoped to the accounts a change names: the scenario's sign-in log
 * arrives in batches, each evaluated for its own accounts (and their people) only; a whole
 * evaluation afterwards finds nothing to open or close, so the scoped runs missed nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase } from '../../test/helpers/database.ts';
import { sharedPath } from '../../test/helpers/shared.ts';
import type { Database } from '../db/database.ts';
import { systemActor } from '../domains/audit/actor.ts';
import { importFile } from '../domains/ingest/import.service.ts';
import { runChecks } from '../domains/monitoring/run-checks.service.ts';
import { createWorkspace } from '../domains/workspaces/workspaces.service.ts';
import { enqueueFullEvaluation, maxScopedIdentities, runEvaluation } from './evaluation.ts';

const dir = sharedPath('scenarios/northwind');

interface Payload {
  checkIds?: string[];
  scopedCheckIds?: string[];
  identityIds?: string[];
  governance?: string[];
}

/** Takes the pending evaluation off the queue, as a worker would, and runs it. */
async function runPending(database: Database, workspaceId: string) {
  const { rows } = await sql<{ id: number; payload: Payload | string }>`
    select id, payload from jobs
    where workspace_id = ${workspaceId} and kind = 'evaluate_checks' and status = 'pending'`.execute(
    database.db,
  );
  assert.equal(rows.length, 1, 'one pending evaluation (changes coalesce)');
  const row = rows[0]!;
  const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Payload;
  await sql`update jobs set status = 'done' where id = ${row.id}`.execute(database.db);
  return { payload, summary: await runEvaluation(database, workspaceId, payload as Record<string, unknown>) };
}

async function liveFindings(database: Database, workspaceId: string) {
  const { rows } = await sql<{ key: string }>`
    select check_id || ' ' || subject_key || ' ' || status || ' ' || detail as key from findings
    where workspace_id = ${workspaceId} and status <> 'closed' order by 1`.execute(database.db);
  return rows.map((r) => r.key);
}

test('sign-in batches are judged account by account; a whole evaluation then changes nothing', async (t) => {
  const { database } = await createTestDatabase(t);
  const workspace = await createWorkspace(database, systemActor, { slug: 'northwind' });
  const load = async (kind: string, fileName: string, text: string) =>
    importFile(database, systemActor, 'northwind', kind, Readable.from([text]), { fileName });

  // People, cloud accounts and code history first.
  for (const [kind, file] of [
    ['hr-roster', 'hr_roster.csv'],
    ['aws-iam-credential-report', 'iam_credential_report.csv'],
    ['aws-cloudtrail', 'cloudtrail.json'],
    ['github-audit-log', 'github_audit_log.jsonl'],
  ] as const) {
    await load(kind, file, readFileSync(`${dir}/${file}`, 'utf8'));
    const { payload, summary } = await runPending(database, workspace.id);
    if (kind === 'hr-roster' || kind === 'aws-iam-credential-report') {
      assert.equal(payload.identityIds, undefined, `${file}: rosters and snapshots are evaluated whole`);
      assert.equal(summary.scoped, null);
    }
  }

  // The IdP's log in batches of 40 records, as a collector would send them.
  const lines = readFileSync(`${dir}/okta_system_log.jsonl`, 'utf8').trim().split('\n');
  let scopedRuns = 0;
  for (let i = 0; i < lines.length; i += 40) {
    const batch = lines.slice(i, i + 40);
    const imported = await load('okta-system-log', `okta-${i}.jsonl`, batch.join('\n'));
    if (!imported.evaluation) continue;
    const { payload, summary } = await runPending(database, workspace.id);
    if (!payload.identityIds) {
      assert.equal(summary.scoped, null);
      continue;
    }
    scopedRuns++;
    const accounts = new Set(payload.identityIds);
    assert.deepEqual(imported.touched.identityIds, payload.identityIds);
    assert.ok(payload.identityIds.length <= maxScopedIdentities);
    assert.equal(summary.scoped?.accounts, accounts.size);
    // The run judged only the batch's accounts and the people they belong to.
    const { rows: people } = await sql<{ person_id: string }>`
      select distinct person_id from identities
      where workspace_id = ${workspace.id} and id = any(${[...accounts]}::uuid[]) and person_id is not null`.execute(
      database.db,
    );
    const inScope = new Set([
      ...[...accounts].map((id) => `identity:${id}`),
      ...people.map((p) => `person:${p.person_id}`),
    ]);
    const { rows: results } = await sql<{ check_id: string; subject_key: string }>`
      select check_id, subject_key from check_results
      where workspace_id = ${workspace.id} and run_id = ${summary.runId}`.execute(database.db);
    for (const r of results) {
      if (summary.scoped!.checks.includes(r.check_id)) {
        assert.ok(inScope.has(r.subject_key), `${r.check_id} judged ${r.subject_key}, outside the batch`);
      }
    }
  }
  assert.ok(scopedRuns >= 3, `most sign-in batches are scoped (${scopedRuns})`);

  const before = await liveFindings(database, workspace.id);
  assert.ok(
    before.some((f) => f.startsWith('identity.login_without_mfa ')),
    'a sign-in without MFA opened its finding in a scoped run',
  );
  assert.ok(
    before.some((f) => f.startsWith('identity.leaver_login_after_termination person:')),
    "a leaver's sign-in opened the person's finding in a scoped run",
  );
  const whole = await runChecks(database, systemActor, 'northwind', { trigger: 'manual' });
  assert.equal(whole.scoped, null);
  assert.equal(whole.findingsOpened, 0, 'the scoped runs opened every finding');
  assert.equal(whole.findingsClosed, 0, 'the scoped runs closed nothing they should not have');
  assert.deepEqual(await liveFindings(database, workspace.id), before);
});

test('a change wanting a whole evaluation absorbs a scoped one queued before it', async (t) => {
  const { database } = await createTestDatabase(t);
  const workspace = await createWorkspace(database, systemActor, { slug: 'acme' });
  const signIn = (email: string, mfa: boolean) =>
    JSON.stringify({
      class_uid: 3002,
      activity_id: 1,
      time: Date.now() - 60_000,
      status_id: 1,
      is_mfa: mfa,
      metadata: { uid: `s-${email}`, product: { name: 'Okta' } },
      user: { uid: email, name: email, email_addr: email },
    });
  await importFile(database, systemActor, 'acme', 'ocsf', Readable.from([signIn('ann@acme.test', false)]), {
    fileName: 'a.jsonl',
  });
  await importFile(database, systemActor, 'acme', 'ocsf', Readable.from([signIn('bo@acme.test', true)]), {
    fileName: 'b.jsonl',
  });
  // Two scoped changes merge into one evaluation of both accounts; governance has nothing to do.
  const { rows } = await sql<{ payload: Payload | string }>`
    select payload from jobs where workspace_id = ${workspace.id} and status = 'pending'`.execute(
    database.db,
  );
  const merged = (
    typeof rows[0]!.payload === 'string' ? JSON.parse(rows[0]!.payload) : rows[0]!.payload
  ) as Payload;
  assert.equal(merged.identityIds?.length, 2);
  assert.deepEqual(merged.governance, ['unchanged']);

  await database.inWorkspace(workspace.id, (trx) => enqueueFullEvaluation(trx, workspace.id, 'settings'));
  const { summary } = await runPending(database, workspace.id);
  assert.equal(summary.scoped, null, 'the whole evaluation wins');
  const { rows: runs } = await sql<{ trigger: string }>`
    select trigger from check_runs where workspace_id = ${workspace.id}`.execute(database.db);
  assert.deepEqual(
    runs.map((r) => r.trigger),
    ['import,settings'],
  );
  const open = await liveFindings(database, workspace.id);
  assert.ok(open.some((f) => f.startsWith('identity.login_without_mfa ')));
  assert.equal(open.filter((f) => f.startsWith('identity.login_without_mfa ')).length, 1, "only ann's");
});
