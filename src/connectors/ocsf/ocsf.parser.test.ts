import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  assertOnlyImportRejected,
  assertValidRecords,
  chunks,
  collect,
  countByType,
  events,
  generated,
  gzip,
  MiB,
  mutate,
  rejectionOf,
  rejections,
  streamingFootprint,
} from '../shared/testing.ts';
import { parseOcsf } from './ocsf.parser.ts';

// OCSF 1.1 events shaped as Amazon Security Lake writes them (no public sample file exists).
const LOGON = {
  class_uid: 3002,
  class_name: 'Authentication',
  category_uid: 3,
  category_name: 'Identity & Access Management',
  activity_id: 1,
  activity_name: 'Logon',
  type_uid: 300201,
  time: 1762300800000,
  status_id: 1,
  status: 'Success',
  is_mfa: false,
  severity_id: 1,
  metadata: { uid: 'evt-1', version: '1.1.0', product: { name: 'Okta Workforce', vendor_name: 'Okta' } },
  user: { uid: '00u1', name: 'kim@example.com', type_id: 1 },
  src_endpoint: { ip: '198.51.100.9' },
  http_request: { user_agent: 'Mozilla/5.0' },
};

const GRANT = {
  class_uid: 3005,
  activity_id: 1,
  time: 1762304400000,
  status_id: 1,
  metadata: { uid: 'evt-2', product: { name: 'AWS IAM' } },
  actor: { user: { uid: 'AIDA1', name: 'ops@example.com' } },
  user: { uid: 'AIDA2', name: 'lee@example.com', email_addr: 'Lee@Example.com' },
  privileges: ['AdministratorAccess', 'ReadOnlyAccess'],
};

const lines = (...values: unknown[]) => values.map((value) => JSON.stringify(value)).join('\n');

describe('ocsf importer: events', () => {
  it('keeps the OCSF class and activity and maps user, outcome and MFA', async () => {
    const records = await collect(parseOcsf, chunks(lines(LOGON, GRANT)));
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 2, entitlement: 2 });
    const [logon, grant] = events(records);
    assert.deepEqual(
      [logon?.classUid, logon?.activityId, logon?.typeUid, logon?.className, logon?.activityName],
      [3002, 1, 300201, 'Authentication', 'Logon'],
    );
    assert.deepEqual(
      [logon?.sourceKey, logon?.system, logon?.time, logon?.outcome, logon?.mfa],
      ['evt-1', 'okta-workforce', '2025-11-05T00:00:00.000Z', 'success', false],
    );
    assert.deepEqual(
      [logon?.target?.email, logon?.srcIp, logon?.userAgent],
      ['kim@example.com', '198.51.100.9', 'Mozilla/5.0'],
    );

    assert.deepEqual(
      [grant?.className, grant?.activityName, grant?.categoryUid],
      ['User Access Management', 'Assign Privileges', 3],
    );
    assert.deepEqual(grant?.privilege, {
      granted: true,
      kind: 'permission',
      name: 'AdministratorAccess, ReadOnlyAccess',
      names: ['AdministratorAccess', 'ReadOnlyAccess'],
      privileged: true,
    });
    const entitlements = records.flatMap((record) =>
      record.type === 'entitlement' ? [record.entitlement] : [],
    );
    assert.deepEqual(
      entitlements.map((entitlement) => [
        entitlement.identity.email,
        entitlement.name,
        entitlement.privileged,
      ]),
      [
        ['lee@example.com', 'AdministratorAccess', true],
        ['lee@example.com', 'ReadOnlyAccess', false],
      ],
    );
  });

  it('accepts a JSON array and time_dt; an unknown class keeps its numbers', async () => {
    const other = { class_uid: 4001, activity_id: 6, time_dt: '2026-01-01T00:00:00Z' };
    const [event] = events(await collect(parseOcsf, chunks(JSON.stringify([other]))));
    assert.deepEqual(
      [event?.className, event?.activityName, event?.categoryUid, event?.typeUid, event?.outcome],
      ['OCSF class 4001', 'Activity 6', 4, 400106, 'unknown'],
    );
    assert.match(event?.sourceKey ?? '', /^sha256:/);
  });
});

describe('ocsf importer: malformed input', () => {
  it('rejects a missing class_uid, a non-integer activity_id and a bad time, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ ...LOGON, class_uid: undefined }, 'class_uid'],
      [{ ...LOGON, activity_id: '1' }, 'activity_id'],
      [{ ...LOGON, time: 'now' }, 'time'],
      [{ ...LOGON, time: undefined }, 'time'],
    ];
    for (const [event, field] of cases) {
      const { details, message } = await rejectionOf(parseOcsf, chunks(lines(LOGON, event)), {
        fileName: 'lake.jsonl',
      });
      assert.equal(details.field, field, message);
      assert.ok(message.startsWith(`lake.jsonl line 2: field "${field}"`), message);
    }
  });

  it('collects each bad line and reads on', async () => {
    const text = `${lines(LOGON)}\n{"class_uid": 3002,\n"a string"\n${lines(GRANT)}\n`;
    const records = await collect(parseOcsf, chunks(text), { onError: 'collect' });
    assert.deepEqual(countByType(records), { event: 2, rejected: 2, entitlement: 2 });
    assert.deepEqual(
      rejections(records).map((record) => record.position.line),
      [2, 3],
    );
  });

  it('rejects binary garbage; reads gzip; rejects a corrupt gzip', async () => {
    assert.match(
      (await rejectionOf(parseOcsf, chunks(Buffer.from([0x00, 0x00, 0x01, 0x00])))).message,
      /^input line 1/,
    );
    const text = lines(LOGON, GRANT);
    assert.deepEqual(
      await collect(parseOcsf, chunks(gzip(text), 10)),
      await collect(parseOcsf, chunks(text, 10)),
    );
    const corrupt = gzip(text).subarray(0, 40);
    assert.match(
      (await rejectionOf(parseOcsf, chunks(corrupt, 10))).message,
      /gzip data is corrupt or truncated/,
    );
  });
});

describe('ocsf importer: fuzzing', () => {
  it('arbitrary bytes never raise anything but import_rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), (bytes) =>
        assertOnlyImportRejected(parseOcsf, bytes),
      ),
      { numRuns: 150 },
    );
  });

  it('mutated events never raise anything but import_rejected', async () => {
    const text = lines(LOGON, GRANT);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 12 }),
        fc.nat(),
        async (at, length, insert, how) => {
          await assertOnlyImportRejected(parseOcsf, Buffer.from(mutate(text, at, length, insert, how)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ocsf importer: streaming', () => {
  it('parses ~50 MB of JSON lines with flat memory', async () => {
    const template = JSON.stringify(LOGON);
    const { growth, counts, bytes } = await streamingFootprint(parseOcsf, () =>
      generated(50 * MiB, (index) => template.replace('"evt-1"', `"evt-${index}"`)),
    );
    assert.ok(bytes >= 50 * MiB);
    assert.ok((counts.event ?? 0) > 100_000, JSON.stringify(counts));
    assert.equal(counts.rejected, undefined);
    assert.ok(growth < 100 * MiB, `retained memory grew by ${Math.round(growth / MiB)} MiB`);
  });
});
