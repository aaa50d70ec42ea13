import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
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
import { parseOktaSystemLog } from './okta-system-log.parser.ts';

const DIR = `${SAMPLES}/okta_system_log`;

describe('okta-system-log importer: samples', () => {
  it('reads the 20 Panther scenario events: 18 sign-ins (11 failed), a privilege grant, a user creation', async () => {
    const records = await collectFile(parseOktaSystemLog, `${DIR}/panther_test_scenarios_okta.jsonl`);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 20, entitlement: 2 });
    const all = events(records);
    const signIns = all.filter((event) => event.action === 'user.session.start');
    assert.equal(signIns.length, 18);
    assert.equal(signIns.filter((event) => event.outcome === 'failure').length, 11);
    assert.equal(signIns.filter((event) => event.outcome === 'success').length, 7);
    assert.ok(signIns.every((event) => event.classUid === 3002 && event.activityId === 1));
    const failed = signIns.find((event) => event.actor?.userName === 'tracey_stone@acme.io');
    assert.ok(failed);
    assert.equal(failed.outcomeReason, 'VERIFICATION_ERROR');
    // "unknown" is Okta's placeholder, not an id
    assert.equal(failed.actor?.externalId, undefined);
    assert.equal(failed.actor?.email, 'tracey_stone@acme.io');

    const grant = all.find((event) => event.action === 'user.account.privilege.grant');
    assert.equal(grant?.classUid, 3005);
    assert.deepEqual(grant?.privilege, {
      granted: true,
      kind: 'role',
      name: 'Organization administrator, Application administrator (all)',
      names: ['Organization administrator', 'Application administrator (all)'],
      privileged: true,
    });
    const entitlements = records.flatMap((record) =>
      record.type === 'entitlement' ? [record.entitlement] : [],
    );
    assert.deepEqual(
      entitlements.map((entitlement) => [
        entitlement.name,
        entitlement.privileged,
        entitlement.identity.externalId,
      ]),
      [
        ['Organization administrator', true, grant?.target?.externalId],
        ['Application administrator (all)', true, grant?.target?.externalId],
      ],
    );
    const created = all.find((event) => event.action === 'user.lifecycle.create');
    assert.equal(created?.classUid, 3001);
    assert.equal(created?.activityName, 'Create');
  });

  it('reads the Panther rule tests: 16 events, 14 records rejected for a missing or non-ISO "published"', async () => {
    const records = await collectFile(parseOktaSystemLog, `${DIR}/panther_okta_rule_tests.jsonl`);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 16, rejected: 14, entitlement: 4 });
    const rejected = rejections(records);
    assert.deepEqual(
      rejected.map((record) => record.position.line),
      [3, 4, 5, 6, 7, 8, 9, 10, 24, 25, 26, 27, 28, 30],
    );
    assert.ok(rejected.every((record) => record.field === 'published'));
    assert.equal(
      rejected[8]?.message,
      'panther_okta_rule_tests.jsonl line 24: field "published": not an ISO date-time: "redacted"',
    );
    // Panther's "2022-03-22 14:21:53.225" is read as UTC
    const first = events(records)[0];
    assert.equal(first?.time, '2022-03-22T14:21:53.225Z');
    // events without a uuid get a content hash as their key
    assert.match(first?.sourceKey ?? '', /^sha256:[0-9a-f]{64}$/);

    // An Identity Engine sign-in with the Password authenticator only: no MFA.
    const passwordOnly = events(records).find(
      (event) => event.sourceKey === 'aac560bd-f125-11ee-9caa-cd5d09945def',
    );
    assert.equal(passwordOnly?.mfa, false);
    assert.equal(passwordOnly?.outcome, 'success');
    assert.equal(passwordOnly?.target?.email, 'casey.hill@hey.com');

    const factorRemoved = events(records).find((event) => event.action === 'system.mfa.factor.deactivate');
    assert.equal(factorRemoved?.activityName, 'MFA Factor Disable');
    const impersonation = events(records).find(
      (event) => event.action === 'user.session.impersonation.grant',
    );
    assert.equal(impersonation?.privilege?.privileged, true);
  });

  it('fails at the first bad record in fail mode, naming file, line and field', async () => {
    const { message, details } = await rejectionOf(
      parseOktaSystemLog,
      chunks(readText(`${DIR}/panther_okta_rule_tests.jsonl`), 4096),
      { fileName: 'panther_okta_rule_tests.jsonl' },
    );
    assert.equal(message, 'panther_okta_rule_tests.jsonl line 3: field "published": required but missing');
    assert.equal(details.line, 3);
    assert.equal(details.field, 'published');
    assert.equal(typeof details.byteOffset, 'number');
  });

  it('reads the developer-docs LogEvents, including a deactivation with its target user', async () => {
    const records = await collectFile(parseOktaSystemLog, `${DIR}/okta_devdocs_log_events.jsonl`);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 5 });
    const [deactivate, ...rest] = events(records);
    assert.equal(deactivate?.action, 'user.lifecycle.deactivate');
    assert.equal(deactivate?.activityName, 'Disable');
    assert.equal(deactivate?.accountStatus, 'deprovisioned');
    assert.equal(deactivate?.target?.externalId, '00u3m90rxKjGQ0G6L1d6');
    assert.equal(rest.filter((event) => event.action === 'system.operation.rate_limit.violation').length, 3);
    assert.equal(
      rest.find((event) => event.action === 'system.operation.rate_limit.violation')?.outcome,
      'failure',
    );
  });

  it('unwraps an event hook envelope', async () => {
    const records = await collectFile(
      parseOktaSystemLog,
      `${DIR}/okta_devdocs_event_hook_user_session_start.json`,
    );
    assertValidRecords(records);
    const [event] = events(records);
    assert.equal(records.length, 1);
    assert.equal(event?.sourceKey, 'f1d0b993-cc19-11ed-a688-db22c99ef6c4');
    assert.equal(event?.time, '2023-03-26T21:05:32.159Z');
    assert.equal(event?.actor?.email, 'admin@okta.com');
    assert.equal(event?.mfa, false);
    assert.equal(records[0]?.position.line, 9);
  });

  it('reads the Northwind log: 298 events, the Super administrator grant and the leavers', async () => {
    const records = await collectFile(parseOktaSystemLog, `${NORTHWIND}/okta_system_log.jsonl`);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 298, entitlement: 1 });
    const all = events(records);
    assert.equal(all.filter((event) => event.classUid === 3002).length, 279);
    assert.equal(new Set(all.map((event) => event.sourceKey)).size, 298);
    const [entitlement] = records.flatMap((record) =>
      record.type === 'entitlement' ? [record.entitlement] : [],
    );
    assert.deepEqual(
      { ...entitlement, eventSourceKey: undefined },
      {
        source: 'okta-system-log',
        system: 'okta',
        identity: {
          type: 'user',
          system: 'okta',
          externalId: '00uLnHFqDgT5SCTGK69A',
          userName: 'ava.adler@northwind.example',
          email: 'ava.adler@northwind.example',
          displayName: 'Ava Adler',
        },
        name: 'Super administrator',
        kind: 'role',
        privileged: true,
        granted: true,
        at: '2026-11-03T00:00:00.000Z',
        eventSourceKey: undefined,
      },
    );
    // Olga Duarte left on 2026-10-26 and still signed in afterwards; her account was never deactivated.
    const olga = all.filter((event) => event.target?.email === 'olga.duarte@northwind.example');
    const lastSignIn = olga
      .filter((event) => event.classUid === 3002 && event.outcome === 'success')
      .map((event) => event.time)
      .sort()
      .at(-1);
    assert.equal(lastSignIn, '2026-10-31T09:00:00.000Z');
    assert.ok(!olga.some((event) => event.accountStatus === 'deprovisioned'));
    const deactivated = all
      .filter((event) => event.accountStatus === 'deprovisioned')
      .map((e) => e.target?.email);
    assert.deepEqual(deactivated, ['esme.quispe@northwind.example', 'farid.fischer@northwind.example']);
    const helpdesk = all.find(
      (event) =>
        event.action === 'user.lifecycle.create' && event.target?.email === 'temp.helpdesk@northwind.example',
    );
    assert.equal(helpdesk?.actor?.email, 'ravi.larsen@northwind.example');
  });
});

