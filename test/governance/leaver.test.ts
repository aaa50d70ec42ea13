/**
 * Leavers end to end: HR termination → one deprovisioning task per account → the IdP
 * deactivates the account (a SCIM PATCH through the real endpoint) and the next AWS IAM
 * credential report no longer lists the user → both tasks closed with time-to-revoke evidence in
 * a ledger that verifies. And the same with a missed deadline: the leaver finding, linked from the
 * overdue task, until the source confirms.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { Database } from '../../src/db/database.ts';
import { verifyLedger } from '../../src/domains/evidence/evidence.service.ts';
import { evidenceBlobStore } from '../../src/domains/evidence/evidence-blobs.ts';
import { listGovernanceTasks, reconcileGovernance } from '../../src/domains/governance/jml.service.ts';
import { updateWorkspaceIdentity } from '../../src/domains/identity/identity.service.ts';
import { importFile } from '../../src/domains/ingest/import.service.ts';
import { runQueuedEvaluationNow } from '../../src/jobs/evaluation.ts';
import { operator, pushHarness } from '../connectors/push-helpers.ts';
import { sharedPath } from '../helpers/shared.ts';
import { runPendingEvaluation, userUrn } from './fixture.ts';

const day = 24 * 3600 * 1000;
const patchUrn = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const isoDay = (d: Date) => d.toISOString().slice(0, 10);
// The sample lists one user twice (an edited fixture); the importer rightly refuses that, so the
// earlier row goes.
const credentialReport = readFileSync(
  sharedPath('samples/iam_credential_report/c7n_account_credential_report.csv'),
  'utf8',
)
  .split('\n')
  .filter(
    (line, i, lines) =>
      !lines.slice(i + 1).some((l) => l.split(',')[0] === line.split(',')[0] && line !== ''),
  )
  .join('\n');
const awsSystem = 'aws-iam:644160558196';

function roster(rows: { id: string; name: string; email: string; end?: string }[]) {
  return [
    'employee_id,name,email,title,department,manager_email,employment_type,start_date,end_date,status',
    ...rows.map(
      (r) =>
        `${r.id},${r.name},${r.email},Engineer,Engineering,lead@acme.test,full_time,2016-01-04,${r.end ?? ''},${r.end ? 'terminated' : 'active'}`,
    ),
  ].join('\n');
}

async function* chunks(text: string) {
  yield text;
}

/** Imports a file and runs the evaluation it queued, as the CLI does where no worker runs. */
async function importAndEvaluate(database: Database, kind: string, text: string, observedAt: Date) {
  const summary = await importFile(database, operator, 'acme', kind, chunks(text), {
    fileName: `${kind}.file`,
    observedAt: observedAt.toISOString(),
  });
  return runQueuedEvaluationNow(database, summary.evaluation, operator, 30);
}

async function setUp(t: TestContext, people: { id: string; name: string; email: string; iam: string }[]) {
  const h = await pushHarness(t, 'okta');
  await importAndEvaluate(h.database, 'hr-roster', roster(people), new Date(Date.now() - 60 * day));
  const scimIds = new Map<string, string>();
  for (const p of people) {
    const response = await h.scim('POST', '/Users', {
      schemas: [userUrn],
      userName: p.email,
      name: { givenName: p.name.split(' ')[0], familyName: p.name.split(' ')[1] },
      emails: [{ primary: true, value: p.email, type: 'work' }],
      active: true,
    });
    assert.equal(response.statusCode, 201, response.body);
    scimIds.set(p.email, response.json().id);
  }
  await importAndEvaluate(
    h.database,
    'aws-iam-credential-report',
    credentialReport,
    new Date(Date.now() - 5 * day),
  );
  const accounts = await h.database.db
    .selectFrom('identities')
    .selectAll()
    .where('system', '=', awsSystem)
    .execute();
  for (const p of people) {
    const iam = accounts.find((a) => a.user_name === p.iam);
    assert.ok(iam, `the credential report lists ${p.iam}`);
    await updateWorkspaceIdentity(h.database, operator, 'acme', iam.id, { person: p.email });
  }
  return { h, scimIds };
}

