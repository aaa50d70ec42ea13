import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AssayError } from '../../errors.ts';
import {
  criteriaForCategories,
  currentCatalogVersion,
  listCatalogVersions,
  loadCatalog,
  templatesForCriteria,
} from './catalog.loader.ts';
import { trustServicesCategories } from './catalog.types.ts';

const repositoryCatalog = fileURLToPath(new URL('../../../catalog/', import.meta.url));

// The 61 Trust Services Criteria (TSC 2017, points of focus revised 2022), in official order.
// biome-ignore format: one series per line is easier to check against the standard
const officialCriterionIds = [
  'CC1.1', 'CC1.2', 'CC1.3', 'CC1.4', 'CC1.5',
  'CC2.1', 'CC2.2', 'CC2.3',
  'CC3.1', 'CC3.2', 'CC3.3', 'CC3.4',
  'CC4.1', 'CC4.2',
  'CC5.1', 'CC5.2', 'CC5.3',
  'CC6.1', 'CC6.2', 'CC6.3', 'CC6.4', 'CC6.5', 'CC6.6', 'CC6.7', 'CC6.8',
  'CC7.1', 'CC7.2', 'CC7.3', 'CC7.4', 'CC7.5',
  'CC8.1',
  'CC9.1', 'CC9.2',
  'A1.1', 'A1.2', 'A1.3',
  'C1.1', 'C1.2',
  'PI1.1', 'PI1.2', 'PI1.3', 'PI1.4', 'PI1.5',
  'P1.1',
  'P2.1',
  'P3.1', 'P3.2',
  'P4.1', 'P4.2', 'P4.3',
  'P5.1', 'P5.2',
  'P6.1', 'P6.2', 'P6.3', 'P6.4', 'P6.5', 'P6.6', 'P6.7',
  'P7.1',
  'P8.1',
];

// NIST CSF 2.0 subcategory numbers per category (withdrawn numbers are absent on purpose).
const csfSubcategories: Record<string, number[]> = {
  'GV.OC': [1, 2, 3, 4, 5],
  'GV.RM': [1, 2, 3, 4, 5, 6, 7],
  'GV.RR': [1, 2, 3, 4],
  'GV.PO': [1, 2],
  'GV.OV': [1, 2, 3],
  'GV.SC': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  'ID.AM': [1, 2, 3, 4, 5, 7, 8],
  'ID.RA': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  'ID.IM': [1, 2, 3, 4],
  'PR.AA': [1, 2, 3, 4, 5, 6],
  'PR.AT': [1, 2],
  'PR.DS': [1, 2, 10, 11],
  'PR.PS': [1, 2, 3, 4, 5, 6],
  'PR.IR': [1, 2, 3, 4],
  'DE.CM': [1, 2, 3, 6, 9],
  'DE.AE': [2, 3, 4, 6, 7, 8],
  'RS.MA': [1, 2, 3, 4, 5],
  'RS.AN': [3, 6, 7, 8],
  'RS.CO': [2, 3],
  'RS.MI': [1, 2],
  'RC.RP': [1, 2, 3, 4, 5, 6],
  'RC.CO': [3, 4],
};

const frequencies = ['continuous', 'event_driven', 'daily', 'weekly', 'monthly', 'quarterly', 'annual'];
const ownerRoles = [
  'security_lead',
  'it_admin',
  'engineering_lead',
  'hr_lead',
  'compliance_manager',
  'executive',
  'privacy_officer',
  'operations_lead',
  'legal',
];

const temporaryRoots: string[] = [];
after(() => {
  for (const root of temporaryRoots) rmSync(root, { recursive: true, force: true });
});

/** A copy of the shipped catalog in a temp folder, so a test can break one file of it. */
function copyOfCatalog(): string {
  const root = mkdtempSync(join(tmpdir(), 'assay-catalog-'));
  temporaryRoots.push(root);
  cpSync(join(repositoryCatalog, currentCatalogVersion), join(root, currentCatalogVersion), {
    recursive: true,
  });
  return root;
}

/** Loose view of any catalog file: each test touches only the part it breaks. */
interface EditableCatalogFile {
  criteria: Record<string, unknown>[];
  templates: Record<string, unknown>[];
  mappings: Record<string, string[]>;
}

function editJson(root: string, relative: string, edit: (value: EditableCatalogFile) => void): void {
  const path = join(root, currentCatalogVersion, relative);
  const value = JSON.parse(readFileSync(path, 'utf8'));
  edit(value);
  writeFileSync(path, JSON.stringify(value));
}

