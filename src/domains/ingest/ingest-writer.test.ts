/**
 * The ingest writer resolves a chunk's accounts together; the result must be exactly what
 * resolving them one record at a time gives: the same accounts, the same enrichment, the same
 * links from events and entitlement changes to accounts.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createTestDatabase } from '../../../test/helpers/database.ts';
import type { Database } from '../../db/database.ts';
import { isAssayError } from '../../errors.ts';
import { systemActor } from '../audit/actor.ts';
import { classify, type IdentityRef, type ImportRecord } from '../events/event.model.ts';
import { createWorkspace } from '../workspaces/workspaces.service.ts';
import { importFile } from './import.service.ts';
import { IngestWriter } from './ingest-writer.ts';

function signIn(key: string, time: string, actor: IdentityRef): ImportRecord {
  return {
    type: 'event',
    position: { file: 'test', line: 1 },
    event: {
      source: 'ocsf',
      sourceKey: key,
      system: 'okta',
      time,
      ...classify('authentication', 1),
      action: 'login',
      outcome: 'success',
      actor,
      raw: { key },
    },
  };
}

/** Accounts named every way the lookup rules distinguish, in an order where each rule matters. */
function records(): ImportRecord[] {
  return [
    // Known beforehand (see `seed`): ext-1 with no user name; a user known only by email.
    signIn('a', '2026-01-02T00:00:00.000Z', { type: 'user', externalId: 'ext-1', userName: 'ann' }),
    // Found through the user name just learnt for ext-1.
    signIn('b', '2026-01-03T00:00:00.000Z', { type: 'user', userName: 'ann', email: 'Ann@Example.com' }),
    // Found by email only, among accounts read from the database.
    signIn('c', '2025-12-01T00:00:00.000Z', { type: 'user', email: 'BOB@example.com', displayName: 'Bob' }),
    // New, then found again by its user name (which is its system id) and by its email.
    signIn('d', '2026-01-04T00:00:00.000Z', { type: 'service', userName: 'ci-bot', email: 'ci@example.com' }),
    signIn('e', '2026-01-05T00:00:00.000Z', { type: 'user', externalId: 'ci-bot' }),
    signIn('f', '2026-01-06T00:00:00.000Z', { type: 'user', email: 'ci@example.com', displayName: 'CI' }),
    // Another system keeps its own accounts.
    signIn('g', '2026-01-07T00:00:00.000Z', { type: 'user', system: 'github:acme', userName: 'ann' }),
    // A replay within the chunk names nobody new.
    signIn('a', '2026-01-02T00:00:00.000Z', { type: 'user', externalId: 'ext-1', userName: 'ann' }),
    {
      type: 'entitlement',
      position: { file: 'test', line: 9 },
      entitlement: {
        source: 'ocsf',
        system: 'okta',
        identity: { type: 'user', userName: 'carol', email: 'carol@example.com' },
        name: 'Super administrator',
        kind: 'role',
        privileged: true,
        granted: true,
        at: '2026-01-08T00:00:00.000Z',
      },
    },
  ];
}

async function seed(database: Database, workspaceId: string) {
  await database.inWorkspace(workspaceId, async (trx) => {
    await trx
      .insertInto('identities')
      .values([
        {
          workspace_id: workspaceId,
          system: 'okta',
          external_id: 'ext-1',
          first_seen_at: '2026-01-01',
          last_seen_at: '2026-01-01',
        },
        {
          workspace_id: workspaceId,
          system: 'okta',
          external_id: 'ext-2',
          email: 'bob@example.com',
          first_seen_at: '2026-01-01',
          last_seen_at: '2026-01-01',
        },
      ])
      .execute();
  });
}

