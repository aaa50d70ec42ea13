import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
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
  assert.match(lines.at(-1) ?? '', /^demo: seeded bluepeak with acme \(8 people\)/);

  const again: string[] = [];
  assert.equal(await seedDemoOnStart(config, { log: (l) => again.push(l), clients, now }), null);
  assert.deepEqual(again, ['demo: not seeded, the data directory already holds 2 workspaces']);

  const database = await openDatabase(config);
  try {
    const slugs = (await listAllWorkspaces(database)).map((w) => w.slug).sort();
    assert.deepEqual(slugs, ['acme', 'bluepeak']);
  } finally {
    await database.close();
  }
});