function rejects(root: string, expected: { code: string; file: string; path?: string }): AssayError {
  let caught: unknown;
  try {
    loadCatalog(currentCatalogVersion, { root });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof AssayError, `expected an AssayError, got ${String(caught)}`);
  assert.equal(caught.code, expected.code);
  assert.match(
    caught.message,
    new RegExp(`${currentCatalogVersion}/${expected.file}`.replaceAll('.', '\\.')),
  );
  if (expected.path !== undefined) {
    assert.ok(
      caught.message.includes(expected.path),
      `message "${caught.message}" should name ${expected.path}`,
    );
    assert.equal(caught.details?.['path'], expected.path);
  }
  return caught;
}

describe('catalog criteria', () => {
  const catalog = loadCatalog();

  test('holds exactly the 61 official criteria in official order', () => {
    assert.deepEqual(
      catalog.criteria.map((c) => c.id),
      officialCriterionIds,
    );
  });

  test('files each criterion under the right category, with the expected counts', () => {
    const counts = Object.fromEntries(trustServicesCategories.map((category) => [category, 0]));
    for (const criterion of catalog.criteria) {
      counts[criterion.category] = (counts[criterion.category] ?? 0) + 1;
      const prefix = criterion.id.replace(/[0-9].*$/, '');
      const expected = {
        CC: 'security',
        A: 'availability',
        C: 'confidentiality',
        PI: 'processing_integrity',
        P: 'privacy',
      }[prefix];
      assert.equal(criterion.category, expected, criterion.id);
      assert.equal(criterion.series, criterion.id.split('.')[0], criterion.id);
    }
    assert.deepEqual(counts, {
      security: 33,
      availability: 3,
      confidentiality: 2,
      processing_integrity: 5,
      privacy: 18,
    });
  });

  test('gives every criterion a series title, a short title and a description', () => {
    for (const criterion of catalog.criteria) {
      assert.ok(criterion.seriesTitle.length > 0, criterion.id);
      assert.ok(criterion.title.length > 0 && criterion.title.length <= 80, criterion.id);
      assert.ok(criterion.description.length > criterion.title.length, criterion.id);
    }
    const cc6 = catalog.criteria.find((c) => c.id === 'CC6.1');
    assert.equal(cc6?.seriesTitle, 'Logical and Physical Access Controls');
  });
});

describe('catalog control templates', () => {
  const catalog = loadCatalog();
  const criterionIds = new Set(catalog.criteria.map((c) => c.id));

  test('has at least 90 templates with unique ids', () => {
    assert.ok(catalog.templates.length >= 90, `only ${catalog.templates.length} templates`);
    const ids = catalog.templates.map((t) => t.id);
    assert.equal(new Set(ids).size, ids.length);
  });

  test('uses only known frequencies, owner roles and automation modes', () => {
    for (const template of catalog.templates) {
      assert.ok(frequencies.includes(template.frequency), `${template.id}: ${template.frequency}`);
      assert.ok(ownerRoles.includes(template.ownerRole), `${template.id}: ${template.ownerRole}`);
      assert.ok(['automated', 'hybrid', 'manual'].includes(template.automation.mode), template.id);
      assert.ok(template.evidence.length > 0, `${template.id} names no evidence`);
    }
  });

  test('maps only to existing criteria', () => {
    for (const template of catalog.templates) {
      assert.ok(template.criteria.length > 0, `${template.id} maps to no criterion`);
      for (const id of template.criteria)
        assert.ok(criterionIds.has(id), `${template.id} maps to unknown ${id}`);
    }
  });

  test('covers every criterion, and access, operations and change criteria at least twice', () => {
    for (const criterion of catalog.criteria) {
      const covering = templatesForCriteria(catalog, [criterion.id]);
      const minimum = /^CC[678]\./.test(criterion.id) ? 2 : 1;
      assert.ok(covering.length >= minimum, `${criterion.id} is covered by ${covering.length} templates`);
    }
  });

  test('names automated checks on the templates that need them', () => {
    const withCheck = (check: string) =>
      catalog.templates.filter((t) => t.automation.checks.includes(check)).map((t) => t.id);
    assert.ok(withCheck('identity.leaver_access_removed').includes('AC-04'));
    assert.ok(withCheck('identity.mfa_enabled').includes('AC-02'));
    assert.ok(withCheck('change.independent_approval').includes('CHG-01'));
    assert.ok(withCheck('access_review.overdue').includes('AC-05'));
    // Only automated or hybrid controls name checks; a manual control is operated by people.
    for (const template of catalog.templates) {
      if (template.automation.mode === 'manual')
        assert.deepEqual(template.automation.checks, [], template.id);
      assert.ok(template.automation.note.length > 0, template.id);
    }
  });
});

