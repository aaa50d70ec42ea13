import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { openDatabase } from '../../src/db/database.ts';
import { totpCode } from '../../src/domains/accounts/totp.ts';
import { buildApp } from '../../src/http/app.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { cookieValue, strongPassword } from './helpers.ts';

/** `assay` in-process against a database of its own, with standard input; and the API over the same data. */
async function harness(t: TestContext) {
  const testDb = await createTestDatabase(t);
  const dataDir = join(mkdtempSync(join(tmpdir(), 'assay-sec-cli-')), 'data');
  const target = testDb.url ? ['--database-url', testDb.url] : ['--data', dataDir];
  // With a PostgreSQL server the CLI and the API share one installation key, as deployed processes do.
  if (testDb.url) process.env.ASSAY_SECRET_KEY ??= randomBytes(32).toString('hex');
  const assay = async (args: string[], stdin?: string) => {
    let stdout = '';
    let stderr = '';
    const code = await main(['node', 'assay', ...target, ...args], {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      stdin: stdin === undefined ? async () => '' : async () => stdin,
    });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  };
  const withApi = async (fn: (app: Awaited<ReturnType<typeof buildApp>>) => Promise<void>) => {
    const config = {
      ...testDb.config,
      dataDir,
      databaseUrl: testDb.url,
      secretKey: testDb.url ? process.env.ASSAY_SECRET_KEY : testDb.config.secretKey,
    };
    const database = await openDatabase(config);
    const app = await buildApp({ config, database });
    try {
      await fn(app);
    } finally {
      await app.close();
      await database.close();
    }
  };
  return { assay, withApi };
}

test('CLI: users, platform admins, members with roles, MSP reach and auditors', async (t) => {
  const { assay, withApi } = await harness(t);
  const weak = await assay(
    ['user', 'create', 'ops@bluepeak.example', '--platform-admin', '--password-stdin'],
    'password1234\n',
  );
  assert.equal(weak.code, 2);
  assert.match(weak.stderr, /common breached password/);
  const admin = await assay(
    ['user', 'create', 'ops@bluepeak.example', '--platform-admin', '--password-stdin', '--json'],
    `${strongPassword}\n`,
  );
  assert.equal(admin.code, 0, admin.stderr);
  assert.equal(admin.json().platformAdmin, true);
  assert.equal(admin.json().passwordSet, true);
  assert.ok(!admin.stdout.includes(strongPassword));
  const again = await assay(['user', 'create', 'OPS@bluepeak.example']);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists/);

  assert.equal((await assay(['tenant', 'create', 'bluepeak', '--kind', 'msp'])).code, 0);
  for (const slug of ['acme', 'zenith'])
    assert.equal((await assay(['tenant', 'create', slug, '--parent', 'bluepeak'])).code, 0);
  const msp = await assay([
    'member',
    'add',
    '--tenant',
    'bluepeak',
    'analyst@bluepeak.example',
    '--role',
    'compliance_manager',
    '--clients',
    'acme',
    '--json',
  ]);
  assert.equal(msp.code, 0, msp.stderr);
  assert.deepEqual(msp.json().member.clients, ['acme']);
  assert.equal(msp.json().userCreated, true);
  const notClient = await assay([
    'member',
    'add',
    '--tenant',
    'bluepeak',
    'x@bluepeak.example',
    '--role',
    'reviewer',
    '--clients',
    'elsewhere',
  ]);
  assert.equal(notClient.code, 2);
  assert.match(notClient.stderr, /not a client workspace of "bluepeak"/);
  const badRole = await assay(['member', 'add', '--tenant', 'acme', 'y@acme.example', '--role', 'superuser']);
  assert.equal(badRole.code, 2);
  assert.match(badRole.stderr, /unknown role "superuser"/);
  const auditorWithoutPeriod = await assay([
    'member',
    'add',
    '--tenant',
    'acme',
    'cpa@audit.example',
    '--role',
    'auditor',
  ]);
  assert.equal(auditorWithoutPeriod.code, 2);
  assert.match(auditorWithoutPeriod.stderr, /audit period/);
  const auditor = await assay([
    'member',
    'add',
    '--tenant',
    'acme',
    'cpa@audit.example',
    '--role',
    'auditor',
    '--period',
    '2026-01-01..2026-06-30',
    '--expires',
    '30d',
  ]);
  assert.equal(auditor.code, 0, auditor.stderr);
  assert.match(auditor.stdout, /cpa@audit\.example is auditor in acme for 2026-01-01\.\.2026-06-30 until/);
  const listed = await assay(['member', 'list', '--tenant', 'acme', '--json']);
  assert.deepEqual(
    listed.json().members.map((m: { email: string; role: string }) => `${m.email}:${m.role}`),
    ['cpa@audit.example:auditor'],
  );

  // The person created by the CLI signs in through the API and, as a platform admin, must enrol a second factor.
  await withApi(async (app) => {
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'ops@bluepeak.example', password: strongPassword },
    });
    assert.equal(login.statusCode, 200, login.body);
    assert.equal(login.json().status, 'mfa_enrollment_required');
    let headers = {
      cookie: `assay_session=${cookieValue(login, 'assay_session')}`,
      'x-csrf-token': login.json().csrfToken,
    };
    const refused = await app.inject({
      method: 'POST',
      url: '/api/v1/workspaces',
      payload: { slug: 'northwind' },
      headers,
    });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().code, 'mfa_required');
    const { secret } = (
      await app.inject({ method: 'POST', url: '/api/v1/auth/totp/enroll', headers })
    ).json();
    const confirmed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/totp/confirm',
      payload: { code: totpCode(secret) },
      headers,
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    headers = {
      cookie: `assay_session=${cookieValue(confirmed, 'assay_session')}`,
      'x-csrf-token': confirmed.json().csrfToken,
    };
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/workspaces',
      payload: { slug: 'northwind' },
      headers,
    });
    assert.equal(created.statusCode, 201, created.body);
    const trail = (
      await app.inject({ method: 'GET', url: '/api/v1/workspaces/northwind/audit-trail', headers })
    ).json();
    assert.equal(
      trail.entries.find((e: { action: string }) => e.action === 'workspace.created').actor.type,
      'user',
    );
  });

  const removed = await assay(['member', 'remove', '--tenant', 'acme', 'cpa@audit.example']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual((await assay(['member', 'list', '--tenant', 'acme', '--json'])).json().members, []);
});

