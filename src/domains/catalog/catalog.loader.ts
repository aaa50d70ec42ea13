/**
 * Loads a versioned catalog from `catalog/<version>/`: criteria, control templates and framework
 * crosswalks. Every file is validated against a schema and cross-checked (template criteria exist,
 * crosswalk ids exist, ids are unique) so that a bad edit fails loudly, naming the file and the
 * JSON path of the bad field, instead of producing silently wrong coverage.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { AssayError } from '../../errors.ts';
import {
  automationModes,
  type Catalog,
  type ControlTemplate,
  type Criterion,
  controlFrequencies,
  controlOwnerRoles,
  type FrameworkCrosswalk,
  type TrustServicesCategory,
  trustServicesCategories,
} from './catalog.types.ts';

export const currentCatalogVersion = '2026.1';

export interface CatalogLocation {
  /** Folder holding one sub-folder per catalog version; defaults to the repository's `catalog/`. */
  root?: string;
}

const defaultRoot = fileURLToPath(new URL('../../../catalog/', import.meta.url));
const versionPattern = /^\d{4}\.\d+$/;

// Series prefix → category; a criterion filed under the wrong category would scope the wrong controls.
const categoryBySeriesPrefix: Record<string, TrustServicesCategory> = {
  CC: 'security',
  A: 'availability',
  C: 'confidentiality',
  PI: 'processing_integrity',
  P: 'privacy',
};

const Text = Type.String({ minLength: 1 });
const CriterionId = Type.String({ pattern: '^(CC|A|C|PI|P)[0-9]+\\.[0-9]+$' });

const CriterionSchema = Type.Object(
  {
    id: CriterionId,
    category: Type.Enum(trustServicesCategories),
    series: Type.String({ pattern: '^(CC|A|C|PI|P)[0-9]+$' }),
    seriesTitle: Text,
    title: Text,
    description: Text,
  },
  { additionalProperties: false },
);

const CriteriaFileSchema = Type.Object(
  { source: Text, note: Text, criteria: Type.Array(CriterionSchema, { minItems: 1 }) },
  { additionalProperties: false },
);

const TemplateSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Z]{2,5}-[0-9]{2,3}$' }),
    title: Text,
    description: Text,
    frequency: Type.Enum(controlFrequencies),
    ownerRole: Type.Enum(controlOwnerRoles),
    criteria: Type.Array(CriterionId, { minItems: 1, uniqueItems: true }),
    evidence: Type.Array(Text, { minItems: 1 }),
    automation: Type.Object(
      {
        mode: Type.Enum(automationModes),
        checks: Type.Array(Type.String({ pattern: '^[a-z_]+(\\.[a-z_]+)+$' }), { uniqueItems: true }),
        note: Text,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

const TemplatesFileSchema = Type.Object(
  { templates: Type.Array(TemplateSchema, { minItems: 1 }) },
  { additionalProperties: false },
);

const FrameworkFileSchema = Type.Object(
  {
    framework: Type.String({ pattern: '^[a-z0-9][a-z0-9.-]*$' }),
    name: Text,
    version: Text,
    note: Text,
    ids: Type.Array(Type.Object({ id: Text, title: Text }, { additionalProperties: false }), { minItems: 1 }),
    mappings: Type.Record(Type.String(), Type.Array(Text, { minItems: 1, uniqueItems: true })),
  },
  { additionalProperties: false },
);

const validators = {
  criteria: Compile(CriteriaFileSchema),
  templates: Compile(TemplatesFileSchema),
  framework: Compile(FrameworkFileSchema),
};

const cache = new Map<string, Catalog>();

/** Catalog versions available under the root, oldest first. */
export function listCatalogVersions(location: CatalogLocation = {}): string[] {
  const root = location.root ?? defaultRoot;
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names
    .filter((name) => versionPattern.test(name) && statSync(join(root, name)).isDirectory())
    .sort(compareVersions);
}

/** Loads (once per root and version) and validates a catalog version. */
export function loadCatalog(
  version: string = currentCatalogVersion,
  location: CatalogLocation = {},
): Catalog {
  const root = location.root ?? defaultRoot;
  const key = `${root}\n${version}`;
  const cached = cache.get(key);
  if (cached) return cached;

  // The pattern check also keeps a version string from walking out of the catalog folder.
  if (!versionPattern.test(version) || !isDirectory(join(root, version))) {
    const available = listCatalogVersions({ root });
    throw new AssayError(
      'catalog_version_not_found',
      `Catalog version "${version}" does not exist; available: ${available.join(', ') || 'none'}`,
      { version, available },
    );
  }

  const catalog = deepFreeze(readCatalog(root, version));
  cache.set(key, catalog);
  return catalog;
}

/** Criteria in scope for the given categories, in official order; security is always in scope. */
export function criteriaForCategories(
  catalog: Catalog,
  categories: Iterable<TrustServicesCategory>,
): Criterion[] {
  const wanted = new Set<string>(['security']);
  for (const category of categories) {
    if (!(trustServicesCategories as readonly string[]).includes(category)) {
      throw new AssayError(
        'unknown_category',
        `Unknown Trust Services category "${category}"; expected one of: ${trustServicesCategories.join(', ')}`,
        { category },
      );
    }
    wanted.add(category);
  }
  return catalog.criteria.filter((criterion) => wanted.has(criterion.category));
}

/** Templates that map to at least one of the given criteria, in catalog order. */
export function templatesForCriteria(catalog: Catalog, criterionIds: Iterable<string>): ControlTemplate[] {
  const wanted = new Set(criterionIds);
  return catalog.templates.filter((template) => template.criteria.some((id) => wanted.has(id)));
}

function readCatalog(root: string, version: string): Catalog {
  const criteriaFile = readCatalogFile(root, version, 'criteria.json');
  if (!validators.criteria.Check(criteriaFile.value)) throw schemaError(criteriaFile, validators.criteria);
  const criteria: Criterion[] = criteriaFile.value.criteria;
  checkCriteria(criteriaFile, criteria);
  const criterionIds = new Set(criteria.map((criterion) => criterion.id));

  const templatesFile = readCatalogFile(root, version, 'control-templates.json');
  if (!validators.templates.Check(templatesFile.value))
    throw schemaError(templatesFile, validators.templates);
  const templates: ControlTemplate[] = templatesFile.value.templates;
  checkTemplates(templatesFile, templates, criterionIds);

  const frameworks: Record<string, FrameworkCrosswalk> = {};
  for (const name of listFrameworkFiles(join(root, version, 'frameworks'))) {
    const file = readCatalogFile(root, version, `frameworks/${name}`);
    if (!validators.framework.Check(file.value)) throw schemaError(file, validators.framework);
    const crosswalk: FrameworkCrosswalk = file.value;
    checkCrosswalk(file, crosswalk, name, criterionIds);
    frameworks[crosswalk.framework] = crosswalk;
  }

  return { version, criteria, templates, frameworks };
}

function checkCriteria(file: CatalogFile, criteria: readonly Criterion[]): void {
  const seen = new Set<string>();
  criteria.forEach((criterion, index) => {
    const at = `/criteria/${index}`;
    if (seen.has(criterion.id)) fail(file, `${at}/id`, `duplicate criterion id "${criterion.id}"`);
    seen.add(criterion.id);
    const series = criterion.id.split('.')[0] ?? '';
    if (criterion.series !== series) {
      fail(file, `${at}/series`, `series "${criterion.series}" does not match id "${criterion.id}"`);
    }
    const expected = categoryBySeriesPrefix[series.replace(/[0-9]+$/, '')];
    if (criterion.category !== expected) {
      fail(file, `${at}/category`, `category "${criterion.category}" does not match id "${criterion.id}"`);
    }
  });
}

function checkTemplates(
  file: CatalogFile,
  templates: readonly ControlTemplate[],
  criterionIds: ReadonlySet<string>,
): void {
  const seen = new Set<string>();
  templates.forEach((template, index) => {
    if (seen.has(template.id)) fail(file, `/templates/${index}/id`, `duplicate template id "${template.id}"`);
    seen.add(template.id);
    template.criteria.forEach((id, position) => {
      if (!criterionIds.has(id)) {
        fail(file, `/templates/${index}/criteria/${position}`, `unknown criterion "${id}"`);
      }
    });
  });
}

function checkCrosswalk(
  file: CatalogFile,
  crosswalk: FrameworkCrosswalk,
  fileName: string,
  criterionIds: ReadonlySet<string>,
): void {
  if (`${crosswalk.framework}.json` !== fileName) {
    fail(file, '/framework', `framework "${crosswalk.framework}" does not match the file name`);
  }
  const known = new Set<string>();
  crosswalk.ids.forEach((entry, index) => {
    if (known.has(entry.id)) fail(file, `/ids/${index}/id`, `duplicate framework id "${entry.id}"`);
    known.add(entry.id);
  });
  for (const [criterionId, targets] of Object.entries(crosswalk.mappings)) {
    const at = `/mappings/${escapePointer(criterionId)}`;
    if (!criterionIds.has(criterionId)) fail(file, at, `unknown criterion "${criterionId}"`);
    targets.forEach((target, position) => {
      if (!known.has(target)) fail(file, `${at}/${position}`, `"${target}" is not in this framework's ids`);
    });
  }
}

interface CatalogFile {
  /** Path shown in messages, relative to the catalog root, e.g. "2026.1/criteria.json". */
  readonly label: string;
  readonly path: string;
  readonly version: string;
  readonly value: unknown;
}

function readCatalogFile(root: string, version: string, relative: string): CatalogFile {
  const label = `${version}/${relative}`;
  const path = join(root, version, ...relative.split('/'));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AssayError('validation_failed', `Catalog file ${label} is missing`, { file: path, version });
    }
    throw error;
  }
  try {
    return { label, path, version, value: JSON.parse(text) };
  } catch (error) {
    throw new AssayError(
      'invalid_json',
      `Catalog file ${label} is not valid JSON: ${(error as Error).message}`,
      {
        file: path,
        version,
      },
    );
  }
}

