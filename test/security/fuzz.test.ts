/**
 * Every endpoint's inputs, fuzzed with fast-check from the route's own schemas (plus hostile
 * strings, wrong types, extra fields, broken JSON and junk credentials): no input produces a
 * server error, and no error answer carries a stack trace or SQL. The seed is fixed, so a failure
 * reproduces; ASSAY_FUZZ_RUNS raises the number of cases per route.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { type RouteAccess, routeTable } from '../../src/http/access.ts';
import { buildTestApp, type Inject } from '../helpers/app.ts';

const runs = Number(process.env.ASSAY_FUZZ_RUNS ?? 8);
const seed = 20_261_123;

const hostile = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '\uFFFF',
  '\uD800',
  '../../etc/passwd',
  "'; drop table users; --",
  '" or 1=1 --',
  '%00',
  '%',
  '{{7*7}}',
  '<script>alert(1)</script>',
  'a'.repeat(5000),
  '2026-13-45',
  '0000-00-00T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '-1',
  '1e309',
  'NaN',
  '__proto__',
  'constructor',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'assay_tk_x',
);
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  hostile,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.uuid(),
);

interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

/** Values shaped like the schema most of the time (to get past validation), hostile otherwise. */
function valueFor(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined || depth > 4) return leaf;
  const shaped = ((): fc.Arbitrary<unknown> => {
    if (schema.const !== undefined) return fc.constant(schema.const);
    if (schema.enum) return fc.constantFrom(...schema.enum);
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives) return fc.oneof(...alternatives.map((s) => valueFor(s, depth + 1)));
    switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
      case 'object': {
        const properties = schema.properties ?? {};
        const record = fc.record(
          Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, valueFor(s, depth + 1)])),
          { requiredKeys: [] },
        );
        return fc.oneof(
          { weight: 4, arbitrary: record },
          {
            weight: 1,
            arbitrary: fc
              .tuple(record, fc.dictionary(fc.string(), leaf, { maxKeys: 2 }))
              .map(([a, b]) => ({ ...b, ...a })),
          },
        );
      }
      case 'array':
        return fc.array(valueFor(schema.items, depth + 1), { maxLength: 4 });
      case 'string':
        if (schema.format === 'date-time')
          return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
        if (schema.format === 'uuid') return fc.uuid();
        if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
        return fc.string({
          minLength: schema.minLength ?? 0,
          maxLength: Math.min(schema.maxLength ?? 40, 60),
        });
      case 'integer':
        return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
      case 'number':
        return fc.double({ noNaN: true });
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      default:
        return leaf;
    }
  })();
  return fc.oneof({ weight: 5, arbitrary: shaped }, { weight: 1, arbitrary: leaf });
}

/** Percent-encodes a path segment; a lone surrogate is sent as the invalid UTF-8 it would be. */
function segment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return `%ED%A0%80${encodeURIComponent(value.replace(/[\uD800-\uDFFF]/g, ''))}`;
  }
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

