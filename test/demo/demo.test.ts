import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliActor } from '../../src/cli/runtime.ts';
import { seedDemo } from '../../src/domains/demo/demo.service.ts';
import { generateCompany } from '../../src/domains/demo/demo-data.ts';
import { listWorkspaceFindings } from '../../src/domains/findings/findings.service.ts';
import { listAllWorkspaces } from '../../src/domains/workspaces/workspaces.service.ts';
import { createTestDatabase } from '../helpers/database.ts';

const now = new Date('2026-11-23T12:00:00Z');

test('demo data is deterministic from its seed', () => {
  const a = generateCompany({ slug: 'acme', size: 30, seed: 7, now });
  const b = generateCompany({ slug: 'acme', size: 30, seed: 7, now });
  const c = generateCompany({ slug: 'acme', size: 30, seed: 8, now });
  assert.deepEqual(a.files, b.files);
  assert.notDeepEqual(a.files['hr-roster'], c.files['hr-roster']);
  assert.equal(a.files['hr-roster'].trim().split('\n').length, 31);
});

test('assay demo seeds an MSP with clients whose planted imperfections become findings', async (t) => {
  const { database } = await createTestDatabase(t);
  const summary = await seedDemo(database, cliActor(), {
    now,
    seed: 11,
    clients: [
      { slug: 'acme', name: 'Acme', size: 10, categories: ['security'] },
      { slug: 'globex', name: 'Globex', size: 14, categories: ['security', 'availability'] },
    ],
  });
  const clients = await listAllWorkspaces(database, { parent: 'bluepeak' });
  assert.deepEqual(
    clients.map((w) => w.slug),
    ['acme', 'globex'],
  );
  const open = await listWorkspaceFindings(database, 'acme', { status: 'open' });
  const checks = new Set(open.map((f) => f.check_id));
  for (const id of [
    'identity.leaver_access_removed',
    'identity.privilege_without_request',
    'identity.orphaned_accounts',
    'identity.service_account_owner',
    'identity.root_account_use',
    'change.direct_push_protected_branch',
    'change.branch_protection_weakened',
    'vendor.report_stale',
  ]) {
    assert.ok(checks.has(id), `the demo plants a ${id} finding`);
  }
  assert.ok(summary.clients.every((c) => c.openFindings > 0 && c.events > 0));
  await assert.rejects(seedDemo(database, cliActor(), { now }), /already exists/);
});
