/**
 * The LDAP connector against a real OpenLDAP slapd that the test starts: a directory with users in
 * every supported shape (inetOrgPerson, posixAccount + shadowAccount, Active Directory `user`),
 * groups of every supported kind (groupOfNames, groupOfUniqueNames, posixGroup, a nested group),
 * read by a service account whose searches the server limits to 3 entries — so only paged
 * searches read it whole. The directory is then changed (users disabled, locked out, re-enabled,
 * deleted, created; members removed and added) and pulled again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import { Attribute, Change, Client, SizeLimitExceededError } from 'ldapts';
import { createTestDatabase } from '../../../test/helpers/database.ts';
import type { Database } from '../../db/database.ts';
import type { Actor } from '../../domains/audit/actor.ts';
import { addConnector, listConnectors, runConnector } from '../../domains/connectors/connectors.service.ts';
import { importFile } from '../../domains/ingest/import.service.ts';
import { openSecretBox } from '../../domains/secrets/secrets.ts';
import { createWorkspace } from '../../domains/workspaces/workspaces.service.ts';
import { startSlapd } from './slapd.testing.ts';

const suffix = 'dc=example,dc=com';
const actor: Actor = { type: 'cli', id: 'ldap-test' };
const readerDn = `cn=assay-reader,ou=services,${suffix}`;
const readerPassword = 'reader-Secret-7f3a';
const day = 86_400_000;

// nsAccountLock (389 DS / FreeIPA) and Active Directory's user and computer classes are not in
// OpenLDAP's schema; declare them with the OIDs those servers use.
const nsSchema = `attributetype ( 2.16.840.1.113730.3.1.610 NAME 'nsAccountLock'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.99999.1 NAME 'assayTestAccountLock' SUP top AUXILIARY MAY ( nsAccountLock ) )
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP organizationalPerson STRUCTURAL
  MAY ( sAMAccountName $ userAccountControl $ mail $ displayName ) )
objectclass ( 1.2.840.113556.1.3.30 NAME 'computer' SUP user STRUCTURAL )`;

const expiredDay = Math.floor((Date.now() - 30 * day) / day);

const ldif = `dn: ${suffix}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=services,${suffix}
objectClass: organizationalUnit
ou: services

dn: ${readerDn}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: assay-reader
userPassword: ${readerPassword}

dn: ou=people,${suffix}
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,${suffix}
objectClass: inetOrgPerson
objectClass: posixAccount
objectClass: shadowAccount
uid: alice
cn: Alice Archer
sn: Archer
mail: Alice@Example.com
employeeNumber: 1001
uidNumber: 1001
gidNumber: 1001
homeDirectory: /home/alice

dn: uid=bob,ou=people,${suffix}
objectClass: inetOrgPerson
uid: bob
cn: Bob Baker
sn: Baker
mail: bob@example.com

dn: uid=carol,ou=people,${suffix}
objectClass: inetOrgPerson
objectClass: posixAccount
uid: carol
cn: Carol Chen
sn: Chen
mail: carol@example.com
uidNumber: 1003
gidNumber: 1003
homeDirectory: /home/carol

dn: uid=dan,ou=people,${suffix}
objectClass: inetOrgPerson
objectClass: assayTestAccountLock
uid: dan
cn: Dan Dorsey
sn: Dorsey
mail: dan@example.com
nsAccountLock: true

dn: cn=Eve Evans,ou=people,${suffix}
objectClass: user
cn: Eve Evans
sn: Evans
sAMAccountName: eve
mail: eve@example.com
userAccountControl: 512

dn: uid=frank,ou=people,${suffix}
objectClass: inetOrgPerson
objectClass: posixAccount
objectClass: shadowAccount
uid: frank
cn: Frank Fisher
sn: Fisher
mail: frank@example.com
uidNumber: 1006
gidNumber: 1006
homeDirectory: /home/frank
shadowExpire: ${expiredDay}

dn: uid=gina,ou=people,${suffix}
objectClass: inetOrgPerson
uid: gina
cn: Gina Gold
sn: Gold
mail: gina@example.com

dn: ou=groups,${suffix}
objectClass: organizationalUnit
ou: groups

dn: cn=engineering,ou=groups,${suffix}
objectClass: groupOfNames
cn: engineering
member: uid=alice,ou=people,${suffix}
member: UID=Bob, OU=People, DC=Example, DC=Com

dn: cn=admins,ou=groups,${suffix}
objectClass: groupOfUniqueNames
cn: admins
uniqueMember: uid=alice,ou=people,${suffix}
uniqueMember: uid=gina,ou=people,${suffix}#'0101'B

dn: cn=developers,ou=groups,${suffix}
objectClass: posixGroup
cn: developers
gidNumber: 2001
memberUid: carol
memberUid: eve
memberUid: frank

dn: cn=platform-admins,ou=groups,${suffix}
objectClass: groupOfNames
cn: platform-admins
member: cn=engineering,ou=groups,${suffix}
`;

async function startDirectory(t: { after: (fn: () => Promise<void>) => void }) {
  return startSlapd(t, {
    suffix,
    ldif,
    extraSchema: nsSchema,
    // Without paging, the reader sees at most 3 entries per search.
    globalConfig: ['sizelimit size.soft=3 size.hard=3 size.prtotal=unlimited'],
    databaseConfig: [
      'access to attrs=userPassword by self auth by anonymous auth by * none',
      `access to * by dn.exact="${readerDn}" read by * none`,
    ],
  });
}

async function setup(t: TestContext) {
  const directory = await startDirectory(t);
  const { database, config } = await createTestDatabase(t);
  const secrets = openSecretBox({
    secretKey: randomBytes(32).toString('hex'),
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
  });
  const slug = `ldap-${randomBytes(3).toString('hex')}`;
  await createWorkspace(database, actor, { slug });
  return { directory, database, secrets, slug };
}

interface AccountRow {
  user_name: string | null;
  email: string | null;
  status: string;
  person_id: string | null;
}

async function accounts(database: Database, slug: string): Promise<Map<string, AccountRow>> {
  const ws = await database.db
    .selectFrom('workspaces')
    .select('id')
    .where('slug', '=', slug)
    .executeTakeFirstOrThrow();
  const rows = await database.db
    .selectFrom('identities')
    .select(['user_name', 'email', 'status', 'person_id'])
    .where('workspace_id', '=', ws.id)
    .where('system', '=', 'ldap:corp')
    .execute();
  return new Map(rows.map((r) => [r.user_name ?? '', r]));
}

/** Entitlements held now, as `user:group` (plus `!` when privileged). */
async function held(database: Database, slug: string): Promise<string[]> {
  const ws = await database.db
    .selectFrom('workspaces')
    .select('id')
    .where('slug', '=', slug)
    .executeTakeFirstOrThrow();
  const rows = await database.db
    .selectFrom('entitlement_changes as e')
    .innerJoin('identities as i', 'i.id', 'e.identity_id')
    .select(['i.user_name', 'e.name', 'e.granted', 'e.privileged', 'e.at', 'e.id'])
    .where('e.workspace_id', '=', ws.id)
    .where('e.system', '=', 'ldap:corp')
    .orderBy('e.at')
    .orderBy('e.id')
    .execute();
  const latest = new Map<string, (typeof rows)[number]>();
  for (const row of rows) latest.set(`${row.user_name}:${row.name}`, row);
  return [...latest.values()]
    .filter((r) => r.granted)
    .map((r) => `${r.user_name}:${r.name}${r.privileged ? '!' : ''}`)
    .sort();
}

