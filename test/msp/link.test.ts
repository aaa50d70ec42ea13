import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createTemplate,
  linkClient,
  setOverride,
  updateTemplate,
} from '../../src/domains/msp/templates.service.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { createTestDatabase } from '../helpers/database.ts';

const actor = { type: 'cli', id: 'link-test' } as const;

test('an existing client joins a template: preview first, then its controls, checks and policies follow it', async (t) => {
  const { database: db } = await createTestDatabase(t);
  await createWorkspace(db, actor, { slug: 'msp', kind: 'msp' });
  const client = await createWorkspace(db, actor, { slug: 'old-client', parent: 'msp' });
  await createWorkspace(db, actor, { slug: 'stranger' });
  await createTemplate(db, actor, 'msp', 'lean', {
    controls: { catalog: ['GOV-05'] },
    owners: { security_lead: 'soc@msp.example' },
    checks: { 'identity.dormant_accounts': { enabled: false } },
    policies: [{ title: 'Acceptable Use', body: 'Be kind to laptops.' }],
  });

  const preview = await linkClient(db, actor, 'msp', 'lean', 'old-client', { apply: false });
  assert.equal(preview.applied, false);
  assert.ok(preview.changes.some((c) => c.item === 'control:GOV-05'));
  const activeBefore = await db.db
    .selectFrom('controls')
    .select('template_id')
    .where('workspace_id', '=', client.id)
    .where('active', '=', true)
    .execute();
  assert.ok(activeBefore.length > 1, 'the preview changed nothing');

  await linkClient(db, actor, 'msp', 'lean', 'old-client', { apply: true });
  const controls = await db.db
    .selectFrom('controls')
    .select(['template_id', 'owner'])
    .where('workspace_id', '=', client.id)
    .where('active', '=', true)
    .execute();
  // Controls outside the template stay (set aside only when a template removes them); GOV-05 is owned.
  assert.equal(controls.find((c) => c.template_id === 'GOV-05')?.owner, 'soc@msp.example');
  const setting = await db.db
    .selectFrom('check_settings')
    .selectAll()
    .where('workspace_id', '=', client.id)
    .executeTakeFirst();
  assert.equal(setting?.check_id, 'identity.dormant_accounts');
  assert.equal(setting?.enabled, false);
  const policy = await db.db
    .selectFrom('policies')
    .selectAll()
    .where('workspace_id', '=', client.id)
    .executeTakeFirst();
  assert.equal(policy?.title, 'Acceptable Use');
  assert.equal(policy?.status, 'draft');
  const version = await db.db
    .selectFrom('policy_versions')
    .selectAll()
    .where('policy_id', '=', policy!.id)
    .executeTakeFirst();
  assert.equal(version?.body, 'Be kind to laptops.');

  // The client re-enables the check; the template later tunes it: the client's choice holds, the setting arrives.
  await setOverride(db, actor, 'old-client', 'check:identity.dormant_accounts', { value: { enabled: true } });
  const update = await updateTemplate(
    db,
    actor,
    'msp',
    'lean',
    {
      controls: { catalog: ['GOV-05'] },
      owners: { security_lead: 'soc@msp.example' },
      checks: { 'identity.dormant_accounts': { enabled: false, settings: { dormantDays: 45 } } },
      policies: [{ title: 'Acceptable Use', body: 'Be kind to laptops.' }],
    },
    { apply: true },
  );
  assert.deepEqual(update.clients[0]?.keptOverrides, ['check:identity.dormant_accounts']);
  const tuned = await db.db
    .selectFrom('check_settings')
    .selectAll()
    .where('workspace_id', '=', client.id)
    .executeTakeFirstOrThrow();
  assert.equal(tuned.enabled, true);
  assert.deepEqual(tuned.settings, { dormantDays: 45 });

  // Only clients of this MSP can join its template.
  await assert.rejects(
    linkClient(db, actor, 'msp', 'lean', 'stranger', { apply: true }),
    /not a client workspace of "msp"/,
  );
});