const GOOD = JSON.stringify({
  uuid: 'b1',
  published: '2026-01-02T03:04:05.006Z',
  eventType: 'user.session.start',
  actor: { id: '00u1', type: 'User', alternateId: 'a@example.com', displayName: 'A' },
  outcome: { result: 'SUCCESS' },
  authenticationContext: { authenticationProvider: 'FACTOR_PROVIDER' },
});

describe('okta-system-log importer: malformed input', () => {
  it('accepts a JSON array (the /api/v1/logs response) and marks a factor sign-in as MFA', async () => {
    const records = await collect(parseOktaSystemLog, chunks(`[${GOOD},\n${GOOD.replace('b1', 'b2')}]`));
    assert.deepEqual(
      events(records).map((event) => [event.sourceKey, event.mfa]),
      [
        ['b1', true],
        ['b2', true],
      ],
    );
  });

  it('rejects a truncated line and goes on with the next one in collect mode', async () => {
    const input = `${GOOD}\n${GOOD.slice(0, 60)}\n${GOOD.replace('b1', 'b3')}\n`;
    const records = await collect(parseOktaSystemLog, chunks(input), {
      onError: 'collect',
      fileName: 'log.jsonl',
    });
    assert.deepEqual(countByType(records), { event: 2, rejected: 1 });
    assert.equal(rejections(records)[0]?.position.line, 2);
    assert.match(
      rejections(records)[0]?.message ?? '',
      /^log\.jsonl line 2: the line ends before the JSON value is complete/,
    );
  });

  it('rejects a truncated JSON array at the cut-off record', async () => {
    const { message, details } = await rejectionOf(
      parseOktaSystemLog,
      chunks(`[${GOOD},${GOOD.slice(0, 80)}`),
      {
        fileName: 'log.json',
      },
    );
    assert.match(message, /^log\.json line 1: unexpected end of input/);
    assert.equal(details.byteOffset, GOOD.length + 2);
  });

  it('rejects a bad date, naming the field', async () => {
    const bad = GOOD.replace('2026-01-02T03:04:05.006Z', '2026-13-02T03:04:05Z');
    const { message, details } = await rejectionOf(parseOktaSystemLog, chunks(`${GOOD}\n${bad}\n`), {
      fileName: 'okta_system_log.jsonl',
    });
    assert.equal(
      message,
      'okta_system_log.jsonl line 2: field "published": not an ISO date-time: "2026-13-02T03:04:05Z"',
    );
    assert.equal(details.field, 'published');
  });

  it('rejects a missing eventType and a wrongly typed actor', async () => {
    const noType = JSON.stringify({ ...JSON.parse(GOOD), eventType: undefined });
    assert.equal((await rejectionOf(parseOktaSystemLog, chunks(noType))).details.field, 'eventType');
    const badActor = JSON.stringify({ ...JSON.parse(GOOD), actor: { id: 42, alternateId: ['x'] } });
    assert.equal(
      (await rejectionOf(parseOktaSystemLog, chunks(badActor))).details.field,
      'actor.alternateId',
    );
  });

  it('rejects binary garbage with the line it is on', async () => {
    const garbage = Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x0a, 0x89, 0x50, 0x4e, 0x47]);
    const records = await collect(parseOktaSystemLog, chunks(garbage), { onError: 'collect', fileName: 'x' });
    assert.ok(records.length > 0 && records.every((record) => record.type === 'rejected'));
    assert.equal(records[0]?.position.line, 1);
  });

  it('reads a gzipped log the same as the plain one, and rejects a corrupt gzip', async () => {
    const text = readText(`${NORTHWIND}/okta_system_log.jsonl`);
    const plain = await collect(parseOktaSystemLog, chunks(text, 65536));
    const zipped = await collect(parseOktaSystemLog, chunks(gzip(text), 1000));
    assert.deepEqual(zipped, plain);

    const corrupt = gzip(text);
    corrupt.fill(0x41, 200, 260);
    const { message } = await rejectionOf(parseOktaSystemLog, chunks(corrupt, 1000), {
      fileName: 'log.jsonl.gz',
    });
    assert.match(message, /^log\.jsonl\.gz: gzip data is corrupt or truncated/);
    const collected = await collect(parseOktaSystemLog, chunks(corrupt, 1000), {
      onError: 'collect',
      fileName: 'z',
    });
    const last = collected.at(-1);
    assert.equal(last?.type, 'rejected');
    assert.match(
      last?.type === 'rejected' ? last.message : '',
      /^z: gzip data is corrupt.*nothing after this point/,
    );
    const truncated = gzip(text).subarray(0, 5000);
    assert.match(
      (await rejectionOf(parseOktaSystemLog, chunks(truncated, 1000))).message,
      /gzip data is corrupt or truncated/,
    );
  });
});

