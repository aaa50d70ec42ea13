/**
 * An MSP template as flat items. A definition (what the MSP writes) compiles into items keyed
 * `scope:categories`, `control:<id>`, `owner:<role>`, `check:<id>`, `policy:<title>` and
 * `cadence:<register>`; a client's effective items are the template's with the client's
 * overrides laid over them, item by item. Diffs, overrides and updates all work on items, so an
 * override of one item survives any change to the others.
 */
import { AssayError } from '../../errors.ts';
import {
  criteriaForCategories,
  currentCatalogVersion,
  loadCatalog,
  templatesForCriteria,
} from '../catalog/catalog.loader.ts';
import {
  controlFrequencies,
  controlOwnerRoles,
  type TrustServicesCategory,
  trustServicesCategories,
} from '../catalog/catalog.types.ts';
import { builtInCheckById } from '../monitoring/checks/index.ts';
import type { ItemValue, TemplateItems } from './msp.tables.ts';

export const cadenceRegisters = ['policies', 'vendors', 'risks'] as const;
const policyKinds = ['policy', 'standard', 'procedure', 'plan'];
const itemKeyPattern =
  /^(scope:categories|control:[A-Za-z0-9._-]+|owner:[a-z_]+|check:[a-z0-9_.-]+|policy:.{1,200}|cadence:[a-z]+)$/;

type Json = Record<string, unknown>;

function bad(place: string, reason: string): never {
  throw new AssayError('validation_failed', `${place}: ${reason}`, { field: place });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, place: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    bad(place, 'expected a list of strings');
  return value as string[];
}

function only(obj: Json, allowed: string[], place: string) {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) bad(`${place}.${key}`, `unknown field (expected ${allowed.join(', ')})`);
  }
}

const emailPattern = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function cadenceDays(value: unknown, place: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 3660) {
    bad(place, 'expected whole days between 1 and 3660');
  }
  return value;
}

function checkValue(checkId: string, value: unknown, place: string) {
  const check = builtInCheckById.get(checkId);
  if (!check) bad(place, `no built-in check "${checkId}"`);
  if (!isObject(value)) bad(place, 'expected { "enabled": true|false, "settings": { … } }');
  only(value, ['enabled', 'settings'], place);
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean')
    bad(`${place}.enabled`, 'expected true or false');
  const settings = value.settings ?? {};
  if (!isObject(settings)) bad(`${place}.settings`, 'expected an object');
  const defaults = check.defaults as Json;
  for (const [key, v] of Object.entries(settings)) {
    if (!Object.hasOwn(defaults, key)) {
      const known = Object.keys(defaults);
      bad(
        `${place}.settings.${key}`,
        `${checkId} has no setting "${key}" (${known.length ? `it has ${known.join(', ')}` : 'it has none'})`,
      );
    }
    if (typeof v !== typeof defaults[key])
      bad(`${place}.settings.${key}`, `expected a ${typeof defaults[key]}`);
  }
  return { enabled: value.enabled ?? true, settings };
}

function controlValue(value: Json, place: string) {
  const out: Json = { ...value };
  if (typeof out.title !== 'string' || out.title.length === 0 || out.title.length > 200)
    bad(`${place}.title`, 'expected 1–200 characters');
  if (typeof out.description !== 'string') bad(`${place}.description`, 'expected text');
  if (!(controlFrequencies as readonly string[]).includes(String(out.frequency))) {
    bad(`${place}.frequency`, `expected one of ${controlFrequencies.join(', ')}`);
  }
  if (!(controlOwnerRoles as readonly string[]).includes(String(out.ownerRole))) {
    bad(`${place}.ownerRole`, `expected one of ${controlOwnerRoles.join(', ')}`);
  }
  const criteria = stringList(out.criteria, `${place}.criteria`);
  const known = new Set(loadCatalog(currentCatalogVersion).criteria.map((c) => c.id));
  for (const c of criteria) if (!known.has(c)) bad(`${place}.criteria`, `unknown criterion "${c}"`);
  stringList(out.evidence ?? [], `${place}.evidence`);
  stringList(out.checks ?? [], `${place}.checks`);
  return {
    title: out.title,
    description: out.description,
    frequency: out.frequency,
    ownerRole: out.ownerRole,
    criteria,
    evidence: out.evidence ?? [],
    checks: out.checks ?? [],
    source: out.source === 'catalog' ? 'catalog' : 'msp',
  };
}