const internals =
  /\bat [\w.<>]+ \(|node:internal|\/src\/|\.ts:\d+|\bselect\b.+\bfrom\b|\binsert into\b|\bviolates\b|relation "|syntax error at/i;

function leaksInternals(res: LightMyRequestResponse): boolean {
  return res.statusCode >= 400 && internals.test(res.body);
}

test('fuzzing every endpoint: no server errors, no internals in error answers', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const acme = (
    await app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } })
  ).json();
  await app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/scope',
    payload: { categories: ['availability'] },
  });
  const control = (await app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/controls' })).json()
    .controls[0];

  const workspaceRef = fc.oneof(
    { weight: 3, arbitrary: fc.constant('acme') },
    { weight: 1, arbitrary: fc.constant(acme.id as string) },
    { weight: 2, arbitrary: fc.oneof(fc.string({ minLength: 1 }), hostile, fc.uuid()) },
  );
  const otherRef = fc.oneof(
    fc.constant(control.id as string),
    fc.constant(control.templateId as string),
    fc.uuid(),
    fc.string({ minLength: 1 }),
    hostile,
  );

  const requestFor = (route: RouteAccess) => {
    const params = [...route.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
    const querySchema = route.schema?.querystring as JsonSchema | undefined;
    const bodySchema = route.schema?.body as JsonSchema | undefined;
    return fc.record({
      params: fc.tuple(...params.map((p) => (p === 'workspace' ? workspaceRef : otherRef))),
      query: querySchema?.properties
        ? fc.dictionary(
            fc.constantFrom(...Object.keys(querySchema.properties), 'extra'),
            fc.oneof(leaf, valueFor(querySchema)).map(asText),
            { maxKeys: 3 },
          )
        : fc.constant({}),
      body: fc.oneof(
        { weight: 6, arbitrary: valueFor(bodySchema).map((v) => ({ json: v })) },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ json: v })) },
        { weight: 1, arbitrary: fc.string().map((raw) => ({ raw })) },
      ),
    });
  };

  const failures: string[] = [];
  const statuses = new Map<number, number>();
  const routes = routeTable(app).filter((r) => r.method !== 'HEAD');
  for (const route of routes) {
    const anonymous = route.access === 'public';
    const endsSession = route.url === '/api/v1/auth/logout';
    let last = '';
    const result = await fc.check(
      fc.asyncProperty(requestFor(route), async ({ params, query, body }) => {
        let i = 0;
        const path = route.url.replace(/:[A-Za-z_]+/g, () => segment(asText(params[i++])));
        const search = new URLSearchParams(query as Record<string, string>).toString();
        const inject: Inject = anonymous
          ? ctx.anonymous
          : endsSession
            ? await ctx.asUser(ctx.admin.userId, ctx.admin.email)
            : app.inject;
        const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
        const res = await inject({
          method: route.method as 'POST',
          url: search ? `${path}?${search}` : path,
          ...(hasBody
            ? 'raw' in body
              ? { payload: body.raw, headers: { 'content-type': 'application/json' } }
              : {
                  payload: JSON.stringify(body.json) ?? 'null',
                  headers: { 'content-type': 'application/json' },
                }
            : {}),
        });
        last = `${res.statusCode} ${res.body.slice(0, 300)}`;
        const family = Math.floor(res.statusCode / 100);
        statuses.set(family, (statuses.get(family) ?? 0) + 1);
        return res.statusCode < 500 && !leaksInternals(res);
      }),
      { numRuns: route.url === '/api/v1/auth/login' ? Math.min(runs, 4) : runs, seed },
    );
    if (result.failed) {
      failures.push(`${route.method} ${route.url} with ${fc.stringify(result.counterexample)} → ${last}`);
    }
  }
  assert.ok(routes.length >= 30);
  assert.deepEqual(failures, []);
  // The inputs got past the door: many were accepted, many refused by validation or lookups.
  assert.ok((statuses.get(2) ?? 0) > routes.length, `2xx answers: ${statuses.get(2)}`);
  assert.ok((statuses.get(4) ?? 0) > routes.length, `4xx answers: ${statuses.get(4)}`);
});

test('fuzzing credentials: junk cookies, CSRF tokens and Authorization headers are refused, never crash', async (t) => {
  const ctx = await buildTestApp(t);
  await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  const header = fc.oneof(
    fc.string(),
    hostile,
    fc.string().map((s) => `Bearer ${s}`),
    fc.constant('Bearer assay_tk_'),
  );
  await fc.assert(
    fc.asyncProperty(
      header,
      header,
      header,
      fc.constantFrom('GET', 'PUT'),
      async (authorization, cookie, csrf, method) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of [
          ['authorization', authorization],
          ['cookie', `assay_session=${cookie}`],
          ['x-csrf-token', csrf],
        ] as const) {
          // Node refuses some bytes in headers before they reach us; those cannot be sent at all.
          if (/^[\t\x20-\x7e\x80-\xff]*$/.test(value)) headers[name] = value;
        }
        const res = await ctx.app.inject({
          method,
          url: '/api/v1/workspaces/acme/scope',
          headers,
          ...(method === 'PUT' ? { payload: { categories: [] } } : {}),
        });
        return [401, 403].includes(res.statusCode) && !leaksInternals(res);
      },
    ),
    { numRuns: 60, seed },
  );
});
