/**
 * GitHub webhook receiver over HTTP with the real octokit payloads in shared/samples, signed in
 * the test: what each delivery stores, that a replay changes nothing, and that bad signatures
 * are refused and recorded without their bodies.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { revokeWebhookSecret } from '../../src/connectors/webhooks/webhook-secrets.ts';
import { listWebhookRejections } from '../../src/connectors/webhooks/webhooks.service.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import type { TestApp } from '../helpers/app.ts';
import { sharedPath } from '../helpers/shared.ts';
import {
  events,
  footprint,
  githubSignature,
  heldEntitlements,
  operator,
  pushHarness,
  webhookSecret,
} from './push-helpers.ts';

const payload = (name: string) => readFileSync(sharedPath(`samples/github_webhooks/${name}`), 'utf8');

interface Delivery {
  event: string;
  body: string;
  secret?: string;
  id?: string;
  workspace?: string;
  signature?: string | null;
  contentType?: string;
}

function deliver(h: TestApp, d: Delivery) {
  const headers: Record<string, string> = {
    'content-type': d.contentType ?? 'application/json',
    'x-github-event': d.event,
    'x-github-delivery': d.id ?? randomUUID(),
    'user-agent': 'GitHub-Hookshot/044aadd',
  };
  const signature = d.signature === undefined ? githubSignature(d.secret ?? '', d.body) : d.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  return h.anonymous({
    method: 'POST',
    url: `/webhooks/github/${d.workspace ?? 'acme'}`,
    headers,
    payload: d.body,
  });
}

async function rejections(h: TestApp) {
  return h.database.inSystem((trx) =>
    trx.selectFrom('webhook_rejections').selectAll().orderBy('id').execute(),
  );
}

describe('GitHub webhooks', () => {
  test('every sample payload, signed, is stored as the event it describes', async (t) => {
    const h = await pushHarness(t);
    const secret = await webhookSecret(h, 'github');
    const cases: [string, string][] = [
      ['push', 'octokit_push.with-new-branch.payload.json'],
      ['pull_request', 'octokit_pull_request.closed.with-organization.payload.json'],
      ['pull_request_review', 'octokit_pull_request_review.submitted.with-organization.payload.json'],
      ['organization', 'octokit_organization.member_added.payload.json'],
      ['organization', 'octokit_ghes-35_organization.member_removed.json'],
      ['branch_protection_rule', 'octokit_branch_protection_rule.edited.payload.json'],
    ];
    const ids: string[] = [];
    for (const [event, file] of cases) {
      const id = randomUUID();
      ids.push(id);
      const response = await deliver(h, { event, body: payload(file), secret, id });
      assert.equal(response.statusCode, 200, `${file}: ${response.body}`);
      assert.equal(response.json().status, 'stored');
      assert.equal(response.json().eventsStored, 1);
    }
    const stored = await events(h.database, h.workspaceId);
    assert.deepEqual(
      stored.map((e) => e.source_key),
      ids,
      'each event is keyed by its delivery id',
    );
    const byAction = new Map(stored.map((e) => [e.action, e]));
    const push = byAction.get('push')!;
    assert.equal(push.class_uid, 990002);
    assert.equal(push.activity_id, 1);
    assert.equal(push.data.branch, 'master');
    assert.equal(push.data.repository, 'Codertocat/Hello-World');
    assert.equal(byAction.get('pull_request.closed')!.class_uid, 990002);
    assert.equal(
      (byAction.get('pull_request_review.submitted')!.data.code as { change: string }).change,
      'review_submitted',
    );
    const added = byAction.get('organization.member_added')!;
    assert.equal(added.class_uid, 3001);
    assert.equal(added.activity_id, 1);
    assert.equal(byAction.get('organization.member_removed')!.activity_id, 6);
    const protection = byAction.get('branch_protection_rule.edited')!;
    assert.equal((protection.data.code as { change: string }).change, 'protection_updated');
    assert.equal(protection.data.branch, 'production');
    const member = await h.database.inWorkspace(h.workspaceId, (trx) =>
      trx.selectFrom('identities').selectAll().where('user_name', '=', 'hacktocat').executeTakeFirstOrThrow(),
    );
    assert.equal(member.system, 'github:Octocoders');
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, member.id), [
      { name: 'member', privileged: false },
    ]);
  });

  test('replaying a delivery changes nothing', async (t) => {
    const h = await pushHarness(t);
    const secret = await webhookSecret(h, 'github');
    const body = payload('octokit_organization.member_added.payload.json');
    const id = randomUUID();
    const first = await deliver(h, { event: 'organization', body, secret, id });
    assert.equal(first.json().status, 'stored');
    const before = await footprint(h.database);
    for (let i = 0; i < 3; i++) {
      const again = await deliver(h, { event: 'organization', body, secret, id });
      assert.equal(again.statusCode, 200);
      assert.equal(again.json().status, 'duplicate');
      assert.equal(again.json().eventsStored, 0);
    }
    assert.deepEqual(await footprint(h.database), before);
  });

  test('bad signatures get 401 and are recorded, never with the body', async (t) => {
    const h = await pushHarness(t);
    const secret = await webhookSecret(h, 'github');
    await createWorkspace(h.database, operator, { slug: 'globex' });
    const body = payload('octokit_push.with-new-branch.payload.json');
    const before = await footprint(h.database);
    const attempts: [Delivery, string][] = [
      [{ event: 'push', body, secret: 'not-the-secret' }, 'signature does not match'],
      [{ event: 'push', body, signature: null }, 'no X-Hub-Signature-256 header'],
      [
        { event: 'push', body, signature: 'sha1=0123' },
        'X-Hub-Signature-256 is not "sha256=<64 hex digits>"',
      ],
      [
        {
          event: 'push',
          body: body.replace('Codertocat', 'Attacker'),
          signature: githubSignature(secret, body),
        },
        'signature does not match',
      ],
      [{ event: 'push', body, secret, workspace: 'nowhere' }, 'unknown workspace'],
      [{ event: 'push', body, secret, workspace: 'globex' }, 'no active webhook secret for source "github"'],
    ];
    const answers = [];
    for (const [attempt] of attempts) {
      const response = await deliver(h, { ...attempt, id: `bad-${answers.length}` });
      assert.equal(response.statusCode, 401, response.body);
      assert.equal(response.json().code, 'bad_signature');
      answers.push(response.json().message);
    }
    // Unknown workspace, no secret and a wrong signature read alike to the sender.
    assert.equal(answers[4], answers[0]);
    assert.equal(answers[5], answers[0]);
    assert.deepEqual(await footprint(h.database), before, 'nothing stored');
    const recorded = await rejections(h);
    assert.deepEqual(
      recorded.map((r) => r.reason),
      attempts.map(([, reason]) => reason),
    );
    assert.deepEqual(
      recorded.map((r) => r.delivery_id),
      attempts.map((_, i) => `bad-${i}`),
    );
    for (const row of recorded) {
      assert.equal(row.source, 'github');
      assert.equal(row.event_name, 'push');
      assert.equal(row.remote_address, '127.0.0.1');
      assert.ok(row.received_at instanceof Date);
      assert.equal(JSON.stringify(row).includes('Hello-World'), false, 'no part of the body is kept');
    }
    assert.equal(recorded[4]!.workspace_id, null);
    assert.equal(recorded[4]!.workspace_ref, 'nowhere');
    assert.equal(recorded[0]!.workspace_id, h.workspaceId);
    // What the workspace's operators see: its own refusals only, newest first.
    const listed = await listWebhookRejections(h.database, 'acme', 10);
    assert.deepEqual(
      listed.map((r) => r.deliveryId),
      ['bad-3', 'bad-2', 'bad-1', 'bad-0'],
    );
  });

  test('secrets rotate: two active secrets both verify, a revoked one no longer does', async (t) => {
    const h = await pushHarness(t);
    const old = await webhookSecret(h, 'github');
    const fresh = await webhookSecret(h, 'github');
    const body = payload('octokit_push.with-new-branch.payload.json');
    assert.equal((await deliver(h, { event: 'push', body, secret: old })).statusCode, 200);
    assert.equal((await deliver(h, { event: 'push', body, secret: fresh })).statusCode, 200);
    const rows = await h.database.inSystem((trx) =>
      trx.selectFrom('webhook_secrets').select(['id', 'sealed_secret']).orderBy('created_at').execute(),
    );
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.match(row.sealed_secret, /^assay-secret:v1:/, 'stored sealed');
      assert.equal(row.sealed_secret.includes(old) || row.sealed_secret.includes(fresh), false);
    }
    await revokeWebhookSecret(h.database, operator, 'acme', rows[0]!.id);
    assert.equal((await deliver(h, { event: 'push', body, secret: old })).statusCode, 401);
    assert.equal((await deliver(h, { event: 'push', body, secret: fresh })).statusCode, 200);
  });

  test('member, repository and ping deliveries; events Assay does not use are acknowledged', async (t) => {
    const h = await pushHarness(t);
    const secret = await webhookSecret(h, 'github');
    const base = JSON.parse(payload('octokit_branch_protection_rule.edited.payload.json'));
    const { repository, organization, sender } = base;
    const collaborator = { login: 'octocat', id: 583231, type: 'User' };
    const send = (event: string, body: unknown, id = randomUUID()) =>
      deliver(h, { event, body: JSON.stringify(body), secret, id });

    let response = await send('member', {
      action: 'added',
      member: collaborator,
      changes: { permission: { to: 'admin' } },
      repository,
      organization,
      sender,
    });
    assert.equal(response.statusCode, 200, response.body);
    const octocat = await h.database.inWorkspace(h.workspaceId, (trx) =>
      trx.selectFrom('identities').selectAll().where('user_name', '=', 'octocat').executeTakeFirstOrThrow(),
    );
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, octocat.id), [
      { name: 'octo-org/octo-repo: admin', privileged: true },
    ]);
    response = await send('member', {
      action: 'edited',
      member: collaborator,
      changes: { permission: { from: 'admin', to: 'write' } },
      repository,
      organization,
      sender,
    });
    assert.equal(response.json().entitlementChanges, 2);
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, octocat.id), [
      { name: 'octo-org/octo-repo: write', privileged: false },
    ]);
    response = await send('member', {
      action: 'removed',
      member: collaborator,
      repository,
      organization,
      sender,
    });
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, octocat.id), []);
    const access = (await events(h.database, h.workspaceId)).filter((e) => e.class_uid === 3005);
    assert.deepEqual(
      access.map((e) => [e.action, e.activity_id]),
      [
        ['member.added', 1],
        ['member.edited', 1],
        ['member.removed', 2],
      ],
    );

    response = await send('repository', { action: 'publicized', repository, organization, sender });
    assert.equal(response.statusCode, 200);
    const [visibility] = (await events(h.database, h.workspaceId)).filter(
      (e) => e.action === 'repository.publicized',
    );
    assert.equal(visibility!.class_uid, 3004);
    assert.deepEqual(visibility!.data.securitySetting, {
      name: 'private_visibility',
      enabled: false,
      scope: 'repository',
      subject: 'octo-org/octo-repo',
    });

    const before = await footprint(h.database);
    response = await send('ping', { zen: 'Design for failure.', hook_id: 1, hook: { type: 'Organization' } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().status, 'ignored');
    response = await send('star', { action: 'created', repository, sender });
    assert.equal(response.json().status, 'ignored');
    const after = await footprint(h.database);
    assert.equal(after.events, before.events, 'acknowledged, not stored as events');
    assert.equal(after.webhook_deliveries, before.webhook_deliveries! + 2);
  });

  test('a signed but unreadable delivery is a 400 and stores nothing', async (t) => {
    const h = await pushHarness(t);
    const secret = await webhookSecret(h, 'github');
    const before = await footprint(h.database);
    let response = await deliver(h, { event: 'push', body: '{"ref": ', secret });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().code, 'invalid_json');
    response = await deliver(h, { event: 'pull_request', body: '{"action": "closed"}', secret });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().code, 'import_rejected');
    assert.match(response.json().message, /pull_request/);
    response = await deliver(h, {
      event: 'push',
      body: JSON.stringify({ ref: 'refs/heads/x\u0000' }),
      secret,
    });
    assert.equal(response.statusCode, 400);
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-hub-signature-256': githubSignature(secret, '{}'),
    };
    response = await h.anonymous({ method: 'POST', url: '/webhooks/github/acme', headers, payload: '{}' });
    assert.equal(response.statusCode, 400);
    assert.match(response.json().message, /X-GitHub-Delivery/);
    assert.deepEqual(await footprint(h.database), before);
  });

  test('form-encoded deliveries are read from their payload field', async (t) => {
    const h = await pushHarness(t);
    const secret = await webhookSecret(h, 'github');
    const body = new URLSearchParams({
      payload: payload('octokit_push.with-new-branch.payload.json'),
    }).toString();
    const response = await deliver(h, {
      event: 'push',
      body,
      secret,
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().eventsStored, 1);
  });
});
