/**
 * A planted secret (an SSO client secret, a TOTP seed, a password) never comes back out: not in
 * any API answer, not in the logs at trace level, not in the audit trail, not in the database in
 * clear; nor in the auditor package, the registers' CSV exports or the evidence ledger.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { sql } from 'kysely';
import { cliActor } from '../../src/cli/runtime.ts';
import { createWebhookSecret } from '../../src/connectors/webhooks/webhook-secrets.ts';
import { issueSession } from '../../src/domains/accounts/sessions.service.ts';
import { createUser } from '../../src/domains/accounts/users.service.ts';
import { csvKindNames } from '../../src/domains/registers/registers.csv.ts';
import { openSecretBox } from '../../src/domains/secrets/secrets.ts';
import { routeTable } from '../../src/http/access.ts';
import { buildApp } from '../../src/http/app.ts';
import { readZip } from '../audits/zip-files.ts';
import { createTestDatabase } from '../helpers/database.ts';

test('planted secrets never appear in API answers, logs, exports, the audit trail or the ledger', async (t) => {
  const testDb = await createTestDatabase(t);
  const { database } = testDb;
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const config = { ...testDb.config, logLevel: 'trace' as const, secretKey: randomBytes(32).toString('hex') };
  const app = await buildApp({ config, database }, { logger: true, logStream });
  t.after(() => app.close());

  const admin = await createUser(
    database,
    { type: 'cli', id: 'test' },
    { email: 'ops@assay.test', platformAdmin: true },
  );
  const session = await issueSession(database, {
    userId: admin.id,
    stage: 'full',
    mfa: true,
    ssoWorkspaceId: null,
    ip: '127.0.0.1',
    userAgent: 'test',
  });
  const headers = { cookie: `assay_session=${session.token}`, 'x-csrf-token': session.csrfToken };
  const send = (method: string, url: string, payload?: unknown) =>
    app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  const planted = `planted-${randomBytes(16).toString('hex')}`;
  const answers: string[] = [];
  const keep = (res: Awaited<ReturnType<typeof send>>) => {
    answers.push(JSON.stringify(res.headers), res.body);
    return res;
  };

  assert.equal(keep(await send('POST', '/api/v1/workspaces', { slug: 'acme' })).statusCode, 201);
  // Plant it as an SSO client secret (the provider is unreachable: sign-in start fails).
  const sso = keep(
    await send('PUT', '/api/v1/workspaces/acme/sso', {
      issuer: 'http://127.0.0.1:9/idp',
      clientId: 'assay',
      clientSecret: planted,
    }),
  );
  assert.equal(sso.statusCode, 200, sso.body);
  keep(
    await send('PUT', '/api/v1/workspaces/acme/sso', {
      issuer: 'not a url',
      clientId: 'x',
      clientSecret: planted,
    }),
  );
  keep(
    await send('PUT', '/api/v1/workspaces/acme/sso', {
      issuer: 'https://idp.example',
      clientSecret: planted,
      extra: planted,
    }),
  );
  keep(await app.inject({ method: 'GET', url: '/api/v1/auth/oidc/acme/start' }));
  // …as a password that fails, and inside broken JSON.
  keep(
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'ops@assay.test', password: planted },
    }),
  );
  keep(
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: `{"email": "ops@assay.test", "password": "${planted}"`,
    }),
  );
  // A TOTP seed: returned once at enrolment (by design), never again.
  const enrol = await send('POST', '/api/v1/auth/totp/enroll');
  assert.equal(enrol.statusCode, 200);
  const seed = enrol.json().secret as string;

  // Every readable route of the workspace, and the session.
  for (const route of routeTable(app)) {
    if (route.method !== 'GET') continue;
    const url = route.url
      .replace(':workspace', 'acme')
      .replace(/:[A-Za-z_]+/g, '00000000-0000-4000-8000-000000000000');
    if (url.includes('/oidc/')) continue;
    keep(await send('GET', url));
  }
  const ssoRead = await send('GET', '/api/v1/workspaces/acme/sso');
  assert.equal(ssoRead.json().clientSecretSet, true);
  answers.push(ssoRead.body);

  // A webhook signing secret, shown once at creation.
  const webhook = await createWebhookSecret(database, openSecretBox(config), cliActor(), 'acme', 'github');
  const secrets = [planted, seed, webhook.secret];

  // Exports: the auditor package (every file in the zip) and every register as CSV.
  const exportsText: string[] = [];
  const exported = await send('POST', '/api/v1/workspaces/acme/exports', {
    period: '2026-01-01..2026-12-31',
  });
  assert.equal(exported.statusCode, 200, exported.body.slice(0, 300));
  const zipPath = join(mkdtempSync(join(tmpdir(), 'assay-leak-')), 'package.zip');
  writeFileSync(zipPath, exported.rawPayload);
  const files = await readZip(zipPath);
  assert.ok(files.size > 5, 'the package has its files');
  for (const [name, bytes] of files) exportsText.push(`${name}\n${bytes.toString('utf8')}`);
  for (const kind of csvKindNames) {
    const csv = await send('GET', `/api/v1/workspaces/acme/registers/${kind}/export`);
    assert.equal(csv.statusCode, 200, `${kind}: ${csv.body.slice(0, 200)}`);
    exportsText.push(csv.body);
  }
  for (const text of exportsText) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `an export carries a secret: ${text.slice(0, 120)}`);
    }
  }

  for (const text of answers) {
    assert.ok(!text.includes(webhook.secret), 'an API answer carries the webhook secret');
    assert.ok(!text.includes(planted), `an API answer carries the planted secret: ${text.slice(0, 200)}`);
    assert.ok(!text.includes(seed), 'an API answer after enrolment carries the TOTP seed');
  }
  const logText = logs.join('');
  assert.ok(logs.length > 20, 'trace logging was on');
  for (const secret of [...secrets, session.token, session.csrfToken]) {
    assert.ok(!logText.includes(secret), 'the logs carry a secret');
  }
  const trail = await sql<{ row: string }>`select row_to_json(a)::text as row from audit_trail a`.execute(
    database.db,
  );
  assert.ok(trail.rows.length > 0);
  for (const secret of secrets) {
    assert.ok(!trail.rows.some((r) => r.row.includes(secret)), 'the audit trail carries a secret');
  }
  // Nor does any evidence in the ledger (the audit trail is written into it too).
  const ledger = await sql<{ text: string }>`
    select convert_from(envelope, 'UTF8') || coalesce(convert_from(content, 'UTF8'), '') as text
    from evidence_items`.execute(database.db);
  assert.ok(ledger.rows.length > 0);
  for (const secret of secrets) {
    assert.ok(!ledger.rows.some((r) => r.text.includes(secret)), 'the evidence ledger carries a secret');
  }

  // At rest it is sealed, and opens with the installation key only.
  const stored = await sql<{ client_secret: string }>`select client_secret from oidc_connections`.execute(
    database.db,
  );
  assert.ok(!stored.rows[0]!.client_secret.includes(planted));
  const workspaceId = (await sql<{ id: string }>`select id from workspaces`.execute(database.db)).rows[0]!.id;
  assert.equal(
    openSecretBox(config).decrypt(stored.rows[0]!.client_secret, `oidc:${workspaceId}:client_secret`),
    planted,
  );
  const users = await sql<{ row: string }>`select row_to_json(u)::text as row from users u`.execute(
    database.db,
  );
  assert.ok(!users.rows.some((r) => r.row.includes(seed)), 'the TOTP seed is sealed at rest');
});
