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
  readText,
  rejectionOf,
  rejections,
  SAMPLES,
  streamingFootprint,
} from '../shared/testing.ts';
import { parseGoogleWorkspaceReports } from './google-workspace-reports.parser.ts';

const DIR = `${SAMPLES}/google_workspace_reports`;

describe('google-workspace-reports importer: samples', () => {
  it('reads the login activities: two sign-ins with a second factor and the 2SV verification', async () => {
    const records = await collectFile(
      parseGoogleWorkspaceReports,
      `${DIR}/azuresentinel_GWorkspace_ReportsAPI_login_CL.json`,
    );
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 3 });
    const all = events(records);
    assert.deepEqual(
      all.map((event) => [event.action, event.classUid, event.activityName, event.mfa, event.outcome]),
      [
        ['login.login_success', 3002, 'Logon', true, 'success'],
        ['login.login_verification', 3002, 'MFA Verification', true, 'success'],
        ['login.login_success', 3002, 'Logon', true, 'success'],
      ],
    );
    // The first two share uniqueQualifier and time; their keys still differ.
    assert.equal(new Set(all.map((event) => event.sourceKey)).size, 3);
    assert.equal(all[0]?.sourceKey, 'login:580457398125:2020-11-09T22:47:35.492Z:0:login_success');
    assert.equal(all[0]?.authMethod, 'google_password');
    assert.equal(all[0]?.target?.externalId, '106497629058682804316');
    // Sentinel's sanitised addresses are not emails
    assert.equal(all[0]?.actor?.email, undefined);
    assert.equal(all[0]?.srcIp, '52.52.52.52');
  });

  it('reads the admin activities: a licence by a service key, a user creation, a group addition', async () => {
    const records = await collectFile(
      parseGoogleWorkspaceReports,
      `${DIR}/azuresentinel_GWorkspace_ReportsAPI_admin_CL.json`,
    );
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { event: 3, entitlement: 2 });
    const [licence, created, group] = events(records);
    assert.equal(licence?.actor?.type, 'service');
    assert.equal(licence?.actor?.userName, 'SYSTEM');
    assert.deepEqual(licence?.privilege, {
      granted: true,
      kind: 'application',
      name: 'G Suite Business',
      names: ['G Suite Business'],
      privileged: false,
    });
    assert.deepEqual(
      [created?.classUid, created?.activityName, created?.accountStatus],
      [3001, 'Create', 'active'],
    );
    assert.deepEqual(
      [group?.classUid, group?.activityName, group?.privilege?.kind],
      [3006, 'Add User', 'group'],
    );
  });

  it('reads the user-account activities (leading space before the array): 2SV enrolment and a password change', async () => {
    const records = await collectFile(
      parseGoogleWorkspaceReports,
      `${DIR}/azuresentinel_GWorkspace_ReportsAPI_user_accounts_CL.json`,
    );
    assertValidRecords(records);
    assert.deepEqual(
      events(records).map((event) => [event.action, event.activityName, event.target?.externalId]),
      [
        ['user_accounts.2sv_enroll', 'MFA Factor Enable', '103558135127700430349'],
        ['user_accounts.password_edit', 'Password Change', '103558135127700430349'],
      ],
    );
    assert.equal(records[0]?.position.byteOffset, 5);
  });
});

const ACTIVITY = {
  kind: 'admin#reports#activity',
  id: { time: '2026-02-03T04:05:06.789Z', uniqueQualifier: '42', applicationName: 'login', customerId: 'C1' },
  actor: { email: 'Pat@Example.com', profileId: '7' },
  events: [
    {
      type: 'login',
      name: 'login_success',
      parameters: [{ name: 'login_challenge_method', multiValue: ['password'] }],
    },
  ],
};

