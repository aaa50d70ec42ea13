/**
 * Movers end to end: an HR roster import moving a person to another department (new title and
 * manager) opens a review of their current entitlements by the new manager, with the entitlement
 * no peer in the new department holds flagged; keep/revoke decisions with justifications, the
 * revocation a task closed when a SCIM PATCH removes the group member. A SCIM PATCH changing a
 * user's title, department and manager does the same from the directory. Bad input is refused
 * naming the field, with nothing opened; another workspace sees none of it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconcileGovernance } from '../../src/domains/governance/jml.service.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { operator } from '../connectors/push-helpers.ts';
import { api, governanceHarness, importRoster, runPendingEvaluation, userUrn } from './fixture.ts';

const groupUrn = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const patchUrn = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const enterprise = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

type Mover = {
  campaign: { id: string; kind: string; subjectEmail: string; moverChange: Record<string, unknown> };
  items: number;
  flagged: number;
};
type Item = {
  id: string;
  entitlement: string;
  reviewer: string;
  flag: string | null;
  flagReason: string | null;
  taskId: string | null;
  confirmedAt: string | null;
};

test('mover: HR move reviewed by the new manager, unpeered entitlement flagged, revocation confirmed by SCIM; SCIM move too', async (t) => {
  const h = await governanceHarness(t);
  const alice = 'E1,Alice Park,alice@acme.test';
  const others = [
    'E2,Bob Stone,bob@acme.test,Engineer,Engineering,eng-lead@acme.test,full_time,2022-02-07,,active',
    'E3,Carol Diaz,carol@acme.test,Analyst,Finance,fin-lead@acme.test,full_time,2021-05-03,,active',
  ];
  await importRoster(h.database, [
    `${alice},Engineer,Engineering,eng-lead@acme.test,full_time,2022-01-10,,active`,
    ...others,
  ]);
  const ids = new Map<string, string>();
  for (const userName of ['alice@acme.test', 'bob@acme.test', 'carol@acme.test']) {
    const response = await h.scim('POST', '/Users', {
      schemas: [userUrn],
      userName,
      emails: [{ primary: true, value: userName, type: 'work' }],
      active: true,
    });
    assert.equal(response.statusCode, 201, response.body);
    ids.set(userName, response.json().id);
  }
  const groups = new Map<string, string>();
  for (const [name, members] of [
    ['Engineering', ['alice@acme.test', 'bob@acme.test']],
    ['Finance Reports', ['alice@acme.test', 'carol@acme.test']],
  ] as const) {
    const created = await h.scim('POST', '/Groups', {
      schemas: [groupUrn],
      displayName: name,
      members: members.map((m) => ({ value: ids.get(m) })),
    });
    assert.equal(created.statusCode, 201, created.body);
    groups.set(name, created.json().id);
  }
  await runPendingEvaluation(h.database);
  const movers = async (workspace = 'acme') =>
    (await h.app.inject({ method: 'GET', url: `/api/v1/workspaces/${workspace}/governance/movers` })).json()
      .movers as Mover[];
  assert.deepEqual(await movers(), [], 'nobody has moved yet');

  // Bad input: the import is refused naming the field, and no review opens.
  await assert.rejects(
    importRoster(h.database, [
      `${alice},Analyst,Finance,not-an-email,full_time,2022-01-10,,active`,
      ...others,
    ]),
    /manager_email/,
  );
  assert.deepEqual(await movers(), []);

  // HR moves Alice to Finance under a new manager.
  await importRoster(h.database, [
    `${alice},Analyst,Finance,fin-lead@acme.test,full_time,2022-01-10,,active`,
    ...others,
  ]);
  let list = await movers();
  assert.equal(list.length, 1);
  const review = list[0]!;
  assert.equal(review.campaign.kind, 'mover');
  assert.equal(review.campaign.subjectEmail, 'alice@acme.test');
  assert.deepEqual(review.campaign.moverChange.changed, ['title', 'department', 'manager_email']);
  assert.deepEqual(review.campaign.moverChange.from, {
    title: 'Engineer',
    department: 'Engineering',
    manager: 'eng-lead@acme.test',
  });
  assert.equal(review.items, 2);
  assert.equal(review.flagged, 1);
  // Replays open no second review.
  assert.equal((await reconcileGovernance(h.database, 'acme', operator)).moversDetected, 0);

  const show = async () =>
    (await h.app.inject({ method: 'GET', url: `${api}/access-reviews/${review.campaign.id}` })).json()
      .items as Item[];
  let items = await show();
  const item = (name: string) => items.find((i) => i.entitlement === name)!;
  assert.ok(
    items.every((i) => i.reviewer === 'fin-lead@acme.test'),
    'the new manager reviews',
  );
  assert.equal(item('Engineering').flag, 'not_held_by_peers');
  assert.match(item('Engineering').flagReason!, /Analyst in Finance/);
  assert.equal(item('Finance Reports').flag, null, 'Carol, a peer, holds it');
  const report = await h.app.inject({
    method: 'GET',
    url: `${api}/access-reviews/${review.campaign.id}/report.csv`,
  });
  const engineeringRow = report.body.split('\n').find((line) => line.includes(',Engineering,'));
  assert.match(engineeringRow ?? '', /not_held_by_peers: no other person with Analyst in Finance holds/);

  const decide = (body: Record<string, string>, workspace = 'acme') =>
    h.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${workspace}/access-reviews/${review.campaign.id}/decisions`,
      payload: body,
    });
  const modify = await decide({
    item: item('Engineering').id,
    decision: 'modify',
    justification: 'read only',
    reviewer: 'fin-lead@acme.test',
  });
  assert.equal(modify.statusCode, 400);
  assert.match(modify.body, /decision: keep or revoke in a mover review/);
  const foreign = await decide(
    {
      item: item('Engineering').id,
      decision: 'revoke',
      justification: 'left engineering',
      reviewer: 'fin-lead@acme.test',
    },
    'globex-missing',
  );
  assert.equal(foreign.statusCode, 404);
  const revoke = await decide({
    item: item('Engineering').id,
    decision: 'revoke',
    justification: 'no longer on the engineering team',
    reviewer: 'fin-lead@acme.test',
  });
  assert.equal(revoke.statusCode, 200, revoke.body);
  assert.ok(revoke.json().taskId);
  const keep = await decide({
    item: item('Finance Reports').id,
    decision: 'keep',
    justification: 'monthly close reporting',
    reviewer: 'fin-lead@acme.test',
  });
  assert.equal(keep.statusCode, 200, keep.body);

  // The directory removes Alice from Engineering: the revocation is confirmed.
  const removed = await h.scim('PATCH', `/Groups/${groups.get('Engineering')}`, {
    schemas: [patchUrn],
    Operations: [{ op: 'remove', path: `members[value eq "${ids.get('alice@acme.test')}"]` }],
  });
  assert.ok([200, 204].includes(removed.statusCode), removed.body);
  await runPendingEvaluation(h.database);
  items = await show();
  assert.ok(item('Engineering').confirmedAt, 'the source confirmed the revocation');

  // The directory moves Bob: new title, department and manager (Carol) in one SCIM PATCH.
  const patched = await h.scim('PATCH', `/Users/${ids.get('bob@acme.test')}`, {
    schemas: [patchUrn],
    Operations: [
      { op: 'replace', path: 'title', value: 'Analyst' },
      { op: 'replace', path: `${enterprise}:department`, value: 'Finance' },
      { op: 'replace', path: `${enterprise}:manager`, value: ids.get('carol@acme.test') },
    ],
  });
  assert.equal(patched.statusCode, 200, patched.body);
  await runPendingEvaluation(h.database);
  list = await movers();
  assert.equal(list.length, 2);
  const bob = list.find((m) => m.campaign.subjectEmail === 'bob@acme.test')!;
  assert.equal(bob.campaign.moverChange.source, 'scim:okta');
  assert.deepEqual(bob.campaign.moverChange.to, {
    title: 'Analyst',
    department: 'Finance',
    manager: 'carol@acme.test',
  });
  const bobItems = (
    await h.app.inject({ method: 'GET', url: `${api}/access-reviews/${bob.campaign.id}` })
  ).json().items as Item[];
  assert.deepEqual(
    bobItems.map((i) => [i.entitlement, i.reviewer]),
    [['Engineering', 'carol@acme.test']],
  );

  // Tenant isolation: another workspace sees no mover and cannot read the review.
  await createWorkspace(h.database, operator, { slug: 'globex' });
  assert.deepEqual(await movers('globex'), []);
  const peek = await h.app.inject({
    method: 'GET',
    url: `/api/v1/workspaces/globex/access-reviews/${review.campaign.id}`,
  });
  assert.equal(peek.statusCode, 404);
});
