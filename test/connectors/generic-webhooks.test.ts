/**
 * The generic signed JSON webhook: OCSF events signed with `X-Assay-Signature: t=…,v1=…`, read
 * by the OCSF importer, stored once; stale or wrong signatures refused and recorded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { TestApp } from '../helpers/app.ts';
import {
  assaySignature,
  events,
  footprint,
  heldEntitlements,
  pushHarness,
  webhookSecret,
} from './push-helpers.ts';

const now = () => Math.floor(Date.now() / 1000);

const signIn = {
  class_uid: 3002,
  activity_id: 1,
  time: 1763892000000,
  status_id: 1,
  is_mfa: true,
  metadata: { uid: 'evt-1', version: '1.1.0' },
  user: { name: 'ada@example.com', uid: 'u-1' },
  src_endpoint: { ip: '203.0.113.7' },
};
const groupAdd = {
  class_uid: 3006,
  activity_id: 3,
  time: 1763892060000,
  status_id: 1,
  metadata: { uid: 'evt-2', product: { name: 'Okta' } },
  user: { name: 'ada@example.com', uid: 'u-1' },
  group: { name: 'Production Admins' },
};

function post(
  h: TestApp,
  body: string,
  signature: string | undefined,
  source = 'acme-idp',
  extra: Record<string, string> = {},
) {
  return h.anonymous({
    method: 'POST',
    url: `/webhooks/generic/acme/${source}`,
    headers: {
      'content-type': 'application/json',
      ...(signature ? { 'x-assay-signature': signature } : {}),
      ...extra,
    },
    payload: body,
  });
}

describe('generic signed webhooks', () => {
  test('OCSF events are stored once; a replay of the same signed delivery changes nothing', async (t) => {
    const h = await pushHarness(t);
    const secret = await webhookSecret(h, 'acme-idp');
    const body = JSON.stringify([signIn, groupAdd]);
    const signature = assaySignature(secret, body);
    const response = await post(h, body, signature);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().status, 'stored');
    assert.equal(response.json().eventsStored, 2);
    assert.equal(response.json().entitlementChanges, 1);
    const stored = await events(h.database, h.workspaceId);
    assert.deepEqual(
      stored.map((e) => [e.source, e.source_key, e.system, e.class_uid]),
      [
        ['ocsf', 'evt-1', 'acme-idp', 3002],
        ['ocsf', 'evt-2', 'okta', 3006],
      ],
      'events without a product are attributed to the webhook source',
    );
    assert.equal(stored[0]!.data.mfa, true);
    const ada = await h.database.inWorkspace(h.workspaceId, (trx) =>
      trx
        .selectFrom('identities')
        .selectAll()
        .where('external_id', '=', 'u-1')
        .where('system', '=', 'acme-idp')
        .executeTakeFirst(),
    );
    assert.equal(ada?.user_name, 'ada@example.com');

    const before = await footprint(h.database);
    const replay = await post(h, body, signature);
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.json().status, 'duplicate');
    assert.deepEqual(await footprint(h.database), before);

    // The same events in a new delivery: recognised by their OCSF ids.
    const again = await post(
      h,
      `${JSON.stringify(signIn)}\n`,
      assaySignature(secret, `${JSON.stringify(signIn)}\n`),
    );
    assert.equal(again.json().status, 'stored');
    assert.equal(again.json().eventsStored, 0);
    assert.equal(again.json().duplicates, 1);
    // An event naming its product keeps the product as its system, as the OCSF importer names it.
    const oktaAccount = await h.database.inWorkspace(h.workspaceId, (trx) =>
      trx
        .selectFrom('identities')
        .selectAll()
        .where('system', '=', 'okta')
        .where('external_id', '=', 'u-1')
        .executeTakeFirstOrThrow(),
    );
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, oktaAccount.id), [
      { name: 'Production Admins', privileged: true },
    ]);
  });

  test('the signature must be fresh (five minutes) and match; failures are recorded', async (t) => {
    const h = await pushHarness(t);
    const secret = await webhookSecret(h, 'acme-idp');
    const body = JSON.stringify(signIn);
    const before = await footprint(h.database);
    const attempts: [string | undefined, string][] = [
      [undefined, 'no X-Assay-Signature header'],
      ['v1=abc', 'X-Assay-Signature is not "t=<unix seconds>,v1=<hex>"'],
      [assaySignature(secret, body, now() - 400), 'signature timestamp is outside the 5-minute window'],
      [assaySignature(secret, body, now() + 400), 'signature timestamp is outside the 5-minute window'],
      [assaySignature('wrong', body), 'signature does not match'],
      [assaySignature(secret, `${body} `), 'signature does not match'],
    ];
    for (const [signature] of attempts) {
      const response = await post(h, body, signature);
      assert.equal(response.statusCode, 401, response.body);
      assert.equal(response.json().code, 'bad_signature');
    }
    assert.deepEqual(await footprint(h.database), before);
    const recorded = await h.database.inSystem((trx) =>
      trx.selectFrom('webhook_rejections').selectAll().orderBy('id').execute(),
    );
    assert.deepEqual(
      recorded.map((r) => [r.source, r.reason]),
      attempts.map(([, reason]) => ['acme-idp', reason]),
    );

    // Within the window, and with a second signature from a secret being rotated in.
    const ok = await post(h, body, `${assaySignature(secret, body, now() - 200)},v1=${'0'.repeat(64)}`);
    assert.equal(ok.statusCode, 200, ok.body);
  });

  test('a batch with one bad event is refused whole', async (t) => {
    const h = await pushHarness(t);
    const secret = await webhookSecret(h, 'acme-idp');
    const before = await footprint(h.database);
    const body = [JSON.stringify(signIn), JSON.stringify(groupAdd), JSON.stringify({ activity_id: 1 })].join(
      '\n',
    );
    const response = await post(h, body, assaySignature(secret, body));
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().code, 'import_rejected');
    assert.match(response.json().message, /line 3.*class_uid/);
    assert.deepEqual(await footprint(h.database), before);

    const empty = await post(h, '[]', assaySignature(secret, '[]'));
    assert.equal(empty.statusCode, 400);
    const github = await post(h, body, assaySignature(secret, body), 'github');
    assert.equal(github.statusCode, 400);
    const badSource = await post(h, body, assaySignature(secret, body), 'Not A Source');
    assert.equal(badSource.statusCode, 400);
    const badId = await post(
      h,
      JSON.stringify(signIn),
      assaySignature(secret, JSON.stringify(signIn)),
      'acme-idp',
      {
        'x-assay-delivery': 'x'.repeat(300),
      },
    );
    assert.equal(badId.statusCode, 400);
    assert.deepEqual(await footprint(h.database), before);
  });

  test('the shell signing recipe in docs/connectors/github-webhooks.md produces an accepted signature', async (t) => {
    const h = await pushHarness(t);
    const secret = await webhookSecret(h, 'siem');
    const doc = readFileSync(new URL('../../docs/connectors/github-webhooks.md', import.meta.url), 'utf8');
    const recipe = /```sh\n(t=\$\(date \+%s\)[\s\S]*?)\ncurl /.exec(doc)?.[1];
    assert.ok(recipe, 'the recipe is in the document');
    const dir = mkdtempSync(join(tmpdir(), 'assay-recipe-'));
    // A trailing newline, as editors write files: the recipe must sign it too.
    const body = `${JSON.stringify(signIn)}\n`;
    writeFileSync(join(dir, 'events.json'), body);
    const run = spawnSync('sh', ['-c', `${recipe}\nprintf '%s %s' "$t" "$sig"`], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', SECRET: secret },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const [at, sig] = run.stdout.trim().split(' ');
    const response = await post(h, body, `t=${at},v1=${sig}`, 'siem');
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().eventsStored, 1);
  });
});
