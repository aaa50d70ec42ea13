/**
 * Delegated access: the MSP staff whose memberships reach a client workspace are entitlements in
 * that client's campaigns (and only in the clients they reach). A revoke decision on one becomes
 * a task that stays open while the membership still reaches the client, and closes — with the
 * confirmation in the client's ledger — once it no longer does. Bad input is refused naming the
 * field; another client sees none of it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addMember, removeMember } from '../../src/domains/accounts/memberships.service.ts';
import type { Actor } from '../../src/domains/audit/actor.ts';
import { verifyLedger } from '../../src/domains/evidence/evidence.service.ts';
import { evidenceBlobStore } from '../../src/domains/evidence/evidence-blobs.ts';
import { reconcileGovernance } from '../../src/domains/governance/jml.service.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { buildTestApp } from '../helpers/app.ts';

const operator: Actor = { type: 'cli', id: 'test-operator' };
const authority = { actor: operator, mayManageOwners: true };

type Item = {
  id: string;
  subjectType: string;
  account: string;
  entitlement: string;
  privileged: boolean;
  taskId: string | null;
  confirmedAt: string | null;
  evidenceId: string | null;
};

test('delegated access: MSP staff reaching a client are reviewed there; a revoke closes when the membership no longer reaches it', async (t) => {
  const h = await buildTestApp(t);
  await createWorkspace(h.database, operator, { slug: 'northwind', kind: 'msp' });
  await createWorkspace(h.database, operator, { slug: 'acme', parent: 'northwind' });
  await createWorkspace(h.database, operator, { slug: 'globex', parent: 'northwind' });
  await addMember(h.database, authority, 'northwind', {
    email: 'ana@msp.test',
    role: 'admin',
    clients: ['acme'],
  });
  await addMember(h.database, authority, 'northwind', {
    email: 'ben@msp.test',
    role: 'compliance_manager',
    clients: ['acme', 'globex'],
  });

  const launch = (workspace: string) =>
    h.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${workspace}/access-reviews`,
      payload: { name: 'MSP access', fallbackReviewer: 'it@acme.test' },
    });
  const launched = await launch('acme');
  assert.equal(launched.statusCode, 201, launched.body);
  const campaignId = launched.json().id as string;
  const show = async () =>
    (
      await h.app.inject({ method: 'GET', url: `/api/v1/workspaces/acme/access-reviews/${campaignId}` })
    ).json().items as Item[];
  let items = await show();
  assert.deepEqual(
    items.map((i) => [i.subjectType, i.account, i.entitlement, i.privileged]),
    [
      ['delegated', 'ana@msp.test', 'msp:admin', true],
      ['delegated', 'ben@msp.test', 'msp:compliance_manager', false],
    ],
  );
  // Globex is reached by Ben only.
  const other = await launch('globex');
  const globexItems = (
    await h.app.inject({ method: 'GET', url: `/api/v1/workspaces/globex/access-reviews/${other.json().id}` })
  ).json().items as Item[];
  assert.deepEqual(
    globexItems.map((i) => i.account),
    ['ben@msp.test'],
  );

  const decide = (body: Record<string, string>) =>
    h.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/acme/access-reviews/${campaignId}/decisions`,
      payload: body,
    });
  const ana = items.find((i) => i.account === 'ana@msp.test')!;
  const bad = await decide({
    item: ana.id,
    decision: 'remove',
    justification: 'x',
    reviewer: 'it@acme.test',
  });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /decision/);
  const revoke = await decide({
    item: ana.id,
    decision: 'revoke',
    justification: 'Ana moved to another client team',
    reviewer: 'it@acme.test',
  });
  assert.equal(revoke.statusCode, 200, revoke.body);
  const taskId = revoke.json().taskId as string;
  assert.ok(taskId, 'the revocation is a tracked task');

  const task = async (workspace = 'acme') =>
    (
      await h.app.inject({
        method: 'GET',
        url: `/api/v1/workspaces/${workspace}/governance/tasks?kind=revoke_delegated_access`,
      })
    ).json().tasks as { id: string; status: string; details: Record<string, unknown> }[];
  assert.deepEqual(
    (await task()).map((x) => [x.id, x.status]),
    [[taskId, 'open']],
  );
  assert.deepEqual(await task('globex'), [], 'another client sees none of it');

  // Still reaching the client: the task stays open.
  assert.equal((await reconcileGovernance(h.database, 'acme', operator)).delegatedRevocationsConfirmed, 0);
  // The MSP removes Ana's membership: the next reconciliation confirms.
  await removeMember(h.database, authority, 'northwind', 'ana@msp.test');
  const after = await reconcileGovernance(h.database, 'acme', operator);
  assert.equal(after.delegatedRevocationsConfirmed, 1);
  const [done] = await task();
  assert.equal(done!.status, 'done');
  items = await show();
  const confirmed = items.find((i) => i.account === 'ana@msp.test')!;
  assert.ok(confirmed.confirmedAt && confirmed.evidenceId);
  assert.equal(items.find((i) => i.account === 'ben@msp.test')!.confirmedAt, null);
  const verification = await verifyLedger(h.database, evidenceBlobStore(h.config), 'acme');
  assert.equal(verification.ok, true);
});
