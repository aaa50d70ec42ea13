/**
 * Fuzzing the push endpoints (fast-check, fixed seeds): arbitrary bodies, headers, paths and
 * query strings — SCIM-shaped or not, signed or not — never produce a 500, and a refused request
 * never leaves a partial write behind (every table a push writes keeps its row counts and
 * versions).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { mutate } from '../../src/connectors/shared/testing.ts';
import { sharedPath } from '../helpers/shared.ts';
import {
  assaySignature,
  footprint,
  githubSignature,
  type PushHarness,
  pushHarness,
  webhookSecret,
} from './push-helpers.ts';

const seed = 20261123;
const userUrn = 'urn:ietf:params:scim:schemas:core:2.0:User';
const enterpriseUrn = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** A refused request changes nothing; no request is a server error. */
async function checkRequest(h: PushHarness, send: () => Promise<LightMyRequestResponse>, what: string) {
  const before = await footprint(h.database);
  const response = await send();
  assert.ok(response.statusCode < 500, `${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
  if (response.statusCode >= 400) {
    assert.deepEqual(
      await footprint(h.database),
      before,
      `${what}: a ${response.statusCode} left writes behind`,
    );
  }
  return response;
}

// ---------------------------------------------------------------------------------------------
// Generators

const anyJson = fc.jsonValue({ maxDepth: 4 });
const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', 'False', 'true', 'TRUE', '\u0000', '\ud800', 'a'.repeat(600), '0', 'null'),
);
const attributePath = fc.oneof(
  fc.constantFrom(
    'active',
    'userName',
    'displayName',
    'name.givenName',
    'name',
    'emails',
    'emails[type eq "work"].value',
    'emails[type eq "work"]',
    'emails[value co "@"].primary',
    'phoneNumbers[type eq "mobile"].value',
    'members',
    'members[value eq "00000000-0000-4000-8000-000000000000"]',
    'groups',
    'id',
    'meta',
    'externalId',
    `${enterpriseUrn}:department`,
    `${enterpriseUrn}:manager`,
    `${enterpriseUrn}:manager.value`,
    enterpriseUrn,
    `${userUrn}:userName`,
    'urn:example:custom:1.0:User:thing',
    'emails[type eq',
    'a[b eq "c"].d.e',
    '[',
    '',
  ),
  fc.string({ maxLength: 20 }),
);
const value = fc.oneof(
  text,
  anyJson,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.record({ value: text }), { maxLength: 3 }),
);
const operation = fc.record(
  {
    op: fc.oneof(fc.constantFrom('add', 'Add', 'replace', 'Replace', 'remove', 'Remove', 'delete'), text),
    path: attributePath,
    value,
  },
  { requiredKeys: [] },
);
const patchBody = fc.oneof(
  fc.record(
    {
      schemas: fc.oneof(fc.constant(['urn:ietf:params:scim:api:messages:2.0:PatchOp']), anyJson),
      Operations: fc.oneof(fc.array(operation, { maxLength: 5 }), anyJson),
    },
    { requiredKeys: [] },
  ),
  anyJson,
);
const userBody = fc.oneof(
  fc.record(
    {
      schemas: fc.oneof(fc.constant([userUrn]), anyJson),
      userName: fc.oneof(text, anyJson),
      active: fc.oneof(fc.boolean(), text, anyJson),
      name: fc.oneof(fc.record({ givenName: text, familyName: text }, { requiredKeys: [] }), anyJson),
      emails: fc.oneof(
        fc.array(fc.record({ value: text, type: text, primary: value }, { requiredKeys: [] })),
        anyJson,
      ),
      externalId: fc.oneof(text, anyJson),
      [enterpriseUrn]: fc.oneof(
        fc.record({ department: value, manager: value, employeeNumber: value }),
        anyJson,
      ),
      password: text,
      extra: anyJson,
    },
    { requiredKeys: [] },
  ),
  anyJson,
);
const groupBody = fc.oneof(
  fc.record(
    {
      displayName: fc.oneof(text, anyJson),
      members: fc.oneof(
        fc.array(fc.record({ value: fc.oneof(text, fc.constant('USER')) }), { maxLength: 3 }),
        anyJson,
      ),
      externalId: fc.oneof(text, anyJson),
    },
    { requiredKeys: [] },
  ),
  anyJson,
);
const contentType = fc.constantFrom(
  'application/scim+json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '',
);
const filterText = fc.oneof(
  fc.constantFrom(
    'userName eq "user@example.com"',
    'userName eq',
    'not (active eq true)',
    'emails[type eq "work" and value co "@"]',
    '((((((((((((((((((((((((((((((((((((((active pr))))))))))))))))))))))))))))))))))))))',
    'a eq 1 or b eq 2.5e3 and c gt "x"',
    `${enterpriseUrn}:department eq "x"`,
    'displayName eq "\\u0000"',
    'meta.lastModified gt "2020-01-01T00:00:00Z"',
  ),
  fc.string({ maxLength: 60 }),
);

// ---------------------------------------------------------------------------------------------

test('SCIM: arbitrary bodies and headers on every write never give a 500 or a partial write', async (t) => {
  const h = await pushHarness(t);
  const user = (
    await h.scim('POST', '/Users', {
      userName: 'fuzz@example.com',
      emails: [{ value: 'fuzz@example.com', type: 'work' }],
    })
  ).json();
  const other = (await h.scim('POST', '/Users', { userName: 'other@example.com' })).json();
  const group = (
    await h.scim('POST', '/Groups', { displayName: 'Fuzzers', members: [{ value: other.id }] })
  ).json();
  const target = fc.constantFrom(
    { method: 'POST', path: '/Users', body: userBody },
    { method: 'PUT', path: `/Users/${user.id}`, body: userBody },
    { method: 'PATCH', path: `/Users/${user.id}`, body: patchBody },
    { method: 'POST', path: '/Groups', body: groupBody },
    { method: 'PUT', path: `/Groups/${group.id}`, body: groupBody },
    { method: 'PATCH', path: `/Groups/${group.id}`, body: patchBody },
  );
  await fc.assert(
    fc.asyncProperty(
      target.chain((tg) => fc.tuple(fc.constant(tg), tg.body)),
      contentType,
      fc.option(fc.constantFrom('W/"1"', '*', 'garbage', '"9"'), { nil: undefined }),
      async ([tg, rawBody], type, ifMatch) => {
        const body = JSON.stringify(rawBody).replaceAll('"USER"', `"${user.id}"`);
        const response = await checkRequest(
          h,
          () =>
            h.anonymous({
              method: tg.method as 'POST',
              url: `/scim/v2/acme${tg.path}`,
              headers: {
                authorization: `Bearer ${h.token}`,
                ...(type ? { 'content-type': type } : {}),
                ...(ifMatch ? { 'if-match': ifMatch } : {}),
              },
              payload: body,
            }),
          `${tg.method} ${tg.path} ${body.slice(0, 200)}`,
        );
        assert.match(String(response.headers['content-type']), /^application\/scim\+json/);
        if (response.statusCode >= 400) {
          const error = response.json();
          assert.deepEqual(error.schemas, ['urn:ietf:params:scim:api:messages:2.0:Error']);
          assert.equal(error.status, String(response.statusCode));
        }
      },
    ),
    { numRuns: 200, seed },
  );
});

test('SCIM: arbitrary raw bytes, paths, methods and query strings', async (t) => {
  const h = await pushHarness(t);
  await h.scim('POST', '/Users', { userName: 'fuzz@example.com' });
  const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS');
  const path = fc.oneof(
    fc.constantFrom(
      '/Users',
      '/Groups',
      '/Users/x',
      '/Groups/',
      '/Schemas/urn:x',
      '/ResourceTypes/User',
      '/ServiceProviderConfig',
      '/Me',
      '/Bulk',
      '/Users/.search',
    ),
    fc.string({ maxLength: 40 }).map((s) => `/${encodeURIComponent(s)}`),
  );
  const query = fc.record(
    {
      filter: filterText,
      startIndex: fc.oneof(fc.integer().map(String), fc.string({ maxLength: 8 })),
      count: fc.oneof(fc.integer().map(String), fc.string({ maxLength: 8 })),
      attributes: fc.oneof(
        fc.constantFrom('userName,name.givenName', `${enterpriseUrn}:department`, 'members'),
        fc.string({ maxLength: 20 }),
      ),
      excludedAttributes: fc.oneof(
        fc.constantFrom('members', 'id', 'name.givenName'),
        fc.string({ maxLength: 20 }),
      ),
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  );
  await fc.assert(
    fc.asyncProperty(method, path, query, body, contentType, async (m, p, q, b, type) => {
      const search = new URLSearchParams(q as Record<string, string>).toString();
      await checkRequest(
        h,
        () =>
          h.anonymous({
            method: m as 'GET',
            url: `/scim/v2/acme${p}${search ? `?${search}` : ''}`,
            headers: { authorization: `Bearer ${h.token}`, ...(type ? { 'content-type': type } : {}) },
            ...(b === undefined || m === 'GET' ? {} : { payload: b }),
          }),
        `${m} ${p}?${search}`,
      );
    }),
    { numRuns: 150, seed },
  );
  // Without a valid token, whatever the request: 401 and nothing written.
  await fc.assert(
    fc.asyncProperty(method, path, fc.string({ maxLength: 40 }), body, async (m, p, token, b) => {
      const response = await checkRequest(
        h,
        () =>
          h.anonymous({
            method: m as 'GET',
            url: `/scim/v2/acme${p}`,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
            ...(b === undefined || m === 'GET' ? {} : { payload: b }),
          }),
        `${m} ${p} unauthenticated`,
      );
      assert.ok(response.statusCode === 401 || response.statusCode === 404, `${response.statusCode}`);
    }),
    { numRuns: 60, seed },
  );
});

const samples = readdirSync(sharedPath('samples/github_webhooks')).map((name) =>
  readFileSync(sharedPath(`samples/github_webhooks/${name}`), 'utf8'),
);

test('GitHub webhooks: signed mutations of the real payloads, and unsigned anything', async (t) => {
  const h = await pushHarness(t);
  const secret = await webhookSecret(h, 'github');
  const event = fc.oneof(
    fc.constantFrom(
      'push',
      'pull_request',
      'pull_request_review',
      'organization',
      'branch_protection_rule',
      'member',
      'repository',
      'ping',
      'star',
    ),
    fc.string({ maxLength: 12 }),
  );
  const body = fc.oneof(
    fc
      .tuple(fc.constantFrom(...samples), fc.nat(), fc.nat(), fc.string({ maxLength: 12 }), fc.nat())
      .map(([sample, at, length, insert, how]) => mutate(sample, at, length, insert, how)),
    fc
      .tuple(
        fc.constantFrom(...samples),
        anyJson,
        fc.constantFrom(
          'repository',
          'sender',
          'organization',
          'membership',
          'member',
          'rule',
          'pull_request',
          'review',
          'commits',
          'changes',
          'action',
        ),
      )
      .map(([sample, replacement, key]) => JSON.stringify({ ...JSON.parse(sample), [key]: replacement })),
    anyJson.map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 100 }),
  );
  const deliveryId = fc.oneof(fc.uuid(), fc.string({ maxLength: 10 }), fc.constant('x'.repeat(300)));
  await fc.assert(
    fc.asyncProperty(
      event,
      body,
      deliveryId,
      fc.boolean(),
      contentType,
      async (name, payload, id, signed, type) => {
        const response = await checkRequest(
          h,
          () =>
            h.anonymous({
              method: 'POST',
              url: '/webhooks/github/acme',
              headers: {
                'x-github-event': name,
                'x-github-delivery': id,
                ...(type ? { 'content-type': type } : {}),
                'x-hub-signature-256': signed
                  ? githubSignature(secret, payload)
                  : githubSignature('wrong', payload),
              },
              payload,
            }),
          `${name} ${payload.slice(0, 200)}`,
        );
        if (!signed) assert.equal(response.statusCode, 401);
      },
    ),
    { numRuns: 150, seed },
  );
});

test('generic webhooks: signed arbitrary and mutated OCSF bodies', async (t) => {
  const h = await pushHarness(t);
  const secret = await webhookSecret(h, 'feed');
  const event = JSON.stringify({
    class_uid: 3006,
    activity_id: 3,
    time: 1763892060000,
    status_id: 1,
    metadata: { uid: 'evt', product: { name: 'Okta' } },
    user: { name: 'ada@example.com', uid: 'u-1' },
    group: { name: 'Admins' },
  });
  const body = fc.oneof(
    fc
      .tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 12 }), fc.nat())
      .map(([at, length, insert, how]) => mutate(event, at, length, insert, how)),
    fc
      .array(
        fc.record(
          {
            class_uid: fc.oneof(fc.nat(), anyJson),
            activity_id: fc.oneof(fc.nat(), anyJson),
            time: fc.oneof(fc.nat(), anyJson),
            user: anyJson,
            group: anyJson,
            metadata: anyJson,
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      )
      .map((v) => JSON.stringify(v)),
    anyJson.map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 100 }),
  );
  await fc.assert(
    fc.asyncProperty(
      body,
      fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
      async (payload, delivery) => {
        await checkRequest(
          h,
          () =>
            h.anonymous({
              method: 'POST',
              url: '/webhooks/generic/acme/feed',
              headers: {
                'content-type': 'application/json',
                'x-assay-signature': assaySignature(secret, payload),
                ...(delivery === undefined ? {} : { 'x-assay-delivery': delivery || randomUUID() }),
              },
              payload,
            }),
          payload.slice(0, 200),
        );
      },
    ),
    { numRuns: 120, seed },
  );
});
