import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { sql } from 'kysely';
import { buildTestApp } from '../../../test/helpers/app.ts';
import { cliHarness } from '../../../test/helpers/cli.ts';
import { createTestDatabase } from '../../../test/helpers/database.ts';
import type { Database } from '../../db/database.ts';
import { runEvaluation, runQueuedEvaluationNow, workerActor } from '../../jobs/evaluation.ts';
import { jobHandlers } from '../../jobs/handlers.ts';
import { claimJobs, getJob } from '../../jobs/queue.ts';
import { eventually, signInsWithoutMfa } from '../../jobs/testing.ts';
import { Worker } from '../../jobs/worker.ts';
import { systemActor } from '../audit/actor.ts';
import { importFile } from '../ingest/import.service.ts';
import { setScope } from '../scope/scope.service.ts';
import { openSecretBox } from '../secrets/secrets.ts';
import { createWorkspace } from '../workspaces/workspaces.service.ts';
import { createChannel } from './channels.service.ts';
import { recordNotifications, sweepNotifications } from './notify.service.ts';
import { startHttpReceiver, startSmtpSink } from './testing/receivers.ts';
import { verifyWebhookSignature } from './transports.ts';

type After = { after: (fn: () => void | Promise<void>) => void };

async function setup(t: After, smtpUrl?: string) {
  const testDb = await createTestDatabase(t);
  const secrets = openSecretBox({ ...testDb.config, secretKey: randomBytes(32).toString('hex') });
  const workspace = await createWorkspace(testDb.database, systemActor, { slug: 'acme', name: 'Acme' });
  const handlers = jobHandlers({
    database: testDb.database,
    config: { smtpUrl, smtpFrom: 'Assay <assay@acme.example>' },
    secrets,
  });
  const startWorker = () => {
    const worker = new Worker(testDb.database, handlers, {
      pollMs: 20,
      concurrency: 1,
      leaseSeconds: 60,
      retryBaseMs: 50,
      retryMaxMs: 200,
    });
    worker.start();
    t.after(() => worker.stop());
    return worker;
  };
  return { ...testDb, secrets, workspace, startWorker };
}

/** Imports sign-ins without MFA and evaluates the checks they trigger, as the CLI does. */
async function signInsEvaluated(database: Database, people: string[]) {
  const summary = await importFile(
    database,
    systemActor,
    'acme',
    'ocsf',
    Readable.from([signInsWithoutMfa(people)]),
    { fileName: 'sign-ins.jsonl' },
  );
  const evaluated = await runQueuedEvaluationNow(database, summary.evaluation, workerActor, 60);
  assert.equal(evaluated.status, 'evaluated');
}

