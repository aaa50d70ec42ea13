import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../helpers/app.ts';

test('API: a template is created, a client onboarded from it, an update previewed then applied, an override kept', async (t) => {
  const ctx = await buildTestApp(t);
  const send = (method: 'POST' | 'PUT' | 'GET' | 'DELETE', url: string, payload?: unknown) =>
    ctx.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  assert.equal((await send('POST', '/api/v1/workspaces', { slug: 'msp', kind: 'msp' })).statusCode, 201);
  const definition = {
    controls: { catalog: ['GOV-05', 'GOV-01'] },
    owners: { security_lead: 'soc@msp.example', hr_lead: 'people@msp.example' },
    reviewCadences: { policies: 180 },
  };
  const created = await send('POST', '/api/v1/workspaces/msp/templates', { name: 'lean', definition });
  assert.equal(created.statusCode, 201, created.body);
  assert.deepEqual(Object.keys(created.json().items).sort(), [
    'cadence:policies',
    'control:GOV-01',
    'control:GOV-05',
    'owner:hr_lead',
    'owner:security_lead',
    'scope:categories',
  ]);
  const badDef = await send('POST', '/api/v1/workspaces/msp/templates', {
    name: 'bad',
    definition: { controls: { catalog: ['NOPE-1'] } },
  });
  assert.equal(badDef.statusCode, 400, badDef.body);
  assert.match(badDef.json().message, /controls\.catalog: no catalog control template "NOPE-1"/);

  for (const slug of ['a', 'b']) {
    const onboard = await send('POST', '/api/v1/msp-clients', { parent: 'msp', template: 'lean', slug });
    assert.equal(onboard.statusCode, 201, onboard.body);
  }
  const controls = (await send('GET', '/api/v1/workspaces/a/controls')).json().controls as {
    templateId: string;
  }[];
  assert.deepEqual(controls.map((c) => c.templateId).sort(), ['GOV-01', 'GOV-05']);

  const override = await send(
    'PUT',
    `/api/v1/workspaces/b/template-overrides/${encodeURIComponent('control:GOV-01')}`,
    {
      value: null,
      reason: 'b has no HR function of its own',
    },
  );
  assert.equal(override.statusCode, 200, override.body);
  const bControls = (await send('GET', '/api/v1/workspaces/b/controls')).json().controls as {
    templateId: string;
  }[];
  assert.deepEqual(
    bControls.map((c) => c.templateId),
    ['GOV-05'],
  );

  // A control added to the template reaches both clients; b's exclusion of GOV-01 holds.
  const next = { ...definition, controls: { catalog: ['GOV-05', 'GOV-01', 'GOV-04'] } };
  const preview = await send('PUT', '/api/v1/workspaces/msp/templates/lean', { definition: next });
  assert.equal(preview.statusCode, 200, preview.body);
  assert.equal(preview.json().applied, false);
  assert.deepEqual(
    preview.json().clients.map((c: { client: string }) => c.client),
    ['a', 'b'],
  );
  const applied = await send('PUT', '/api/v1/workspaces/msp/templates/lean', {
    definition: next,
    apply: true,
  });
  assert.equal(applied.json().applied, true);
  const bAfter = (await send('GET', '/api/v1/workspaces/b/controls')).json().controls as {
    templateId: string;
  }[];
  assert.deepEqual(bAfter.map((c) => c.templateId).sort(), ['GOV-04', 'GOV-05']);
  const shown = await send('GET', '/api/v1/workspaces/msp/templates/lean');
  assert.equal(shown.json().version, 2);
  assert.deepEqual(shown.json().clients, ['a', 'b']);

  // An MSP member assigned to client a only sees a, and cannot push a change into b.
  const pat = await ctx.asRole('compliance_manager', 'msp', { clients: ['a'] });
  const third = { ...next, owners: { ...next.owners, security_lead: 'new-soc@msp.example' } };
  const narrow = await pat({
    method: 'PUT',
    url: '/api/v1/workspaces/msp/templates/lean',
    payload: { definition: third },
  });
  assert.equal(narrow.statusCode, 200, narrow.body);
  assert.deepEqual(
    narrow.json().clients.map((c: { client: string }) => c.client),
    ['a'],
  );
  assert.equal(narrow.json().otherClients, 1);
  assert.doesNotMatch(narrow.body, /"b"/);
  const refused = await pat({
    method: 'PUT',
    url: '/api/v1/workspaces/msp/templates/lean',
    payload: { definition: third, apply: true },
  });
  assert.equal(refused.statusCode, 403, refused.body);
  assert.equal((await send('GET', '/api/v1/workspaces/msp/templates/lean')).json().version, 2);
  const patView = await pat({ method: 'GET', url: '/api/v1/workspaces/msp/templates/lean' });
  assert.deepEqual(patView.json().clients, ['a']);

  // Bad override values name the place.
  const bad = await send(
    'PUT',
    `/api/v1/workspaces/a/template-overrides/${encodeURIComponent('owner:security_lead')}`,
    {
      value: 'not-an-email',
    },
  );
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().message, /^value: expected an email address/);
});