/** Compiles and validates a template definition into items; errors name the field. */
export function compileDefinition(definition: unknown): TemplateItems {
  if (!isObject(definition)) bad('definition', 'expected a JSON object');
  only(
    definition,
    ['description', 'categories', 'controls', 'owners', 'checks', 'policies', 'reviewCadences'],
    'definition',
  );
  const items: TemplateItems = {};
  const categories = stringList(definition.categories ?? ['security'], 'categories');
  for (const c of categories) {
    if (!(trustServicesCategories as readonly string[]).includes(c)) {
      bad('categories', `unknown category "${c}" (expected ${trustServicesCategories.join(', ')})`);
    }
  }
  const scoped = [...new Set(['security', ...categories])].sort();
  items['scope:categories'] = scoped;

  const catalog = loadCatalog(currentCatalogVersion);
  const controls = definition.controls ?? {};
  if (!isObject(controls)) bad('controls', 'expected an object');
  only(controls, ['catalog', 'exclude', 'set', 'custom'], 'controls');
  const inScope = templatesForCriteria(
    catalog,
    criteriaForCategories(catalog, scoped as TrustServicesCategory[]).map((c) => c.id),
  );
  const byId = new Map(catalog.templates.map((t) => [t.id, t]));
  let chosen = inScope;
  if (controls.catalog !== undefined && controls.catalog !== 'in_scope') {
    chosen = stringList(controls.catalog, 'controls.catalog').map((id) => {
      const t = byId.get(id);
      if (!t) bad('controls.catalog', `no catalog control template "${id}"`);
      return t;
    });
  }
  const exclude = new Set(stringList(controls.exclude ?? [], 'controls.exclude'));
  for (const id of exclude) if (!byId.has(id)) bad('controls.exclude', `no catalog control template "${id}"`);
  for (const t of chosen) {
    if (exclude.has(t.id)) continue;
    items[`control:${t.id}`] = {
      title: t.title,
      description: t.description,
      frequency: t.frequency,
      ownerRole: t.ownerRole,
      criteria: [...t.criteria],
      evidence: [...t.evidence],
      checks: [...t.automation.checks],
      source: 'catalog',
    };
  }
  const set = controls.set ?? {};
  if (!isObject(set)) bad('controls.set', 'expected { "<control id>": { "frequency": …, "ownerRole": … } }');
  for (const [id, patch] of Object.entries(set)) {
    const place = `controls.set.${id}`;
    const current = items[`control:${id}`];
    if (!isObject(current)) bad(place, `control "${id}" is not in this template`);
    if (!isObject(patch)) bad(place, 'expected an object');
    only(patch, ['title', 'description', 'frequency', 'ownerRole', 'evidence', 'checks'], place);
    items[`control:${id}`] = controlValue({ ...current, ...patch }, place);
  }
  const custom = controls.custom ?? [];
  if (!Array.isArray(custom)) bad('controls.custom', 'expected a list of controls');
  custom.forEach((c: unknown, i) => {
    const place = `controls.custom[${i}]`;
    if (!isObject(c)) bad(place, 'expected an object');
    only(
      c,
      ['id', 'title', 'description', 'frequency', 'ownerRole', 'criteria', 'evidence', 'checks'],
      place,
    );
    if (typeof c.id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(c.id))
      bad(`${place}.id`, 'expected 1–64 letters, digits, dots, hyphens');
    if (items[`control:${c.id}`]) bad(`${place}.id`, `control "${c.id}" is already in the template`);
    items[`control:${c.id}`] = controlValue({ ...c, source: 'msp' }, place);
  });

  const owners = definition.owners ?? {};
  if (!isObject(owners)) bad('owners', 'expected { "<role>": "<email>" }');
  for (const [role, email] of Object.entries(owners)) {
    if (!(controlOwnerRoles as readonly string[]).includes(role))
      bad(`owners.${role}`, `unknown role (expected ${controlOwnerRoles.join(', ')})`);
    if (typeof email !== 'string' || !emailPattern.test(email))
      bad(`owners.${role}`, 'expected an email address');
    items[`owner:${role}`] = email;
  }

  const checks = definition.checks ?? {};
  if (!isObject(checks)) bad('checks', 'expected { "<check id>": { "enabled": …, "settings": … } }');
  for (const [id, value] of Object.entries(checks))
    items[`check:${id}`] = checkValue(id, value, `checks.${id}`);

  const policies = definition.policies ?? [];
  if (!Array.isArray(policies)) bad('policies', 'expected a list of policy templates');
  policies.forEach((p: unknown, i) => {
    const place = `policies[${i}]`;
    if (!isObject(p)) bad(place, 'expected an object');
    only(p, ['title', 'kind', 'reviewCadenceDays', 'acknowledgementRequired', 'controlIds', 'body'], place);
    if (typeof p.title !== 'string' || p.title.trim().length === 0 || p.title.length > 200)
      bad(`${place}.title`, 'expected 1–200 characters');
    if (p.kind !== undefined && !policyKinds.includes(String(p.kind)))
      bad(`${place}.kind`, `expected one of ${policyKinds.join(', ')}`);
    if (p.acknowledgementRequired !== undefined && typeof p.acknowledgementRequired !== 'boolean')
      bad(`${place}.acknowledgementRequired`, 'expected true or false');
    if (p.body !== undefined && typeof p.body !== 'string') bad(`${place}.body`, 'expected text');
    const key = `policy:${p.title.trim()}`;
    if (items[key]) bad(`${place}.title`, `policy "${p.title}" appears twice`);
    items[key] = {
      title: p.title.trim(),
      kind: p.kind ?? 'policy',
      reviewCadenceDays:
        p.reviewCadenceDays === undefined
          ? 365
          : cadenceDays(p.reviewCadenceDays, `${place}.reviewCadenceDays`),
      acknowledgementRequired: p.acknowledgementRequired ?? true,
      controlIds: stringList(p.controlIds ?? [], `${place}.controlIds`),
      body: p.body ?? '',
    };
  });

  const cadences = definition.reviewCadences ?? {};
  if (!isObject(cadences))
    bad('reviewCadences', 'expected { "policies": days, "vendors": days, "risks": days }');
  only(cadences, [...cadenceRegisters], 'reviewCadences');
  for (const [register, days] of Object.entries(cadences)) {
    items[`cadence:${register}`] = cadenceDays(days, `reviewCadences.${register}`);
  }
  return items;
}

