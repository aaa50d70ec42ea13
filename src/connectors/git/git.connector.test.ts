/**
 * The git connector against real repositories the test builds with the git CLI: commits with
 * fixed authors, committers and dates, merges with and without an approval by someone else, a
 * self-approved merge, a squash merge, a signed commit, then new commits and a rewritten branch.
 * The change-management check then judges what the connector stored.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase } from '../../../test/helpers/database.ts';
import type { Database } from '../../db/database.ts';
import type { Actor } from '../../domains/audit/actor.ts';
import { addConnector, listConnectors, runConnector } from '../../domains/connectors/connectors.service.ts';
import { listWorkspaceFindings } from '../../domains/findings/findings.service.ts';
import { rawPayload } from '../../domains/ingest/ingest.repository.ts';
import { runChecks } from '../../domains/monitoring/run-checks.service.ts';
import { openSecretBox } from '../../domains/secrets/secrets.ts';
import { createWorkspace } from '../../domains/workspaces/workspaces.service.ts';
import { parsePerson, parseTrailers, pullRequestNumber } from './git.history.ts';
import { alice, bob, carol, dave, erin, github, repository } from './git.testing.ts';

const actor: Actor = { type: 'cli', id: 'git-test' };

async function setup(t: TestContext) {
  const { database, config } = await createTestDatabase(t);
  const secrets = openSecretBox({
    secretKey: randomBytes(32).toString('hex'),
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
  });
  const slug = `git-${randomBytes(3).toString('hex')}`;
  await createWorkspace(database, actor, { slug });
  return { database, secrets, slug };
}

async function storedEvents(database: Database, slug: string, batchId?: string) {
  const ws = await database.db
    .selectFrom('workspaces')
    .select('id')
    .where('slug', '=', slug)
    .executeTakeFirstOrThrow();
  let query = database.db
    .selectFrom('events')
    .leftJoin('evidence_items', (join) =>
      join
        .onRef('evidence_items.workspace_id', '=', 'events.workspace_id')
        .on(sql<boolean>`evidence_items.id = events.evidence_id::uuid`),
    )
    .select([
      'events.id',
      'events.source',
      'events.source_key',
      'events.time',
      'events.action',
      'events.activity_id',
      'events.repository',
      'events.data',
      rawPayload.as('raw'),
    ])
    .where('events.workspace_id', '=', ws.id)
    .where('events.source', '=', 'git');
  if (batchId) query = query.where('events.batch_id', '=', batchId);
  const rows = await query.orderBy('events.time').orderBy('events.id').execute();
  return rows.map((r) => ({
    ...r,
    data: r.data as {
      actor?: { userName?: string; displayName?: string; type?: string };
      target?: { userName?: string; email?: string };
      branch?: string;
      code: {
        change: string;
        pullRequest?: number;
        reviewState?: string;
        bypass: boolean;
        forcePush?: boolean;
        commit?: string;
        parents?: string[];
        signature?: string;
        coAuthors?: string[];
        mergedBy?: string;
      };
    },
  }));
}

/** Builds the history every test starts from; returns the commits by role. */
function buildHistory(repo: ReturnType<typeof repository>) {
  const initial = repo.commit(alice, '2026-03-01T09:00:00Z', 'Initial payments service');
  // PR #12 by bob, approved by carol.
  repo.branch('refunds');
  repo.commit(bob, '2026-03-02T10:00:00Z', 'Add refunds');
  const approved = repo.merge(
    'refunds',
    alice,
    '2026-03-03T11:00:00Z',
    'Merge pull request #12 from acme/refunds\n\nAdd refunds\n\nApproved-by: Carol Chen <carol@acme.example>\nCo-authored-by: Erin Evans <erin@acme.example>',
  );
  // PR #13 by bob, merged without any approval.
  repo.branch('webhooks');
  repo.commit(bob, '2026-03-04T10:00:00Z', 'Retry webhooks');
  const unapproved = repo.merge(
    'webhooks',
    alice,
    '2026-03-05T11:00:00Z',
    'Merge pull request #13 from acme/webhooks\n\nRetry webhooks',
  );
  // PR #14 by dave, "approved" by dave himself.
  repo.branch('limits');
  repo.commit(dave, '2026-03-06T10:00:00Z', 'Raise limits');
  const selfApproved = repo.merge(
    'limits',
    dave,
    '2026-03-07T11:00:00Z',
    'Merge pull request #14 from acme/limits\n\nRaise limits\n\nApproved-by: Dave Dorsey <dave@acme.example>',
  );
  // PR #16 by erin, reviewed by bob (a Reviewed-by trailer is an approval).
  repo.branch('ledger');
  repo.commit(erin, '2026-03-08T10:00:00Z', 'Ledger export');
  const reviewed = repo.merge(
    'ledger',
    carol,
    '2026-03-09T11:00:00Z',
    'Merge pull request #16 from acme/ledger\n\nLedger export\n\nReviewed-by: Bob Baker <bob@acme.example>',
  );
  // PR #15 squash-merged by GitHub for erin, no approval.
  repo.checkout('main');
  const squash = repo.commit(
    erin,
    '2026-03-10T12:00:00Z',
    'Fix rounding (#15)\n\nCo-authored-by: Bob Baker <bob@acme.example>',
    {
      committer: github,
    },
  );
  // A direct commit on main, no pull request.
  const direct = repo.commit(alice, '2026-03-11T08:00:00Z', 'Bump version');
  return { initial, approved, unapproved, selfApproved, reviewed, squash, direct };
}

