/**
 * The built-in check library as a whole: enough checks, unique ids, criteria and controls that
 * exist in the catalog, settings of plain types, and a behavioural test for every check.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { currentCatalogVersion, loadCatalog } from '../../catalog/catalog.loader.ts';
import { builtInChecks } from './index.ts';

const catalog = loadCatalog(currentCatalogVersion);

test('at least 30 built-in checks, with unique ids', () => {
  assert.ok(builtInChecks.length >= 30, `only ${builtInChecks.length} checks`);
  assert.equal(new Set(builtInChecks.map((c) => c.id)).size, builtInChecks.length);
  for (const check of builtInChecks) assert.match(check.id, /^[a-z_]+\.[a-z0-9_]+$/);
});

test('every check tests catalog criteria and serves at least one catalog control', () => {
  const criteria = new Set(catalog.criteria.map((c) => c.id));
  const templates = new Map(catalog.templates.map((t) => [t.id, t]));
  for (const check of builtInChecks) {
    assert.ok(check.criteria.length > 0, `${check.id} names no criteria`);
    for (const c of check.criteria) assert.ok(criteria.has(c), `${check.id}: unknown criterion ${c}`);
    for (const t of check.controls ?? [])
      assert.ok(templates.has(t), `${check.id}: unknown control template ${t}`);
    const served = catalog.templates.filter(
      (t) => t.automation.checks.includes(check.id) || (check.controls ?? []).includes(t.id),
    );
    assert.ok(served.length > 0, `${check.id} serves no control`);
  }
});

test('settings are numbers, booleans or strings, and every check declares a trigger', () => {
  for (const check of builtInChecks) {
    for (const [key, value] of Object.entries(check.defaults)) {
      assert.ok(['number', 'boolean', 'string'].includes(typeof value), `${check.id}.${key}`);
    }
    const t = check.triggers;
    assert.ok(
      (t.eventClasses?.length ?? 0) + (t.facts?.length ?? 0) > 0 || t.schedule,
      `${check.id} declares no trigger`,
    );
  }
});

test('every built-in check has a behavioural test that names it', () => {
  // The checks in this folder are tested in *.checks.test.ts beside them (titles start with the
  // id); checks other domains contribute (the registers) are tested in those domains.
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const self = fileURLToPath(import.meta.url);
  const tests = (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.ts') && `${root}${f}` !== self)
    .map((f) => readFileSync(`${root}${f}`, 'utf8'))
    .join('\n');
  for (const check of builtInChecks) {
    assert.ok(tests.includes(`'${check.id}`) || tests.includes(`"${check.id}`), `no test names ${check.id}`);
  }
  const here = readdirSync(fileURLToPath(new URL('.', import.meta.url)))
    .filter((f) => f.endsWith('.checks.test.ts'))
    .map((f) => readFileSync(fileURLToPath(new URL(f, import.meta.url)), 'utf8'))
    .join('\n');
  for (const file of ['identity', 'directory', 'change', 'cloud', 'github']) {
    const source = readFileSync(fileURLToPath(new URL(`${file}.checks.ts`, import.meta.url)), 'utf8');
    for (const [, id] of source.matchAll(/id: '([a-z_]+\.[a-z0-9_]+)'/g)) {
      assert.ok(here.includes(`test('${id}:`) || here.includes(`test("${id}:`), `no test titled after ${id}`);
    }
  }
});

test('docs/checks.md documents every built-in check', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../../../docs/checks.md', import.meta.url)), 'utf8');
  for (const check of builtInChecks)
    assert.ok(doc.includes(`### \`${check.id}\``), `docs/checks.md lacks ${check.id}`);
});
