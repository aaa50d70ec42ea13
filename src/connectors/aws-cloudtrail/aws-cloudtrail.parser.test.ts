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
import { parseAwsCloudTrail } from './aws-cloudtrail.parser.ts';

const DIR = `${SAMPLES}/aws_cloudtrail`;

function byName(list: ReturnType<typeof events>) {
  const counts: Record<string, number> = {};
  for (const event of list) counts[event.action] = (counts[event.action] ?? 0) + 1;
  return counts;
}

describe('aws-cloudtrail importer: samples', () => {
  it('reads the Panther IAM rule tests: 55 events; 4 without eventTime and a PutUserPolicy without parameters rejected', async () => {
    const records = await collectFile(parseAwsCloudTrail, `${DIR}/panther_cloudtrail_iam_rule_tests.json`);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 55, rejected: 5, entitlement: 5 });
    const rejected = rejections(records);
    assert.deepEqual(
      rejected.map((record) => record.field),
      ['eventTime', 'eventTime', 'eventTime', 'eventTime', 'requestParameters.policyArn'],
    );
    const all = events(records);
    const names = byName(all);
    // 21 ConsoleLogin records, 4 of them without eventTime
    assert.equal(names.ConsoleLogin, 17);
    assert.equal(names.CreateAccessKey, 7);
    assert.equal(names.AttachRolePolicy, 4);
    const logins = all.filter((event) => event.action === 'ConsoleLogin');
    // Of the 17 kept: MFAUsed Yes×5, No×11, absent×1. "No" on IAM users and root is a sign-in
    // without MFA; on the 5 federated (AssumedRole) sign-ins it is unknown.
    const mfa = (value: boolean | undefined) => logins.filter((event) => event.mfa === value).length;
    assert.deepEqual([mfa(true), mfa(false), mfa(undefined)], [5, 6, 6]);
    const federated = logins.find((event) => event.actor?.email === 'foo@bar.com');
    assert.equal(federated?.mfa, undefined);
    assert.equal(federated?.authMethod, 'sso');
    assert.equal(federated?.actor?.type, 'user');

    const admin = all.find(
      (event) => event.action === 'AttachUserPolicy' && event.privilege?.name === 'AdministratorAccess',
    );
    assert.equal(admin?.classUid, 3005);
    assert.equal(admin?.target?.userName, 'new-user');
    assert.equal(admin?.privilege?.privileged, true);
    const readOnly = all.find(
      (event) => event.action === 'AttachUserPolicy' && event.privilege?.name === 'ReadOnlyAccess',
    );
    assert.equal(readOnly?.privilege?.privileged, false);
    const stop = all.filter((event) => event.action === 'StopLogging');
    assert.deepEqual(
      stop.map((event) => [event.outcome, event.securitySetting?.name, event.securitySetting?.enabled]),
      [
        ['success', 'cloudtrail_logging', false],
        ['failure', 'cloudtrail_logging', false],
      ],
    );
    // the failed AttachRolePolicy states no entitlement
    const failedGrant = all.find(
      (event) => event.action === 'AttachRolePolicy' && event.outcome === 'failure',
    );
    assert.equal(failedGrant?.outcomeReason, 'NoSuchEntity');
  });

  it('reads the Panther compromised-root scenarios: 27 events, every one by root', async () => {
    const records = await collectFile(parseAwsCloudTrail, `${DIR}/panther_test_scenarios_cloudtrail.json`);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 27, entitlement: 4 });
    const all = events(records);
    const names = byName(all);
    assert.equal(names.ConsoleLogin, 14);
    assert.equal(names.AttachUserPolicy, 4);
    assert.ok(
      all.filter((event) => event.action !== 'RunInstances').every((event) => event.actor?.type === 'root'),
    );
    const grants = records.flatMap((record) => (record.type === 'entitlement' ? [record.entitlement] : []));
    assert.deepEqual(
      grants.map((grant) => [grant.identity.userName, grant.name, grant.privileged]),
      [
        ['tracy_stone', 'AmazonEC2FullAccess', true],
        ['tracy_stone', 'AmazonS3FullAccess', true],
        ['tracy_stone', 'IAMFullAccess', true],
        ['jacknagz', 'AmazonEC2FullAccess', true],
      ],
    );
  });

  it('reads the AWS user-guide examples, including MFAUsed "YES" and a group addition', async () => {
    const records = await collectFile(
      parseAwsCloudTrail,
      `${DIR}/awsdocs_cloudtrail_userguide_iam_signin_examples.json`,
    );
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 13, entitlement: 1 });
    const all = events(records);
    assert.equal(byName(all).ConsoleLogin, 7);
    const rootYes = all.find(
      (event) => event.action === 'ConsoleLogin' && event.raw && JSON.stringify(event.raw).includes('"YES"'),
    );
    assert.equal(rootYes?.mfa, true);
    assert.equal(rootYes?.actor?.type, 'root');
    const failed = all.filter((event) => event.action === 'ConsoleLogin' && event.outcome === 'failure');
    assert.equal(failed.length, 2);
    const group = all.find((event) => event.action === 'AddUserToGroup');
    assert.equal(group?.classUid, 3006);
    assert.equal(group?.activityName, 'Add User');
    assert.deepEqual(group?.privilege, {
      granted: true,
      kind: 'group',
      name: 'admin',
      names: ['admin'],
      privileged: true,
    });
    // CreateUser from 2014 has no eventID: keyed by content hash
    assert.match(all.find((event) => event.action === 'CreateUser')?.sourceKey ?? '', /^sha256:/);
  });

  it('reads the Northwind trail: root console sign-in, a sign-in without MFA, AdministratorAccess for jonas.chen', async () => {
    const records = await collectFile(parseAwsCloudTrail, `${NORTHWIND}/cloudtrail.json`);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 20, entitlement: 1 });
    const all = events(records);
    const root = all.filter((event) => event.actor?.type === 'root');
    assert.equal(root.length, 1);
    assert.equal(root[0]?.classUid, 3002);
    assert.equal(root[0]?.action, 'ConsoleLogin');
    assert.equal(root[0]?.outcome, 'success');
    assert.equal(root[0]?.system, 'aws-iam:111122223333');
    assert.equal(root[0]?.actor?.externalId, 'arn:aws:iam::111122223333:root');
    assert.equal(root[0]?.time, '2026-11-07T19:00:00.000Z');
    const noMfa = all.filter((event) => event.action === 'ConsoleLogin' && event.mfa === false);
    assert.deepEqual(
      noMfa.map((event) => event.actor?.email),
      ['hugo.dubois@northwind.example'],
    );
    const [grant] = records.flatMap((record) => (record.type === 'entitlement' ? [record.entitlement] : []));
    assert.equal(grant?.identity.email, 'jonas.chen@northwind.example');
    assert.equal(grant?.identity.externalId, 'arn:aws:iam::111122223333:user/jonas.chen@northwind.example');
    assert.equal(grant?.name, 'AdministratorAccess');
    assert.equal(grant?.privileged, true);
    assert.equal(grant?.at, '2026-10-31T00:00:00.000Z');
    const key = all.find((event) => event.action === 'CreateAccessKey');
    assert.equal(key?.target?.userName, 'svc-backup');
  });
});