/** Checks one override value against the kind of item it replaces (null = not in this client). */
export function validateOverride(
  key: string,
  value: unknown,
  templateValue: ItemValue | undefined,
): ItemValue | null {
  if (!itemKeyPattern.test(key)) {
    bad(
      'item',
      `"${key}" is not a template item (expected scope:categories, control:<id>, owner:<role>, check:<id>, policy:<title> or cadence:<register>)`,
    );
  }
  if (value === null) return null;
  const [kind, rest = ''] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  switch (kind) {
    case 'scope': {
      const list = stringList(value, 'value');
      for (const c of list)
        if (!(trustServicesCategories as readonly string[]).includes(c))
          bad('value', `unknown category "${c}"`);
      return [...new Set(['security', ...list])].sort();
    }
    case 'owner':
      if (!(controlOwnerRoles as readonly string[]).includes(rest)) bad('item', `unknown role "${rest}"`);
      if (typeof value !== 'string' || !emailPattern.test(value)) bad('value', 'expected an email address');
      return value;
    case 'cadence':
      if (!(cadenceRegisters as readonly string[]).includes(rest))
        bad('item', `unknown register "${rest}" (expected ${cadenceRegisters.join(', ')})`);
      return cadenceDays(value, 'value');
    case 'check': {
      const base = isObject(templateValue) ? templateValue : {};
      if (!isObject(value)) bad('value', 'expected an object');
      checkValue(rest, { ...base, ...value }, 'value');
      // Only the fields the client sets: the template's later changes to the others still arrive.
      return value as ItemValue;
    }
    case 'control': {
      if (!isObject(value)) bad('value', 'expected an object of control fields');
      const base = isObject(templateValue) ? templateValue : {};
      controlValue({ ...base, ...value }, 'value');
      return value;
    }
    default: {
      if (!isObject(value)) bad('value', 'expected an object of policy fields');
      return value;
    }
  }
}

/** The template's items with a client's overrides over them; an object override patches fields. */
export function effectiveItems(
  items: TemplateItems,
  overrides: Map<string, ItemValue | null>,
): TemplateItems {
  const out: TemplateItems = {};
  for (const [key, value] of Object.entries(items)) {
    if (!overrides.has(key)) {
      out[key] = value;
      continue;
    }
    const o = overrides.get(key);
    if (o === null || o === undefined) continue;
    out[key] = isObject(value) && isObject(o) ? { ...value, ...o } : o;
  }
  // Items the client adds of its own (e.g. an extra control) count as overrides of nothing.
  for (const [key, o] of overrides) {
    if (!(key in items) && o !== null) out[key] = o;
  }
  return out;
}

export interface ItemChange {
  item: string;
  change: 'added' | 'removed' | 'changed';
  before: ItemValue | null;
  after: ItemValue | null;
}

export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function diffItems(before: TemplateItems, after: TemplateItems): ItemChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changes: ItemChange[] = [];
  for (const item of keys) {
    const b = before[item];
    const a = after[item];
    if (b === undefined && a !== undefined) changes.push({ item, change: 'added', before: null, after: a });
    else if (b !== undefined && a === undefined)
      changes.push({ item, change: 'removed', before: b, after: null });
    else if (stableJson(a) !== stableJson(b))
      changes.push({ item, change: 'changed', before: b ?? null, after: a ?? null });
  }
  return changes;
}
