import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ImportRecord } from '../../domains/events/event.model.ts';
import {
  assertOnlyImportRejected,
  assertValidRecords,
  chunks,
  collect,
  collectFile,
  countByType,
  events,
  generated,
  gzip,
  MiB,
  mutate,
  NORTHWIND,
  readText,
  rejectionOf,
  rejections,
  SAMPLES,
  streamingFootprint,
} from '../shared/testing.ts';
import { normalizeGitHubWebhook, parseGitHubAuditLog } from './github-audit-log.parser.ts';

const FILE = `${SAMPLES}/github_audit_log/panther_github_audit_rule_tests.jsonl`;

describe('github-audit-log importer: samples', () => {
  it('reads the Panther rule tests: 61 events; 30 without a usable time rejected', async () => {
    const records = await collectFile(parseGitHubAuditLog, FILE);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 61, entitlement: 6, rejected: 30 });
    const rejected = rejections(records);
    // 26 carry no time at all; 4 carry Panther's malformed "2024-12-17 00:00:00000000"
    assert.equal(rejected.filter((record) => record.field === '@timestamp').length, 26);
    assert.deepEqual(
      rejected.filter((record) => record.field === 'created_at').map((record) => record.position.line),
      [48, 49, 51, 52],
    );
    const all = events(records);
    // Panther renamed @timestamp to at_sign_timestamp: understood
    const moderator = all.find((event) => event.action === 'organization_moderators.add_user');
    assert.equal(moderator?.time, '2022-12-11T05:17:28.078Z');

    const override = all.find((event) => event.action === 'protected_branch.policy_override');
    assert.equal(override?.classUid, 990002);
    assert.equal(override?.repository, 'my-org/my-repo');
    assert.equal(override?.branch, 'main');
    assert.equal(override?.code?.bypass, true);
    assert.equal(override?.code?.change, 'protection_bypass');

    const destroyed = all.find((event) => event.action === 'protected_branch.destroy');
    assert.deepEqual(
      [destroyed?.code?.change, destroyed?.code?.protectionRelaxed, destroyed?.code?.bypass],
      ['protection_removed', true, false],
    );
    const twoFactor = all.find((event) => event.action === 'org.disable_two_factor_requirement');
    assert.deepEqual(twoFactor?.securitySetting, {
      name: 'two_factor_requirement',
      enabled: false,
      scope: 'organization',
      subject: 'my-org',
    });
    const secretScanning = all.find((event) => event.action === 'secret_scanning.disable');
    assert.deepEqual(secretScanning?.securitySetting?.enabled, false);
    const saml = all.find((event) => event.action === 'org.saml_disabled');
    assert.deepEqual([saml?.securitySetting?.name, saml?.securitySetting?.scope], ['saml', 'organization']);
    // repo.disable archives a repository; it is not a security setting
    assert.equal(all.find((event) => event.action === 'repo.disable')?.securitySetting, undefined);

    const removed = all.find((event) => event.action === 'org.remove_member');
    assert.deepEqual([removed?.accountStatus, removed?.target?.userName], ['deprovisioned', 'bob']);
    const bot = all.find((event) => event.actor?.userName === 'secret-scanning[bot]');
    assert.equal(bot?.actor?.type, 'service');
    const push = all.filter((event) => event.action === 'git.push');
    assert.ok(push.every((event) => event.code?.change === 'push' && event.code.bypass === false));
  });

  it('reads the Northwind log: a protection bypass on payments-api, protection removed on infra, 2FA requirement off', async () => {
    const records = await collectFile(parseGitHubAuditLog, `${NORTHWIND}/github_audit_log.jsonl`);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 28 });
    const all = events(records);
    assert.equal(all.filter((event) => event.code?.change === 'push').length, 24);
    const bypasses = all.filter((event) => event.code?.bypass);
    assert.deepEqual(
      bypasses.map((event) => [event.repository, event.branch, event.actor?.userName, event.time]),
      [['northwind/payments-api', 'main', 'yduarte', '2026-10-28T00:00:00.000Z']],
    );
    const relaxed = all.filter((event) => event.code?.protectionRelaxed);
    assert.deepEqual(
      relaxed.map((event) => [event.repository, event.branch, event.code?.change]),
      [['northwind/infra', 'main', 'protection_removed']],
    );
    const settings = all.filter((event) => event.securitySetting);
    assert.deepEqual(
      settings.map((event) => event.securitySetting),
      [{ name: 'two_factor_requirement', enabled: false, scope: 'organization', subject: 'northwind' }],
    );
    assert.ok(
      all.every((event) => event.system === 'github:northwind' && event.organization === 'northwind'),
    );
    // northwind/web is protected and only receives ordinary pushes
    assert.ok(
      all.filter((event) => event.repository === 'northwind/web').every((event) => !event.code?.bypass),
    );
  });
});

