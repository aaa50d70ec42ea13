/**
 * The SCIM 2.0 service provider over HTTP: Okta's reference exchanges replayed as Okta sends
 * them, Microsoft Entra's PATCH dialect, filters, pagination, errors and authentication — and,
 * after each, what the identity graph holds (account status, entitlements, events).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createScimToken, revokeScimToken } from '../../src/connectors/scim/scim-tokens.service.ts';
import { importFile } from '../../src/domains/ingest/import.service.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { sharedPath } from '../helpers/shared.ts';
import { account, events, footprint, heldEntitlements, operator, pushHarness } from './push-helpers.ts';

const userUrn = 'urn:ietf:params:scim:schemas:core:2.0:User';
const groupUrn = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const enterpriseUrn = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const patchUrn = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const errorUrn = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface Exchange {
  section: string;
  http: string;
  body: unknown;
}

const sample = (name: string) => JSON.parse(readFileSync(sharedPath(`samples/scim/${name}`), 'utf8'));

function assertScimError(
  response: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  scimType?: string,
) {
  assert.equal(response.statusCode, status);
  assert.match(String(response.headers['content-type']), /^application\/scim\+json/);
  const body = response.json() as Record<string, unknown>;
  assert.deepEqual(body.schemas, [errorUrn]);
  assert.equal(body.status, String(status));
  assert.equal(typeof body.detail, 'string');
  if (scimType) assert.equal(body.scimType, scimType);
  return body;
}

describe('SCIM: Okta reference exchanges', () => {
  test('replayed exactly as Okta sends them, with the identity graph checked along the way', async (t) => {
    const h = await pushHarness(t, 'okta');
    const exchanges = sample('okta_scim20_reference_exchanges.json') as Exchange[];
    const requests = exchanges
      .map((e, index) => ({ ...e, index }))
      .filter((e) => /^(GET|POST|PUT|PATCH|DELETE) /.test(e.http));
    assert.equal(requests.length, 15);
    // The ids in Okta's documentation, and the ids this server assigns in their place.
    const ids = new Map<string, string>();
    const substitute = (text: string) => {
      let out = text;
      for (const [theirs, ours] of ids) out = out.replaceAll(theirs, ours);
      return out;
    };
    /** The documented response in the same section with that status (Okta shows alternatives). */
    const documented = (request: (typeof requests)[number], status: number) =>
      exchanges.find((e) => e.section === request.section && e.http.startsWith(`HTTP/1.1 ${status} `));
    const send = async (request: (typeof requests)[number]) => {
      const [method, target] = request.http.split(' ') as [string, string];
      const path = substitute(target).replace(/^\/scim\/v2/, '');
      const body = request.body === null ? undefined : JSON.parse(substitute(JSON.stringify(request.body)));
      return h.scim(method, path, body);
    };
    const subset = (
      actual: Record<string, unknown>,
      expected: Record<string, unknown>,
      skip: string[] = [],
    ) => {
      for (const [key, value] of Object.entries(expected)) {
        if (key === 'id' || key === 'meta' || skip.includes(key)) continue;
        assert.deepEqual(actual[key], value, `attribute ${key}`);
      }
    };

    // 1. Does the user exist? An empty list (Okta also accepts the documented 404).
    let response = await send(requests[0]!);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), documented(requests[0]!, 200)!.body);

    // 2. Create the user: 201 with the documented representation (and no password).
    response = await send(requests[1]!);
    assert.equal(response.statusCode, 201);
    const created = response.json();
    subset(created, documented(requests[1]!, 201)!.body as Record<string, unknown>);
    assert.equal(created.password, undefined);
    assert.equal(created.meta.resourceType, 'User');
    assert.match(created.id, /^[0-9a-f-]{36}$/);
    assert.equal(response.headers.location, created.meta.location);
    assert.equal(response.headers.etag, created.meta.version);
    ids.set('23a35c27-23d3-4c03-b4c5-6443c09e7173', created.id);
    const identity = await account(h.database, h.workspaceId, 'scim:okta', created.id);
    assert.ok(identity, 'the user is an account in system scim:okta');
    assert.equal(identity.status, 'active');
    assert.equal(identity.user_name, 'test.user@okta.local');
    assert.equal(identity.email, 'test.user@okta.local');

    // 3. The same userName again: 409 uniqueness, in SCIM's error format.
    response = await send(requests[2]!);
    const duplicate = assertScimError(response, 409, 'uniqueness');
    assert.deepEqual(
      duplicate.schemas,
      (documented(requests[2]!, 409)!.body as { schemas: string[] }).schemas,
    );

    // 4–6. List, get, get again.
    response = await send(requests[3]!);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().totalResults, 1);
    for (const request of [requests[4]!, requests[5]!]) {
      response = await send(request);
      assert.equal(response.statusCode, 200);
      assert.equal(response.json().id, created.id);
      assert.equal(response.json().userName, 'test.user@okta.local');
    }

    // 7. PUT replaces the user: the documented response, attribute for attribute.
    response = await send(requests[6]!);
    assert.equal(response.statusCode, 200);
    subset(response.json(), documented(requests[6]!, 200)!.body as Record<string, unknown>);
    assert.equal(response.json().meta.version, 'W/"2"');

    // 8. PATCH {"op": "replace", "value": {"active": false}}: deprovisioned in the same request.
    response = await send(requests[7]!);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().active, false);
    assert.equal(response.json().userName, 'test.user@okta.local');
    const disabled = await account(h.database, h.workspaceId, 'scim:okta', created.id);
    assert.equal(disabled?.status, 'deprovisioned');
    const disable = (await events(h.database, h.workspaceId)).filter((e) => e.action === 'scim.user.disable');
    assert.equal(disable.length, 1);
    assert.equal(disable[0]!.class_uid, 3001);
    assert.equal(disable[0]!.activity_id, 5);
    assert.equal(disable[0]!.target_identity_id, disabled?.id);
    // The checks the deactivation triggers were queued in the same transaction.
    const queued = await h.database.inWorkspace(h.workspaceId, (trx) =>
      trx.selectFrom('jobs').select(['kind', 'payload']).where('kind', '=', 'evaluate_checks').execute(),
    );
    assert.equal(queued.length, 1);
    assert.ok((queued[0]!.payload.triggers as string[]).includes('scim'));
    assert.ok((queued[0]!.payload.checkIds as string[]).length > 0);

    // 9–12. Create the group, list it, filter it by displayName, get it.
    response = await send(requests[8]!);
    assert.equal(response.statusCode, 201);
    const group = response.json();
    subset(group, documented(requests[8]!, 201)!.body as Record<string, unknown>);
    ids.set('abf4dd94-a4c0-4f67-89c9-76b03340cb9b', group.id);
    response = await send(requests[9]!);
    assert.equal(response.json().totalResults, 1);
    response = await send(requests[10]!);
    assert.equal(response.json().totalResults, 1);
    assert.equal(response.json().Resources[0].displayName, 'Test SCIMv2');
    response = await send(requests[11]!);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().id, group.id);

    // 13. "Rename" to the same name, with the id repeated in the value: nothing changes.
    const before = await footprint(h.database);
    response = await send(requests[12]!);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().displayName, 'Test SCIMv2');
    assert.deepEqual(await footprint(h.database), before);

    // 14. Replace the members: the known user becomes a member (the unknown id is left out, as
    // Okta's documented answer shows), and holds the group as an entitlement.
    response = await send(requests[13]!);
    assert.equal(response.statusCode, 200);
    const membersDocumented = (
      documented(requests[13]!, 200)!.body as { members: { value: string; display: string }[] }
    ).members;
    assert.deepEqual(
      response
        .json()
        .members.map((m: { value: string; display: string }) => ({ value: m.value, display: m.display })),
      membersDocumented.map((m) => ({ value: substitute(m.value), display: m.display })),
    );
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, identity.id), [
      { name: 'Test SCIMv2', privileged: false },
    ]);
    const added = (await events(h.database, h.workspaceId)).filter(
      (e) => e.action === 'scim.group.member.add',
    );
    assert.equal(added.length, 1);
    assert.equal(added[0]!.class_uid, 3006);
    assert.equal(added[0]!.activity_id, 3);

    // 15. Delete the group: 204, and the entitlement is revoked.
    response = await send(requests[14]!);
    assert.equal(response.statusCode, 204);
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, identity.id), []);
    response = await h.scim('GET', `/Groups/${group.id}`);
    assertScimError(response, 404);
  });
});

