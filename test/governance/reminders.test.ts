/**
 * Overdue reviewers: once a campaign is past due, each reviewer with undecided items gets one
 * reminder task, escalated to their manager from HR; deciding everything answers it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Actor } from '../../src/domains/audit/actor.ts';
import { decideItem, getCampaign, launchCampaign } from '../../src/domains/governance/campaigns.service.ts';
import { listGovernanceTasks, reconcileGovernance } from '../../src/domains/governance/jml.service.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { createTestDatabase } from '../helpers/database.ts';

const operator: Actor = { type: 'cli', id: 'test-operator' };
const day = 24 * 3600 * 1000;

test('an overdue reviewer gets one reminder, escalated to their manager, answered by deciding', async (t) => {
  const { database } = await createTestDatabase(t);
  const workspace = await createWorkspace(database, operator, { slug: 'acme' });
  const now = new Date();
  await database.inWorkspace(workspace.id, async (trx) => {
    const common = { workspace_id: workspace.id, source: 'hr', observed_at: now, status: 'active' as const };
    await trx
      .insertInto('people')
      .values([
        {
          ...common,
          employee_id: 'E1',
          name: 'Ann',
          email: 'ann@acme.test',
          manager_email: 'lead@acme.test',
        },
        {
          ...common,
          employee_id: 'E2',
          name: 'Lead',
          email: 'lead@acme.test',
          manager_email: 'vp@acme.test',
        },
      ])
      .execute();
    const ann = await trx
      .selectFrom('people')
      .select('id')
      .where('employee_id', '=', 'E1')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('identities')
      .values({
        workspace_id: workspace.id,
        system: 'scim:okta',
        external_id: 'u1',
        user_name: 'ann@acme.test',
        person_id: ann.id,
        link_method: 'email',
        first_seen_at: new Date(now.getTime() - day),
        last_seen_at: now,
      })
      .execute();
  });
  const campaign = await launchCampaign(database, operator, 'acme', {
    name: 'Q4',
    fallbackReviewer: 'it@acme.test',
    dueInDays: 1,
  });
  const before = await reconcileGovernance(database, 'acme', operator);
  assert.equal(before.reviewRemindersOpened, 0, 'not yet due');

  const later = new Date(now.getTime() + 2 * day);
  const first = await reconcileGovernance(database, 'acme', operator, { asOf: later });
  assert.equal(first.reviewRemindersOpened, 1);
  const again = await reconcileGovernance(database, 'acme', operator, { asOf: later });
  assert.equal(again.reviewRemindersOpened, 0, 'one reminder per reviewer');
  let tasks = await listGovernanceTasks(database, 'acme', { kind: 'access_review_overdue' });
  assert.equal(tasks.length, 1);
  assert.equal(tasks[0]!.assignee, 'lead@acme.test');
  assert.deepEqual(tasks[0]!.details, {
    campaignId: campaign.id,
    reviewer: 'lead@acme.test',
    undecided: 1,
    escalatedTo: 'vp@acme.test',
  });

  const { items } = await getCampaign(database, 'acme', campaign.id);
  await decideItem(database, operator, 'acme', campaign.id, {
    item: items[0]!.id,
    decision: 'keep',
    justification: 'still on the team',
    reviewer: 'lead@acme.test',
  });
  tasks = await listGovernanceTasks(database, 'acme', { kind: 'access_review_overdue' });
  assert.equal(tasks[0]!.status, 'done');
});