describe('google-workspace-reports importer: malformed input', () => {
  it('reads the raw activities.list response; a password-only sign-in has mfa false', async () => {
    const text = JSON.stringify({ kind: 'admin#reports#activities', items: [ACTIVITY], nextPageToken: 'x' });
    const [event] = events(await collect(parseGoogleWorkspaceReports, chunks(text)));
    assert.deepEqual([event?.mfa, event?.actor?.email], [false, 'pat@example.com']);
  });

  it('gives a role grant an entitlement, privileged by the documented rule', async () => {
    const grant = {
      ...ACTIVITY,
      id: { ...ACTIVITY.id, applicationName: 'admin' },
      events: [
        {
          name: 'ASSIGN_ROLE',
          parameters: [
            { name: 'USER_EMAIL', value: 'lee@example.com' },
            { name: 'ROLE_NAME', value: '_SEED_ADMIN_ROLE' },
          ],
        },
      ],
    };
    const records = await collect(parseGoogleWorkspaceReports, chunks(JSON.stringify(grant)));
    const entitlement = records.find((record) => record.type === 'entitlement');
    assert.ok(entitlement?.type === 'entitlement');
    assert.deepEqual(
      [
        entitlement.entitlement.identity.email,
        entitlement.entitlement.name,
        entitlement.entitlement.privileged,
      ],
      ['lee@example.com', '_SEED_ADMIN_ROLE', true],
    );
  });

  it('rejects a missing id.time, a bad time and an empty events list', async () => {
    const noTime = { ...ACTIVITY, id: { ...ACTIVITY.id, time: undefined } };
    assert.equal(
      (await rejectionOf(parseGoogleWorkspaceReports, chunks(JSON.stringify(noTime)))).details.field,
      'id.time',
    );
    const badTime = { ...ACTIVITY, id: { ...ACTIVITY.id, time: 'Tuesday' } };
    const { message } = await rejectionOf(parseGoogleWorkspaceReports, chunks(JSON.stringify([badTime])), {
      fileName: 'login.json',
    });
    assert.equal(message, 'login.json line 1: field "id.time": not an ISO date-time: "Tuesday"');
    const noEvents = { ...ACTIVITY, events: [] };
    assert.equal(
      (await rejectionOf(parseGoogleWorkspaceReports, chunks(JSON.stringify(noEvents)))).details.field,
      'events',
    );
  });

  it('rejects a truncated array, keeping what came before', async () => {
    const text = readText(`${DIR}/azuresentinel_GWorkspace_ReportsAPI_login_CL.json`);
    const records = await collect(parseGoogleWorkspaceReports, chunks(text.slice(0, 2000)), {
      onError: 'collect',
    });
    assert.deepEqual(countByType(records), { event: 1, rejected: 1 });
    assert.match(rejections(records)[0]?.reason ?? '', /unexpected end of input/);
  });

  it('rejects binary garbage; reads gzip; rejects a corrupt gzip', async () => {
    assert.match(
      (await rejectionOf(parseGoogleWorkspaceReports, chunks(Buffer.from([0x7f, 0x45, 0x4c, 0x46])))).message,
      /^input line 1/,
    );
    const text = readText(`${DIR}/azuresentinel_GWorkspace_ReportsAPI_admin_CL.json`);
    assert.deepEqual(
      await collect(parseGoogleWorkspaceReports, chunks(gzip(text), 100)),
      await collect(parseGoogleWorkspaceReports, chunks(text, 100)),
    );
    const corrupt = gzip(text);
    corrupt.fill(0x99, 15, 60);
    assert.match(
      (await rejectionOf(parseGoogleWorkspaceReports, chunks(corrupt, 100))).message,
      /gzip data is corrupt/,
    );
  });
});

describe('google-workspace-reports importer: fuzzing', () => {
  it('arbitrary bytes never raise anything but import_rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), (bytes) =>
        assertOnlyImportRejected(parseGoogleWorkspaceReports, bytes),
      ),
      { numRuns: 150 },
    );
  });

  it('mutated activities never raise anything but import_rejected', async () => {
    const text = readText(`${DIR}/azuresentinel_GWorkspace_ReportsAPI_login_CL.json`);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 12 }),
        fc.nat(),
        async (at, length, insert, how) => {
          await assertOnlyImportRejected(
            parseGoogleWorkspaceReports,
            Buffer.from(mutate(text, at, length, insert, how)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('google-workspace-reports importer: streaming', () => {
  it('parses ~50 MB of JSON lines with flat memory', async () => {
    const template = JSON.stringify(ACTIVITY);
    const { growth, counts, bytes } = await streamingFootprint(parseGoogleWorkspaceReports, () =>
      generated(50 * MiB, (index) => template.replace('"42"', `"${index}"`)),
    );
    assert.ok(bytes >= 50 * MiB);
    assert.ok((counts.event ?? 0) > 100_000, JSON.stringify(counts));
    assert.equal(counts.rejected, undefined);
    assert.ok(growth < 100 * MiB, `retained memory grew by ${Math.round(growth / MiB)} MiB`);
  });
});
