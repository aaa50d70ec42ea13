import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDatabase } from '../../../test/helpers/database.ts';
import { systemActor } from '../audit/actor.ts';
import { getCampaign, listCampaigns } from '../governance/campaigns.service.ts';
import { seedDemo } from './demo.service.ts';
import { generateCompany } from './demo-data.ts';

const now = new Date('2026-11-23T12:00:00Z');

test("the demo leaves each client with this quarter's AWS access review open, across two reviewers", async (t) => {
  const { database } = await createTestDatabase(t);
  await seedDemo(database, systemActor, {
    now,
    seed: 11,
    clients: [{ slug: 'acme', name: 'Acme', size: 10, categories: ['security'] }],
  });
  const company = generateCompany({ slug: 'acme', size: 10, seed: 11, now });
  const head = company.people[0]!.email;

  const campaigns = await listCampaigns(database, 'acme');
  const review = campaigns.find((c) => c.campaign.name === '2026 Q4 AWS access review');
  assert.ok(review, 'a campaign named for the quarter');
  assert.equal(review.campaign.status, 'open');
  assert.equal(review.decided, 0);
  assert.equal(
    new Date(review.campaign.due_at).getTime() - new Date(review.campaign.launched_at).getTime(),
    14 * 24 * 3600 * 1000,
  );

  const { items } = await getCampaign(database, 'acme', review.campaign.id);
  assert.equal(items.length, review.items);
  assert.ok(
    items.every((i) => i.system === `aws-iam:${company.accountId}`),
    'only the AWS account is in scope',
  );
  const reviewerOf = (account: string) => items.find((i) => i.account === account)?.reviewer;
  // The undeclared contractor and the ownerless service account fall to the fallback reviewer.
  assert.equal(reviewerOf('contractor.lee@partner-acme.example'), 'security@acme.example');
  assert.equal(reviewerOf('svc-backup'), 'security@acme.example');
  // Everyone else in HR is reviewed by their manager, the head of IT.
  const people = items.filter((i) => i.subject_type === 'person' && i.person_email !== head);
  assert.ok(people.length > 0, 'people with AWS access');
  assert.ok(people.every((i) => i.reviewer === head));
  assert.deepEqual(new Set(items.map((i) => i.reviewer)), new Set([head, 'security@acme.example']));
});