async function run(database: Database, slug: string, oneAtATime: boolean) {
  const workspace = await createWorkspace(database, systemActor, { slug });
  await seed(database, workspace.id);
  return database.inWorkspace(workspace.id, async (trx) => {
    const writer = new IngestWriter(trx, workspace.id, null);
    for (const record of records()) {
      await writer.add(record);
      if (oneAtATime) await writer.flush();
    }
    await writer.finish();
    const identities = await trx
      .selectFrom('identities')
      .select([
        'id',
        'system',
        'external_id',
        'user_name',
        'email',
        'display_name',
        'principal_type',
        'first_seen_at',
        'last_seen_at',
      ])
      .where('workspace_id', '=', workspace.id)
      .orderBy('system')
      .orderBy('external_id')
      .execute();
    const externalOf = new Map(identities.map((i) => [i.id, `${i.system}/${i.external_id}`]));
    const events = await trx
      .selectFrom('events')
      .select(['source_key', 'actor_identity_id'])
      .where('workspace_id', '=', workspace.id)
      .orderBy('source_key')
      .execute();
    const entitlements = await trx
      .selectFrom('entitlement_changes')
      .select(['identity_id', 'name', 'granted'])
      .where('workspace_id', '=', workspace.id)
      .execute();
    return {
      counts: { ...writer.counts },
      identities: identities.map(({ id: _id, ...rest }) => rest),
      events: events.map((e) => [e.source_key, externalOf.get(e.actor_identity_id ?? '')]),
      entitlements: entitlements.map((e) => [externalOf.get(e.identity_id), e.name, e.granted]),
    };
  });
}

test('accounts resolved a chunk at a time are those resolved one record at a time', async (t) => {
  const { database } = await createTestDatabase(t);
  const batched = await run(database, 'batched', false);
  const single = await run(database, 'single', true);
  assert.deepEqual(batched, single);
  // And what that is, spelled out.
  assert.deepEqual(
    batched.events.map(([key, account]) => `${key}:${account}`),
    [
      'a:okta/ext-1',
      'b:okta/ext-1',
      'c:okta/ext-2',
      'd:okta/ci-bot',
      'e:okta/ci-bot',
      'f:okta/ci-bot',
      'g:github:acme/ann',
    ],
  );
  const ext1 = batched.identities.find((i) => i.external_id === 'ext-1')!;
  assert.equal(ext1.user_name, 'ann');
  assert.equal(ext1.email, 'ann@example.com');
  assert.equal(ext1.last_seen_at.toISOString(), '2026-01-03T00:00:00.000Z');
  const bob = batched.identities.find((i) => i.external_id === 'ext-2')!;
  assert.equal(bob.display_name, 'Bob');
  assert.equal(bob.first_seen_at.toISOString(), '2025-12-01T00:00:00.000Z');
  const bot = batched.identities.find((i) => i.external_id === 'ci-bot')!;
  assert.equal(bot.principal_type, 'service');
  assert.equal(bot.display_name, 'CI');
  assert.deepEqual(batched.entitlements, [['okta/carol', 'Super administrator', true]]);
  assert.equal(batched.counts.duplicates, 1);
});

test('an account named without any id is rejected with its record position, batched or not', async (t) => {
  const { database } = await createTestDatabase(t);
  const workspace = await createWorkspace(database, systemActor, { slug: 'nameless' });
  await assert.rejects(
    database.inWorkspace(workspace.id, async (trx) => {
      const writer = new IngestWriter(trx, workspace.id, null);
      await writer.add(signIn('x', '2026-01-02T00:00:00.000Z', { type: 'user', externalId: 'ok' }));
      await writer.add({
        ...signIn('y', '2026-01-02T00:00:00.000Z', { type: 'user', displayName: 'Nobody' }),
        position: { file: 'f.json', line: 7 },
      });
      await writer.add(signIn('z', '2026-01-02T00:00:00.000Z', { type: 'user', externalId: 'ok-2' }));
      await writer.finish();
    }),
    /f\.json line 7: an account is named without any id, user name or email/,
  );
});

