/**
 * SCIM PATCH (RFC 7644 §3.5.2) over stored resources, accepting what Okta and Microsoft Entra
 * really send:
 *
 * - `op` in any case (Entra: "Replace", "Add", "Remove");
 * - operations without `path` whose `value` object lists attributes — plain names, dotted
 *   sub-attributes (`name.givenName`), filtered paths or URN-qualified extension attributes
 *   (Okta deactivation: `{"op": "replace", "value": {"active": false}}`);
 * - value filters: `emails[type eq "work"].value`, `members[value eq "…"]`; an add or replace
 *   through an equality filter that matches nothing creates the element (Entra sends
 *   `emails[type eq "work"].value` for users that have no work address yet);
 * - `remove` with a `value` list on a multi-valued attribute (Entra removes group members so);
 * - enterprise extension paths: `urn:…:enterprise:2.0:User:department`, `…:manager` with the
 *   manager's id as a plain string.
 *
 * The patched resource is then read again like a PUT body, so types are checked (and Entra's
 * `"False"` becomes false) in one place.
 */
import { badRequest } from './scim.errors.ts';
import {
  type AttrPath,
  type Filter,
  getCi,
  isObject,
  type JsonObject,
  matches,
  type PatchPath,
  parseAttrPath,
  parsePatchPath,
} from './scim.filter.ts';
import { assertStorable } from './scim.resource.ts';
import { type AttributeDef, enterpriseUserSchemaUrn, findAttribute, patchOpUrn } from './scim.schemas.ts';

export type PatchOpName = 'add' | 'replace' | 'remove';

export interface PatchOperation {
  op: PatchOpName;
  /** Absent: the value object names the attributes. */
  path?: PatchPath;
  value: unknown;
}

const MAX_OPERATIONS = 1000;

/** Reads a PatchOp message; every problem is a 400 naming the operation. */
export function readPatchRequest(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'the request body must be a PatchOp message');
  assertStorable(body);
  const schemas = getCi(body, 'schemas');
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.some((s) => s === patchOpUrn))) {
    throw badRequest('invalidSyntax', `schemas: a PATCH body must name ${patchOpUrn}`);
  }
  const operations = getCi(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) {
    throw badRequest('invalidSyntax', 'Operations: expected a non-empty array of operations');
  }
  if (operations.length > MAX_OPERATIONS) {
    throw badRequest('invalidSyntax', `Operations: at most ${MAX_OPERATIONS} operations per request`);
  }
  return operations.map((raw, index) => {
    const where = `Operations[${index}]`;
    if (!isObject(raw)) throw badRequest('invalidSyntax', `${where}: expected an object`);
    const opText = getCi(raw, 'op');
    const op = typeof opText === 'string' ? opText.toLowerCase() : undefined;
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw badRequest('invalidSyntax', `${where}.op: expected "add", "replace" or "remove"`);
    }
    const pathText = getCi(raw, 'path');
    let path: PatchPath | undefined;
    if (pathText !== undefined && pathText !== null && pathText !== '') {
      if (typeof pathText !== 'string') throw badRequest('invalidPath', `${where}.path: expected a string`);
      try {
        path = parsePatchPath(pathText);
      } catch (error) {
        if (error instanceof Error) error.message = `${where}.${error.message}`;
        throw error;
      }
    }
    const value = getCi(raw, 'value');
    if (op === 'remove' && path === undefined) {
      throw badRequest('noTarget', `${where}: a remove operation needs a path`);
    }
    if (op !== 'remove' && value === undefined) {
      throw badRequest('invalidValue', `${where}: an ${op} operation needs a value`);
    }
    if (path === undefined && !isObject(value)) {
      throw badRequest('invalidValue', `${where}: without a path, the value must be an object of attributes`);
    }
    return path === undefined ? { op, value } : { op, path, value };
  });
}