test('git: commits, merges, approval trailers and signatures become Code Change events the approval check judges', async (t) => {
  const repo = repository(t);
  const history = buildHistory(repo);
  const { database, secrets, slug } = await setup(t);

  const view = await addConnector(database, secrets, actor, slug, {
    kind: 'git',
    name: 'payments-api',
    settings: { path: repo.path },
  });
  // Branch and repository name come from the repository itself.
  assert.deepEqual(view.settings, { path: repo.path, branch: 'main', repository: 'acme/payments-api' });
  assert.equal(view.hasCredentials, false);

  const first = await runConnector(database, secrets, actor, slug, 'payments-api');
  assert.deepEqual(
    { ...first.pulled },
    {
      repository: 'acme/payments-api',
      branch: 'main',
      from: null,
      to: history.direct,
      rewritten: 'no',
      commits: 7,
      merges: 4,
      pullRequests: 5,
      approvals: 3,
      unsigned: 7,
    },
  );
  const events = await storedEvents(database, slug);
  // 7 first-parent commits + 3 approvals; the feature branches' own commits are not on main's line.
  assert.equal(events.length, 10);
  assert.equal(first.eventsStored, 10);
  const byKey = new Map(events.map((e) => [e.source_key, e]));

  const merge12 = byKey.get(`acme/payments-api@${history.approved}`)!;
  assert.equal(merge12.action, 'git.merge');
  assert.equal(merge12.activity_id, 2);
  assert.equal(merge12.repository, 'acme/payments-api');
  assert.equal(merge12.time.toISOString(), '2026-03-03T11:00:00.000Z');
  assert.equal(merge12.data.branch, 'main');
  assert.equal(merge12.data.code.change, 'pull_request_merged');
  assert.equal(merge12.data.code.pullRequest, 12);
  assert.equal(merge12.data.code.parents?.length, 2);
  assert.equal(merge12.data.code.parents?.[0], history.initial);
  assert.equal(merge12.data.code.mergedBy, 'alice@acme.example');
  assert.equal(merge12.data.actor?.userName, 'alice@acme.example', 'the merger');
  assert.equal(merge12.data.target?.userName, 'bob@acme.example', "the change's author, lower-cased");
  assert.deepEqual(merge12.data.code.coAuthors, ['erin@acme.example']);
  assert.equal(merge12.data.code.signature, 'none');

  const approval12 = byKey.get(`acme/payments-api@${history.approved}/review/carol@acme.example`)!;
  assert.equal(approval12.data.code.change, 'review_submitted');
  assert.equal(approval12.data.code.reviewState, 'approved');
  assert.equal(approval12.data.code.pullRequest, 12);
  assert.equal(approval12.data.actor?.userName, 'carol@acme.example');
  assert.equal(approval12.data.actor?.displayName, 'Carol Chen');

  const squash = byKey.get(`acme/payments-api@${history.squash}`)!;
  assert.equal(squash.action, 'git.squash_merge');
  assert.equal(squash.data.code.pullRequest, 15);
  assert.equal(
    squash.data.actor?.type,
    'system',
    "GitHub's web-flow committer is the platform, not a person",
  );
  assert.equal(squash.data.target?.userName, 'erin@acme.example');

  const direct = byKey.get(`acme/payments-api@${history.direct}`)!;
  assert.equal(direct.action, 'git.commit');
  assert.equal(direct.data.code.change, 'push');
  assert.equal(direct.data.code.bypass, false);
  assert.equal((direct.raw as { message: string }).message, 'Bump version');

  // The change-management check: #13 unapproved, #14 approved only by its author, #15 unapproved.
  const checks = await runChecks(database, actor, slug, {
    asOf: new Date('2026-03-20T00:00:00Z'),
    checkIds: ['change.independent_approval'],
  });
  assert.equal(checks.failures, 1);
  const findings = await listWorkspaceFindings(database, slug, { status: 'open' });
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.check_id, 'change.independent_approval');
  assert.deepEqual(findings[0]!.subject, {
    type: 'repository',
    id: 'acme/payments-api',
    name: 'acme/payments-api',
  });
  assert.match(
    findings[0]!.detail,
    /^3 of 5 merged pull requests had no independent approval \(#13, #14, #15\)$/,
  );

  // A re-run adds nothing.
  const again = await runConnector(database, secrets, actor, slug, 'payments-api');
  assert.equal(again.eventsStored, 0);
  assert.equal(again.pulled.commits, 0);
  assert.equal((await storedEvents(database, slug)).length, 10);

  // New work: only what came after the last pull is read.
  repo.branch('disputes');
  repo.commit(bob, '2026-03-12T10:00:00Z', 'Disputes');
  const merge17 = repo.merge(
    'disputes',
    alice,
    '2026-03-13T11:00:00Z',
    'Merge pull request #17 from acme/disputes\n\nDisputes\n\nApproved-by: Carol Chen <carol@acme.example>\nApproved-by: carol@acme.example',
  );
  const third = await runConnector(database, secrets, actor, slug, 'payments-api');
  assert.equal(third.pulled.from, history.direct);
  assert.equal(third.pulled.to, merge17);
  assert.equal(third.pulled.commits, 1);
  assert.equal(third.pulled.approvals, 1, 'the same approver named twice approves once');
  assert.equal(third.eventsStored, 2);
  const [connector] = await listConnectors(database, slug);
  assert.deepEqual(connector!.cursor, { commit: merge17, branch: 'main' });
  const rerun = await runChecks(database, actor, slug, {
    asOf: new Date('2026-03-20T00:00:00Z'),
    checkIds: ['change.independent_approval'],
  });
  assert.equal(rerun.failures, 1);
  const [still] = await listWorkspaceFindings(database, slug, { status: 'open' });
  assert.match(still!.detail, /^3 of 6 merged pull requests/);
});