describe('github-audit-log importer: webhooks', () => {
  const hook = (name: string) =>
    JSON.parse(readFileSync(`${SAMPLES}/github_webhooks/${name}`, 'utf8')) as unknown;
  const position = { file: 'webhook' };
  const only = (records: ImportRecord[]) => {
    assertValidRecords(records);
    return events(records)[0];
  };

  it('a push to a new branch is a push, not a bypass', () => {
    const event = only(
      normalizeGitHubWebhook('push', hook('octokit_push.with-new-branch.payload.json'), { position }),
    );
    assert.deepEqual(
      [
        event?.classUid,
        event?.repository,
        event?.branch,
        event?.code?.bypass,
        event?.code?.commitCount,
        event?.time,
      ],
      [990002, 'Codertocat/Hello-World', 'master', false, 1, '2019-05-15T15:19:25.000Z'],
    );
  });

  it('a forced push is a bypass', () => {
    const payload = hook('octokit_push.with-new-branch.payload.json') as Record<string, unknown>;
    const event = only(
      normalizeGitHubWebhook('push', { ...payload, forced: true }, { position, deliveryId: 'd-1' }),
    );
    assert.deepEqual([event?.code?.bypass, event?.code?.forcePush, event?.sourceKey], [true, true, 'd-1']);
  });

  it('a pull request closed without merging is not a merge; a review is recorded with its state', () => {
    const closed = only(
      normalizeGitHubWebhook(
        'pull_request',
        hook('octokit_pull_request.closed.with-organization.payload.json'),
        { position },
      ),
    );
    assert.deepEqual(
      [closed?.code?.change, closed?.code?.pullRequest, closed?.branch],
      ['pull_request_closed', 2, 'master'],
    );
    const review = only(
      normalizeGitHubWebhook(
        'pull_request_review',
        hook('octokit_pull_request_review.submitted.with-organization.payload.json'),
        { position },
      ),
    );
    assert.deepEqual([review?.code?.change, review?.code?.reviewState], ['review_submitted', 'commented']);
  });

  it('organization member events change membership, dated by the delivery', () => {
    const receivedAt = '2026-01-01T00:00:00Z';
    const added = normalizeGitHubWebhook(
      'organization',
      hook('octokit_organization.member_added.payload.json'),
      {
        position,
        receivedAt,
      },
    );
    assert.deepEqual(countByType(added), { event: 1, entitlement: 1 });
    assert.deepEqual(
      [events(added)[0]?.accountStatus, events(added)[0]?.target?.userName],
      ['active', 'hacktocat'],
    );
    const removed = normalizeGitHubWebhook(
      'organization',
      hook('octokit_ghes-35_organization.member_removed.json'),
      {
        position,
        receivedAt,
      },
    );
    assert.equal(events(removed)[0]?.accountStatus, 'deprovisioned');
    assert.throws(
      () =>
        normalizeGitHubWebhook('organization', hook('octokit_organization.member_added.payload.json'), {
          position,
        }),
      /no receivedAt/,
    );
  });

  it('a branch protection rule edit that lowers required reviews is a weakening', () => {
    const event = only(
      normalizeGitHubWebhook(
        'branch_protection_rule',
        hook('octokit_branch_protection_rule.edited.payload.json'),
        {
          position,
        },
      ),
    );
    assert.deepEqual(
      [event?.code?.change, event?.code?.protectionRelaxed, event?.branch, event?.repository],
      ['protection_updated', true, 'production', 'octo-org/octo-repo'],
    );
  });
});