const RECORD = {
  eventVersion: '1.08',
  userIdentity: {
    type: 'IAMUser',
    arn: 'arn:aws:iam::111122223333:user/alice',
    accountId: '111122223333',
    userName: 'alice',
  },
  eventTime: '2026-01-01T00:00:00Z',
  eventSource: 'iam.amazonaws.com',
  eventName: 'PutUserPolicy',
  requestParameters: {
    userName: 'bob',
    policyName: 'everything',
    policyDocument: '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
  },
  eventID: 'e-1',
  recipientAccountId: '111122223333',
};

describe('aws-cloudtrail importer: malformed input', () => {
  it('marks an inline policy allowing every action as privileged', async () => {
    const records = await collect(parseAwsCloudTrail, chunks(JSON.stringify({ Records: [RECORD] })));
    assert.equal(events(records)[0]?.privilege?.privileged, true);
    assert.equal(records.filter((record) => record.type === 'entitlement').length, 1);
  });

  it('accepts one record per line (CloudTrail Lake export)', async () => {
    const line = JSON.stringify(RECORD);
    const records = await collect(parseAwsCloudTrail, chunks(`${line}\n${line.replace('e-1', 'e-2')}\n`));
    assert.deepEqual(
      events(records).map((event) => event.sourceKey),
      ['e-1', 'e-2'],
    );
  });

  it('rejects a truncated log file, keeping the records before the cut in collect mode', async () => {
    const text = readText(`${NORTHWIND}/cloudtrail.json`);
    const cut = text.slice(0, Math.floor(text.length / 2));
    const records = await collect(parseAwsCloudTrail, chunks(cut, 1024), {
      onError: 'collect',
      fileName: 'ct.json',
    });
    const rejected = rejections(records);
    assert.equal(rejected.length, 1);
    assert.match(
      rejected[0]?.reason ?? '',
      /unexpected end of input.*nothing after this point could be read/,
    );
    assert.ok(events(records).length >= 8);
    const { message } = await rejectionOf(parseAwsCloudTrail, chunks(cut, 1024), { fileName: 'ct.json' });
    assert.match(message, /^ct\.json line 1: unexpected end of input/);
  });

  it('rejects a bad eventTime and a missing userIdentity, naming the field', async () => {
    const badTime = { Records: [{ ...RECORD, eventTime: 'yesterday' }] };
    const first = await rejectionOf(parseAwsCloudTrail, chunks(JSON.stringify(badTime)), {
      fileName: 'ct.json',
    });
    assert.equal(first.message, 'ct.json line 1: field "eventTime": not an ISO date-time: "yesterday"');
    assert.equal(first.details.byteOffset, 12);
    const noIdentity = { Records: [{ ...RECORD, userIdentity: undefined }] };
    assert.equal(
      (await rejectionOf(parseAwsCloudTrail, chunks(JSON.stringify(noIdentity)))).details.field,
      'userIdentity',
    );
  });

  it('rejects records that are not objects, one by one', async () => {
    const records = await collect(
      parseAwsCloudTrail,
      chunks(`{"Records": [1, ${JSON.stringify(RECORD)}, "x"]}`),
      {
        onError: 'collect',
      },
    );
    assert.deepEqual(countByType(records), { rejected: 2, event: 1, entitlement: 1 });
  });

  it('reads a gzipped log file (as CloudTrail delivers it) and rejects a corrupt one', async () => {
    const text = readText(`${DIR}/panther_test_scenarios_cloudtrail.json`);
    const plain = await collect(parseAwsCloudTrail, chunks(text, 4096));
    assert.deepEqual(await collect(parseAwsCloudTrail, chunks(gzip(text), 333)), plain);
    // a damaged checksum: every record reads, then the stream is refused
    const corrupt = gzip(text);
    corrupt[corrupt.length - 6] = (corrupt[corrupt.length - 6] ?? 0) ^ 0xff;
    assert.match(
      (await rejectionOf(parseAwsCloudTrail, chunks(corrupt, 333))).message,
      /gzip data is corrupt/,
    );
  });

  it('rejects binary garbage', async () => {
    const { message } = await rejectionOf(
      parseAwsCloudTrail,
      chunks(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a])),
      {
        fileName: 'image.png',
      },
    );
    assert.match(message, /^image\.png line 1: /);
  });
});

