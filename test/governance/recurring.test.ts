/**
 * Recurring campaigns: a campaign launched quarterly hands its schedule on; when the quarter has
 * passed the governance reconciliation (what the hourly scheduled job runs) launches the next one
 * with its own snapshot of the same scope, once however often it runs; the scheduler's job does
 * it too; stopping the recurrence stops it. Bad input names the field and writes nothing; another
 * workspace cannot touch the series.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { reconcileGovernance } from '../../src/domains/governance/jml.service.ts';
import { importFile } from '../../src/domains/ingest/import.service.ts';
import { openSecretBox } from '../../src/domains/secrets/secrets.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { scheduledChecksKind } from '../../src/jobs/evaluation.ts';
import { jobHandlers } from '../../src/jobs/handlers.ts';
import { schedulerTick } from '../../src/jobs/scheduler.ts';
import { runJobNow } from '../../src/jobs/worker.ts';
import { operator, pushHarness } from '../connectors/push-helpers.ts';

const hour = 3600 * 1000;
const userUrn = 'urn:ietf:params:scim:schemas:core:2.0:User';
const api = '/api/v1/workspaces/acme';

async function* chunks(text: string) {
  yield text;
}

type Campaign = {
  id: string;
  name: string;
  launchedAt: string;
  recurrence: string | null;
  seriesId: string | null;
  nextLaunchAt: string | null;
};

const monthsBetween = (a: string, b: string) => {
  const x = new Date(a);
  const y = new Date(b);
  return (y.getUTCFullYear() - x.getUTCFullYear()) * 12 + y.getUTCMonth() - x.getUTCMonth();
};

async function campaignCount(database: Database) {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from access_review_campaigns`.execute(
    database.db,
  );
  return rows[0]!.n;
}

test('recurring campaign: quarterly launches with fresh snapshots, once each, from the scheduler; stoppable', async (t) => {
  const h = await pushHarness(t, 'okta');
  const roster = [
    'employee_id,name,email,title,department,manager_email,employment_type,start_date,end_date,status',
    'E1,Alice Park,alice@acme.test,Engineer,Engineering,lead@acme.test,full_time,2022-01-10,,active',
    'E2,Bob Stone,bob@acme.test,Engineer,Engineering,lead@acme.test,full_time,2022-02-07,,active',
  ].join('\n');
  await importFile(h.database, operator, 'acme', 'hr-roster', chunks(roster), { fileName: 'roster.csv' });
  const scimUser = async (userName: string) => {
    const response = await h.scim('POST', '/Users', {
      schemas: [userUrn],
      userName,
      emails: [{ primary: true, value: userName, type: 'work' }],
      active: true,
    });
    assert.equal(response.statusCode, 201, response.body);
  };
  await scimUser('alice@acme.test');

  const launch = (payload: Record<string, unknown>) =>
    h.app.inject({ method: 'POST', url: `${api}/access-reviews`, payload });
  const bad = await launch({ name: 'Access review', fallbackReviewer: 'it@acme.test', recurrence: 'weekly' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /recurrence/);
  assert.equal(await campaignCount(h.database), 0, 'nothing written');

  const launched = await launch({
    name: 'Access review',
    fallbackReviewer: 'it@acme.test',
    recurrence: 'quarterly',
    scope: { systems: ['scim:okta'] },
  });
  assert.equal(launched.statusCode, 201, launched.body);
  const first = launched.json() as Campaign;
  assert.equal(first.recurrence, 'quarterly');
  assert.equal(first.seriesId, first.id);
  assert.equal(monthsBetween(first.launchedAt, first.nextLaunchAt!), 3);

  // Not due yet: nothing launches.
  assert.equal((await reconcileGovernance(h.database, 'acme', operator)).recurringCampaignsLaunched, 0);

  // Bob joins the directory during the quarter; the next campaign's own snapshot has him.
  await scimUser('bob@acme.test');
  const dueAt = new Date(new Date(first.nextLaunchAt!).getTime() + hour);
  const run = await reconcileGovernance(h.database, 'acme', operator, { asOf: dueAt });
  assert.equal(run.recurringCampaignsLaunched, 1);
  const rerun = await reconcileGovernance(h.database, 'acme', operator, { asOf: dueAt });
  assert.equal(rerun.recurringCampaignsLaunched, 0, 'launched once');

  const list = async () =>
    (await h.app.inject({ method: 'GET', url: `${api}/access-reviews` })).json().campaigns as {
      campaign: Campaign;
      items: number;
    }[];
  let campaigns = await list();
  assert.equal(campaigns.length, 2);
  const second = campaigns[0]!;
  const previous = campaigns[1]!;
  assert.equal(previous.campaign.id, first.id);
  assert.equal(previous.campaign.nextLaunchAt, null, 'the schedule moved to the newest campaign');
  assert.equal(previous.items, 1);
  assert.equal(second.items, 2, 'a fresh snapshot');
  assert.equal(second.campaign.seriesId, first.id);
  assert.match(second.campaign.name, /^Access review \d{4}-Q[1-4]$/);
  assert.equal(second.campaign.launchedAt, dueAt.toISOString());
  // The cadence keeps to the series' schedule, not to when the launch ran.
  assert.equal(monthsBetween(first.nextLaunchAt!, second.campaign.nextLaunchAt!), 3);
  assert.equal(
    new Date(second.campaign.nextLaunchAt!).getUTCDate(),
    new Date(first.nextLaunchAt!).getUTCDate(),
  );

  // The scheduler's hourly job launches a due one (its due time moved into the past here).
  await sql`update access_review_campaigns set next_launch_at = now() - interval '1 minute'
             where id = ${second.campaign.id}`.execute(h.database.db);
  await schedulerTick(h.database, { checkpointIntervalSeconds: 3600 });
  const job = await h.database.db
    .selectFrom('jobs')
    .select(['id'])
    .where('kind', '=', scheduledChecksKind)
    .where('workspace_id', '=', h.workspaceId)
    .where('status', '=', 'pending')
    .orderBy('id')
    .executeTakeFirstOrThrow();
  const secrets = openSecretBox({ ...h.config, secretKey: randomBytes(32).toString('hex') });
  const handlers = jobHandlers({ database: h.database, config: h.config, secrets });
  const outcome = await runJobNow(
    h.database,
    Number(job.id),
    (claimed) => handlers[scheduledChecksKind]!({ job: claimed, workerId: 'test', lastAttempt: true }),
    { leaseSeconds: 60 },
  );
  assert.ok(outcome && 'value' in outcome, 'the scheduled job ran');
  campaigns = await list();
  assert.equal(campaigns.length, 3);
  const third = campaigns.find((c) => c.campaign.nextLaunchAt !== null)!;
  assert.equal(third.campaign.seriesId, first.id);

  // Another workspace cannot change the series; bad input is named.
  await createWorkspace(h.database, operator, { slug: 'globex' });
  const foreign = await h.app.inject({
    method: 'PUT',
    url: `/api/v1/workspaces/globex/access-reviews/${first.id}/recurrence`,
    payload: { recurrence: 'none' },
  });
  assert.equal(foreign.statusCode, 404);
  const badStop = await h.app.inject({
    method: 'PUT',
    url: `${api}/access-reviews/${first.id}/recurrence`,
    payload: { recurrence: 'weekly' },
  });
  assert.equal(badStop.statusCode, 400);
  assert.match(badStop.body, /recurrence/);

  // Stopped (through any campaign of the series): nothing launches any more.
  const stopped = await h.app.inject({
    method: 'PUT',
    url: `${api}/access-reviews/${first.id}/recurrence`,
    payload: { recurrence: 'none' },
  });
  assert.equal(stopped.statusCode, 200, stopped.body);
  assert.equal(stopped.json().id, third.campaign.id);
  assert.equal(stopped.json().nextLaunchAt, null);
  const far = new Date(Date.now() + 400 * 24 * hour);
  assert.equal(
    (await reconcileGovernance(h.database, 'acme', operator, { asOf: far })).recurringCampaignsLaunched,
    0,
  );
  assert.equal(await campaignCount(h.database), 3);
});
