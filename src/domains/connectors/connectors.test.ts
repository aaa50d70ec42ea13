/**
 * Pull connectors through the CLI and the HTTP API: adding (the LDAP bind password on standard
 * input or in the request body, then never shown again), listing, pulling, removing, and who may
 * do it. The sources are real: a slapd started here and a git repository built here.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { buildTestApp } from '../../../test/helpers/app.ts';
import { createTestDatabase } from '../../../test/helpers/database.ts';
import { main } from '../../cli/main.ts';
import { alice, bob, carol, repository } from '../../connectors/git/git.testing.ts';
import { startSlapd } from '../../connectors/ldap/slapd.testing.ts';

// The CLI seals credentials with the installation key; against a PostgreSQL server it must be set.
process.env.ASSAY_SECRET_KEY ??= randomBytes(32).toString('hex');

const suffix = 'dc=corp,dc=example';
const readerDn = `cn=reader,${suffix}`;
const password = 'Bind-Secret-4c1e9d';

function directory(t: TestContext) {
  return startSlapd(t, {
    suffix,
    ldif: `dn: ${suffix}
objectClass: dcObject
objectClass: organization
o: Corp
dc: corp

dn: ${readerDn}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: ${password}

dn: uid=alice,${suffix}
objectClass: inetOrgPerson
uid: alice
cn: Alice Archer
sn: Archer
mail: alice@corp.example

dn: cn=admins,${suffix}
objectClass: groupOfNames
cn: admins
member: uid=alice,${suffix}
`,
  });
}

function gitRepository(t: TestContext) {
  const repo = repository(t);
  repo.commit(alice, '2026-03-01T09:00:00Z', 'Initial');
  repo.branch('feature');
  repo.commit(bob, '2026-03-02T09:00:00Z', 'Feature');
  repo.merge(
    'feature',
    alice,
    '2026-03-03T09:00:00Z',
    `Merge pull request #3 from acme/feature\n\nApproved-by: ${carol.name} <${carol.email}>`,
  );
  return repo;
}

/** `assay` in-process against a database of its own, with standard input when given. */
async function cli(t: TestContext) {
  const { url } = await createTestDatabase(t);
  const dataDir = join(mkdtempSync(join(tmpdir(), 'assay-cli-')), 'data');
  const target = url ? ['--database-url', url] : ['--data', dataDir];
  return async (args: string[], stdin?: string) => {
    let stdout = '';
    let stderr = '';
    const code = await main(['node', 'assay', ...target, ...args], {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      ...(stdin !== undefined ? { stdin: async () => stdin } : {}),
    });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  };
}

test('CLI: assay connector add/list/show/run/remove, with the bind password only ever on standard input', async (t) => {
  const slapd = await directory(t);
  const repo = gitRepository(t);
  const assay = await cli(t);
  const ok = async (args: string[], stdin?: string) => {
    const result = await assay(args, stdin);
    assert.equal(result.code, 0, `assay ${args.join(' ')}: ${result.stderr}`);
    assert.ok(
      !result.stdout.includes(password) && !result.stderr.includes(password),
      'the password is never printed',
    );
    return result;
  };
  await ok(['tenant', 'create', 'acme']);

  const ldapArgs = ['connector', 'add', 'ldap', '--tenant', 'acme', '--name', 'corp', '--url', slapd.url];
  const refused = await assay([...ldapArgs, '--bind-dn', readerDn, '--base-dn', suffix]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--password-stdin/);
  const added = await ok(
    [...ldapArgs, '--bind-dn', readerDn, '--base-dn', suffix, '--password-stdin'],
    `${password}\n`,
  );
  assert.match(added.stdout, /added connector corp \(ldap\)/);
  assert.match(added.stdout, /credentials: stored \(sealed\)/);

  const git = await ok([
    'connector',
    'add',
    'git',
    '--tenant',
    'acme',
    '--name',
    'payments-api',
    '--path',
    repo.path,
    '--json',
  ]);
  assert.deepEqual(git.json().settings, { path: repo.path, branch: 'main', repository: 'acme/payments-api' });

  const ldapRun = await ok(['connector', 'run', 'corp', '--tenant', 'acme']);
  assert.match(ldapRun.stdout, /pulled corp \(ldap\) into acme/);
  assert.match(ldapRun.stdout, /read 1 users \(0 disabled\), 1 groups, 1 memberships/);
  assert.match(ldapRun.stdout, /account observations 1, entitlement changes 1/);

  const gitRun = await ok(['connector', 'run', 'payments-api', '--tenant', 'acme', '--json']);
  const pulled = gitRun.json();
  assert.equal(pulled.pulled.commits, 2);
  assert.equal(pulled.pulled.pullRequests, 1);
  assert.equal(pulled.pulled.approvals, 1);
  assert.equal(pulled.eventsStored, 3);
  assert.equal(pulled.checks.status, 'evaluated', 'the CLI evaluates the checks the pull triggered');
  const again = (await ok(['connector', 'run', 'payments-api', '--tenant', 'acme', '--json'])).json();
  assert.equal(again.eventsStored, 0);

  const list = (await ok(['connector', 'list', '--tenant', 'acme', '--json'])).json().connectors;
  assert.deepEqual(
    list.map((c: { name: string; kind: string; lastStatus: string; hasCredentials: boolean }) => [
      c.name,
      c.kind,
      c.lastStatus,
      c.hasCredentials,
    ]),
    [
      ['corp', 'ldap', 'succeeded', true],
      ['payments-api', 'git', 'succeeded', false],
    ],
  );
  const show = await ok(['connector', 'show', 'corp', '--tenant', 'acme']);
  assert.match(show.stdout, new RegExp(`bindDn: ${readerDn}`));

  const missing = await assay(['connector', 'run', 'nope', '--tenant', 'acme']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /has no connector named "nope"/);
  await ok(['connector', 'remove', 'corp', '--tenant', 'acme']);
  assert.equal((await ok(['connector', 'list', '--tenant', 'acme', '--json'])).json().connectors.length, 1);
});