describe('SCIM: Microsoft Entra', () => {
  test("Entra's PATCH dialect: capitalised ops, string booleans, filtered and URN paths, values without path", async (t) => {
    const h = await pushHarness(t, 'entra');
    const manager = await h.scim('POST', '/Users', {
      schemas: [userUrn],
      userName: 'boss@contoso.com',
      externalId: 'boss',
    });
    assert.equal(manager.statusCode, 201);
    const created = await h.scim('POST', '/Users', {
      schemas: [userUrn, enterpriseUrn],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7d3e7c8e8a01',
      userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com',
      active: true,
      displayName: 'Test User',
      emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@contoso.com' }],
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      [enterpriseUrn]: { department: 'Engineering', employeeNumber: 1234 },
      roles: [],
    });
    assert.equal(created.statusCode, 201);
    const user = created.json();
    assert.equal(user[enterpriseUrn].employeeNumber, '1234', 'a numeric employee number is read as text');
    assert.ok(user.schemas.includes(enterpriseUrn));

    // Entra looks users up by externalId, and groups with members excluded.
    const lookup = await h.scim(
      'GET',
      `/Users?filter=${encodeURIComponent('externalId eq "0a21f0f2-8d2a-4f8e-bf98-7d3e7c8e8a01"')}`,
    );
    assert.equal(lookup.json().totalResults, 1);
    assert.equal(lookup.json().Resources[0].id, user.id);

    const patched = await h.scim('PATCH', `/Users/${user.id}`, {
      schemas: [patchUrn],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updated@contoso.com' },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
        { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' },
        { op: 'Add', path: `${enterpriseUrn}:department`, value: 'Finance' },
        { op: 'Replace', path: `${enterpriseUrn}:manager`, value: manager.json().id },
        { op: 'Add', value: { title: 'Analyst', 'name.givenName': 'Updated' } },
      ],
    });
    assert.equal(patched.statusCode, 200, patched.body);
    const after = patched.json();
    assert.deepEqual(after.emails, [{ primary: true, type: 'work', value: 'updated@contoso.com' }]);
    assert.deepEqual(after.phoneNumbers, [{ type: 'mobile', value: '+1 555 0100' }]);
    assert.equal(after.name.familyName, 'updatedFamilyName');
    assert.equal(after.name.givenName, 'Updated');
    assert.equal(after.name.formatted, 'givenName familyName', 'sub-attributes not named are kept');
    assert.equal(after.title, 'Analyst');
    assert.equal(after[enterpriseUrn].department, 'Finance');
    assert.equal(after[enterpriseUrn].employeeNumber, '1234');
    assert.deepEqual(after[enterpriseUrn].manager, { value: manager.json().id });
    assert.equal(after.meta.version, 'W/"2"');

    // Disable as Entra does: "Replace" and the string "False".
    const disable = { schemas: [patchUrn], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] };
    let response = await h.scim('PATCH', `/Users/${user.id}`, disable);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().active, false);
    assert.equal((await account(h.database, h.workspaceId, 'scim:entra', user.id))?.status, 'deprovisioned');

    // Entra retries a PATCH it did not see answered: stored once, version unchanged.
    const beforeRetry = await footprint(h.database);
    response = await h.scim('PATCH', `/Users/${user.id}`, disable);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().meta.version, 'W/"3"');
    assert.deepEqual(await footprint(h.database), beforeRetry);
    const lifecycle = (await events(h.database, h.workspaceId)).filter((e) => e.class_uid === 3001);
    assert.deepEqual(
      lifecycle.map((e) => e.action),
      ['scim.user.create', 'scim.user.create', 'scim.user.update', 'scim.user.disable'],
    );
    const update = lifecycle.find((e) => e.action === 'scim.user.update')!;
    assert.match(String(update.data.outcomeReason), /emails.*name.*phoneNumbers.*title/);

    // And enables it again: "True" as a string, with no path.
    response = await h.scim('PATCH', `/Users/${user.id}`, {
      schemas: [patchUrn],
      Operations: [{ op: 'Replace', value: { active: 'True' } }],
    });
    assert.equal(response.json().active, true);
    assert.equal((await account(h.database, h.workspaceId, 'scim:entra', user.id))?.status, 'active');
    const enable = (await events(h.database, h.workspaceId)).filter((e) => e.action === 'scim.user.enable');
    assert.equal(enable.length, 1);
    assert.equal(enable[0]!.activity_id, 2);
  });

  test('Entra group membership: add, remove by value list, remove by filter, rename to a privileged name', async (t) => {
    const h = await pushHarness(t, 'entra');
    const users = [];
    for (const name of ['ada', 'bob', 'cy']) {
      const r = await h.scim('POST', '/Users', {
        schemas: [userUrn],
        userName: `${name}@contoso.com`,
        externalId: name,
      });
      users.push(r.json());
    }
    const [ada, bob, cy] = users as { id: string }[];
    const created = await h.scim('POST', '/Groups', {
      schemas: [groupUrn],
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'Finance',
      members: [],
    });
    assert.equal(created.statusCode, 201);
    const group = created.json();
    const found = await h.scim(
      'GET',
      `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "Finance"')}`,
    );
    assert.equal(found.json().totalResults, 1);
    assert.equal(found.json().Resources[0].members, undefined);

    const patch = (Operations: unknown[]) =>
      h.scim('PATCH', `/Groups/${group.id}`, { schemas: [patchUrn], Operations });
    let response = await patch([
      { op: 'Add', path: 'members', value: [{ value: ada!.id }, { value: bob!.id }, { value: cy!.id }] },
    ]);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().members.length, 3);
    const identity = async (id: string) => (await account(h.database, h.workspaceId, 'scim:entra', id))!.id;
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, await identity(ada!.id)), [
      { name: 'Finance', privileged: false },
    ]);
    const adaUser = await h.scim('GET', `/Users/${ada!.id}`);
    assert.deepEqual(
      adaUser.json().groups.map((g: { value: string; display: string }) => [g.value, g.display]),
      [[group.id, 'Finance']],
    );

    response = await patch([{ op: 'Remove', path: 'members', value: [{ value: ada!.id }] }]);
    assert.deepEqual(
      response
        .json()
        .members.map((m: { value: string }) => m.value)
        .sort(),
      [bob!.id, cy!.id].sort(),
    );
    response = await patch([{ op: 'remove', path: `members[value eq "${bob!.id}"]` }]);
    assert.deepEqual(
      response.json().members.map((m: { value: string }) => m.value),
      [cy!.id],
    );
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, await identity(ada!.id)), []);
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, await identity(bob!.id)), []);

    // A rename moves the remaining member's entitlement to the new, privileged name.
    response = await patch([{ op: 'Replace', path: 'displayName', value: 'Finance Admins' }]);
    assert.equal(response.json().displayName, 'Finance Admins');
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, await identity(cy!.id)), [
      { name: 'Finance Admins', privileged: true },
    ]);
    const groupEvents = (await events(h.database, h.workspaceId)).filter((e) => e.class_uid === 3006);
    assert.deepEqual(
      groupEvents.map((e) => e.action),
      [
        'scim.group.create',
        'scim.group.member.add',
        'scim.group.member.add',
        'scim.group.member.add',
        'scim.group.member.remove',
        'scim.group.member.remove',
        'scim.group.rename',
      ],
    );

    // Removing a member who already left succeeds and changes nothing (a retried removal).
    const before = await footprint(h.database);
    response = await patch([{ op: 'Remove', path: 'members', value: [{ value: ada!.id }] }]);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(await footprint(h.database), before);

    // Deleting a user ends their memberships: the entitlement is revoked, the account deleted.
    response = await h.scim('DELETE', `/Users/${cy!.id}`);
    assert.equal(response.statusCode, 204);
    assert.deepEqual(await heldEntitlements(h.database, h.workspaceId, await identity(cy!.id)), []);
    assert.equal((await account(h.database, h.workspaceId, 'scim:entra', cy!.id))?.status, 'deprovisioned');
    const deleted = (await events(h.database, h.workspaceId)).filter((e) => e.action === 'scim.user.delete');
    assert.equal(deleted.length, 1);
    assert.equal(deleted[0]!.activity_id, 6);
    response = await h.scim('GET', `/Groups/${group.id}`);
    assert.deepEqual(response.json().members, []);
    assert.equal(response.json().meta.version, 'W/"6"');
    assertScimError(await h.scim('GET', `/Users/${cy!.id}`), 404);
  });
});