function listFrameworkFiles(folder: string): string[] {
  if (!isDirectory(folder)) return [];
  return readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

interface SchemaValidator {
  Errors(value: unknown): { keyword: string; instancePath: string; params: object; message: string }[];
}

function schemaError(file: CatalogFile, validator: SchemaValidator): AssayError {
  const errors = validator.Errors(file.value).map((error) => describeSchemaError(file.value, error));
  // The first error is the most specific; the rest travel in details for the curious.
  const first = errors[0] ?? { path: '', reason: 'does not match the catalog schema' };
  return catalogError(file, first.path, first.reason, { errors: errors.slice(0, 10) });
}

function describeSchemaError(
  value: unknown,
  error: { keyword: string; instancePath: string; params: object; message: string },
): { path: string; reason: string } {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && Array.isArray(params['requiredProperties'])) {
    const missing = params['requiredProperties'] as string[];
    return { path: `${error.instancePath}/${escapePointer(missing[0] ?? '')}`, reason: 'is required' };
  }
  // additionalProperties: false reports the extra property itself as failing a `false` schema.
  if (error.keyword === 'boolean') return { path: error.instancePath, reason: 'is not an allowed property' };
  if (error.keyword === 'enum' && Array.isArray(params['allowedValues'])) {
    const got = JSON.stringify(resolvePointer(value, error.instancePath));
    return {
      path: error.instancePath,
      reason: `must be one of ${(params['allowedValues'] as unknown[]).join(', ')} (got ${got})`,
    };
  }
  return { path: error.instancePath, reason: error.message };
}

function fail(file: CatalogFile, path: string, reason: string): never {
  throw catalogError(file, path, reason);
}

function catalogError(
  file: CatalogFile,
  path: string,
  reason: string,
  extra: Record<string, unknown> = {},
): AssayError {
  const where = path === '' ? '(root)' : path;
  return new AssayError('validation_failed', `Catalog file ${file.label} is invalid at ${where}: ${reason}`, {
    file: file.path,
    version: file.version,
    path: where,
    reason,
    ...extra,
  });
}

function resolvePointer(value: unknown, pointer: string): unknown {
  if (pointer === '') return value;
  let current: unknown = value;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function compareVersions(a: string, b: string): number {
  const [aYear = 0, aRelease = 0] = a.split('.').map(Number);
  const [bYear = 0, bRelease = 0] = b.split('.').map(Number);
  return aYear - bYear || aRelease - bRelease;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