describe('catalog framework crosswalks', () => {
  const catalog = loadCatalog();

  test('ships NIST CSF 2.0 and ISO/IEC 27001:2022, each marked as our own mapping', () => {
    assert.deepEqual(Object.keys(catalog.frameworks).sort(), ['iso27001-2022', 'nist-csf-2.0']);
    for (const crosswalk of Object.values(catalog.frameworks)) {
      assert.match(crosswalk.note, /not an official crosswalk/);
    }
  });

  test('lists the 93 ISO/IEC 27001:2022 Annex A controls', () => {
    const iso = catalog.frameworks['iso27001-2022']!;
    const expected = [
      ...Array.from({ length: 37 }, (_, i) => `A.5.${i + 1}`),
      ...Array.from({ length: 8 }, (_, i) => `A.6.${i + 1}`),
      ...Array.from({ length: 14 }, (_, i) => `A.7.${i + 1}`),
      ...Array.from({ length: 34 }, (_, i) => `A.8.${i + 1}`),
    ];
    assert.equal(iso.ids.length, 93);
    assert.deepEqual(
      iso.ids.map((entry) => entry.id),
      expected,
    );
  });

  test('lists every NIST CSF 2.0 subcategory', () => {
    const csf = catalog.frameworks['nist-csf-2.0']!;
    const expected = Object.entries(csfSubcategories).flatMap(([category, numbers]) =>
      numbers.map((n) => `${category}-${String(n).padStart(2, '0')}`),
    );
    assert.equal(expected.length, 106);
    assert.deepEqual(
      csf.ids.map((entry) => entry.id),
      expected,
    );
  });

  test('maps every criterion to at least one existing id in each framework', () => {
    for (const crosswalk of Object.values(catalog.frameworks)) {
      const known = new Set(crosswalk.ids.map((entry) => entry.id));
      assert.equal(known.size, crosswalk.ids.length, `${crosswalk.framework} repeats an id`);
      for (const entry of crosswalk.ids) assert.ok(entry.title.length > 0, entry.id);
      assert.deepEqual(Object.keys(crosswalk.mappings).sort(), [...officialCriterionIds].sort());
      for (const [criterionId, targets] of Object.entries(crosswalk.mappings)) {
        assert.ok(targets.length > 0, `${crosswalk.framework}: ${criterionId} is unmapped`);
        for (const target of targets) {
          assert.ok(known.has(target), `${crosswalk.framework}: ${criterionId} maps to unknown ${target}`);
        }
      }
    }
  });
});

