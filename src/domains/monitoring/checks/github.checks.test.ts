/**
 * Every check in github.checks.ts over GitHub audit-log events and webhook deliveries: passing
 * and failing subjects, the finding an event opens, and the change that closes it.
 */
import { after, before, test } from 'node:test';
import { type CheckBench, githubEvent, githubLog, openCheckBench } from './check-testing.ts';

let bench: CheckBench;
before(async () => {
  bench = await openCheckBench();
});
after(() => bench.close());

test('github.org_owner_added: a new organisation owner fails until demoted; other organisations pass', async () => {
  const check = 'github.org_owner_added';
  const ws = await bench.workspace();
  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'org.update_member',
        at: '2026-10-01T00:00:00Z',
        actor: 'ops',
        org: 'acme',
        user: 'bob',
        permission: 'admin',
        old_permission: 'read',
      }),
      githubEvent({
        action: 'org.add_member',
        at: '2026-10-01T00:00:00Z',
        actor: 'ops',
        org: 'beta',
        user: 'carol',
        permission: 'read',
      }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'github:acme', /new owner bob \(2026-10-01/);
  await ws.expectPasses(check, 'github:beta', /no owner added in the last 30 days/);

  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'org.update_member',
        at: '2026-10-03T00:00:00Z',
        actor: 'ops',
        org: 'acme',
        user: 'bob',
        permission: 'read',
        old_permission: 'admin',
      }),
    ),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'github:acme');
});

test('github.repository_public: a repository made public fails until it is private again (webhooks too)', async () => {
  const check = 'github.repository_public';
  const ws = await bench.workspace();
  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'repo.create',
        at: '2026-10-01T00:00:00Z',
        actor: 'dev',
        repo: 'acme/oops',
        visibility: 'public',
      }),
      githubEvent({
        action: 'repo.create',
        at: '2026-10-01T00:00:00Z',
        actor: 'dev',
        repo: 'acme/core',
        visibility: 'private',
      }),
      // repo.access without a visibility says nothing about it.
      githubEvent({ action: 'repo.access', at: '2026-10-01T00:00:00Z', actor: 'dev', repo: 'acme/quiet' }),
    ),
  );
  await ws.deliverWebhook(
    'repository',
    {
      action: 'publicized',
      repository: { full_name: 'acme/site', private: false, visibility: 'public' },
      organization: { login: 'acme' },
      sender: { login: 'dev', id: 3, type: 'User' },
    },
    '2026-10-01T05:00:00Z',
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'acme/oops', /made public by dev at 2026-10-01T00:00:00.000Z \(repo.create\)/);
  await ws.expectFails(check, 'acme/site', /repository.publicized/);
  await ws.expectPasses(check, 'acme/core', /private since/);
  await ws.expectNotJudged(check, 'acme/quiet');

  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'repo.access',
        at: '2026-10-03T00:00:00Z',
        actor: 'dev',
        repo: 'acme/oops',
        visibility: 'private',
        previous_visibility: 'public',
      }),
    ),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'acme/oops');
  await ws.expectFails(check, 'acme/site');
});

test('github.write_credentials: a write deploy key or write token fails until removed or revoked', async () => {
  const check = 'github.write_credentials';
  const ws = await bench.workspace();
  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'public_key.create',
        at: '2026-10-01T00:00:00Z',
        actor: 'dev',
        repo: 'acme/api',
        fingerprint: 'SHA256:aaa',
        title: 'ci-deploy',
        read_only: 'false',
      }),
      githubEvent({
        action: 'public_key.create',
        at: '2026-10-01T00:00:00Z',
        actor: 'dev',
        repo: 'acme/web',
        fingerprint: 'SHA256:bbb',
        title: 'mirror',
        read_only: 'true',
      }),
      // A user's own SSH key (no repository) is not a deploy key.
      githubEvent({
        action: 'public_key.create',
        at: '2026-10-01T00:00:00Z',
        actor: 'dev',
        fingerprint: 'SHA256:ccc',
      }),
      githubEvent({
        action: 'personal_access_token.access_granted',
        at: '2026-10-01T00:00:00Z',
        actor: 'ops',
        org: 'acme',
        user: 'bot-builder',
        token_id: 42,
        permissions: { contents: 'write', metadata: 'read' },
      }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'acme/api', /deploy key ci-deploy with write/);
  await ws.expectPasses(check, 'acme/web');
  await ws.expectFails(check, 'github:acme', /personal access token of bot-builder with contents:write/);

  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'public_key.delete',
        at: '2026-10-03T00:00:00Z',
        actor: 'dev',
        repo: 'acme/api',
        fingerprint: 'SHA256:aaa',
      }),
      githubEvent({
        action: 'personal_access_token.access_revoked',
        at: '2026-10-03T00:00:00Z',
        actor: 'ops',
        org: 'acme',
        user: 'bot-builder',
        token_id: 42,
      }),
    ),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'acme/api');
  await ws.expectClosed(check, 'github:acme');
});
