import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliHarness } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-msp-'));
function file(name: string, content: unknown) {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const definition = {
  categories: ['security', 'availability'],
  controls: {
    exclude: ['GOV-08'],
    set: { 'GOV-05': { frequency: 'monthly' } },
    custom: [
      {
        id: 'MSP-BACKUP-01',
        title: 'Nightly backups are restored monthly',
        description: 'The MSP restores one backup a month and keeps the log.',
        frequency: 'monthly',
        ownerRole: 'it_admin',
        criteria: ['A1.2'],
        evidence: ['restore log'],
      },
    ],
  },
  owners: { security_lead: 'soc@msp.example', it_admin: 'ops@msp.example' },
  checks: { 'identity.mfa_enabled': { enabled: true } },
  policies: [{ title: 'Information Security Policy', reviewCadenceDays: 365, body: 'We protect data.' }],
  reviewCadences: { vendors: 180 },
};

test('50 clients from one template in one command; an override survives an update that reports exactly the clients it changes', async (t) => {
  const assay = await cliHarness(t);
  assert.equal((await assay('tenant', 'create', 'acme-msp', '--kind', 'msp')).code, 0);
  const created = await assay(
    '--json',
    'template',
    'create',
    'baseline',
    '--tenant',
    'acme-msp',
    '--file',
    file('t1.json', definition),
  );
  assert.equal(created.code, 0, created.stderr);
  assert.ok(created.json().items['control:MSP-BACKUP-01']);
  assert.equal(created.json().items['control:GOV-08'], undefined);

  // A bad CSV creates nothing and names every bad line.
  const badCsv = file(
    'bad.csv',
    'slug,name,owner:security_lead\nclient-a,A,\nBad Slug,B,\nclient-a,C,\nclient-d,D,not-an-email\n',
  );
  const bad = await assay(
    '--json',
    'tenant',
    'bulk-create',
    '--parent',
    'acme-msp',
    '--template',
    'baseline',
    '--csv',
    badCsv,
  );
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /line 3, slug/);
  assert.match(bad.stderr, /line 4, slug: "client-a" already appears on line 2/);
  assert.match(bad.stderr, /line 5, owner:security_lead/);
  const none = await assay('--json', 'tenant', 'list', '--parent', 'acme-msp');
  assert.equal(none.json().workspaces.length, 0);

  const lines = ['slug,name'];
  for (let i = 1; i <= 50; i++) lines.push(`client-${String(i).padStart(2, '0')},Client ${i}`);
  const bulk = await assay(
    '--json',
    'tenant',
    'bulk-create',
    '--parent',
    'acme-msp',
    '--template',
    'baseline',
    '--csv',
    file('ok.csv', `${lines.join('\n')}\n`),
  );
  assert.equal(bulk.code, 0, bulk.stderr);
  assert.equal(bulk.json().created.length, 50);
  const list = await assay('--json', 'tenant', 'list', '--parent', 'acme-msp');
  assert.equal(list.json().workspaces.length, 50);

  // The client inherited controls, owners by role, the custom control and the frequency change.
  const controls = (await assay('--json', 'controls', 'list', '--tenant', 'client-01')).json().controls as {
    templateId: string;
    owner: string | null;
    ownerRole: string;
    frequency: string;
  }[];
  const gov05 = controls.find((c) => c.templateId === 'GOV-05');
  assert.equal(gov05?.frequency, 'monthly');
  assert.equal(gov05?.owner, 'soc@msp.example');
  assert.ok(controls.some((c) => c.templateId === 'MSP-BACKUP-01' && c.owner === 'ops@msp.example'));
  assert.ok(!controls.some((c) => c.templateId === 'GOV-08'));

  // One client keeps its own security lead.
  const override = await assay(
    '--json',
    'template',
    'override',
    'owner:security_lead',
    '--tenant',
    'client-07',
    '--value',
    'ciso@client7.example',
    '--reason',
    'in-house CISO',
  );
  assert.equal(override.code, 0, override.stderr);

  // The MSP changes the security lead for everyone: the preview names 49 clients, not client-07.
  const next = { ...definition, owners: { ...definition.owners, security_lead: 'security@msp.example' } };
  const preview = await assay(
    '--json',
    'template',
    'set',
    'baseline',
    '--tenant',
    'acme-msp',
    '--file',
    file('t2.json', next),
  );
  assert.equal(preview.code, 0, preview.stderr);
  const p = preview.json();
  assert.equal(p.applied, false);
  assert.deepEqual(
    p.templateChanges.map((c: { item: string }) => c.item),
    ['owner:security_lead'],
  );
  assert.equal(p.clients.length, 49);
  assert.ok(!p.clients.some((c: { client: string }) => c.client === 'client-07'));
  assert.deepEqual(p.unchangedClients, ['client-07']);
  for (const c of p.clients)
    assert.deepEqual(
      c.changes.map((x: { item: string }) => x.item),
      ['owner:security_lead'],
    );
  // The preview changed nothing.
  const still = (await assay('--json', 'controls', 'list', '--tenant', 'client-01')).json().controls;
  assert.equal(still.find((c: { templateId: string }) => c.templateId === 'GOV-05').owner, 'soc@msp.example');

  const applied = await assay(
    '--json',
    'template',
    'set',
    'baseline',
    '--tenant',
    'acme-msp',
    '--file',
    file('t2.json', next),
    '--apply',
  );
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(applied.json().applied, true);
  assert.equal(applied.json().toVersion, 2);
  const after1 = (await assay('--json', 'controls', 'list', '--tenant', 'client-01')).json().controls;
  assert.equal(
    after1.find((c: { templateId: string }) => c.templateId === 'GOV-05').owner,
    'security@msp.example',
  );
  const after7 = (await assay('--json', 'controls', 'list', '--tenant', 'client-07')).json().controls;
  assert.equal(
    after7.find((c: { templateId: string }) => c.templateId === 'GOV-05').owner,
    'ciso@client7.example',
  );

  // A second update to another item reaches client-07 too, and its override still holds.
  const third = { ...next, controls: { ...next.controls, set: { 'GOV-05': { frequency: 'quarterly' } } } };
  const r3 = await assay(
    '--json',
    'template',
    'set',
    'baseline',
    '--tenant',
    'acme-msp',
    '--file',
    file('t3.json', third),
    '--apply',
  );
  assert.equal(r3.json().clients.length, 50);
  const c7 = (await assay('--json', 'controls', 'list', '--tenant', 'client-07')).json().controls;
  const g = c7.find((c: { templateId: string }) => c.templateId === 'GOV-05');
  assert.equal(g.frequency, 'quarterly');
  assert.equal(g.owner, 'ciso@client7.example');
});

test('template definitions are checked field by field', async (t) => {
  const assay = await cliHarness(t);
  await assay('tenant', 'create', 'm', '--kind', 'msp');
  const bad = await assay(
    '--json',
    'template',
    'create',
    'x',
    '--tenant',
    'm',
    '--file',
    file('bad.json', { owners: { security_lead: 'nope' } }),
  );
  assert.equal(bad.code, 2);
  assert.match(bad.json().error.message, /^owners\.security_lead: expected an email address/);
  const badCheck = await assay(
    '--json',
    'template',
    'create',
    'x',
    '--tenant',
    'm',
    '--file',
    file('bad2.json', { checks: { 'identity.nope': {} } }),
  );
  assert.match(badCheck.json().error.message, /checks\.identity\.nope: no built-in check/);
  await assay('tenant', 'create', 'co');
  const notMsp = await assay('--json', 'template', 'create', 'x', '--tenant', 'co');
  assert.equal(notMsp.json().error.code, 'parent_not_msp');
});