test('API: connectors need connectors:manage; credentials go in and never come out; a pull answers with what it stored', async (t) => {
  const slapd = await directory(t);
  const repo = gitRepository(t);
  const { app, database, asRole, asToken } = await buildTestApp(t);
  const created = await app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  assert.equal(created.statusCode, 201, created.body);

  const body = {
    kind: 'ldap',
    name: 'corp',
    settings: { url: slapd.url, bindDn: readerDn, baseDn: suffix },
    credentials: { password },
  };
  const reviewer = await asRole('reviewer', 'acme');
  const denied = await reviewer({ method: 'POST', url: '/api/v1/workspaces/acme/connectors', payload: body });
  assert.equal(denied.statusCode, 403);
  assert.equal((await reviewer('/api/v1/workspaces/acme/connectors')).statusCode, 403);

  const token = await asToken('acme', ['connectors:manage']);
  const add = await token({ method: 'POST', url: '/api/v1/workspaces/acme/connectors', payload: body });
  assert.equal(add.statusCode, 201, add.body);
  assert.ok(!add.body.includes(password));
  assert.equal(add.json().hasCredentials, true);
  const duplicate = await token({ method: 'POST', url: '/api/v1/workspaces/acme/connectors', payload: body });
  assert.equal(duplicate.statusCode, 409);
  const badSetting = await token({
    method: 'POST',
    url: '/api/v1/workspaces/acme/connectors',
    payload: { ...body, name: 'other', settings: { ...body.settings, url: 'http://x' } },
  });
  assert.equal(badSetting.statusCode, 400);
  assert.match(badSetting.json().message, /must be ldap:\/\/host/);

  // At rest the password is sealed, not stored as given.
  const row = await database.db
    .selectFrom('connectors')
    .select('sealed_credentials')
    .executeTakeFirstOrThrow();
  assert.match(row.sealed_credentials ?? '', /^assay-secret:v1:/);
  assert.ok(!row.sealed_credentials!.includes(password));

  const pull = await token({ method: 'POST', url: '/api/v1/workspaces/acme/connectors/corp/pulls' });
  assert.equal(pull.statusCode, 200, pull.body);
  assert.equal(pull.json().pulled.users, 1);
  assert.equal(pull.json().identities, 1);

  const git = await token({
    method: 'POST',
    url: '/api/v1/workspaces/acme/connectors',
    payload: { kind: 'git', name: 'payments-api', settings: { path: repo.path } },
  });
  assert.equal(git.statusCode, 201, git.body);
  const gitPull = await token({
    method: 'POST',
    url: '/api/v1/workspaces/acme/connectors/payments-api/pulls',
  });
  assert.equal(gitPull.statusCode, 200, gitPull.body);
  assert.equal(gitPull.json().eventsStored, 3);

  // A source that cannot be read: 503, recorded on the connector, nothing stored.
  await slapd.stop();
  const down = await token({ method: 'POST', url: '/api/v1/workspaces/acme/connectors/corp/pulls' });
  assert.equal(down.statusCode, 503);
  const shown = await token('/api/v1/workspaces/acme/connectors/corp');
  assert.equal(shown.statusCode, 200);
  assert.equal(shown.json().lastStatus, 'failed');
  assert.match(shown.json().lastError, /LDAP ldap:\/\/127\.0\.0\.1:\d+: bind failed/);
  assert.ok(!shown.body.includes(password));

  const listed = await token('/api/v1/workspaces/acme/connectors');
  assert.deepEqual(
    listed.json().connectors.map((c: { name: string }) => c.name),
    ['corp', 'payments-api'],
  );
  assert.equal(
    (await token({ method: 'DELETE', url: '/api/v1/workspaces/acme/connectors/corp' })).statusCode,
    204,
  );
  assert.equal((await token('/api/v1/workspaces/acme/connectors/corp')).statusCode, 404);
});