describe('okta-system-log importer: fuzzing', () => {
  it('arbitrary bytes never raise anything but import_rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), (bytes) =>
        assertOnlyImportRejected(parseOktaSystemLog, bytes),
      ),
      { numRuns: 150 },
    );
  });

  it('mutated sample lines never raise anything but import_rejected', async () => {
    const lines = readText(`${DIR}/panther_okta_rule_tests.jsonl`).split('\n').filter(Boolean);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: lines.length - 1 }),
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 12 }),
        fc.nat(),
        async (line, at, length, insert, how) => {
          const text = mutate(lines[line] ?? '', at, length, insert, how);
          await assertOnlyImportRejected(parseOktaSystemLog, Buffer.from(`${text}\n${lines[0]}`));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('okta-system-log importer: streaming', () => {
  it('parses ~50 MB of JSON lines with flat memory', async () => {
    const template = readText(`${NORTHWIND}/okta_system_log.jsonl`).split('\n')[0] ?? '';
    const { growth, counts, bytes } = await streamingFootprint(parseOktaSystemLog, () =>
      generated(50 * MiB, (index) => template.replace(/"uuid": "[^"]+"/, `"uuid": "u-${index}"`)),
    );
    assert.ok(bytes >= 50 * MiB);
    assert.ok((counts.event ?? 0) > 30_000, JSON.stringify(counts));
    assert.equal(counts.rejected, undefined);
    assert.ok(growth < 100 * MiB, `retained memory grew by ${Math.round(growth / MiB)} MiB`);
  });
});