async function events(database: Database, slug: string, batchId: string) {
  const ws = await database.db
    .selectFrom('workspaces')
    .select('id')
    .where('slug', '=', slug)
    .executeTakeFirstOrThrow();
  const rows = await database.db
    .selectFrom('events as e')
    .leftJoin('identities as i', 'i.id', 'e.target_identity_id')
    .select(['e.action', 'e.class_uid', 'e.activity_id', 'i.user_name', 'e.data'])
    .where('e.workspace_id', '=', ws.id)
    .where('e.batch_id', '=', batchId)
    .execute();
  return rows
    .map((r) => {
      const data = r.data as { privilege?: { name: string } };
      return `${r.class_uid}/${r.activity_id} ${r.action} ${r.user_name}${data.privilege ? ` ${data.privilege.name}` : ''}`;
    })
    .sort();
}

function ldapSettings(url: string, extra: Record<string, unknown> = {}) {
  return { url, bindDn: readerDn, baseDn: suffix, pageSize: 2, ...extra };
}

test('slapd refuses the reader more than 3 entries without paging (so the connector must page)', async (t) => {
  const directory = await startDirectory(t);
  const client = new Client({ url: directory.url });
  t.after(() => client.unbind());
  await client.bind(readerDn, readerPassword);
  await assert.rejects(
    client.search(`ou=people,${suffix}`, { filter: '(objectClass=person)' }),
    (e: unknown) => e instanceof SizeLimitExceededError,
  );
});

