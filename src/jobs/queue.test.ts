import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, testEngine } from '../../test/helpers/database.ts';
import { openDatabase } from '../db/database.ts';
import { systemActor } from '../domains/audit/actor.ts';
import { createWorkspace } from '../domains/workspaces/workspaces.service.ts';
import { claimJobs, completeJob, enqueue, enqueueJob, failJob, getJob, jobsChannel } from './queue.ts';
import { type JobHandlers, runJobNow, Worker } from './worker.ts';

async function setup(t: Parameters<typeof createTestDatabase>[0]) {
  const testDb = await createTestDatabase(t);
  const workspace = await createWorkspace(testDb.database, systemActor, { slug: 'acme' });
  return { ...testDb, workspaceId: workspace.id };
}

/** Waits (bounded) until `condition` holds; the test fails with `what` otherwise. */
async function eventually(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('a burst of enqueues with one dedupe key coalesces into one pending job with the union of payloads', async (t) => {
  const { database, workspaceId } = await setup(t);
  const first = await enqueue(
    database,
    workspaceId,
    'evaluate_checks',
    { checkIds: ['a', 'b'], note: 'one' },
    { dedupeKey: 'evaluate' },
  );
  const second = await enqueue(
    database,
    workspaceId,
    'evaluate_checks',
    { checkIds: ['b', 'c'], note: 'two' },
    { dedupeKey: 'evaluate' },
  );
  const other = await enqueue(
    database,
    workspaceId,
    'evaluate_checks',
    { checkIds: ['z'] },
    { dedupeKey: 'other' },
  );
  assert.equal(first.created, true);
  assert.equal(second.created, false);
  assert.equal(second.id, first.id);
  assert.notEqual(other.id, first.id);
  const job = await getJob(database, first.id);
  assert.deepEqual([...(job!.payload.checkIds as string[])].sort(), ['a', 'b', 'c']);
  assert.equal(job!.payload.note, 'two');

  // Once claimed, the job is no longer pending: a new change queues a new evaluation.
  const [claimed] = await claimJobs(database, {
    workerId: 'w1',
    limit: 10,
    leaseSeconds: 60,
    kinds: ['evaluate_checks'],
  });
  assert.ok(claimed);
  const third = await enqueue(
    database,
    workspaceId,
    'evaluate_checks',
    { checkIds: ['d'] },
    { dedupeKey: 'evaluate' },
  );
  assert.equal(third.created, true);
  assert.notEqual(third.id, claimed.id);
});

test('an evaluation queued while another of the same workspace runs waits for it to finish', async (t) => {
  const { database, workspaceId } = await setup(t);
  const first = await enqueue(
    database,
    workspaceId,
    'evaluate_checks',
    { checkIds: ['a'] },
    { dedupeKey: 'evaluate' },
  );
  const [running] = await claimJobs(database, { workerId: 'w1', limit: 5, leaseSeconds: 60 });
  assert.equal(running?.id, first.id);
  const second = await enqueue(
    database,
    workspaceId,
    'evaluate_checks',
    { checkIds: ['b'] },
    { dedupeKey: 'evaluate' },
  );
  assert.deepEqual(await claimJobs(database, { workerId: 'w2', limit: 5, leaseSeconds: 60 }), []);
  assert.equal(await runJobNow(database, second.id, async () => 'ran', { leaseSeconds: 60 }), undefined);
  assert.equal(await completeJob(database, first.id, 'w1'), true);
  const [next] = await claimJobs(database, { workerId: 'w2', limit: 5, leaseSeconds: 60 });
  assert.equal(next?.id, second.id);
});

test('a delayed job is not claimed before its time, and the earlier time wins when coalescing', async (t) => {
  const { database, workspaceId } = await setup(t);
  const later = await enqueue(
    database,
    workspaceId,
    'send_notification',
    { channelId: 'x' },
    { dedupeKey: 'n', delayMs: 3600_000 },
  );
  assert.deepEqual(await claimJobs(database, { workerId: 'w', limit: 5, leaseSeconds: 60 }), []);
  await enqueue(
    database,
    workspaceId,
    'send_notification',
    { channelId: 'x' },
    { dedupeKey: 'n', delayMs: 0 },
  );
  const claimed = await claimJobs(database, { workerId: 'w', limit: 5, leaseSeconds: 60 });
  assert.deepEqual(
    claimed.map((j) => j.id),
    [later.id],
  );
});

test('failures retry with backoff until the last attempt, then the job fails for good with its error', async (t) => {
  const { database, workspaceId } = await setup(t);
  const { id } = await enqueue(database, workspaceId, 'flaky', {}, { maxAttempts: 2 });
  const [first] = await claimJobs(database, { workerId: 'w', limit: 1, leaseSeconds: 60 });
  assert.equal(first?.attempts, 1);
  assert.equal(await failJob(database, first!, 'w', 'boom 1', 0), 'retry');
  let job = await getJob(database, id);
  assert.equal(job?.status, 'pending');
  assert.equal(job?.lastError, 'boom 1');
  const [second] = await claimJobs(database, { workerId: 'w', limit: 1, leaseSeconds: 60 });
  assert.equal(second?.attempts, 2);
  assert.equal(await failJob(database, second!, 'w', 'boom 2', 0), 'failed');
  job = await getJob(database, id);
  assert.equal(job?.status, 'failed');
  assert.equal(job?.lastError, 'boom 2');
  assert.deepEqual(await claimJobs(database, { workerId: 'w', limit: 1, leaseSeconds: 60 }), []);
});

test('a failed job whose key has a newer pending job merges into it instead of running twice', async (t) => {
  const { database, workspaceId } = await setup(t);
  await enqueue(database, workspaceId, 'evaluate_checks', { checkIds: ['a'] }, { dedupeKey: 'evaluate' });
  const [running] = await claimJobs(database, { workerId: 'w', limit: 1, leaseSeconds: 60 });
  const newer = await enqueue(
    database,
    workspaceId,
    'evaluate_checks',
    { checkIds: ['b'] },
    { dedupeKey: 'evaluate' },
  );
  assert.equal(await failJob(database, running!, 'w', 'database restarted', 0), 'merged');
  assert.equal((await getJob(database, running!.id))?.status, 'done');
  const pending = await getJob(database, newer.id);
  assert.deepEqual([...(pending!.payload.checkIds as string[])].sort(), ['a', 'b']);
});

test('a job whose worker died is run by another worker exactly once after its lease lapses', async (t) => {
  const { database, workspaceId } = await setup(t);
  const { id } = await enqueue(database, workspaceId, 'scheduled_checks', { schedule: 'hourly' });
  // The first worker claims the job with a short lease and "dies": it never completes it.
  const [claimed] = await claimJobs(database, { workerId: 'dead-worker', limit: 1, leaseSeconds: 0.3 });
  assert.equal(claimed?.id, id);

  const executions: { jobId: number; worker: string }[] = [];
  const handlers: JobHandlers = {
    scheduled_checks: async ({ job, workerId }) => {
      executions.push({ jobId: job.id, worker: workerId });
    },
  };
  const survivor = new Worker(database, handlers, {
    id: 'survivor',
    pollMs: 20,
    concurrency: 1,
    leaseSeconds: 60,
  });
  survivor.start();
  t.after(() => survivor.stop());
  await eventually('the job to be done', async () => (await getJob(database, id))?.status === 'done');
  await survivor.stop();
  assert.deepEqual(executions, [{ jobId: id, worker: 'survivor' }]);
  const job = await getJob(database, id);
  assert.equal(job?.attempts, 2);
  // The dead worker coming back cannot overwrite the outcome.
  assert.equal(await completeJob(database, id, 'dead-worker'), false);
});

test('runJobNow runs a pending job inline once and leaves a job another worker holds alone', async (t) => {
  const { database, workspaceId } = await setup(t);
  const { id } = await enqueue(database, workspaceId, 'evaluate_checks', { checkIds: ['x'] });
  let runs = 0;
  const result = await runJobNow(database, id, async () => ++runs, { leaseSeconds: 60 });
  assert.deepEqual(result, { value: 1 });
  assert.equal((await getJob(database, id))?.status, 'done');
  assert.equal(await runJobNow(database, id, async () => ++runs, { leaseSeconds: 60 }), undefined);

  const held = await enqueue(database, workspaceId, 'evaluate_checks', {});
  await claimJobs(database, { workerId: 'server-worker', limit: 1, leaseSeconds: 60 });
  assert.equal(await runJobNow(database, held.id, async () => ++runs, { leaseSeconds: 60 }), undefined);
  assert.equal(runs, 1);

  const failing = await enqueue(database, workspaceId, 'evaluate_checks', {});
  const outcome = await runJobNow(
    database,
    failing.id,
    async () => {
      throw new Error('checks could not run');
    },
    { leaseSeconds: 60 },
  );
  assert.ok(outcome && 'error' in outcome);
  const left = await getJob(database, failing.id);
  assert.equal(left?.status, 'pending', 'left for a worker to retry');
  assert.equal(left?.lastError, 'checks could not run');
});

test('two workers on two connections draining 200 jobs never run the same job twice', async (t) => {
  if (testEngine !== 'postgres') {
    t.skip('needs PostgreSQL: the embedded database is a single connection in one process');
    return;
  }
  const { database, config, workspaceId } = await setup(t);
  await sql`create table test_job_executions (job_id bigint not null, worker text not null)`.execute(
    database.db,
  );
  const other = await openDatabase(config);
  t.after(() => other.close());
  await database.inSystem(async (trx) => {
    for (let i = 0; i < 200; i++) {
      await sql`insert into jobs (workspace_id, kind, payload) values (${workspaceId}, 'drain', ${JSON.stringify({ i })}::jsonb)`.execute(
        trx,
      );
    }
  });
  const handlersFor = (db: typeof database): JobHandlers => ({
    drain: async ({ job, workerId }) => {
      await sql`insert into test_job_executions (job_id, worker) values (${job.id}, ${workerId})`.execute(
        db.db,
      );
      // A little work, so that claims interleave.
      await new Promise((resolve) => setTimeout(resolve, job.id % 3));
    },
  });
  const workers = [
    new Worker(database, handlersFor(database), { id: 'one', pollMs: 10, concurrency: 4, leaseSeconds: 60 }),
    new Worker(other, handlersFor(other), { id: 'two', pollMs: 10, concurrency: 4, leaseSeconds: 60 }),
  ];
  for (const w of workers) w.start();
  t.after(() => Promise.all(workers.map((w) => w.stop())));
  const doneCount = async () =>
    Number(
      (
        await sql<{
          n: number;
        }>`select count(*)::int as n from jobs where kind = 'drain' and status = 'done'`.execute(database.db)
      ).rows[0]!.n,
    );
  await eventually('200 jobs done', async () => (await doneCount()) === 200, 60_000);
  await Promise.all(workers.map((w) => w.stop()));
  const { rows } = await sql<{ job_id: number; runs: number }>`
    select job_id, count(*)::int as runs from test_job_executions group by job_id`.execute(database.db);
  assert.equal(rows.length, 200, 'every job ran');
  assert.deepEqual(
    rows.filter((r) => r.runs !== 1),
    [],
    'no job ran twice',
  );
  const byWorker = await sql<{ worker: string; n: number }>`
    select worker, count(*)::int as n from test_job_executions group by worker order by worker`.execute(
    database.db,
  );
  assert.equal(byWorker.rows.length, 2, 'both workers took part');
});

test('a job committed by another process wakes a worker at once; a rolled-back one does not', async (t) => {
  if (testEngine !== 'postgres') {
    t.skip('needs PostgreSQL: the embedded database has no other processes to wake');
    return;
  }
  const { database, config, workspaceId } = await setup(t);
  // The worker's process: its own connections, and a poll far longer than the test.
  const workerSide = await openDatabase(config);
  t.after(() => workerSide.close());

  // What a worker listens to is notified on commit, and only then.
  let notified = 0;
  const stopListening = await workerSide.listen(jobsChannel, () => notified++);
  const afterListen = notified; // listening starts with one look of its own
  await assert.rejects(
    database.inWorkspace(workspaceId, async (trx) => {
      await enqueueJob(trx, workspaceId, 'never', {});
      throw new Error('rolled back');
    }),
    /rolled back/,
  );
  await database.inWorkspace(workspaceId, (trx) => enqueueJob(trx, workspaceId, 'marker', {}));
  await eventually('the committed job to be notified', async () => notified > afterListen);
  assert.equal(notified, afterListen + 1, 'one notification: the rolled-back job sent none');
  await stopListening();

  // A worker started while the queue is empty, then a job from the other side: no poll is due.
  await database.inSystem((trx) => sql`delete from jobs`.execute(trx));
  const ran: number[] = [];
  const worker = new Worker(
    workerSide,
    { wake: async ({ job }) => void ran.push(job.id) },
    { id: 'listener', pollMs: 600_000, concurrency: 1, leaseSeconds: 60 },
  );
  worker.start();
  t.after(() => worker.stop());
  // Give the worker its first (empty) look at the queue.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const job = await database.inWorkspace(workspaceId, (trx) => enqueueJob(trx, workspaceId, 'wake', {}));
  await eventually(
    'the worker in the other process to run the job',
    async () => ran.includes(job.id),
    15_000,
  );
});
