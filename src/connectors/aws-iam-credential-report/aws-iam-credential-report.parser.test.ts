import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { IdentityFact } from '../../domains/events/event.model.ts';
import {
  assertOnlyImportRejected,
  assertValidRecords,
  chunks,
  collect,
  collectFile,
  countByType,
  generated,
  gzip,
  MiB,
  mutate,
  NORTHWIND,
  OBSERVED_AT,
  readText,
  rejectionOf,
  rejections,
  SAMPLES,
  streamingFootprint,
} from '../shared/testing.ts';
import { parseAwsIamCredentialReport } from './aws-iam-credential-report.parser.ts';

const DIR = `${SAMPLES}/iam_credential_report`;

function identities(records: Awaited<ReturnType<typeof collect>>): IdentityFact[] {
  return records.flatMap((record) => (record.type === 'identity' ? [record.identity] : []));
}

const DAY = 86_400_000;
function ageInDays(from: string | undefined, to = OBSERVED_AT): number {
  return Math.round((Date.parse(to) - Date.parse(from ?? '')) / DAY);
}

describe('aws-iam-credential-report importer: samples', () => {
  it('reads the c7n account report: root + 19 users; the second "christopher" row is rejected', async () => {
    const records = await collectFile(
      parseAwsIamCredentialReport,
      `${DIR}/c7n_account_credential_report.csv`,
    );
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { identity: 20, rejected: 1 });
    const [rejected] = rejections(records);
    assert.equal(
      rejected?.message,
      'c7n_account_credential_report.csv line 10: field "user": "christopher" appears twice in the report (first on line 9)',
    );
    const all = identities(records);
    const root = all[0];
    assert.equal(root?.type, 'root');
    assert.equal(root?.userName, 'root');
    assert.equal(root?.externalId, 'arn:aws:iam::644160558196:root');
    assert.equal(root?.system, 'aws-iam:644160558196');
    assert.equal(root?.passwordEnabled, undefined); // not_supported
    assert.equal(root?.mfaEnabled, true);
    assert.ok(all.every((identity) => identity.observedAt === OBSERVED_AT && identity.status === 'active'));
    const andrew = all.find((identity) => identity.userName === 'andrew');
    assert.deepEqual(andrew?.accessKeys, [
      { slot: 1, active: true, lastRotatedAt: '2016-10-11T15:27:35.000Z' },
      {
        slot: 2,
        active: true,
        lastRotatedAt: '2016-08-30T19:05:50.000Z',
        lastUsedAt: '2016-10-20T20:27:00.000Z',
        lastUsedRegion: 'us-east-1',
        lastUsedService: 'ec2',
      },
    ]);
    assert.equal(andrew?.mfaEnabled, false);
    assert.equal(andrew?.passwordLastUsedAt, '2016-11-16T14:10:34.000Z');
    // no_information: never used since tracking began
    const jeff = all.find((identity) => identity.userName === 'jeff');
    assert.equal(jeff?.passwordLastUsedAt, undefined);
    assert.equal(jeff?.passwordEnabled, true);
    // the header's "User" casing is accepted; the mixed-case user name is kept
    assert.ok(all.some((identity) => identity.userName === 'Jennifer'));
  });

  it('fails the whole report at the duplicate row in fail mode', async () => {
    const { message, details } = await rejectionOf(
      parseAwsIamCredentialReport,
      chunks(readText(`${DIR}/c7n_account_credential_report.csv`), 512),
      { fileName: 'report.csv' },
    );
    assert.match(message, /^report\.csv line 10: field "user": "christopher" appears twice/);
    assert.equal(details.line, 10);
    assert.equal(details.field, 'user');
  });

  it('reads the unused-keys report: 8 identities, the root with an active key and an active certificate', async () => {
    const records = await collectFile(
      parseAwsIamCredentialReport,
      `${DIR}/c7n_unused_keys_credential_report.csv`,
    );
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { identity: 8 });
    const [root, ...users] = identities(records);
    assert.equal(root?.type, 'root');
    assert.deepEqual(
      root?.accessKeys?.map((key) => [key.slot, key.active, key.lastRotatedAt]),
      [
        [1, true, '2011-08-19T05:12:23.000Z'],
        [2, false, '2007-10-13T16:49:50.000Z'],
      ],
    );
    assert.deepEqual(root?.certificates, [
      { slot: 1, active: true, lastRotatedAt: '2008-06-25T02:07:10.000Z' },
    ]);
    // key-only users: no console password, so probably workloads
    assert.ok(users.every((user) => user.isHumanHint === false || user.passwordEnabled === true));
    assert.equal(users.find((user) => user.userName === 'charmworld')?.isHumanHint, false);
  });

  it('reads the multi-delete report: an inactive old key and a future rotation date kept as stated', async () => {
    const records = await collectFile(
      parseAwsIamCredentialReport,
      `${DIR}/c7n_multi_delete_noop_credential_report.csv`,
    );
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { identity: 2 });
    const test1 = identities(records)[1];
    assert.deepEqual(
      test1?.accessKeys?.map((key) => [key.active, key.lastRotatedAt]),
      [
        [false, '2020-02-03T09:50:07.000Z'],
        [true, '2099-02-03T09:50:21.000Z'],
      ],
    );
  });

  it('reads the Northwind report: rotation ages, console password age, missing MFA, the service account', async () => {
    const records = await collectFile(parseAwsIamCredentialReport, `${NORTHWIND}/iam_credential_report.csv`);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { identity: 21 });
    const byEmail = new Map(
      identities(records).map((identity) => [identity.email ?? identity.userName, identity]),
    );
    const yusuf = byEmail.get('yusuf.duarte@northwind.example');
    assert.equal(ageInDays(yusuf?.accessKeys?.[0]?.lastRotatedAt), 200);
    assert.equal(yusuf?.accessKeys?.[0]?.active, true);
    const priya = byEmail.get('priya.novak@northwind.example');
    assert.equal(ageInDays(priya?.passwordLastUsedAt), 150);
    const hugo = byEmail.get('hugo.dubois@northwind.example');
    assert.deepEqual([hugo?.passwordEnabled, hugo?.mfaEnabled], [true, false]);
    const backup = byEmail.get('svc-backup');
    assert.deepEqual(
      [backup?.email, backup?.isHumanHint, backup?.passwordEnabled],
      [undefined, false, false],
    );
    const olga = byEmail.get('olga.duarte@northwind.example');
    assert.equal(olga?.status, 'active');
    assert.equal(olga?.lastLoginAt, '2026-10-29T00:00:00.000Z');
    assert.equal(byEmail.get('contractor.kim@partnerco.example')?.isHumanHint, true);
    const root = byEmail.get('root');
    assert.equal(root?.type, 'root');
    assert.equal(root?.passwordLastUsedAt, '2026-11-07T19:00:00.000Z');
  });
});

