import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { signInWithPassword } from '../../src/domains/accounts/sign-in.service.ts';
import { seedDemoOnStart } from '../../src/domains/demo/start-demo.ts';
import { listAllWorkspaces } from '../../src/domains/workspaces/workspaces.service.ts';
import { AssayError } from '../../src/errors.ts';

const clients = [{ slug: 'acme', name: 'Acme', size: 8, categories: ['security'] }];
const now = new Date('2026-11-23T12:00:00Z');

test('the demo on start: on with --demo or ASSAY_DEMO=true, off by default and whenever either says no', () => {
  const demo = (flag: boolean | undefined, env?: string) =>
    loadConfig({ dataDir: '/tmp/x', demo: flag }, env === undefined ? {} : { ASSAY_DEMO: env }).demoOnStart;
  assert.equal(demo(undefined), false);
  assert.equal(demo(true), true);
  assert.equal(demo(undefined, 'true'), true);
  assert.equal(demo(true, 'false'), false);
  assert.equal(demo(false, 'true'), false);
  assert.equal(demo(false), false);
  assert.throws(
    () => demo(undefined, 'maybe'),
    (e) => e instanceof AssayError && e.code === 'validation_failed' && /ASSAY_DEMO/.test(e.message),
  );
});

test('an empty data directory is seeded with the demo, with progress lines; one with workspaces is left alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-start-demo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = { dataDir: join(dir, 'data'), databaseUrl: undefined };

  const lines: string[] = [];
  const summary = await seedDemoOnStart(config, { log: (l) => lines.push(l), clients, now });
  assert.equal(summary?.msp, 'bluepeak');
  assert.ok(lines[0]?.startsWith('demo: empty data directory'), lines[0]);
  assert.ok(lines.some((l) => l.startsWith('demo: ') && l.includes('acme')));
  assert.match(lines.at(-2) ?? '', /^demo: seeded bluepeak with acme \(8 people\)/);
  // The newcomer can sign in: the password printed once works, with no second factor to enrol.
  const printed = /^demo: sign in as demo@bluepeak\.example with the password (\S+) /.exec(
    lines.at(-1) ?? '',
  );
  assert.ok(printed, lines.at(-1));
  assert.equal(printed[1], summary?.signIn.password);

  const again: string[] = [];
  assert.equal(await seedDemoOnStart(config, { log: (l) => again.push(l), clients, now }), null);
  assert.deepEqual(again, ['demo: not seeded, the data directory already holds 2 workspaces']);

  const database = await openDatabase(config);
  try {
    const slugs = (await listAllWorkspaces(database)).map((w) => w.slug).sort();
    assert.deepEqual(slugs, ['acme', 'bluepeak']);
    const info = { ip: '127.0.0.1', userAgent: 'test' };
    const signedIn = await signInWithPassword(database, {
      email: 'demo@bluepeak.example',
      password: printed[1]!,
      ...info,
    });
    assert.equal(signedIn.status, 'signed_in');
    await assert.rejects(
      signInWithPassword(database, {
        email: 'demo@bluepeak.example',
        password: 'not-the-password-1',
        ...info,
      }),
      (e) => e instanceof AssayError && e.code === 'invalid_credentials',
    );
    const { rows } = await sql<{ role: string; clients: number }>`
      select m.role, cardinality(m.client_workspace_ids)::int as clients from memberships m
        join users u on u.id = m.user_id
        join workspaces w on w.id = m.workspace_id
      where u.email = 'demo@bluepeak.example' and w.slug = 'bluepeak'`.execute(database.db);
    assert.deepEqual(rows, [{ role: 'compliance_manager', clients: 1 }], 'reaches every client of the MSP');
  } finally {
    await database.close();
  }
});