test('git: a rewritten branch (force push) is recorded as a protection bypass that the check flags', async (t) => {
  const repo = repository(t);
  const history = buildHistory(repo);
  const { database, secrets, slug } = await setup(t);
  await addConnector(database, secrets, actor, slug, {
    kind: 'git',
    name: 'payments-api',
    settings: { path: repo.path, branch: 'main', repository: 'acme/payments-api' },
  });
  await runConnector(database, secrets, actor, slug, 'payments-api', {
    now: new Date('2026-03-11T12:00:00Z'),
  });
  // Drop the last two commits and commit something else in their place.
  repo.run(['reset', '-q', '--hard', history.reviewed]);
  const replacement = repo.commit(alice, '2026-03-12T09:00:00Z', 'Different rounding fix');
  const pull = await runConnector(database, secrets, actor, slug, 'payments-api', {
    now: new Date('2026-03-12T10:00:00Z'),
  });
  assert.equal(pull.pulled.rewritten, 'yes');
  assert.equal(pull.pulled.commits, 1);
  const events = await storedEvents(database, slug, pull.batchId);
  assert.deepEqual(
    events.map((e) => e.action),
    ['git.commit', 'git.history_rewritten'],
  );
  const rewrite = events.find((e) => e.action === 'git.history_rewritten')!;
  assert.equal(rewrite.data.code.bypass, true);
  assert.equal(rewrite.data.code.forcePush, true);
  assert.equal(rewrite.time.toISOString(), '2026-03-12T10:00:00.000Z');
  assert.equal(events[0]!.data.code.commit, replacement);

  await runChecks(database, actor, slug, {
    asOf: new Date('2026-03-20T00:00:00Z'),
    checkIds: ['change.direct_push_protected_branch'],
  });
  const findings = await listWorkspaceFindings(database, slug, { status: 'open' });
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.check_id, 'change.direct_push_protected_branch');
  assert.match(findings[0]!.detail, /1 changes bypassed protection/);
});

