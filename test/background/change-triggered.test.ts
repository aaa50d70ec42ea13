/**
 * "Within a second of the change": `assay serve` with the worker role, a file uploaded through
 * the API, and the finding its events cause appearing without anyone running the checks.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createApiToken } from '../../src/domains/accounts/tokens.service.ts';
import { systemActor } from '../../src/domains/audit/actor.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { eventually, signInsWithoutMfa } from '../../src/jobs/testing.ts';
import { startServer } from '../../src/main.ts';
import { createTestDatabase } from '../helpers/database.ts';

test('serve with the worker role: an upload through the API opens its finding with no one running the checks', async (t) => {
  const { database, config } = await createTestDatabase(t);
  const workspace = await createWorkspace(database, systemActor, { slug: 'acme' });
  const { secret } = await createApiToken(database, { actor: systemActor, userId: null }, 'acme', {
    name: 'uploader',
    permissions: ['events:ingest'],
  });
  const server = await startServer(
    {
      ...config,
      roles: ['api', 'worker'],
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      secretKey: randomBytes(32).toString('hex'),
    },
    { database, handleSignals: false },
  );
  t.after(() => server.close());

  const upload = await fetch(`${server.url}/api/v1/workspaces/acme/imports/ocsf?fileName=sign-ins.jsonl`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/x-ndjson' },
    body: signInsWithoutMfa(['erin@acme.example']),
  });
  assert.equal(upload.status, 200, await upload.clone().text());
  assert.equal(((await upload.json()) as { eventsStored: number }).eventsStored, 1);

  const openFinding = async () => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from findings
      where workspace_id = ${workspace.id} and check_id = 'identity.login_without_mfa'
        and status = 'open' and subject->>'email' = 'erin@acme.example'`.execute(database.db);
    return rows[0]!.n === 1;
  };
  await eventually('the worker to open the finding', openFinding);
  const { rows } = await sql<{ trigger: string }>`
    select trigger from check_runs where workspace_id = ${workspace.id}`.execute(database.db);
  assert.deepEqual(
    rows.map((r) => r.trigger),
    ['import'],
    'one evaluation, caused by the import',
  );
  // The job goes on after the findings commit (identity governance reconciles), so wait for it.
  const evaluationJobs = async () =>
    (
      await sql<{ status: string }>`
        select status from jobs where workspace_id = ${workspace.id} and kind = 'evaluate_checks'`.execute(
        database.db,
      )
    ).rows.map((j) => j.status);
  await eventually('the evaluation job to finish', async () =>
    (await evaluationJobs()).every((status) => status === 'done'),
  );
  assert.deepEqual(await evaluationJobs(), ['done']);
});

test('a worker-only process serves no HTTP and still runs queued work; close() stops it cleanly', async (t) => {
  const { database, config } = await createTestDatabase(t);
  await createWorkspace(database, systemActor, { slug: 'acme' });
  const server = await startServer(
    {
      ...config,
      roles: ['worker', 'scheduler'],
      logLevel: 'silent',
      secretKey: randomBytes(32).toString('hex'),
    },
    { database, handleSignals: false },
  );
  assert.equal(server.url, '');
  // The scheduler's first tick queues the scheduled checks; the worker runs them.
  await eventually('the scheduled checks to run', async () => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from jobs where kind = 'scheduled_checks' and status = 'done'`.execute(
      database.db,
    );
    return rows[0]!.n === 2;
  });
  await server.close();
  await server.closed;
});