const HEADER = readText(`${NORTHWIND}/iam_credential_report.csv`).split('\n')[0] ?? '';
const ROW = readText(`${NORTHWIND}/iam_credential_report.csv`).split('\n')[2] ?? '';

describe('aws-iam-credential-report importer: malformed input', () => {
  it('rejects a row with the wrong number of columns and goes on', async () => {
    const short = ROW.split(',').slice(0, 20).join(',');
    const second = ROW.replaceAll('uma.evans', 'ann.other');
    const records = await collect(parseAwsIamCredentialReport, chunks(`${HEADER}\n${short}\n${second}`), {
      onError: 'collect',
      fileName: 'r.csv',
    });
    assert.deepEqual(countByType(records), { rejected: 1, identity: 1 });
    assert.equal(
      rejections(records)[0]?.message,
      'r.csv line 2: expected 22 columns as in the header, found 20',
    );
  });

  it('rejects a bad date and a bad boolean, naming the column', async () => {
    const badDate = ROW.replace('2026-11-05T00:00:00+00:00', '05/11/2026');
    const first = await rejectionOf(parseAwsIamCredentialReport, chunks(`${HEADER}\n${badDate}`));
    assert.equal(first.details.field, 'password_last_used');
    assert.equal(first.details.line, 2);
    const badBool = ROW.replace(',true,true,', ',yes,true,');
    assert.equal(
      (await rejectionOf(parseAwsIamCredentialReport, chunks(`${HEADER}\n${badBool}`))).details.field,
      'mfa_active',
    );
  });

  it('rejects a missing user, a foreign ARN, and an active key without a rotation date', async () => {
    const noUser = `,${ROW.split(',').slice(1).join(',')}`;
    assert.equal(
      (await rejectionOf(parseAwsIamCredentialReport, chunks(`${HEADER}\n${noUser}`))).details.field,
      'user',
    );
    const role = ROW.replace(':user/uma.evans@northwind.example', ':role/uma');
    assert.equal(
      (await rejectionOf(parseAwsIamCredentialReport, chunks(`${HEADER}\n${role}`))).details.field,
      'arn',
    );
    const noRotation = ROW.replace('2026-10-28T00:00:00+00:00', 'N/A');
    assert.equal(
      (await rejectionOf(parseAwsIamCredentialReport, chunks(`${HEADER}\n${noRotation}`))).details.field,
      'access_key_1_last_rotated',
    );
  });

  it('rejects a file that is not a credential report once, at its header', async () => {
    const records = await collect(parseAwsIamCredentialReport, chunks('name,email\nx,y\n'), {
      onError: 'collect',
      fileName: 'people.csv',
    });
    assert.equal(records.length, 1);
    assert.match(
      rejections(records)[0]?.message ?? '',
      /^people\.csv line 1: field "user": missing from the header/,
    );
  });

  it('rejects broken quoting with its line, keeping the rows before it', async () => {
    const text = `${HEADER}\n${ROW}\n"unterminated,${ROW}`;
    const records = await collect(parseAwsIamCredentialReport, chunks(text), {
      onError: 'collect',
      fileName: 'r.csv',
    });
    assert.deepEqual(countByType(records), { identity: 1, rejected: 1 });
    assert.match(rejections(records)[0]?.message ?? '', /^r\.csv line 3: a quoted field is never closed/);
  });

  it('rejects binary garbage', async () => {
    const { message } = await rejectionOf(
      parseAwsIamCredentialReport,
      chunks(Buffer.from([0, 1, 2, 0xff, 0x22, 10])),
    );
    assert.match(message, /^input line \d+: /);
  });

  it('reads the report gzipped, and rejects a corrupt gzip', async () => {
    const text = readText(`${NORTHWIND}/iam_credential_report.csv`);
    const plain = await collect(parseAwsIamCredentialReport, chunks(text, 100));
    assert.deepEqual(await collect(parseAwsIamCredentialReport, chunks(gzip(text), 50)), plain);
    const corrupt = gzip(text);
    corrupt.fill(0xee, 20, 60);
    assert.match(
      (await rejectionOf(parseAwsIamCredentialReport, chunks(corrupt, 50))).message,
      /gzip data is corrupt/,
    );
  });
});

