/**
 * Joiners end to end: an HR roster import with a new starter and a SCIM create of an active user
 * each open the person's onboarding set (one acknowledgement per published policy that needs it,
 * one item per training course in their audience, one access request), due from the start date.
 * The register's acknowledgement and completion close their items, an approval by someone other
 * than the joiner closes the access request, and each completion is evidence in a ledger that
 * verifies. Past the deadline the open items are one finding for the person, linked from them,
 * closed once nothing is overdue. Bad input names the field and changes nothing; another
 * workspace sees none of it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyLedger } from '../../src/domains/evidence/evidence.service.ts';
import { evidenceBlobStore } from '../../src/domains/evidence/evidence-blobs.ts';
import { listGovernanceTasks, reconcileGovernance } from '../../src/domains/governance/jml.service.ts';
import {
  acknowledgePolicy,
  approvePolicyVersion,
  createPolicy,
  publishPolicyVersion,
} from '../../src/domains/registers/policies/policies.service.ts';
import { createCourse, recordCompletion } from '../../src/domains/registers/training/training.service.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { operator } from '../connectors/push-helpers.ts';
import { api, governanceHarness, importRoster, runPendingEvaluation, userUrn } from './fixture.ts';

const day = 24 * 3600 * 1000;
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

type Task = {
  id: string;
  kind: string;
  status: string;
  dueAt: string;
  findingId: string | null;
  details: Record<string, unknown>;
};
type Joiner = { person: string; trigger: string; status: string; startedAt: string; items: Task[] };

test('joiner: HR hire and SCIM create open onboarding; register records, an approval and a missed deadline', async (t) => {
  const h = await governanceHarness(t);
  // The workspace's published policy needing acknowledgement, and a security course for everyone.
  const { policy } = await createPolicy(h.database, operator, 'acme', {
    title: 'Information Security Policy',
    body: 'Protect customer data.',
    acknowledgementRequired: true,
  });
  await approvePolicyVersion(h.database, operator, 'acme', policy.id, 1, { approver: 'ceo@acme.test' });
  await publishPolicyVersion(h.database, operator, 'acme', policy.id, 1, {});
  await createCourse(h.database, operator, 'acme', {
    code: 'SEC-101',
    title: 'Security awareness',
    kind: 'security_awareness',
    frequency: 'annual',
    dueDays: 30,
  });
  // A course for another department only: not in the joiner's audience.
  await createCourse(h.database, operator, 'acme', {
    code: 'FIN-201',
    title: 'Payment controls',
    kind: 'role_specific',
    frequency: 'once',
    dueDays: 30,
    audienceDepartments: ['Finance'],
  });

  // Bad settings are refused naming the field, and nothing is stored.
  const badSettings = await h.app.inject({
    method: 'PATCH',
    url: `${api}/governance/settings`,
    payload: { trainingDays: -3 },
  });
  assert.equal(badSettings.statusCode, 400);
  assert.match(badSettings.body, /trainingDays/);
  const settings = await h.app.inject({ method: 'GET', url: `${api}/governance/settings` });
  assert.equal(settings.json().trainingDays, 30);
  const changed = await h.app.inject({
    method: 'PATCH',
    url: `${api}/governance/settings`,
    payload: { accessRequestDays: 5 },
  });
  assert.equal(changed.statusCode, 200, changed.body);
  assert.equal(changed.json().accessRequestDays, 5);

  // HR: a long-standing employee and a new starter (today).
  const today = new Date(`${isoDay(new Date())}T00:00:00.000Z`);
  await importRoster(h.database, [
    'E1,Olga Long,olga@acme.test,Engineer,Engineering,lead@acme.test,full_time,2019-03-04,,active',
    `E2,Nina New,nina@acme.test,Engineer,Engineering,lead@acme.test,full_time,${isoDay(today)},,active`,
  ]);
  const onboarding = async (query = '') =>
    (await h.app.inject({ method: 'GET', url: `${api}/governance/onboarding${query}` })).json()
      .joiners as Joiner[];
  let joiners = await onboarding();
  assert.deepEqual(
    joiners.map((j) => [j.person, j.trigger, j.status]),
    [['nina@acme.test', 'hr', 'open']],
  );
  const nina = joiners[0]!;
  assert.deepEqual(nina.items.map((i) => i.kind).sort(), [
    'onboarding_access_request',
    'onboarding_policy_ack',
    'onboarding_training',
  ]);
  const item = (j: Joiner, kind: string) => j.items.find((i) => i.kind === `onboarding_${kind}`)!;
  assert.equal(item(nina, 'policy_ack').dueAt, new Date(today.getTime() + 30 * day).toISOString());
  assert.equal(item(nina, 'training').details.courseCode, 'SEC-101');
  assert.equal(item(nina, 'access_request').dueAt, new Date(today.getTime() + 5 * day).toISOString());
  // Replays open nothing new.
  assert.equal((await reconcileGovernance(h.database, 'acme', operator)).onboardingOpened, 0);

  // The IdP creates an account for someone HR has not sent yet: a joiner too.
  const created = await h.scim('POST', '/Users', {
    schemas: [userUrn],
    userName: 'sam@acme.test',
    name: { givenName: 'Sam', familyName: 'Fresh' },
    emails: [{ primary: true, value: 'sam@acme.test', type: 'work' }],
    active: true,
  });
  assert.equal(created.statusCode, 201, created.body);
  await runPendingEvaluation(h.database);
  joiners = await onboarding();
  assert.deepEqual(joiners.map((j) => [j.person, j.trigger]).sort(), [
    ['nina@acme.test', 'hr'],
    ['sam@acme.test', 'scim'],
  ]);

  // Nina acknowledges and completes the course: the register's records close her items.
  await acknowledgePolicy(h.database, operator, 'acme', policy.id, { email: 'nina@acme.test' });
  await recordCompletion(h.database, operator, 'acme', { course: 'SEC-101', email: 'nina@acme.test' });
  const reconciled = await reconcileGovernance(h.database, 'acme', operator);
  assert.equal(reconciled.onboardingCompleted, 2);

  // The access request: bad input names the field and leaves the task open.
  const accessTask = item(nina, 'access_request').id;
  const approve = (body: Record<string, unknown>, workspace = 'acme') =>
    h.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${workspace}/governance/tasks/${accessTask}/approval`,
      payload: body,
    });
  const self = await approve({ approver: 'nina@acme.test', justification: 'I need it' });
  assert.equal(self.statusCode, 400);
  assert.match(self.body, /approver: a joiner cannot approve their own access/);
  assert.equal(self.json().code, 'validation_failed', self.body);
  const noWhy = await approve({ approver: 'lead@acme.test', justification: '' });
  assert.equal(noWhy.statusCode, 400);
  assert.match(noWhy.body, /justification/);
  joiners = await onboarding('?person=nina@acme.test');
  assert.equal(item(joiners[0]!, 'access_request').status, 'open');

  // Tenant isolation: another workspace neither sees nor approves acme's joiners.
  await createWorkspace(h.database, operator, { slug: 'globex' });
  const foreign = await approve({ approver: 'lead@acme.test', justification: 'engineering tools' }, 'globex');
  assert.equal(foreign.statusCode, 404);
  const globex = await h.app.inject({
    method: 'GET',
    url: '/api/v1/workspaces/globex/governance/onboarding',
  });
  assert.deepEqual(globex.json(), { joiners: [] });
  const globexTasks = await listGovernanceTasks(h.database, 'globex', {});
  assert.equal(globexTasks.length, 0);

  const approved = await approve({
    approver: 'lead@acme.test',
    justification: 'engineering tools for the platform team',
    entitlements: ['scim:okta/Engineering'],
  });
  assert.equal(approved.statusCode, 200, approved.body);
  assert.equal(approved.json().status, 'done');
  const again = await approve({ approver: 'lead@acme.test', justification: 'twice' });
  assert.equal(again.statusCode, 409);
  joiners = await onboarding('?person=nina@acme.test');
  assert.equal(joiners[0]!.status, 'complete');
  for (const i of joiners[0]!.items) assert.ok(i.details.evidenceId, `${i.kind} has its evidence`);
  const evidence = await h.database.db
    .selectFrom('evidence_items')
    .select(['kind'])
    .where('kind', 'in', ['identity.onboarding_item_completed', 'identity.access_request_approved'])
    .execute();
  assert.deepEqual(evidence.map((e) => e.kind).sort(), [
    'identity.access_request_approved',
    'identity.onboarding_item_completed',
    'identity.onboarding_item_completed',
  ]);

  // Sam does nothing: past the deadline his open items are one finding, linked from each.
  const later = new Date(Date.now() + 40 * day);
  const overdue = await reconcileGovernance(h.database, 'acme', operator, { asOf: later });
  assert.equal(overdue.onboardingOverdue, 3);
  const findings = async () =>
    h.database.db
      .selectFrom('findings')
      .select(['id', 'status', 'subject_key'])
      .where('check_id', '=', 'identity.onboarding_overdue')
      .execute();
  let found = await findings();
  assert.deepEqual(
    found.map((f) => [f.subject_key, f.status]),
    [['person:sam@acme.test', 'open']],
  );
  const samTasks = (await onboarding('?person=sam@acme.test'))[0]!;
  assert.equal(samTasks.status, 'open');
  for (const i of samTasks.items) assert.equal(i.findingId, found[0]!.id);

  // Late, but done: the finding closes.
  await acknowledgePolicy(h.database, operator, 'acme', policy.id, { email: 'sam@acme.test' });
  await recordCompletion(h.database, operator, 'acme', { course: 'SEC-101', email: 'sam@acme.test' });
  const samAccess = item(samTasks, 'access_request').id;
  const samApproved = await h.app.inject({
    method: 'POST',
    url: `${api}/governance/tasks/${samAccess}/approval`,
    payload: { approver: 'it@acme.test', justification: 'support rota' },
  });
  assert.equal(samApproved.statusCode, 200, samApproved.body);
  await reconcileGovernance(h.database, 'acme', operator, { asOf: new Date(later.getTime() + day) });
  found = await findings();
  assert.deepEqual(
    found.map((f) => f.status),
    ['closed'],
  );

  // A directory joiner whose account is deactivated before finishing owes nothing more.
  const tom = await h.scim('POST', '/Users', {
    schemas: [userUrn],
    userName: 'tom@acme.test',
    emails: [{ primary: true, value: 'tom@acme.test', type: 'work' }],
    active: true,
  });
  assert.equal(tom.statusCode, 201, tom.body);
  await runPendingEvaluation(h.database);
  assert.equal((await onboarding('?person=tom@acme.test'))[0]!.status, 'open');
  const deactivated = await h.scim('PATCH', `/Users/${tom.json().id}`, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', value: { active: false } }],
  });
  assert.equal(deactivated.statusCode, 200, deactivated.body);
  await runPendingEvaluation(h.database);
  const tomSet = (await onboarding('?person=tom@acme.test'))[0]!;
  assert.equal(tomSet.status, 'cancelled');
  assert.ok(tomSet.items.every((i) => i.status === 'cancelled'));

  const verification = await verifyLedger(h.database, evidenceBlobStore(h.config), 'acme');
  assert.equal(verification.ok, true);
});