test('LDAP: a first pull records accounts, disabled state and group memberships; changes between pulls become events; an identical pull changes nothing', async (t) => {
  const { directory, database, secrets, slug } = await setup(t);
  // HR knows alice: her directory account joins her person record by email.
  await importFile(
    database,
    actor,
    slug,
    'hr-roster',
    Readable.from([
      'employee_id,name,email,title,department,manager_email,employment_type,start_date,end_date,status\n' +
        'E1,Alice Archer,alice@example.com,Engineer,Engineering,,full_time,2024-01-01,,active\n',
    ]),
    { fileName: 'roster.csv' },
  );
  const view = await addConnector(database, secrets, actor, slug, {
    kind: 'ldap',
    name: 'corp',
    settings: ldapSettings(directory.url),
    credentials: { password: readerPassword },
  });
  assert.equal(view.hasCredentials, true);
  assert.ok(!JSON.stringify(view).includes(readerPassword), 'the password is never shown');

  // First pull: a baseline, dated ten minutes ago so that a lock-out can fall between two pulls.
  const firstPullAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000);
  const first = await runConnector(database, secrets, actor, slug, 'corp', { now: firstPullAt });
  assert.equal(first.kind, 'ldap');
  assert.equal(first.pulled.users, 7);
  assert.equal(first.pulled.groups, 4);
  assert.equal(first.pulled.disabledUsers, 2, 'dan (nsAccountLock) and frank (shadowExpire)');
  assert.equal(first.eventsStored, 0, 'a baseline states no changes');
  assert.equal(first.identities, 7);
  let graph = await accounts(database, slug);
  assert.deepEqual(Object.fromEntries([...graph].map(([name, a]) => [name, a.status])), {
    alice: 'active',
    bob: 'active',
    carol: 'active',
    dan: 'deprovisioned',
    eve: 'active',
    frank: 'deprovisioned',
    gina: 'active',
  });
  assert.equal(graph.get('alice')!.email, 'alice@example.com');
  assert.ok(graph.get('alice')!.person_id, 'alice is linked to her HR record by email');
  assert.equal(graph.get('bob')!.person_id, null);
  assert.deepEqual(await held(database, slug), [
    'alice:admins!',
    'alice:engineering',
    'alice:platform-admins!',
    'bob:engineering',
    'bob:platform-admins!',
    'carol:developers',
    'eve:developers',
    'frank:developers',
    'gina:admins!',
  ]);

  // Change the directory.
  const admin = await directory.admin();
  const people = `ou=people,${suffix}`;
  const groups = `ou=groups,${suffix}`;
  const lockedAtIso = new Date(firstPullAt.getTime() + 5 * 60_000).toISOString();
  const lockedAt = lockedAtIso.replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
  await admin.modify(
    `uid=bob,${people}`,
    new Change({
      operation: 'add',
      modification: new Attribute({ type: 'pwdAccountLockedTime', values: ['000001010000Z'] }),
    }),
  );
  await admin.modify(
    `uid=carol,${people}`,
    new Change({
      operation: 'add',
      modification: new Attribute({ type: 'pwdAccountLockedTime', values: [lockedAt] }),
    }),
  );
  await admin.modify(
    `cn=Eve Evans,${people}`,
    new Change({
      operation: 'replace',
      modification: new Attribute({ type: 'userAccountControl', values: ['514'] }),
    }),
  );
  await admin.modify(
    `uid=dan,${people}`,
    new Change({ operation: 'delete', modification: new Attribute({ type: 'nsAccountLock' }) }),
  );
  await admin.modify(
    `cn=admins,${groups}`,
    new Change({
      operation: 'delete',
      modification: new Attribute({ type: 'uniqueMember', values: [`uid=alice,${people}`] }),
    }),
  );
  await admin.modify(
    `cn=engineering,${groups}`,
    new Change({
      operation: 'add',
      modification: new Attribute({ type: 'member', values: [`uid=carol,${people}`] }),
    }),
  );
  await admin.del(`uid=gina,${people}`);
  await admin.add(`uid=hank,${people}`, {
    objectClass: ['inetOrgPerson'],
    uid: 'hank',
    cn: 'Hank Hill',
    sn: 'Hill',
    mail: 'hank@example.com',
  });
  await admin.modify(
    `cn=developers,${groups}`,
    new Change({ operation: 'add', modification: new Attribute({ type: 'memberUid', values: ['hank'] }) }),
  );

  const second = await runConnector(database, secrets, actor, slug, 'corp');
  assert.equal(second.pulled.users, 7);
  assert.deepEqual(await events(database, slug, second.batchId), [
    '3001/1 ldap.user.create hank',
    '3001/2 ldap.user.enable dan',
    '3001/5 ldap.user.disable bob',
    '3001/5 ldap.user.disable eve',
    '3001/6 ldap.user.delete gina',
    '3001/9 ldap.user.lock carol',
    '3006/3 ldap.group.member.add carol engineering',
    '3006/3 ldap.group.member.add carol platform-admins',
    '3006/3 ldap.group.member.add hank developers',
    '3006/4 ldap.group.member.remove alice admins',
  ]);
  graph = await accounts(database, slug);
  assert.deepEqual(Object.fromEntries([...graph].map(([name, a]) => [name, a.status])), {
    alice: 'active',
    bob: 'deprovisioned',
    carol: 'suspended',
    dan: 'active',
    eve: 'deprovisioned',
    frank: 'deprovisioned',
    gina: 'deprovisioned',
    hank: 'active',
  });
  assert.deepEqual(await held(database, slug), [
    'alice:engineering',
    'alice:platform-admins!',
    'bob:engineering',
    'bob:platform-admins!',
    'carol:developers',
    'carol:engineering',
    'carol:platform-admins!',
    'eve:developers',
    'frank:developers',
    'hank:developers',
  ]);
  // The lock-out event is dated when the directory says the lock began.
  const ws = await database.db
    .selectFrom('workspaces')
    .select('id')
    .where('slug', '=', slug)
    .executeTakeFirstOrThrow();
  const lock = await database.db
    .selectFrom('events')
    .select(['time', 'data'])
    .where('workspace_id', '=', ws.id)
    .where('action', '=', 'ldap.user.lock')
    .executeTakeFirstOrThrow();
  assert.equal(lock.time.toISOString(), lockedAtIso);
  assert.equal((lock.data as { accountStatus?: string }).accountStatus, 'suspended');

  // The same directory again: nothing new.
  const before = await held(database, slug);
  const third = await runConnector(database, secrets, actor, slug, 'corp');
  assert.deepEqual(
    { events: third.eventsStored, identities: third.identities, entitlements: third.entitlementChanges },
    { events: 0, identities: 0, entitlements: 0 },
  );
  assert.deepEqual(await held(database, slug), before);

  const [listed] = await listConnectors(database, slug);
  assert.equal(listed!.lastStatus, 'succeeded');
  assert.equal(listed!.cursor?.users, 7);
  assert.ok(!JSON.stringify(listed).includes(readerPassword));
});