describe('aws-iam-credential-report importer: fuzzing', () => {
  it('arbitrary bytes never raise anything but import_rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), (bytes) =>
        assertOnlyImportRejected(parseAwsIamCredentialReport, bytes),
      ),
      { numRuns: 150 },
    );
  });

  it('mutated report rows never raise anything but import_rejected', async () => {
    const text = readText(`${NORTHWIND}/iam_credential_report.csv`).split('\n').slice(0, 5).join('\n');
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 12 }),
        fc.nat(),
        async (at, length, insert, how) => {
          await assertOnlyImportRejected(
            parseAwsIamCredentialReport,
            Buffer.from(mutate(text, at, length, insert, how)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('aws-iam-credential-report importer: streaming', () => {
  it('parses a ~50 MB report with flat memory', async () => {
    const { growth, counts, bytes } = await streamingFootprint(parseAwsIamCredentialReport, () =>
      generated(50 * MiB, (index) => ROW.replaceAll('uma.evans', `user${index}`), `${HEADER}\n`),
    );
    assert.ok(bytes >= 50 * MiB);
    assert.ok((counts.identity ?? 0) > 100_000, JSON.stringify(counts));
    assert.equal(counts.rejected, undefined);
    assert.ok(growth < 100 * MiB, `retained memory grew by ${Math.round(growth / MiB)} MiB`);
  });
});