describe('loadCatalog', () => {
  test('caches per version and freezes the shared result', () => {
    const catalog = loadCatalog();
    assert.equal(loadCatalog(currentCatalogVersion), catalog);
    assert.equal(catalog.version, currentCatalogVersion);
    assert.ok(Object.isFrozen(catalog.criteria[0]));
    assert.throws(() => {
      (catalog.templates as unknown[]).push({});
    }, TypeError);
  });

  test('lists the shipped versions, including the current one', () => {
    assert.ok(listCatalogVersions().includes(currentCatalogVersion));
  });

  test('orders versions numerically and ignores other folders', () => {
    const root = mkdtempSync(join(tmpdir(), 'assay-catalog-'));
    temporaryRoots.push(root);
    for (const name of ['2026.10', '2026.2', '2025.1', 'drafts']) mkdirSync(join(root, name));
    writeFileSync(join(root, '2027.1'), 'a file, not a version folder');
    assert.deepEqual(listCatalogVersions({ root }), ['2025.1', '2026.2', '2026.10']);
  });

  test('rejects an unknown version with catalog_version_not_found', () => {
    for (const version of ['1999.1', 'latest', '../catalog/2026.1']) {
      assert.throws(
        () => loadCatalog(version),
        (error: unknown) =>
          error instanceof AssayError &&
          error.code === 'catalog_version_not_found' &&
          error.message.includes(version) &&
          error.kind === 'not_found',
      );
    }
  });

  test('rejects a template with a bad frequency, naming the file and field', () => {
    const root = copyOfCatalog();
    editJson(root, 'control-templates.json', (value) => {
      value.templates[3]!.frequency = 'sometimes';
    });
    const error = rejects(root, {
      code: 'validation_failed',
      file: 'control-templates.json',
      path: '/templates/3/frequency',
    });
    assert.match(error.message, /"sometimes"/);
  });

  test('rejects a criterion missing its title, naming the field', () => {
    const root = copyOfCatalog();
    editJson(root, 'criteria.json', (value) => {
      delete value.criteria[17]!.title;
    });
    rejects(root, { code: 'validation_failed', file: 'criteria.json', path: '/criteria/17/title' });
  });

  test('rejects an unexpected property', () => {
    const root = copyOfCatalog();
    editJson(root, 'control-templates.json', (value) => {
      value.templates[0]!.owner = 'someone';
    });
    rejects(root, { code: 'validation_failed', file: 'control-templates.json', path: '/templates/0/owner' });
  });

  test('rejects a template mapped to a criterion that does not exist', () => {
    const root = copyOfCatalog();
    editJson(root, 'control-templates.json', (value) => {
      (value.templates[5]!.criteria as string[]).push('CC10.1');
    });
    const error = rejects(root, { code: 'validation_failed', file: 'control-templates.json' });
    assert.match(error.message, /\/templates\/5\/criteria\/\d+: unknown criterion "CC10\.1"/);
  });

  test('rejects duplicate template ids', () => {
    const root = copyOfCatalog();
    editJson(root, 'control-templates.json', (value) => {
      value.templates[1]!.id = value.templates[0]!.id;
    });
    rejects(root, { code: 'validation_failed', file: 'control-templates.json', path: '/templates/1/id' });
  });

  test('rejects a crosswalk to an id the framework does not list', () => {
    const root = copyOfCatalog();
    editJson(root, 'frameworks/iso27001-2022.json', (value) => {
      value.mappings['CC6.1'] = ['A.9.1'];
    });
    const error = rejects(root, {
      code: 'validation_failed',
      file: 'frameworks/iso27001-2022.json',
      path: '/mappings/CC6.1/0',
    });
    assert.match(error.message, /A\.9\.1/);
  });

  test('rejects a criterion filed under the wrong category', () => {
    const root = copyOfCatalog();
    editJson(root, 'criteria.json', (value) => {
      value.criteria[40]!.category = 'security';
    });
    rejects(root, { code: 'validation_failed', file: 'criteria.json', path: '/criteria/40/category' });
  });

  test('rejects a file that is not JSON, naming the file', () => {
    const root = copyOfCatalog();
    writeFileSync(join(root, currentCatalogVersion, 'criteria.json'), '{ "criteria": [');
    rejects(root, { code: 'invalid_json', file: 'criteria.json' });
  });

  test('loads an intact copy from another root', () => {
    const root = copyOfCatalog();
    const copy = loadCatalog(currentCatalogVersion, { root });
    assert.notEqual(copy, loadCatalog());
    assert.equal(copy.templates.length, loadCatalog().templates.length);
  });
});

describe('catalog helpers', () => {
  const catalog = loadCatalog();

  test('criteriaForCategories always includes security', () => {
    assert.equal(criteriaForCategories(catalog, []).length, 33);
    const withPrivacy = criteriaForCategories(catalog, ['privacy']);
    assert.equal(withPrivacy.length, 33 + 18);
    assert.ok(withPrivacy.every((c) => c.category === 'security' || c.category === 'privacy'));
    assert.equal(criteriaForCategories(catalog, trustServicesCategories).length, 61);
  });

  test('criteriaForCategories rejects an unknown category', () => {
    assert.throws(
      () => criteriaForCategories(catalog, ['integrity' as never]),
      (error: unknown) => error instanceof AssayError && error.code === 'unknown_category',
    );
  });

  test('templatesForCriteria returns templates touching at least one criterion', () => {
    const templates = templatesForCriteria(catalog, ['PI1.2']);
    assert.ok(templates.length > 0);
    assert.ok(templates.every((t) => t.criteria.includes('PI1.2')));
    assert.deepEqual(templatesForCriteria(catalog, []), []);
    const security = criteriaForCategories(catalog, []).map((c) => c.id);
    const securityTemplates = templatesForCriteria(catalog, security);
    assert.ok(securityTemplates.every((t) => t.criteria.some((id) => id.startsWith('CC'))));
    assert.ok(!securityTemplates.some((t) => t.id === 'PRIV-06'));
  });
});
