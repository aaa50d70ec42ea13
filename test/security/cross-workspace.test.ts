/**
 * One workspace never reaches another's data through the API: not by guessing slugs or ids, not
 * with ids leaked from the other workspace, not with the other workspace's token, not through an
 * MSP membership that does not list the client.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { workspacePermissions } from '../../src/domains/access/permissions.ts';
import { buildTestApp } from '../helpers/app.ts';

async function setUp(t: Parameters<typeof buildTestApp>[0]) {
  const ctx = await buildTestApp(t);
  const ids: Record<string, string> = {};
  for (const [slug, extra] of [
    ['bluepeak', { kind: 'msp' }],
    ['acme', { parent: 'bluepeak' }],
    ['zenith', { parent: 'bluepeak' }],
    ['alpha', {}],
    ['bravo', {}],
  ] as const) {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/workspaces',
      payload: { slug, ...extra },
    });
    ids[slug] = res.json().id;
  }
  for (const slug of ['acme', 'zenith', 'alpha', 'bravo']) {
    await ctx.app.inject({
      method: 'PUT',
      url: `/api/v1/workspaces/${slug}/scope`,
      payload: { categories: [] },
    });
  }
  return { ...ctx, ids };
}

test('guessed slugs and ids: no access looks the same whether the workspace exists or not', async (t) => {
  const ctx = await setUp(t);
  const alphaOwner = await ctx.asRole('owner', 'alpha');
  const probes = ['bravo', ctx.ids.bravo!, ctx.ids.bravo!.toUpperCase(), 'ghost', randomUUID()];
  const answers = [];
  for (const ref of probes) {
    for (const path of ['', '/controls', '/members', '/tokens', '/audit-trail', '/scope']) {
      const res = await alphaOwner({
        method: 'GET',
        url: `/api/v1/workspaces/${encodeURIComponent(ref)}${path}`,
      });
      assert.equal(res.statusCode, 403, `${ref}${path}`);
      assert.equal(res.json().code, 'forbidden');
      answers.push(res.json().message.replace(ref, '<ref>'));
    }
  }
  assert.equal(new Set(answers).size, 1, 'existing and invented workspaces give identical refusals');
  const write = await alphaOwner({
    method: 'PUT',
    url: `/api/v1/workspaces/${ctx.ids.bravo}/scope`,
    payload: { categories: ['privacy'] },
  });
  assert.equal(write.statusCode, 403);
  // Only alpha is listed; bravo as a parent filter looks unknown.
  const listed = await alphaOwner({ method: 'GET', url: '/api/v1/workspaces' });
  assert.deepEqual(
    listed.json().workspaces.map((w: { slug: string }) => w.slug),
    ['alpha'],
  );
  const byParent = await alphaOwner({ method: 'GET', url: '/api/v1/workspaces?parent=bluepeak' });
  const byGhost = await alphaOwner({ method: 'GET', url: '/api/v1/workspaces?parent=ghostly' });
  assert.equal(byParent.statusCode, 404);
  assert.equal(
    byParent.json().message.replace('bluepeak', '<x>'),
    byGhost.json().message.replace('ghostly', '<x>'),
  );
  // A platform admin is told the truth.
  assert.equal(
    (await ctx.app.inject({ method: 'GET', url: `/api/v1/workspaces/${randomUUID()}` })).statusCode,
    404,
  );
});

test("leaked ids: bravo's control, member and token ids do nothing through alpha's URLs", async (t) => {
  const ctx = await setUp(t);
  const alphaOwner = await ctx.asRole('owner', 'alpha');
  const bravoMember = await ctx.asRole('reviewer', 'bravo');
  const bravoToken = await ctx.asToken('bravo', ['controls:read']);
  const bravoControl = (
    await ctx.app.inject({ method: 'GET', url: '/api/v1/workspaces/bravo/controls' })
  ).json().controls[0];
  const bravoMembership = (
    await ctx.app.inject({ method: 'GET', url: '/api/v1/workspaces/bravo/members' })
  ).json().members[0];

  const control = await alphaOwner({
    method: 'GET',
    url: `/api/v1/workspaces/alpha/controls/${bravoControl.id}`,
  });
  assert.equal(control.statusCode, 404);
  const patch = await alphaOwner({
    method: 'PATCH',
    url: `/api/v1/workspaces/alpha/controls/${bravoControl.id}`,
    payload: { owner: 'intruder@alpha.example' },
  });
  assert.equal(patch.statusCode, 404);
  const revoke = await alphaOwner({
    method: 'DELETE',
    url: `/api/v1/workspaces/alpha/tokens/${bravoToken.tokenId}`,
  });
  assert.equal(revoke.statusCode, 404);
  assert.equal(revoke.json().code, 'token_not_found');
  for (const ref of [bravoMembership.id, bravoMember.credentials.email]) {
    const remove = await alphaOwner({
      method: 'DELETE',
      url: `/api/v1/workspaces/alpha/members/${encodeURIComponent(ref)}`,
    });
    assert.equal(remove.statusCode, 404, ref);
  }
  // Bravo is untouched.
  assert.equal(
    (await bravoToken({ method: 'GET', url: '/api/v1/workspaces/bravo/controls' })).statusCode,
    200,
  );
  assert.equal(
    (await bravoMember({ method: 'GET', url: '/api/v1/workspaces/bravo/controls' })).statusCode,
    200,
  );
  const still = (
    await ctx.app.inject({ method: 'GET', url: `/api/v1/workspaces/bravo/controls/${bravoControl.id}` })
  ).json();
  assert.equal(still.owner, null);
  const trail = (await ctx.app.inject({ method: 'GET', url: '/api/v1/workspaces/bravo/audit-trail' })).json()
    .entries;
  assert.ok(
    !trail.some((e: { action: string }) => e.action === 'token.revoked' || e.action === 'member.removed'),
  );
});

test("a token of workspace A used on workspace B's URLs is refused, whatever its permissions", async (t) => {
  const ctx = await setUp(t);
  const alphaToken = await ctx.asToken('alpha', [...workspacePermissions]);
  for (const ref of ['bravo', ctx.ids.bravo!, 'acme', 'ghost']) {
    for (const [method, path, payload] of [
      ['GET', '/controls', undefined],
      ['GET', '/members', undefined],
      ['PUT', '/scope', { categories: [] }],
      ['POST', '/tokens', { name: 'pivot', permissions: ['controls:read'] }],
      ['POST', '/members', { email: 'mallory@evil.example', role: 'owner' }],
    ] as const) {
      const res = await alphaToken({
        method,
        url: `/api/v1/workspaces/${ref}${path}`,
        ...(payload ? { payload } : {}),
      });
      assert.equal(res.statusCode, 403, `${method} ${ref}${path}`);
    }
  }
  const create = await alphaToken({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'minted' } });
  assert.equal(create.statusCode, 403, 'tokens never create workspaces');
  const listed = await alphaToken({ method: 'GET', url: '/api/v1/workspaces' });
  assert.deepEqual(
    listed.json().workspaces.map((w: { slug: string }) => w.slug),
    ['alpha'],
  );
  assert.equal(
    (await alphaToken({ method: 'GET', url: '/api/v1/workspaces/alpha/controls' })).statusCode,
    200,
  );
});

test('MSP memberships reach exactly the listed clients, and only while they are clients', async (t) => {
  const ctx = await setUp(t);
  const analyst = await ctx.asRole('compliance_manager', 'bluepeak', { clients: ['acme'] });
  assert.equal((await analyst({ method: 'GET', url: '/api/v1/workspaces/acme/controls' })).statusCode, 200);
  assert.equal((await analyst({ method: 'GET', url: '/api/v1/workspaces/bluepeak' })).statusCode, 200);
  assert.equal((await analyst({ method: 'GET', url: '/api/v1/workspaces/zenith/controls' })).statusCode, 403);
  assert.equal((await analyst({ method: 'GET', url: '/api/v1/workspaces/alpha/controls' })).statusCode, 403);
  const listed = (await analyst({ method: 'GET', url: '/api/v1/workspaces' })).json().workspaces;
  assert.deepEqual(listed.map((w: { slug: string }) => w.slug).sort(), ['acme', 'bluepeak']);
  const clients = (await analyst({ method: 'GET', url: '/api/v1/workspaces?parent=bluepeak' })).json()
    .workspaces;
  assert.deepEqual(
    clients.map((w: { slug: string }) => w.slug),
    ['acme'],
  );
  // Listing a workspace that is not a client is refused at the door…
  const notClient = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/bluepeak/members',
    payload: { email: 'reach@bluepeak.example', role: 'admin', clients: ['alpha'] },
  });
  assert.equal(notClient.statusCode, 400);
  assert.match(notClient.json().message, /not a client workspace of "bluepeak"/);
  // …and a list smuggled into the database reaches nothing that is not a client.
  await ctx.database.db
    .updateTable('memberships')
    .set({ client_workspace_ids: [ctx.ids.acme!, ctx.ids.alpha!] })
    .where('workspace_id', '=', ctx.ids.bluepeak!)
    .execute();
  assert.equal((await analyst({ method: 'GET', url: '/api/v1/workspaces/alpha/controls' })).statusCode, 403);
  assert.equal((await analyst({ method: 'GET', url: '/api/v1/workspaces/acme/controls' })).statusCode, 200);
  // Client lists belong to MSP workspaces only.
  const onCompany = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/alpha/members',
    payload: { email: 'x@alpha.example', role: 'admin', clients: ['acme'] },
  });
  assert.equal(onCompany.statusCode, 400);
});