async function deliveryStatuses(database: Database, workspaceId: string) {
  const { rows } = await sql<{ status: string; n: number }>`
    select status, count(*)::int as n from notification_deliveries where workspace_id = ${workspaceId}
    group by status order by status`.execute(database.db);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

test('email: findings from two evaluations within the digest window arrive as one message through a real SMTP server', async (t) => {
  const smtp = await startSmtpSink(t);
  const { database, secrets, workspace, startWorker } = await setup(t, smtp.url);
  await createChannel(
    database,
    secrets.encrypt,
    systemActor,
    'acme',
    { name: 'security team', kind: 'email', to: ['security@acme.example'], events: ['finding.opened'] },
    { digestSeconds: 900 },
  );
  await signInsEvaluated(database, ['ann@acme.example']);
  await signInsEvaluated(database, ['bob@acme.example', 'cy@acme.example']);

  // One send job holds the whole window, however many evaluations fed it.
  const { rows: sends } = await sql<{ id: number; run_at: Date }>`
    select id, run_at from jobs where workspace_id = ${workspace.id} and kind = 'send_notification' and status = 'pending'`.execute(
    database.db,
  );
  assert.equal(sends.length, 1);
  assert.ok(
    new Date(sends[0]!.run_at).getTime() > Date.now() + 800_000,
    'due at the end of the 15-minute window',
  );
  // Let the window close now rather than in 15 minutes.
  await sql`update jobs set run_at = now() where id = ${sends[0]!.id}`.execute(database.db);

  startWorker();
  await eventually('the digest to be sent', async () => smtp.messages.length > 0);
  await eventually('every delivery to be marked sent', async () => {
    const statuses = await deliveryStatuses(database, workspace.id);
    return statuses.pending === undefined && statuses.sending === undefined && (statuses.sent ?? 0) > 0;
  });
  assert.equal(smtp.messages.length, 1, 'one message for the whole window');
  const [mail] = smtp.messages;
  assert.deepEqual(mail!.to, ['security@acme.example']);
  assert.equal(mail!.from, 'assay@acme.example');
  assert.match(mail!.text, /Subject: \[Assay\] Acme: \d+ findings opened/);
  for (const person of ['ann@acme.example', 'bob@acme.example', 'cy@acme.example']) {
    assert.match(
      mail!.text,
      new RegExp(`No interactive sign-in without MFA — ${person.replace('.', '\\.')}`),
    );
  }
});

test('webhook: a signed digest is retried through the queue until the receiver accepts it, then a closing is announced', async (t) => {
  // The receiver fails the first delivery and accepts the rest.
  const receiver = await startHttpReceiver(t, (i) => (i === 0 ? 503 : 200));
  const { database, secrets, workspace, startWorker } = await setup(t);
  const secret = 'whsec-acme-0123456789abcdef';
  await createChannel(
    database,
    secrets.encrypt,
    systemActor,
    'acme',
    {
      name: 'siem',
      kind: 'webhook',
      url: `${receiver.url}/assay-hook`,
      secret,
      events: ['finding.opened', 'finding.closed'],
      digestSeconds: 0,
    },
    { digestSeconds: 900 },
  );
  await signInsEvaluated(database, ['dee@acme.example']);
  startWorker();
  await eventually('the retried delivery to be accepted', async () => receiver.requests.length >= 2);
  await eventually('the delivery to be marked sent', async () => {
    const statuses = await deliveryStatuses(database, workspace.id);
    return (statuses.sent ?? 0) > 0 && statuses.pending === undefined && statuses.sending === undefined;
  });
  assert.equal(receiver.requests.length, 2, 'one failed attempt, one accepted retry');
  const [failed, accepted] = receiver.requests;
  assert.equal(accepted!.path, '/assay-hook');
  assert.deepEqual(
    JSON.parse(accepted!.body).notifications,
    JSON.parse(failed!.body).notifications,
    'the retry carries the same notifications',
  );
  assert.equal(accepted!.headers['x-assay-delivery'], failed!.headers['x-assay-delivery']);
  // Verify the signature as a receiver would, from the documented recipe.
  const timestamp = String(accepted!.headers['x-assay-timestamp']);
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${accepted!.body}`).digest('hex')}`;
  assert.equal(accepted!.headers['x-assay-signature'], expected);
  assert.equal(
    verifyWebhookSignature(
      secret,
      { timestamp, signature: String(accepted!.headers['x-assay-signature']) },
      accepted!.body,
    ),
    true,
  );
  assert.equal(
    verifyWebhookSignature('another-secret-entirely', { timestamp, signature: expected }, accepted!.body),
    false,
  );
  const payload = JSON.parse(accepted!.body);
  assert.equal(payload.workspace.slug, 'acme');
  const opened = payload.notifications.filter(
    (n: { kind: string; data: { checkId: string } }) =>
      n.kind === 'finding.opened' && n.data.checkId === 'identity.login_without_mfa',
  );
  assert.equal(opened.length, 1);
  assert.equal(opened[0].data.subject.email, 'dee@acme.example');
  const deliveries = await sql<{ attempts: number; status: string }>`
    select attempts, status from notification_deliveries where workspace_id = ${workspace.id}`.execute(
    database.db,
  );
  assert.ok(deliveries.rows.every((d) => d.status === 'sent' && d.attempts === 2));

  // Forty days on, the sign-in is outside the look-back window: the finding closes and is announced.
  await runEvaluation(database, workspace.id, {
    checkIds: ['identity.login_without_mfa'],
    asOf: new Date(Date.now() + 40 * 86_400_000).toISOString(),
  });
  await eventually('the closing to be delivered', async () => receiver.requests.length >= 3);
  const closing = JSON.parse(receiver.requests[2]!.body);
  assert.deepEqual(
    closing.notifications.map((n: { kind: string }) => n.kind),
    ['finding.closed'],
  );
  assert.equal(receiver.requests[2]!.headers['x-assay-event'], 'finding.closed');
});

test('a critical notification cuts the digest window short; each happening is recorded once', async (t) => {
  const { database, secrets, workspace } = await setup(t);
  const channel = await createChannel(
    database,
    secrets.encrypt,
    systemActor,
    'acme',
    { name: 'on-call', kind: 'email', to: ['oncall@acme.example'] },
    { digestSeconds: 3600 },
  );
  const event = (severity: 'low' | 'critical', key: string) => ({
    kind: 'finding.opened',
    severity,
    dedupeKey: key,
    title: `a ${severity} finding`,
    data: {},
    occurredAt: new Date(),
  });
  const recorded = await database.inWorkspace(workspace.id, (trx) =>
    recordNotifications(trx, workspace.id, [event('low', 'one'), event('low', 'one')]),
  );
  assert.equal(recorded, 1, 'the same happening twice is one notification');
  assert.deepEqual(
    await claimJobs(database, { workerId: 'w', limit: 5, leaseSeconds: 60 }),
    [],
    'waits for the window',
  );
  await database.inWorkspace(workspace.id, (trx) =>
    recordNotifications(trx, workspace.id, [event('critical', 'two')]),
  );
  const [due] = await claimJobs(database, { workerId: 'w', limit: 5, leaseSeconds: 60 });
  assert.equal(due?.kind, 'send_notification');
  assert.equal(due?.payload.channelId, channel.id);
  const job = await getJob(database, due!.id);
  assert.ok(new Date(job!.runAt).getTime() <= Date.now() + 1000);
});

test('drift: a control that starts failing and later passes is announced both times, once each', async (t) => {
  const { database, secrets, workspace } = await setup(t);
  await setScope(database, systemActor, 'acme', ['security']);
  await createChannel(
    database,
    secrets.encrypt,
    systemActor,
    'acme',
    { name: 'grc', kind: 'email', to: ['grc@acme.example'], events: ['control.drift'] },
    { digestSeconds: 900 },
  );
  await signInsEvaluated(database, ['fay@acme.example']);
  const driftEvents = async () =>
    (
      await sql<{ title: string; severity: string; data: { to: string; from: string | null } }>`
        select title, severity, data from notification_events
        where workspace_id = ${workspace.id} and kind = 'control.drift' order by created_at, title`.execute(
        database.db,
      )
    ).rows;
  const failing = await driftEvents();
  assert.ok(failing.length > 0, 'a control mapped to the MFA check went failing');
  assert.ok(failing.every((e) => e.data.to === 'failing' && e.severity === 'high'));
  assert.equal(await sweepNotifications(database, workspace.id), 0, 'nothing new to announce');

  await runEvaluation(database, workspace.id, {
    checkIds: ['identity.login_without_mfa'],
    asOf: new Date(Date.now() + 40 * 86_400_000).toISOString(),
  });
  const after = await driftEvents();
  const recovered = after.filter((e) => e.data.from === 'failing');
  assert.ok(recovered.length > 0, 'the recovery is announced');
  assert.ok(recovered.every((e) => e.data.to !== 'failing'));
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from notification_deliveries where workspace_id = ${workspace.id}`.execute(
    database.db,
  );
  assert.equal(rows[0]!.n, after.length, 'one delivery per announcement');
});

test('exceptions expiring soon and just expired are announced once by the scheduled sweep', async (t) => {
  const { database, secrets, workspace } = await setup(t);
  await createChannel(
    database,
    secrets.encrypt,
    systemActor,
    'acme',
    {
      name: 'compliance',
      kind: 'email',
      to: ['grc@acme.example'],
      events: ['exception.expiring', 'exception.expired'],
    },
    { digestSeconds: 900 },
  );
  const day = 86_400_000;
  await database.inWorkspace(workspace.id, async (trx) => {
    for (const [subject, expires] of [
      ['identity:soon', Date.now() + 2 * day],
      ['identity:gone', Date.now() - day],
      ['identity:far', Date.now() + 60 * day],
    ] as const) {
      await trx
        .insertInto('exceptions')
        .values({
          workspace_id: workspace.id,
          check_id: 'identity.mfa_enabled',
          subject_key: subject,
          justification: 'hardware keys on order',
          approver: 'cfo@acme.example',
          approved_at: new Date(Date.now() - 30 * day),
          expires_at: new Date(expires),
          created_by: 'test',
        })
        .execute();
    }
  });
  assert.equal(
    await sweepNotifications(database, workspace.id),
    0,
    'only the scheduled sweep looks at exceptions',
  );
  assert.equal(await sweepNotifications(database, workspace.id, { exceptions: true }), 2);
  assert.equal(await sweepNotifications(database, workspace.id, { exceptions: true }), 0, 'announced once');
  const { rows } = await sql<{ kind: string; title: string }>`
    select kind, title from notification_events where workspace_id = ${workspace.id} order by kind`.execute(
    database.db,
  );
  assert.deepEqual(
    rows.map((r) => r.kind),
    ['exception.expired', 'exception.expiring'],
  );
  assert.match(rows[0]!.title, /identity:gone/);
  assert.match(rows[1]!.title, /identity:soon/);
});

test('API: channels are added, listed without secrets, tested and removed; only connector managers may', async (t) => {
  const slack = await startHttpReceiver(t);
  const { app, asRole } = await buildTestApp(t);
  const created = await app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  assert.equal(created.statusCode, 201, created.body);
  const slackUrl = `${slack.url}/services/T0000/B0000/secret-token-part`;
  const add = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/notification-channels',
    payload: {
      name: 'slack #compliance',
      kind: 'slack',
      url: slackUrl,
      minSeverity: 'high',
      digestSeconds: 300,
    },
  });
  assert.equal(add.statusCode, 201, add.body);
  const channel = add.json();
  assert.equal(channel.kind, 'slack');
  assert.equal(channel.minSeverity, 'high');
  assert.equal(channel.hasSecret, true);
  assert.doesNotMatch(add.body, /secret-token-part/);

  const list = await app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/notification-channels' });
  assert.equal(list.statusCode, 200);
  assert.equal(list.json().channels.length, 1);
  assert.doesNotMatch(list.body, /secret-token-part|services/);

  const sent = await app.inject({
    method: 'POST',
    url: `/api/v1/workspaces/acme/notification-channels/${channel.id}/test`,
  });
  assert.equal(sent.statusCode, 200, sent.body);
  assert.deepEqual([sent.json().delivered, sent.json().error], [true, null]);
  assert.equal(slack.requests.length, 1);
  assert.equal(slack.requests[0]!.path, '/services/T0000/B0000/secret-token-part');
  const message = JSON.parse(slack.requests[0]!.body);
  assert.match(message.text, /Test notification for channel "slack #compliance"/);
  assert.ok(Array.isArray(message.blocks) && message.blocks.length >= 2);

  // A receiver that refuses: the test says so, and why.
  const refusing = await startHttpReceiver(t, () => 410);
  const hook = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/notification-channels',
    payload: {
      name: 'gone',
      kind: 'webhook',
      url: `${refusing.url}/hook`,
      secret: 'a-long-enough-signing-secret',
    },
  });
  assert.equal(hook.statusCode, 201, hook.body);
  const refused = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/notification-channels/gone/test',
  });
  assert.equal(refused.statusCode, 200, refused.body);
  assert.equal(refused.json().delivered, false);
  assert.match(refused.json().error, /answered HTTP 410/);
  assert.doesNotMatch(refused.body, /a-long-enough-signing-secret/);

  const unsigned = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/notification-channels',
    payload: { name: 'hook', kind: 'webhook', url: 'https://hooks.acme.example/assay' },
  });
  assert.equal(unsigned.statusCode, 400);
  assert.equal(unsigned.json().details.field, 'secret');
  const duplicate = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/notification-channels',
    payload: { name: 'slack #compliance', kind: 'email', to: ['a@acme.example'] },
  });
  assert.equal(duplicate.statusCode, 409);

  const reviewer = await asRole('reviewer', 'acme');
  assert.equal((await reviewer('/api/v1/workspaces/acme/notification-channels')).statusCode, 403);

  const removed = await app.inject({
    method: 'DELETE',
    url: '/api/v1/workspaces/acme/notification-channels/slack%20%23compliance',
  });
  assert.equal(removed.statusCode, 200, removed.body);
  const again = await app.inject({
    method: 'DELETE',
    url: `/api/v1/workspaces/acme/notification-channels/${channel.id}`,
  });
  assert.equal(again.statusCode, 404);
});

test('CLI: notifications add, list, test and remove an email channel', async (t) => {
  const smtp = await startSmtpSink(t);
  const previous = process.env.ASSAY_SMTP_URL;
  process.env.ASSAY_SMTP_URL = smtp.url;
  t.after(() => {
    if (previous === undefined) delete process.env.ASSAY_SMTP_URL;
    else process.env.ASSAY_SMTP_URL = previous;
  });
  const assay = await cliHarness(t);
  assert.equal((await assay('tenant', 'create', 'acme')).code, 0);
  const added = await assay(
    'notifications',
    'add',
    'auditors',
    '--tenant',
    'acme',
    '--kind',
    'email',
    '--to',
    'audit@acme.example,grc@acme.example',
    '--events',
    'finding.opened,control.drift',
    '--json',
  );
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual(added.json().events, ['finding.opened', 'control.drift']);
  const listed = await assay('notifications', 'list', '--tenant', 'acme', '--json');
  assert.deepEqual(
    listed.json().channels.map((c: { name: string; target: string }) => [c.name, c.target]),
    [['auditors', 'audit@acme.example, grc@acme.example']],
  );
  const tested = await assay('notifications', 'test', 'auditors', '--tenant', 'acme');
  assert.equal(tested.code, 0, tested.stderr);
  await smtp.arrived(1);
  assert.equal(smtp.messages.length, 1);
  assert.deepEqual(smtp.messages[0]!.to, ['audit@acme.example', 'grc@acme.example']);

  // Without a mail server the test fails, saying what to set.
  const unset = process.env.ASSAY_SMTP_URL;
  delete process.env.ASSAY_SMTP_URL;
  const unsent = await assay('notifications', 'test', 'auditors', '--tenant', 'acme');
  process.env.ASSAY_SMTP_URL = unset;
  assert.equal(unsent.code, 1);
  assert.match(unsent.stderr, /did not arrive through "auditors": .*ASSAY_SMTP_URL/);
  assert.equal(smtp.messages.length, 1);

  const bad = await assay('notifications', 'add', 'x', '--tenant', 'acme', '--kind', 'pager');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /kind: must be one of email, webhook, slack/);

  assert.equal((await assay('notifications', 'remove', 'auditors', '--tenant', 'acme')).code, 0);
  assert.deepEqual((await assay('notifications', 'list', '--tenant', 'acme', '--json')).json().channels, []);
});