const GOOD =
  '{"@timestamp": 1768780800000, "_document_id": "d1", "action": "git.push", "actor": "x", "org": "o", "repo": "o/r"}';

describe('github-audit-log importer: malformed input', () => {
  it('rejects a truncated line and reads on', async () => {
    const records = await collect(parseGitHubAuditLog, chunks(`${GOOD}\n${GOOD.slice(0, 30)}\n${GOOD}\n`), {
      onError: 'collect',
    });
    assert.deepEqual(countByType(records), { event: 2, rejected: 1 });
  });

  it('rejects a bad timestamp and a missing action', async () => {
    const bad = GOOD.replace('1768780800000', '"soon"');
    const { message } = await rejectionOf(parseGitHubAuditLog, chunks(`${GOOD}\n${bad}`), {
      fileName: 'audit.jsonl',
    });
    assert.equal(
      message,
      'audit.jsonl line 2: field "@timestamp": not an epoch-milliseconds time or ISO date-time: "soon"',
    );
    const noAction = GOOD.replace('"action": "git.push", ', '');
    assert.equal((await rejectionOf(parseGitHubAuditLog, chunks(noAction))).details.field, 'action');
  });

  it('rejects a webhook payload given as an audit log', async () => {
    const payload = readText(`${SAMPLES}/github_webhooks/octokit_push.with-new-branch.payload.json`);
    const { details } = await rejectionOf(parseGitHubAuditLog, chunks(payload, 512));
    assert.equal(details.field, 'action');
  });

  it('rejects binary garbage and accepts gzip; a corrupt gzip is rejected', async () => {
    assert.match(
      (await rejectionOf(parseGitHubAuditLog, chunks(Buffer.from([0xde, 0xad, 0xbe, 0xef])))).message,
      /^input line 1/,
    );
    const text = readText(`${NORTHWIND}/github_audit_log.jsonl`);
    assert.deepEqual(
      await collect(parseGitHubAuditLog, chunks(gzip(text), 64)),
      await collect(parseGitHubAuditLog, chunks(text)),
    );
    const corrupt = gzip(text);
    corrupt.fill(0x55, 30, 90);
    assert.match(
      (await rejectionOf(parseGitHubAuditLog, chunks(corrupt, 64))).message,
      /gzip data is corrupt/,
    );
  });
});

describe('github-audit-log importer: fuzzing', () => {
  it('arbitrary bytes never raise anything but import_rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), (bytes) =>
        assertOnlyImportRejected(parseGitHubAuditLog, bytes),
      ),
      { numRuns: 150 },
    );
  });

  it('mutated sample lines never raise anything but import_rejected', async () => {
    const lines = readText(FILE).split('\n').filter(Boolean);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: lines.length - 1 }),
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 12 }),
        fc.nat(),
        async (line, at, length, insert, how) => {
          await assertOnlyImportRejected(
            parseGitHubAuditLog,
            Buffer.from(mutate(lines[line] ?? '', at, length, insert, how)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('github-audit-log importer: streaming', () => {
  it('parses ~50 MB of JSON lines with flat memory', async () => {
    const template = readText(`${NORTHWIND}/github_audit_log.jsonl`).split('\n')[1] ?? '';
    const { growth, counts, bytes } = await streamingFootprint(parseGitHubAuditLog, () =>
      generated(50 * MiB, (index) => template.replace('TzPkqiU9NK2HExohQ', `doc-${index}`)),
    );
    assert.ok(bytes >= 50 * MiB);
    assert.ok((counts.event ?? 0) > 100_000, JSON.stringify(counts));
    assert.equal(counts.rejected, undefined);
    assert.ok(growth < 100 * MiB, `retained memory grew by ${Math.round(growth / MiB)} MiB`);
  });
});