test('LDAP: a refused bind fails the pull with the reason, records it on the connector, and stores nothing', async (t) => {
  const { directory, database, secrets, slug } = await setup(t);
  const wrongPassword = 'not-the-Password-91';
  await addConnector(database, secrets, actor, slug, {
    kind: 'ldap',
    name: 'corp',
    settings: ldapSettings(directory.url),
    credentials: { password: wrongPassword },
  });
  await assert.rejects(
    runConnector(database, secrets, actor, slug, 'corp'),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'connector_pull_failed');
      assert.match(e.message, /refused the bind DN/);
      assert.ok(!e.message.includes(wrongPassword));
      return true;
    },
  );
  const [listed] = await listConnectors(database, slug);
  assert.equal(listed!.lastStatus, 'failed');
  assert.match(listed!.lastError ?? '', /refused the bind DN/);
  assert.equal(listed!.cursor, null);
  assert.equal((await accounts(database, slug)).size, 0);
});

test('LDAP settings are validated before anything is stored', async (t) => {
  const { database } = await createTestDatabase(t);
  const secrets = openSecretBox({
    secretKey: randomBytes(32).toString('hex'),
    dataDir: '/nonexistent',
    databaseUrl: undefined,
  });
  await createWorkspace(database, actor, { slug: 'settings' });
  const add = (settings: Record<string, unknown>, credentials: Record<string, string> = { password: 'x' }) =>
    addConnector(database, secrets, actor, 'settings', { kind: 'ldap', name: 'corp', settings, credentials });
  await assert.rejects(add({ url: 'http://x', bindDn: 'cn=a', baseDn: 'dc=x' }), /must be ldap:\/\/host/);
  await assert.rejects(
    add({ url: 'ldap://x', bindDn: 'cn=a', baseDn: 'dc=x', userFilter: '(uid=' }),
    /not an LDAP filter/,
  );
  await assert.rejects(
    add({ url: 'ldap://x', bindDn: 'cn=a', baseDn: 'dc=x', color: 'red' }),
    /unknown connector setting "color"/,
  );
  await assert.rejects(add({ url: 'ldap://x', bindDn: 'cn=a', baseDn: 'dc=x' }, {}), /needs its password/);
  await assert.rejects(add({ url: 'ldap://x', bindDn: 'cn=a' }), /"baseDn" is required/);
  assert.deepEqual(await listConnectors(database, 'settings'), []);
});