/** An operation without a path, split into one operation per attribute it names. */
export function expandOperation(
  operation: PatchOperation,
): { op: PatchOpName; path: PatchPath; value: unknown }[] {
  if (operation.path) return [{ op: operation.op, path: operation.path, value: operation.value }];
  const out: { op: PatchOpName; path: PatchPath; value: unknown }[] = [];
  for (const [key, value] of Object.entries(operation.value as JsonObject)) {
    if (key.toLowerCase() === enterpriseUserSchemaUrn.toLowerCase() && isObject(value)) {
      // {"urn:…:enterprise:2.0:User": {"department": "x"}}: each attribute of the extension.
      for (const [inner, innerValue] of Object.entries(value)) {
        const fail = (detail: string) => badRequest('invalidPath', `value.${key}: ${detail}`);
        out.push({
          op: operation.op,
          path: { attr: parseAttrPath(`${enterpriseUserSchemaUrn}:${inner}`, fail) },
          value: innerValue,
        });
      }
      continue;
    }
    out.push({ op: operation.op, path: parsePatchPath(key), value });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Applying

export interface PatchSchema {
  core: readonly AttributeDef[];
  extension?: readonly AttributeDef[];
}

const ignoredAttrs = new Set(['id', 'meta', 'schemas', 'groups']);

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The key an attribute is stored under: its canonical name, else an existing key in any case. */
function keyFor(container: JsonObject, name: string, def: AttributeDef | undefined): string {
  const existing = Object.keys(container).find((k) => k.toLowerCase() === name.toLowerCase());
  return def?.name ?? existing ?? name;
}

function defFor(schema: PatchSchema, path: AttrPath): AttributeDef | undefined {
  if (path.urn === undefined) return findAttribute(schema.core, path.attr);
  if (path.urn === enterpriseUserSchemaUrn) return findAttribute(schema.extension, path.attr);
  return undefined;
}

/** The object the attribute lives in (an extension's object is created for add/replace). */
function containerFor(resource: JsonObject, path: AttrPath, create: boolean): JsonObject | undefined {
  if (path.urn === undefined) return resource;
  const key = Object.keys(resource).find((k) => k.toLowerCase() === path.urn!.toLowerCase()) ?? path.urn;
  const current = resource[key];
  if (isObject(current)) return current;
  if (!create) return undefined;
  const created: JsonObject = {};
  resource[key] = created;
  return created;
}

function setSub(item: JsonObject, sub: string, value: unknown, defs: readonly AttributeDef[] | undefined) {
  item[keyFor(item, sub, findAttribute(defs, sub))] = value;
}

function deleteCi(object: JsonObject, name: string) {
  for (const key of Object.keys(object)) if (key.toLowerCase() === name.toLowerCase()) delete object[key];
}

/** Merges `value` into a multi-valued attribute: items with the same `value` are merged, not duplicated. */
function addItems(current: unknown[], value: unknown): unknown[] {
  const out = [...current];
  for (const item of Array.isArray(value) ? value : [value]) {
    if (item === null || item === undefined) continue;
    const id = isObject(item) ? getCi(item, 'value') : undefined;
    const index =
      id === undefined
        ? out.findIndex((existing) => sameJson(existing, item))
        : out.findIndex((existing) => isObject(existing) && sameJson(getCi(existing, 'value'), id));
    if (index < 0) out.push(item);
    else if (isObject(item) && isObject(out[index])) out[index] = { ...(out[index] as JsonObject), ...item };
  }
  return out;
}

/** `type eq "work"`: the element an add through the filter creates when none matches. */
function seedFromFilter(filter: Filter): JsonObject | undefined {
  if (
    filter.kind === 'compare' &&
    filter.op === 'eq' &&
    filter.path.sub === undefined &&
    filter.path.urn === undefined
  ) {
    return { [filter.path.attr]: filter.value };
  }
  if (filter.kind === 'and') {
    const left = seedFromFilter(filter.left);
    const right = seedFromFilter(filter.right);
    return left && right ? { ...left, ...right } : undefined;
  }
  return undefined;
}

/** Applies one expanded operation to `resource` (mutated in place). */
export function applyOperation(
  resource: JsonObject,
  schema: PatchSchema,
  op: PatchOpName,
  path: PatchPath,
  value: unknown,
): void {
  const attrName = path.attr.attr;
  // The enterprise extension addressed whole.
  if (path.attr.urn === undefined && attrName === enterpriseUserSchemaUrn) {
    const key = keyFor(resource, attrName, undefined);
    if (op === 'remove') delete resource[key];
    else if (!isObject(value)) throw badRequest('invalidValue', `${attrName}: expected an object`);
    else
      resource[key] =
        op === 'add' && isObject(resource[key]) ? { ...(resource[key] as JsonObject), ...value } : value;
    return;
  }
  // Server-owned attributes: Okta repeats the id in a rename; nothing to change.
  if (path.attr.urn === undefined && ignoredAttrs.has(attrName.toLowerCase())) return;
  const def = defFor(schema, path.attr);
  if (def?.mutability === 'readOnly') {
    throw badRequest('mutability', `${attrName} is read-only`);
  }
  const container = containerFor(resource, path.attr, op !== 'remove');
  if (!container) return;
  const key = keyFor(container, attrName, def);
  const current = container[key];
  const sub = path.attr.sub;

  if (path.filter) {
    const filter = path.filter;
    const items = Array.isArray(current) ? [...current] : current === undefined ? [] : [current];
    const lower = attrName.toLowerCase();
    const hit = (item: unknown) => isObject(item) && matches(item, filter, lower);
    const target = path.subAfterFilter;
    if (op === 'remove') {
      // Removing what is not there succeeds: a retried removal changes nothing.
      container[key] =
        target === undefined
          ? items.filter((item) => !hit(item))
          : items.map((item) => {
              if (!hit(item)) return item;
              const copy = { ...(item as JsonObject) };
              deleteCi(copy, target);
              return copy;
            });
      return;
    }
    if (!items.some(hit)) {
      const seed = seedFromFilter(filter);
      if (!seed) throw badRequest('noTarget', `${attrName}: the filter matches no value`);
      items.push(seed);
    }
    container[key] = items.map((item) => {
      if (!hit(item)) return item;
      if (target !== undefined) {
        const copy = { ...(item as JsonObject) };
        setSub(copy, target, value, def?.subAttributes);
        return copy;
      }
      if (!isObject(value)) throw badRequest('invalidValue', `${attrName}[…]: expected an object`);
      return op === 'add' ? { ...(item as JsonObject), ...value } : value;
    });
    return;
  }

  if (sub !== undefined) {
    if (op === 'remove') {
      if (isObject(current)) deleteCi(current, sub);
      else if (Array.isArray(current)) for (const item of current) if (isObject(item)) deleteCi(item, sub);
      return;
    }
    if (Array.isArray(current)) {
      if (current.length === 0) current.push({});
      for (const item of current) if (isObject(item)) setSub(item, sub, value, def?.subAttributes);
      return;
    }
    const object = isObject(current) ? current : {};
    setSub(object, sub, value, def?.subAttributes);
    container[key] = object;
    return;
  }

  const multiValued = def?.multiValued ?? Array.isArray(current);
  if (op === 'remove') {
    if (multiValued && Array.isArray(current) && value !== undefined && value !== null) {
      // Entra: {"op": "Remove", "path": "members", "value": [{"value": "id"}]} removes those values.
      const doomed = (Array.isArray(value) ? value : [value]).map((v) =>
        isObject(v) ? getCi(v, 'value') : v,
      );
      container[key] = current.filter((item) => {
        const id = isObject(item) ? getCi(item, 'value') : item;
        return !doomed.some((d) => sameJson(d, id));
      });
    } else {
      delete container[key];
    }
    return;
  }
  if (multiValued) {
    if (value === null) {
      delete container[key];
      return;
    }
    container[key] =
      op === 'add'
        ? addItems(Array.isArray(current) ? current : [], value)
        : Array.isArray(value)
          ? value
          : [value];
    return;
  }
  // A complex attribute takes the sub-attributes given and keeps the others (RFC 7644 §3.5.2.1, §3.5.2.3).
  if ((def?.type === 'complex' || isObject(current)) && isObject(value) && isObject(current)) {
    container[key] = { ...current, ...value };
    return;
  }
  if (value === null) delete container[key];
  else container[key] = value;
}

/** Applies a whole PATCH to a copy of `resource` and returns it. */
export function applyPatch(
  resource: JsonObject,
  schema: PatchSchema,
  operations: PatchOperation[],
): JsonObject {
  const copy = structuredClone(resource);
  for (const operation of operations) {
    for (const { op, path, value } of expandOperation(operation))
      applyOperation(copy, schema, op, path, value);
  }
  return copy;
}