test('CLI: API tokens are shown once, stored hashed, used, listed with last use, and revoked', async (t) => {
  const { assay, withApi } = await harness(t);
  assert.equal((await assay(['tenant', 'create', 'acme'])).code, 0);
  assert.equal((await assay(['tenant', 'create', 'other'])).code, 0);
  const badPermission = await assay([
    'token',
    'create',
    '--tenant',
    'acme',
    '--name',
    'ci',
    '--permissions',
    'controls:read,root',
  ]);
  assert.equal(badPermission.code, 2);
  assert.match(badPermission.stderr, /unknown permission "root"/);
  const tooLong = await assay([
    'token',
    'create',
    '--tenant',
    'acme',
    '--name',
    'ci',
    '--permissions',
    'controls:read',
    '--expires',
    '400d',
  ]);
  assert.equal(tooLong.code, 2);

  const created = await assay([
    'token',
    'create',
    '--tenant',
    'acme',
    '--name',
    'ci pipeline',
    '--permissions',
    'controls:read,scope:read',
    '--expires',
    '30d',
  ]);
  assert.equal(created.code, 0, created.stderr);
  const secret = /\s(assay_tk_[A-Za-z0-9_-]+)\s/.exec(created.stdout)?.[1];
  assert.ok(secret, created.stdout);
  assert.match(created.stdout, /shown once/);

  const before = await assay(['token', 'list', '--tenant', 'acme', '--json']);
  assert.ok(!before.stdout.includes(secret));
  const [listed] = before.json().tokens;
  assert.equal(listed.lastUsedAt, null);
  assert.deepEqual(listed.permissions, ['controls:read', 'scope:read']);
  assert.ok(Date.parse(listed.expiresAt) - Date.now() > 29 * 86_400_000);

  await withApi(async (app) => {
    const auth = { authorization: `Bearer ${secret}` };
    assert.equal(
      (await app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/controls', headers: auth }))
        .statusCode,
      200,
    );
    const write = await app.inject({
      method: 'PUT',
      url: '/api/v1/workspaces/acme/scope',
      headers: auth,
      payload: { categories: [] },
    });
    assert.equal(write.statusCode, 403, 'scope:write was not granted');
    const elsewhere = await app.inject({
      method: 'GET',
      url: '/api/v1/workspaces/other/controls',
      headers: auth,
    });
    assert.equal(elsewhere.statusCode, 403, 'a token reaches its own workspace only');
  });
  const after = (await assay(['token', 'list', '--tenant', 'acme', '--json'])).json().tokens[0];
  assert.ok(after.lastUsedAt !== null, 'last use is recorded');
  assert.match((await assay(['token', 'list', '--tenant', 'acme'])).stdout, /ci pipeline\s+active/);

  const wrongTenant = await assay(['token', 'revoke', '--tenant', 'other', listed.id]);
  assert.equal(wrongTenant.code, 2, 'a token is revoked through its own workspace only');
  const revoked = await assay(['token', 'revoke', '--tenant', 'acme', listed.id, '--json']);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(revoked.json().token.status, 'revoked');
  await withApi(async (app) => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/workspaces/acme/controls',
      headers: { authorization: `Bearer ${secret}` },
    });
    assert.equal(res.statusCode, 401);
    assert.match(res.json().message, /revoked/);
  });
});