test('git: signatures are reported as git verifies them', async (t) => {
  const repo = repository(t);
  const keyDir = mkdtempSync(join(tmpdir(), 'assay-git-key-'));
  t.after(() => rmSync(keyDir, { recursive: true, force: true }));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice', '-f', join(keyDir, 'key')]);
  } catch (error) {
    throw new Error(
      `ssh-keygen (package openssh-client) is needed to sign a test commit: ${(error as Error).message}`,
    );
  }
  const publicKey = execFileSync('cat', [join(keyDir, 'key.pub')], { encoding: 'utf8' }).trim();
  writeFileSync(join(keyDir, 'allowed'), `${alice.email} namespaces="git" ${publicKey}\n`);
  repo.run(['config', 'gpg.format', 'ssh']);
  repo.run(['config', 'user.signingkey', join(keyDir, 'key.pub')]);
  repo.run(['config', 'gpg.ssh.allowedSignersFile', join(keyDir, 'allowed')]);
  const signed = repo.commit(alice, '2026-04-01T09:00:00Z', 'Signed change', { sign: true });
  const unsigned = repo.commit(alice, '2026-04-02T09:00:00Z', 'Unsigned change');
  const { database, secrets, slug } = await setup(t);
  await addConnector(database, secrets, actor, slug, {
    kind: 'git',
    name: 'signed',
    settings: { path: repo.path },
  });
  const pull = await runConnector(database, secrets, actor, slug, 'signed');
  assert.equal(pull.pulled.unsigned, 1);
  const events = new Map((await storedEvents(database, slug)).map((e) => [e.data.code.commit, e]));
  assert.equal(events.get(signed)!.data.code.signature, 'good');
  assert.equal(events.get(unsigned)!.data.code.signature, 'none');
  assert.match(JSON.stringify(events.get(signed)!.raw), /"status":"G"/);
});

test('git: settings are checked against the repository when the connector is added', async (t) => {
  const repo = repository(t);
  repo.commit(alice, '2026-03-01T09:00:00Z', 'Initial');
  const { database, secrets, slug } = await setup(t);
  const add = (settings: Record<string, unknown>) =>
    addConnector(database, secrets, actor, slug, { kind: 'git', name: 'repo', settings });
  await assert.rejects(add({ path: join(repo.dir, 'missing') }), /is not a directory/);
  await assert.rejects(add({ path: repo.dir }), /is not a git repository/);
  await assert.rejects(add({ path: repo.path, branch: 'release' }), /has no branch "release"/);
  await assert.rejects(add({ path: repo.path, branch: '--upload-pack=x' }), /is not a branch name/);
  await assert.rejects(add({ path: repo.path, token: 'x' }), /unknown connector setting "token"/);
  await assert.rejects(
    addConnector(database, secrets, actor, slug, {
      kind: 'git',
      name: 'repo',
      settings: { path: repo.path },
      credentials: { password: 'x' },
    }),
    /takes no credential "password"/,
  );
  await assert.rejects(
    addConnector(database, secrets, actor, slug, { kind: 'svn', name: 'repo', settings: {} }),
    /unknown connector kind "svn"/,
  );
  await addConnector(database, secrets, actor, slug, {
    kind: 'git',
    name: 'repo',
    settings: { path: repo.path },
  });
  await assert.rejects(
    add({ path: repo.path }),
    (e: Error & { code?: string }) => e.code === 'connector_exists',
  );
  // A repository that disappears fails the pull with git's reason and keeps the cursor.
  rmSync(repo.path, { recursive: true, force: true });
  await assert.rejects(runConnector(database, secrets, actor, slug, 'repo'), /is not a directory/);
  const [connector] = await listConnectors(database, slug);
  assert.equal(connector!.lastStatus, 'failed');
  assert.equal(connector!.cursor, null);
});

test('git message conventions: pull request numbers, trailers and people', () => {
  assert.equal(pullRequestNumber('Merge pull request #12 from acme/x\n\nTitle', true), 12);
  assert.equal(pullRequestNumber('Merged in feature/x (pull request #7)\n\nApproved-by: A', true), 7);
  assert.equal(pullRequestNumber('Merged PR 42: Add thing', true), 42);
  assert.equal(pullRequestNumber("Merge branch 'x' into 'main'\n\nSee merge request acme/api!9", true), 9);
  assert.equal(pullRequestNumber("Merge branch 'feature'", true), undefined);
  assert.equal(pullRequestNumber('Fix rounding (#15)', false), 15);
  assert.equal(pullRequestNumber('Fix rounding (#15) again', false), undefined);
  assert.equal(pullRequestNumber('Merge pull request #12 from acme/x', false), undefined);
  assert.deepEqual(parseTrailers('Approved-by: A <a@x.io>\nCo-authored-by: B <b@x.io>\n'), [
    { key: 'Approved-by', value: 'A <a@x.io>' },
    { key: 'Co-authored-by', value: 'B <b@x.io>' },
  ]);
  assert.deepEqual(parsePerson('"Jane Doe" <jane@x.io>'), { name: 'Jane Doe', email: 'jane@x.io' });
  assert.deepEqual(parsePerson('jane@x.io'), { name: '', email: 'jane@x.io' });
  assert.equal(parsePerson('Jane Doe'), undefined);
});
