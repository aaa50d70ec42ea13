/**
 * Scheduled pulls: the scheduler queues a `pull_connector` job for a connector whose interval has
 * elapsed (once, however often it ticks), a worker's handler pulls it, and it is not due again
 * until its interval has passed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase } from '../../../test/helpers/database.ts';
import { alice, bob, repository } from '../../connectors/git/git.testing.ts';
import { jobHandlers } from '../../jobs/handlers.ts';
import { claimJobs } from '../../jobs/queue.ts';
import { schedulerTick } from '../../jobs/scheduler.ts';
import { runClaimedJob } from '../../jobs/worker.ts';
import type { Actor } from '../audit/actor.ts';
import { openSecretBox } from '../secrets/secrets.ts';
import { createWorkspace } from '../workspaces/workspaces.service.ts';
import { addConnector, listConnectors } from './connectors.service.ts';
import { pullConnectorKind } from './pull.job.ts';

const actor: Actor = { type: 'cli', id: 'pull-job-test' };
const tick = { checkpointIntervalSeconds: 300 };

test('connectors with an interval are pulled by the background roles, once per interval', async (t) => {
  const repo = repository(t);
  repo.commit(alice, '2026-03-01T09:00:00Z', 'Initial');
  repo.commit(bob, '2026-03-02T09:00:00Z', 'Second');
  const { database, config } = await createTestDatabase(t);
  const secrets = openSecretBox({ ...config, secretKey: randomBytes(32).toString('hex') });
  const workspace = await createWorkspace(database, actor, { slug: 'acme' });
  await addConnector(database, secrets, actor, 'acme', {
    kind: 'git',
    name: 'scheduled',
    settings: { path: repo.path },
    intervalMinutes: 60,
  });
  await addConnector(database, secrets, actor, 'acme', {
    kind: 'git',
    name: 'on-demand',
    settings: { path: repo.path },
  });

  assert.equal((await schedulerTick(database, tick)).pulls, 1, 'only the connector with an interval');
  assert.equal((await schedulerTick(database, tick)).pulls, 0, 'its pull is already queued');
  const handlers = jobHandlers({ database, config, secrets });
  const claimed = await claimJobs(database, {
    workerId: 'test-worker',
    limit: 10,
    leaseSeconds: 60,
    kinds: [pullConnectorKind],
  });
  assert.equal(claimed.length, 1);
  assert.equal(claimed[0]!.workspaceId, workspace.id);
  assert.equal(
    await runClaimedJob(database, handlers, claimed[0]!, { workerId: 'test-worker', leaseSeconds: 60 }),
    'done',
  );

  const byName = new Map((await listConnectors(database, 'acme')).map((c) => [c.name, c]));
  assert.equal(byName.get('scheduled')!.lastStatus, 'succeeded');
  assert.equal(byName.get('scheduled')!.lastSummary?.commits, 2);
  assert.equal(byName.get('on-demand')!.lastStatus, null);
  assert.equal((await schedulerTick(database, tick)).pulls, 0, 'not due again within its interval');

  // An hour later it is due again; a source that fails is recorded, and the job does not retry sooner.
  await sql`update connectors set last_run_at = now() - interval '61 minutes' where name = 'scheduled'`.execute(
    database.db,
  );
  repo.run(['branch', '-m', 'main', 'trunk']);
  assert.equal((await schedulerTick(database, tick)).pulls, 1);
  const [again] = await claimJobs(database, {
    workerId: 'test-worker',
    limit: 10,
    leaseSeconds: 60,
    kinds: [pullConnectorKind],
  });
  assert.equal(
    await runClaimedJob(database, handlers, again!, { workerId: 'test-worker', leaseSeconds: 60 }),
    'done',
  );
  const failed = (await listConnectors(database, 'acme')).find((c) => c.name === 'scheduled')!;
  assert.equal(failed.lastStatus, 'failed');
  assert.match(failed.lastError ?? '', /has no branch "main"/);
  assert.equal((await schedulerTick(database, tick)).pulls, 0);
});