describe('SCIM: resources, filters and pagination', () => {
  test('the RFC 7643 enterprise user: stored without its password, extension returned', async (t) => {
    const h = await pushHarness(t);
    const body = sample('scim2models_rfc7643-8.3-enterprise_user.json');
    const response = await h.scim('POST', '/Users', body);
    assert.equal(response.statusCode, 201);
    const user = response.json();
    assert.notEqual(user.id, body.id, 'the server assigns ids');
    assert.equal(user.password, undefined);
    assert.deepEqual(user.groups, [], 'groups are managed through Group resources');
    assert.deepEqual(user[enterpriseUrn], body[enterpriseUrn]);
    assert.deepEqual(user.addresses, body.addresses);
    assert.deepEqual(user.schemas, [userUrn, enterpriseUrn]);
    const stored = await h.database.inSystem((trx) =>
      trx.selectFrom('scim_users').select('resource').where('id', '=', user.id).executeTakeFirstOrThrow(),
    );
    assert.equal(JSON.stringify(stored.resource).includes('t1meMa$heen'), false);
    const [created] = (await events(h.database, h.workspaceId)).filter(
      (e) => e.action === 'scim.user.create',
    );
    assert.equal(
      JSON.stringify(created!.raw).includes('t1meMa$heen'),
      false,
      'the event keeps the request, not the password',
    );
    assert.equal((created!.raw as { body: { password: string } }).body.password, '[redacted]');
    const identity = await account(h.database, h.workspaceId, 'scim:okta', user.id);
    assert.equal(identity?.email, 'bjensen@example.com');
    assert.equal(identity?.display_name, 'Babs Jensen');
  });

  test('filters (eq, sw, co, pr, and, or, not, value paths) and pagination', async (t) => {
    const h = await pushHarness(t);
    for (let i = 1; i <= 7; i++) {
      const response = await h.scim('POST', '/Users', {
        schemas: [userUrn],
        userName: `user${i}@example.com`,
        externalId: `ext-${i}`,
        name: { givenName: `Given${i}`, familyName: i % 2 === 0 ? 'Even' : 'Odd' },
        emails: [{ type: i <= 3 ? 'work' : 'home', value: `user${i}@example.com` }],
        active: i !== 7,
        ...(i === 1 ? { title: 'Lead' } : {}),
      });
      assert.equal(response.statusCode, 201);
    }
    const list = async (query: string) => {
      const response = await h.scim('GET', `/Users?${query}`);
      assert.equal(response.statusCode, 200, response.body);
      return response.json();
    };
    const names = (page: { Resources: { userName: string }[] }) => page.Resources.map((r) => r.userName);
    const filter = (text: string) => list(`filter=${encodeURIComponent(text)}`);

    assert.deepEqual(names(await filter('userName eq "USER3@example.com"')), ['user3@example.com']);
    assert.deepEqual(names(await filter('externalId eq "ext-5"')), ['user5@example.com']);
    assert.equal((await filter('externalId eq "EXT-5"')).totalResults, 0, 'externalId is case-exact');
    assert.equal((await filter('name.familyName eq "Even" and active eq true')).totalResults, 3);
    assert.deepEqual(names(await filter('userName sw "user1" or userName ew "7@example.com"')), [
      'user1@example.com',
      'user7@example.com',
    ]);
    assert.equal((await filter('emails[type eq "work" and value co "user2"]')).totalResults, 1);
    assert.equal((await filter('title pr')).totalResults, 1);
    assert.equal((await filter('not (active eq true)')).totalResults, 1);
    assert.equal(
      (await filter('(name.familyName eq "Odd") and not (userName eq "user1@example.com")')).totalResults,
      3,
    );
    assert.equal((await filter('meta.lastModified gt "2000-01-01T00:00:00Z"')).totalResults, 7);

    let page = await list('startIndex=1&count=3');
    assert.equal(page.totalResults, 7);
    assert.equal(page.itemsPerPage, 3);
    assert.equal(page.startIndex, 1);
    assert.deepEqual(names(page), ['user1@example.com', 'user2@example.com', 'user3@example.com']);
    page = await list('startIndex=7&count=3');
    assert.deepEqual(names(page), ['user7@example.com']);
    page = await list('startIndex=0&count=2');
    assert.equal(page.startIndex, 1, 'a startIndex below 1 means 1');
    page = await list('count=0');
    assert.equal(page.totalResults, 7);
    assert.deepEqual(page.Resources, []);
    page = await list(`filter=${encodeURIComponent('name.familyName eq "Odd"')}&startIndex=2&count=2`);
    assert.equal(page.totalResults, 4);
    assert.deepEqual(names(page), ['user3@example.com', 'user5@example.com']);
    page = await list('attributes=userName,name.givenName&count=1');
    assert.deepEqual(Object.keys(page.Resources[0]).sort(), ['id', 'name', 'schemas', 'userName']);
    assert.deepEqual(page.Resources[0].name, { givenName: 'Given1' });

    assertScimError(
      await h.scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`),
      400,
      'invalidFilter',
    );
    assertScimError(
      await h.scim('GET', `/Users?filter=${encodeURIComponent('userName xx "a"')}`),
      400,
      'invalidFilter',
    );
    assertScimError(
      await h.scim('GET', `/Users?filter=${encodeURIComponent('(userName eq "a"')}`),
      400,
      'invalidFilter',
    );
    assertScimError(await h.scim('GET', '/Users?count=many'), 400, 'invalidValue');
  });

  test('discovery: ServiceProviderConfig, ResourceTypes and Schemas', async (t) => {
    const h = await pushHarness(t);
    const config = await h.scim('GET', '/ServiceProviderConfig');
    assert.equal(config.statusCode, 200);
    assert.equal(config.json().patch.supported, true);
    assert.equal(config.json().bulk.supported, false);
    assert.equal(config.json().filter.supported, true);
    assert.equal(config.json().authenticationSchemes[0].type, 'oauthbearertoken');
    const types = await h.scim('GET', '/ResourceTypes');
    assert.deepEqual(
      types.json().Resources.map((r: { id: string }) => r.id),
      ['User', 'Group'],
    );
    assert.equal(
      (await h.scim('GET', '/ResourceTypes/User')).json().schemaExtensions[0].schema,
      enterpriseUrn,
    );
    const schemas = await h.scim('GET', '/Schemas');
    assert.deepEqual(
      schemas.json().Resources.map((r: { id: string }) => r.id),
      [userUrn, enterpriseUrn, groupUrn],
    );
    const user = await h.scim('GET', `/Schemas/${userUrn}`);
    const userName = user.json().attributes.find((a: { name: string }) => a.name === 'userName');
    assert.equal(userName.required, true);
    assert.equal(userName.uniqueness, 'server');
    assertScimError(await h.scim('GET', '/Schemas/urn:nope'), 404);
  });
});

describe('SCIM: errors and authentication', () => {
  test('bad token, unknown workspace, another workspace, revoked token: the same 401', async (t) => {
    const h = await pushHarness(t);
    await createWorkspace(h.database, operator, { slug: 'globex' });
    const other = await createScimToken(h.database, operator, 'globex', {});
    const get = (url: string, authorization?: string) =>
      h.anonymous({ method: 'GET', url, headers: authorization ? { authorization } : {} });
    const bodies = [];
    for (const response of [
      await get('/scim/v2/acme/Users'),
      await get('/scim/v2/acme/Users', 'Bearer wrong'),
      await get('/scim/v2/acme/Users', `Basic ${h.token}`),
      await get('/scim/v2/nowhere/Users', `Bearer ${h.token}`),
      await get('/scim/v2/acme/Users', `Bearer ${other.token}`),
      await get('/scim/v2/globex/Users', `Bearer ${h.token}`),
    ]) {
      bodies.push(assertScimError(response, 401));
      assert.equal(response.headers['www-authenticate'], 'Bearer realm="Assay SCIM"');
    }
    assert.equal(new Set(bodies.map((b) => b.detail)).size, 1, 'one answer for every failure');
    assert.equal((await get('/scim/v2/globex/Users', `Bearer ${other.token}`)).statusCode, 200);
    // An Assay API session is not a SCIM token.
    assertScimError(await h.app.inject({ method: 'GET', url: '/scim/v2/acme/Users' }), 401);

    const tokens = await h.database.inWorkspace(h.workspaceId, (trx) =>
      trx.selectFrom('scim_tokens').select(['id', 'secret_hash']).execute(),
    );
    assert.equal(tokens.length, 1);
    assert.notEqual(tokens[0]!.secret_hash, h.token, 'only the hash is stored');
    await revokeScimToken(h.database, operator, 'acme', tokens[0]!.id);
    assertScimError(await h.scim('GET', '/Users'), 401);
  });

  test('400, 404, 409 and 412 answers, each leaving nothing behind', async (t) => {
    const h = await pushHarness(t);
    const created = await h.scim('POST', '/Users', { schemas: [userUrn], userName: 'Ann@example.com' });
    const id = created.json().id;
    const before = await footprint(h.database);

    assertScimError(
      await h.scim('POST', '/Users', { schemas: [userUrn], userName: 'ann@EXAMPLE.com' }),
      409,
      'uniqueness',
    );
    assertScimError(await h.scim('POST', '/Users', { schemas: [userUrn] }), 400, 'invalidValue');
    assertScimError(
      await h.scim('POST', '/Users', { userName: 'x@example.com', active: 'maybe' }),
      400,
      'invalidValue',
    );
    assertScimError(
      await h.scim('POST', '/Users', { userName: 'x@example.com', emails: 'x@example.com' }),
      400,
      'invalidValue',
    );
    assertScimError(
      await h.scim('POST', '/Users', { userName: 'nul\u0000@example.com' }),
      400,
      'invalidValue',
    );
    assertScimError(await h.scim('POST', '/Users', '{"userName": '), 400, 'invalidSyntax');
    assertScimError(await h.scim('POST', '/Users', '[1, 2]'), 400, 'invalidSyntax');
    assertScimError(await h.scim('POST', '/Groups', { schemas: [groupUrn] }), 400, 'invalidValue');
    assertScimError(await h.scim('GET', '/Users/not-a-uuid'), 404);
    assertScimError(await h.scim('GET', '/Users/00000000-0000-4000-8000-000000000000'), 404);
    assertScimError(await h.scim('DELETE', '/Groups/00000000-0000-4000-8000-000000000000'), 404);
    assertScimError(await h.scim('GET', '/Nope'), 404);
    const patch = (Operations: unknown, headers?: Record<string, string>) =>
      h.scim('PATCH', `/Users/${id}`, { schemas: [patchUrn], Operations }, headers);
    assertScimError(await patch([{ op: 'delete', path: 'title' }]), 400, 'invalidSyntax');
    assertScimError(await patch([{ op: 'remove' }]), 400, 'noTarget');
    assertScimError(await patch([]), 400, 'invalidSyntax');
    assertScimError(
      await patch([{ op: 'replace', path: 'emails[type eq "work"', value: 'x' }]),
      400,
      'invalidPath',
    );
    assertScimError(
      await patch([{ op: 'replace', path: 'emails[type eq]', value: 'x' }]),
      400,
      'invalidFilter',
    );
    assertScimError(
      await patch([{ op: 'replace', path: 'emails[type ne "work"].value', value: 'x' }]),
      400,
      'noTarget',
    );
    assertScimError(await patch([{ op: 'remove', path: 'userName' }]), 400, 'invalidValue');
    assertScimError(await patch([{ op: 'replace', value: 'x' }]), 400, 'invalidValue');
    assertScimError(
      await patch([{ op: 'replace', path: 'title', value: 'x' }], { 'if-match': 'W/"7"' }),
      412,
    );
    assert.equal(
      (await patch([{ op: 'replace', path: 'title', value: 'x' }], { 'if-match': 'W/"1"' })).statusCode,
      200,
    );
    const afterWrite = await footprint(h.database);
    assert.equal(afterWrite.userVersions, before.userVersions! + 1);
    assert.equal(afterWrite.events, before.events! + 1);
  });

  test('a deactivation and its account status commit together: a failing later operation undoes both', async (t) => {
    const h = await pushHarness(t);
    const id = (await h.scim('POST', '/Users', { schemas: [userUrn], userName: 'eve@example.com' })).json()
      .id;
    const before = await footprint(h.database);
    const response = await h.scim('PATCH', `/Users/${id}`, {
      schemas: [patchUrn],
      Operations: [
        { op: 'replace', path: 'active', value: false },
        { op: 'replace', path: 'name', value: 'not an object' },
      ],
    });
    assertScimError(response, 400, 'invalidValue');
    assert.deepEqual(await footprint(h.database), before);
    assert.equal((await account(h.database, h.workspaceId, 'scim:okta', id))?.status, 'active');
    assert.equal((await h.scim('GET', `/Users/${id}`)).json().active, true);
  });

  test('a SCIM account joins the person HR knows by email', async (t) => {
    const h = await pushHarness(t);
    const roster = [
      'employee_id,name,email,title,department,manager_email,employment_type,start_date,end_date,status',
      'E1,Grace Hopper,grace@example.com,Engineer,R&D,,full_time,2020-01-01,,active',
    ].join('\n');
    await importFile(
      h.database,
      operator,
      'acme',
      'hr-roster',
      [Buffer.from(roster)] as unknown as AsyncIterable<Uint8Array>,
      {
        fileName: 'roster.csv',
      },
    );
    const response = await h.scim('POST', '/Users', {
      schemas: [userUrn],
      userName: 'ghopper',
      emails: [{ value: 'Grace@Example.com', type: 'work', primary: true }],
    });
    assert.equal(response.statusCode, 201);
    const identity = await account(h.database, h.workspaceId, 'scim:okta', response.json().id);
    const person = await h.database.inSystem((trx) =>
      trx
        .selectFrom('people')
        .select('id')
        .where('email', '=', 'grace@example.com')
        .executeTakeFirstOrThrow(),
    );
    assert.equal(identity?.person_id, person.id);
    assert.equal(identity?.link_method, 'email');
  });
});