test('leaver: HR termination opens a task per account; the IdP and the next IAM report confirm, time-to-revoke recorded', async (t) => {
  const andrew = { id: 'E1', name: 'Andrew Ng', email: 'andrew@acme.test', iam: 'andrew' };
  const { h, scimIds } = await setUp(t, [andrew]);

  // HR: last day yesterday. The import's evaluation opens the tasks at once.
  const yesterday = new Date(Date.now() - day);
  await importAndEvaluate(
    h.database,
    'hr-roster',
    roster([{ ...andrew, end: isoDay(yesterday) }]),
    new Date(),
  );
  let tasks = await listGovernanceTasks(h.database, 'acme', { kind: 'deprovision_account' });
  assert.deepEqual(tasks.map((x) => (x.details as { system: string }).system).sort(), [
    awsSystem,
    'scim:okta',
  ]);
  assert.ok(tasks.every((x) => x.status === 'open'));
  const terminatedAt = new Date(`${isoDay(new Date())}T00:00:00.000Z`);
  for (const task of tasks)
    assert.equal(task.due_at?.toISOString(), new Date(terminatedAt.getTime() + day).toISOString());

  // Replaying the facts opens nothing new.
  const again = await reconcileGovernance(h.database, 'acme', operator);
  assert.equal(again.tasksOpened, 0);

  // The IdP deactivates the account: the SCIM task closes, the AWS one stays open.
  const patch = await h.scim('PATCH', `/Users/${scimIds.get(andrew.email)}`, {
    schemas: [patchUrn],
    Operations: [{ op: 'replace', value: { active: false } }],
  });
  assert.equal(patch.statusCode, 200, patch.body);
  await runPendingEvaluation(h.database);
  tasks = await listGovernanceTasks(h.database, 'acme', { kind: 'deprovision_account' });
  const bySystem = (s: string) => tasks.find((x) => (x.details as { system: string }).system === s)!;
  assert.equal(bySystem('scim:okta').status, 'done');
  assert.equal(bySystem(awsSystem).status, 'open');

  // The next credential report (the same real file without andrew) confirms the removal.
  const without = credentialReport
    .split('\n')
    .filter((line) => !line.startsWith('andrew,'))
    .join('\n');
  const evaluation = await importAndEvaluate(h.database, 'aws-iam-credential-report', without, new Date());
  // Every other row is unchanged, so the import queues no check; the hourly schedule (or this
  // explicit evaluation) reconciles.
  assert.equal(evaluation.status, 'none');
  const reconciled = await reconcileGovernance(h.database, 'acme', operator);
  assert.equal(reconciled.tasksConfirmed, 1);
  tasks = await listGovernanceTasks(h.database, 'acme', { kind: 'deprovision_account' });
  for (const task of tasks) {
    assert.equal(task.status, 'done');
    const confirmation = (
      task.details as { confirmation: { timeToRevokeSeconds: number; withinDeadline: boolean } }
    ).confirmation;
    assert.ok(confirmation.timeToRevokeSeconds > 0);
    assert.equal(confirmation.withinDeadline, true);
    assert.equal(
      confirmation.timeToRevokeSeconds,
      Math.round((task.completed_at!.getTime() - terminatedAt.getTime()) / 1000),
    );
  }
  const evidence = await h.database.db
    .selectFrom('evidence_items')
    .select(['kind', 'subject_id'])
    .where('kind', '=', 'identity.deprovisioning_confirmed')
    .execute();
  assert.equal(evidence.length, 2);
  const verification = await verifyLedger(h.database, evidenceBlobStore(h.config), 'acme');
  assert.equal(verification.ok, true);
});

test('leaver: a missed deadline is a finding, linked from the overdue task, and the late removal is measured', async (t) => {
  const calvin = { id: 'E2', name: 'Calvin Reyes', email: 'calvin@acme.test', iam: 'calvin' };
  const { h, scimIds } = await setUp(t, [calvin]);
  // HR recorded the leaver late: last day four days ago, deadline long passed.
  const lastDay = new Date(Date.now() - 4 * day);
  await importAndEvaluate(h.database, 'hr-roster', roster([{ ...calvin, end: isoDay(lastDay) }]), new Date());
  const findings = await h.database.db
    .selectFrom('findings')
    .selectAll()
    .where('check_id', '=', 'identity.leaver_access_removed')
    .where('status', '=', 'open')
    .execute();
  assert.equal(findings.length, 1);
  let tasks = await listGovernanceTasks(h.database, 'acme', { kind: 'deprovision_account' });
  assert.equal(tasks.length, 2);
  for (const task of tasks) {
    assert.equal(task.status, 'open');
    assert.equal(task.finding_id, findings[0]!.id);
  }

  await h.scim('PATCH', `/Users/${scimIds.get(calvin.email)}`, {
    schemas: [patchUrn],
    Operations: [{ op: 'replace', value: { active: false } }],
  });
  await runPendingEvaluation(h.database);
  tasks = await listGovernanceTasks(h.database, 'acme', { status: 'done' });
  assert.equal(tasks.length, 1);
  const confirmation = (
    tasks[0]!.details as { confirmation: { withinDeadline: boolean; timeToRevokeSeconds: number } }
  ).confirmation;
  assert.equal(confirmation.withinDeadline, false);
  assert.ok(confirmation.timeToRevokeSeconds > 3 * 24 * 3600);
  // The AWS account is still active: its finding stays open.
  const open = await h.database.db
    .selectFrom('findings')
    .select('id')
    .where('check_id', '=', 'identity.leaver_access_removed')
    .where('status', '=', 'open')
    .execute();
  assert.equal(open.length, 1);
});