test('an event whose payload cannot be canonical JSON is rejected with its file line, and nothing is kept', async (t) => {
  const { database } = await createTestDatabase(t);
  const workspace = await createWorkspace(database, systemActor, { slug: 'surrogate' });
  const line = (uuid: string, name: string) =>
    `{"uuid":"${uuid}","published":"2026-01-02T00:00:00.000Z","eventType":"user.session.start","outcome":{"result":"SUCCESS"},"actor":{"id":"00u1","type":"User","alternateId":"ann@example.com","displayName":"${name}"}}`;
  // JSON allows a lone surrogate escape; RFC 8785 canonical JSON (the ledger's) does not.
  const file = [line('e-1', 'Ann'), line('e-2', 'Ann \\ud800'), line('e-3', 'Ann')].join('\n');
  await assert.rejects(
    importFile(database, systemActor, 'surrogate', 'okta-system-log', Readable.from([Buffer.from(file)]), {
      fileName: 'okta.jsonl',
    }),
    (error: unknown) => {
      assert.ok(isAssayError(error));
      assert.equal(error.code, 'import_rejected');
      assert.match(
        error.message,
        /^okta\.jsonl line 2: the event cannot be kept as evidence: .*lone UTF-16 surrogate/,
      );
      return true;
    },
  );
  const events = await database.inWorkspace(workspace.id, (trx) =>
    trx
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
  );
  assert.equal(Number(events.n), 0);
});

test('accounts are linked to people whichever comes first, and a batch reports what its events named', async (t) => {
  const { database } = await createTestDatabase(t);
  const workspace = await createWorkspace(database, systemActor, { slug: 'linking' });
  const person = (email: string, employeeId: string): ImportRecord => ({
    type: 'person',
    position: { file: 'roster.csv', line: 2 },
    person: {
      source: 'hr-roster',
      employeeId,
      name: email,
      email,
      status: 'active',
      observedAt: '2026-01-01T00:00:00.000Z',
    },
  });
  const write = (records: ImportRecord[]) =>
    database.inWorkspace(workspace.id, async (trx) => {
      const writer = new IngestWriter(trx, workspace.id, null);
      for (const record of records) await writer.add(record);
      await writer.finish();
      return writer;
    });
  const links = () =>
    database.inWorkspace(workspace.id, async (trx) =>
      Object.fromEntries(
        (
          await trx
            .selectFrom('identities')
            .leftJoin('people', 'people.id', 'identities.person_id')
            .select(['identities.external_id', 'people.email', 'identities.link_method'])
            .execute()
        ).map((r) => [r.external_id, r.email ? `${r.email} (${r.link_method})` : null]),
      ),
    );

  // Accounts before their people: nobody to link to yet.
  const first = await write([
    signIn('1', '2026-01-02T00:00:00.000Z', { type: 'user', externalId: 'dan', email: 'dan@example.com' }),
    signIn('2', '2026-01-02T00:00:00.000Z', { type: 'user', externalId: 'eve', email: 'eve@example.com' }),
  ]);
  assert.deepEqual(await links(), { dan: null, eve: null });
  assert.deepEqual([...first.stored.classUids], [3002]);
  assert.equal(first.stored.accounts.size, 2);
  assert.equal(first.stored.everyEventNamesAnAccount, true);

  // A roster links every account it can, not only those the batch named.
  await write([person('dan@example.com', 'E1'), person('frank@example.com', 'E2')]);
  assert.deepEqual(await links(), { dan: 'dan@example.com (email)', eve: null });

  // Accounts after their people: linked by the batch that names them; others are left as they are.
  const later = await write([
    signIn('3', '2026-01-03T00:00:00.000Z', {
      type: 'user',
      externalId: 'frank',
      email: 'Frank@example.com',
    }),
  ]);
  assert.deepEqual(await links(), {
    dan: 'dan@example.com (email)',
    eve: null,
    frank: 'frank@example.com (email)',
  });
  // Replayed events are not stored again, and name nothing.
  const replay = await write([
    signIn('3', '2026-01-03T00:00:00.000Z', {
      type: 'user',
      externalId: 'frank',
      email: 'frank@example.com',
    }),
  ]);
  assert.equal(later.stored.accounts.size, 1);
  assert.equal(replay.counts.eventsStored, 0);
  assert.equal(replay.stored.accounts.size, 0);
});