describe('aws-cloudtrail importer: fuzzing', () => {
  it('arbitrary bytes never raise anything but import_rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), (bytes) =>
        assertOnlyImportRejected(parseAwsCloudTrail, bytes),
      ),
      { numRuns: 150 },
    );
  });

  it('mutated log files never raise anything but import_rejected', async () => {
    const text = readText(`${NORTHWIND}/cloudtrail.json`).slice(0, 4000);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 12 }),
        fc.nat(),
        async (at, length, insert, how) => {
          await assertOnlyImportRejected(
            parseAwsCloudTrail,
            Buffer.from(mutate(text, at, length, insert, how)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('aws-cloudtrail importer: streaming', () => {
  it('parses a ~50 MB single-line {"Records": [...]} file with flat memory', async () => {
    const template = JSON.stringify(RECORD);
    const { growth, counts, bytes } = await streamingFootprint(parseAwsCloudTrail, () =>
      generated(50 * MiB, (index) => template.replace('"e-1"', `"e-${index}"`), '{"Records":[', ',', ']}'),
    );
    assert.ok(bytes >= 50 * MiB);
    assert.ok((counts.event ?? 0) > 100_000, JSON.stringify(counts));
    assert.equal(counts.rejected, undefined);
    assert.ok(growth < 100 * MiB, `retained memory grew by ${Math.round(growth / MiB)} MiB`);
  });
});
