/**
 * An access review campaign end to end over the API: launch (snapshot, including a non-human
 * identity), decisions by two reviewers (delegation for a third), one revocation confirmed later
 * by a SCIM PATCH removing the group member through the real endpoint, the change surfaced beside
 * an unchanged snapshot, sign-off into the ledger, the reviewer-by-reviewer report, and a ledger
 * that verifies. Plus: an ownerless service account is a finding until an owner is set.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { canonicalize, sha256Hex } from '../../src/domains/evidence/core/canonical-json.ts';
import { verifyLedger } from '../../src/domains/evidence/evidence.service.ts';
import { evidenceBlobStore } from '../../src/domains/evidence/evidence-blobs.ts';
import { importFile } from '../../src/domains/ingest/import.service.ts';
import { runChecks } from '../../src/domains/monitoring/run-checks.service.ts';
import { operator, pushHarness } from '../connectors/push-helpers.ts';
import { sharedPath } from '../helpers/shared.ts';
import { api, runPendingEvaluation, userUrn } from './fixture.ts';

async function* chunks(text: string) {
  yield text;
}

test('access review: snapshot, two reviewers, a revocation confirmed by SCIM, sign-off, report, ledger', async (t) => {
  const h = await pushHarness(t, 'okta');
  const roster = [
    'employee_id,name,email,title,department,manager_email,employment_type,start_date,end_date,status',
    'E1,Alice Park,alice@acme.test,Engineer,Engineering,lead1@acme.test,full_time,2024-01-08,,active',
    'E2,Bob Stone,bob@acme.test,Engineer,Engineering,lead2@acme.test,full_time,2024-02-05,,active',
  ].join('\n');
  await importFile(h.database, operator, 'acme', 'hr-roster', chunks(roster), { fileName: 'roster.csv' });
  const ids = new Map<string, string>();
  for (const userName of ['alice@acme.test', 'bob@acme.test', 'deploy-bot']) {
    const response = await h.scim('POST', '/Users', {
      schemas: [userUrn],
      userName,
      active: true,
      ...(userName.includes('@') ? { emails: [{ primary: true, value: userName, type: 'work' }] } : {}),
    });
    assert.equal(response.statusCode, 201, response.body);
    ids.set(userName, response.json().id);
  }
  // The group from RFC 7643 §8.4, its members replaced by ours.
  const group = JSON.parse(
    readFileSync(sharedPath('samples/scim/scim2models_rfc7643-8.4-group.json'), 'utf8'),
  );
  delete group.id;
  delete group.meta;
  group.members = [
    { value: ids.get('alice@acme.test'), display: 'Alice Park' },
    { value: ids.get('bob@acme.test'), display: 'Bob Stone' },
  ];
  const created = await h.scim('POST', '/Groups', group);
  assert.equal(created.statusCode, 201, created.body);
  const groupId = created.json().id as string;

  // The bot is declared non-human with no owner: a finding until an owner is set.
  const identities = (await h.app.inject({ method: 'GET', url: `${api}/identities` })).json().identities as {
    id: string;
    userName: string | null;
  }[];
  const bot = identities.find((i) => i.userName === 'deploy-bot');
  assert.ok(bot);
  let patch = await h.app.inject({
    method: 'PATCH',
    url: `${api}/identities/${bot.id}`,
    payload: { nonHuman: true, purpose: 'deploys the web app' },
  });
  assert.equal(patch.statusCode, 200, patch.body);
  await runChecks(h.database, operator, 'acme', { checkIds: ['identity.service_account_owner'] });
  const ownerFinding = async () =>
    h.database.db
      .selectFrom('findings')
      .select(['status'])
      .where('check_id', '=', 'identity.service_account_owner')
      .where(sql<boolean>`subject ->> 'id' = ${bot.id}`)
      .execute();
  assert.deepEqual(
    (await ownerFinding()).map((f) => f.status),
    ['open'],
  );

  // Bad input names the field.
  const bad = await h.app.inject({ method: 'POST', url: `${api}/access-reviews`, payload: { name: 'Q3' } });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /fallbackReviewer/);

  const launch = await h.app.inject({
    method: 'POST',
    url: `${api}/access-reviews`,
    payload: { name: 'Q3 okta review', fallbackReviewer: 'it@acme.test', scope: { systems: ['scim:okta'] } },
  });
  assert.equal(launch.statusCode, 201, launch.body);
  const campaign = launch.json();
  const show = async () =>
    (await h.app.inject({ method: 'GET', url: `${api}/access-reviews/${campaign.id}` })).json();
  let detail = await show();
  const snapshotAtLaunch = detail.items;
  const item = (account: string) => detail.items.find((i: { account: string }) => i.account === account);
  assert.equal(item('alice@acme.test').reviewer, 'lead1@acme.test');
  assert.equal(item('bob@acme.test').reviewer, 'lead2@acme.test');
  assert.equal(item('bob@acme.test').entitlement, 'Tour Guides');
  assert.equal(item('deploy-bot').subjectType, 'non_human');
  assert.equal(item('deploy-bot').reviewer, 'it@acme.test');

  // Non-human identity now gets its owner: the finding closes.
  patch = await h.app.inject({
    method: 'PATCH',
    url: `${api}/identities/${bot.id}`,
    payload: { owner: 'ops@acme.test' },
  });
  assert.equal(patch.statusCode, 200);
  await runChecks(h.database, operator, 'acme', { checkIds: ['identity.service_account_owner'] });
  assert.deepEqual(
    (await ownerFinding()).map((f) => f.status),
    ['closed'],
  );

  const decide = (body: Record<string, string>) =>
    h.app.inject({ method: 'POST', url: `${api}/access-reviews/${campaign.id}/decisions`, payload: body });
  // Only the item's reviewer decides.
  const wrong = await decide({
    item: item('alice@acme.test').id,
    decision: 'keep',
    justification: 'needed',
    reviewer: 'lead2@acme.test',
  });
  assert.equal(wrong.statusCode, 400);
  assert.match(wrong.body, /reviewer/);
  assert.equal(
    (
      await decide({
        item: item('alice@acme.test').id,
        decision: 'keep',
        justification: 'on-call rota',
        reviewer: 'lead1@acme.test',
      })
    ).statusCode,
    200,
  );
  const revoke = await decide({
    item: item('bob@acme.test').id,
    decision: 'revoke',
    justification: 'moved off the tours team',
    reviewer: 'lead2@acme.test',
  });
  assert.equal(revoke.statusCode, 200, revoke.body);
  assert.ok(revoke.json().taskId);
  // The fallback reviewer hands the bot to its owner, who decides.
  const delegated = await h.app.inject({
    method: 'POST',
    url: `${api}/access-reviews/${campaign.id}/delegations`,
    payload: { from: 'it@acme.test', to: 'ops@acme.test' },
  });
  assert.equal(delegated.json().delegated, 1);
  assert.equal(
    (
      await decide({
        item: item('deploy-bot').id,
        decision: 'keep',
        justification: 'still deploys',
        reviewer: 'ops@acme.test',
      })
    ).statusCode,
    200,
  );

  // The IdP removes Bob from the group (RFC 7644 §3.5.2.2 shape) through the real endpoint.
  const removal = JSON.parse(
    readFileSync(
      sharedPath('samples/scim/scim2models_rfc7644-3.5.2.2-patch_op-remove_one_member.json'),
      'utf8',
    ),
  );
  removal.Operations[0].path = `members[value eq "${ids.get('bob@acme.test')}"]`;
  const removed = await h.scim('PATCH', `/Groups/${groupId}`, removal);
  assert.ok([200, 204].includes(removed.statusCode), removed.body);
  await runPendingEvaluation(h.database);

  detail = await show();
  // The snapshot is what it was at launch, whatever the source did since.
  const pairs = (items: { id: string; account: string; entitlement: string }[]) =>
    items.map((i) => `${i.id} ${i.account} ${i.entitlement}`).sort();
  assert.deepEqual(pairs(detail.items), pairs(snapshotAtLaunch));
  assert.ok(item('bob@acme.test').confirmedAt, 'the revocation is confirmed by the source');
  assert.deepEqual(
    detail.changesSinceLaunch.map((c: { entitlement: string; granted: boolean }) => [
      c.entitlement,
      c.granted,
    ]),
    [['Tour Guides', false]],
  );
  const tasks = (
    await h.app.inject({ method: 'GET', url: `${api}/governance/tasks?kind=revoke_entitlement` })
  ).json().tasks;
  assert.equal(tasks.length, 1);
  assert.equal(tasks[0].status, 'done');

  const signed = await h.app.inject({
    method: 'POST',
    url: `${api}/access-reviews/${campaign.id}/sign-off`,
    payload: { signer: 'ciso@acme.test' },
  });
  assert.equal(signed.statusCode, 200, signed.body);
  const signedOff = signed.json();
  assert.equal(signedOff.signedOffBy, 'ciso@acme.test');
  const evidence = await h.database.db
    .selectFrom('evidence_items')
    .select(['id', 'kind', 'content'])
    .where('id', '=', signedOff.evidenceId)
    .executeTakeFirstOrThrow();
  assert.equal(evidence.kind, 'access_review.sign_off');
  const content = JSON.parse(Buffer.from(evidence.content!).toString('utf8')) as {
    decisionsSha256: string;
    campaign: string;
    snapshotSha256: string;
    decisions: unknown[];
  };
  assert.equal(content.decisionsSha256, signedOff.decisionsSha256);
  assert.equal(
    sha256Hex(
      canonicalize({
        campaign: content.campaign,
        snapshotSha256: content.snapshotSha256,
        decisions: content.decisions,
      }),
    ),
    signedOff.decisionsSha256,
  );
  const late = await decide({
    item: item('alice@acme.test').id,
    decision: 'revoke',
    justification: 'too late',
    reviewer: 'lead1@acme.test',
  });
  assert.equal(late.statusCode, 409);

  const report = await h.app.inject({
    method: 'GET',
    url: `${api}/access-reviews/${campaign.id}/report.csv`,
  });
  assert.equal(report.statusCode, 200);
  assert.match(String(report.headers['content-type']), /^text\/csv/);
  const rows = parse(report.body, { comment: '#', columns: true }) as Record<string, string>[];
  assert.equal(rows.length, 3);
  assert.deepEqual(
    rows.map((r) => [r.reviewer, r.account, r.decision]),
    [
      ['lead1@acme.test', 'alice@acme.test', 'keep'],
      ['lead2@acme.test', 'bob@acme.test', 'revoke'],
      ['ops@acme.test', 'deploy-bot', 'keep'],
    ],
  );
  const bob = rows[1]!;
  assert.ok(bob.confirmed_at && bob.confirmation_evidence && bob.revocation_task);
  assert.match(report.body, new RegExp(`decisions sha256 ${signedOff.decisionsSha256}`));

  const verification = await verifyLedger(h.database, evidenceBlobStore(h.config), 'acme');
  assert.equal(verification.ok, true);
});
