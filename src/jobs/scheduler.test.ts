import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, testEngine } from '../../test/helpers/database.ts';
import { openDatabase } from '../db/database.ts';
import { systemActor } from '../domains/audit/actor.ts';
import { openSecretBox } from '../domains/secrets/secrets.ts';
import { createWorkspace } from '../domains/workspaces/workspaces.service.ts';
import { scheduledChecksKind } from './evaluation.ts';
import { jobHandlers, scheduledCheckIds } from './handlers.ts';
import { claimJobs, getJob } from './queue.ts';
import { schedulerTick } from './scheduler.ts';
import { eventually } from './testing.ts';
import { Worker } from './worker.ts';

const tick = { checkpointIntervalSeconds: 300 };

async function scheduledJobs(database: Awaited<ReturnType<typeof createTestDatabase>>['database']) {
  const { rows } = await sql<{ workspace_id: string; schedule: string; n: number }>`
    select workspace_id, payload->>'schedule' as schedule, count(*)::int as n from jobs
    where kind = ${scheduledChecksKind} group by workspace_id, payload->>'schedule'
    order by workspace_id, schedule`.execute(database.db);
  return rows;
}

test('the scheduler queues each workspace’s hourly and daily checks once, and a restarted scheduler does not repeat them', async (t) => {
  const { database } = await createTestDatabase(t);
  const acme = await createWorkspace(database, systemActor, { slug: 'acme' });
  const globex = await createWorkspace(database, systemActor, { slug: 'globex' });
  assert.ok(scheduledCheckIds('hourly').length > 0 && scheduledCheckIds('daily').length > 0);

  const first = await schedulerTick(database, tick);
  assert.equal(first.scheduled.length, 4);
  const again = await schedulerTick(database, tick);
  assert.deepEqual(again.scheduled, [], 'nothing is due twice');
  const jobs = await scheduledJobs(database);
  assert.deepEqual(
    jobs.map((j) => [j.workspace_id, j.schedule, j.n]),
    [
      [acme.id, 'daily', 1],
      [acme.id, 'hourly', 1],
      [globex.id, 'daily', 1],
      [globex.id, 'hourly', 1],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1]))),
  );
  const { rows } = await sql<{ name: string; next_run_at: Date; last_job_id: number }>`
    select name, next_run_at, last_job_id from schedules where workspace_id = ${acme.id} order by name`.execute(
    database.db,
  );
  const hour = 3600_000;
  const [daily, hourly] = rows;
  assert.ok(
    new Date(hourly!.next_run_at).getTime() > Date.now() &&
      new Date(hourly!.next_run_at).getTime() <= Date.now() + 1.25 * hour,
  );
  assert.ok(
    new Date(daily!.next_run_at).getTime() > Date.now() + 0 &&
      new Date(daily!.next_run_at).getTime() <= Date.now() + 30 * hour,
  );
  assert.equal((await getJob(database, hourly!.last_job_id))?.payload.schedule, 'hourly');

  // When the hour comes round, the run is due again.
  await sql`update schedules set next_run_at = now() - interval '1 second' where workspace_id = ${acme.id} and name = 'checks:hourly'`.execute(
    database.db,
  );
  // A still-pending run of the same schedule absorbs the new one rather than queueing a second.
  const due = await schedulerTick(database, tick);
  assert.equal(due.scheduled.length, 1);
  assert.equal(due.scheduled[0]!.jobId, hourly!.last_job_id);
});

test('two schedulers ticking at once never enqueue the same run twice', async (t) => {
  const { database, config } = await createTestDatabase(t);
  for (const slug of ['a1', 'a2', 'a3', 'a4', 'a5']) await createWorkspace(database, systemActor, { slug });
  // On PostgreSQL the second scheduler is another connection pool, as another process would be.
  const other = testEngine === 'postgres' ? await openDatabase(config) : database;
  if (other !== database) t.after(() => other.close());
  const reports = await Promise.all([
    schedulerTick(database, tick),
    schedulerTick(other, tick),
    schedulerTick(database, tick),
    schedulerTick(other, tick),
  ]);
  const enqueued = reports.flatMap((r) => r.scheduled.map((s) => `${s.workspaceId}:${s.name}`));
  assert.equal(enqueued.length, 10, 'each of 5 workspaces × 2 schedules, once');
  assert.equal(new Set(enqueued).size, 10);
  const jobs = await scheduledJobs(database);
  assert.equal(jobs.length, 10);
  assert.ok(jobs.every((j) => j.n === 1));
});

test('a restart during scheduled work loses no evaluation: the job of a worker that died runs once elsewhere', async (t) => {
  const { database, config } = await createTestDatabase(t);
  const acme = await createWorkspace(database, systemActor, { slug: 'acme' });
  await schedulerTick(database, tick);
  // A worker claims the scheduled runs and dies mid-way (its lease lapses, nothing is completed).
  const claimed = await claimJobs(database, { workerId: 'crashed', limit: 10, leaseSeconds: 0.3 });
  assert.equal(claimed.length, 2);

  const secrets = openSecretBox({ ...config, secretKey: randomBytes(32).toString('hex') });
  const worker = new Worker(database, jobHandlers({ database, config, secrets }), {
    pollMs: 20,
    concurrency: 1,
    leaseSeconds: 60,
  });
  worker.start();
  t.after(() => worker.stop());
  await eventually('both scheduled runs to be done', async () => {
    const states = await Promise.all(claimed.map((j) => getJob(database, j.id)));
    return states.every((s) => s?.status === 'done');
  });
  await worker.stop();
  const { rows } = await sql<{ trigger: string; n: number }>`
    select trigger, count(*)::int as n from check_runs where workspace_id = ${acme.id}
    group by trigger order by trigger`.execute(database.db);
  assert.deepEqual(
    rows.map((r) => [r.trigger, r.n]),
    [
      ['schedule:daily', 1],
      ['schedule:hourly', 1],
    ],
  );
});
