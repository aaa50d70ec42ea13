/**
 * What identity providers send, made into what Assay stores, and back into SCIM resources.
 *
 * Stored resources are the attributes as last written, with known attribute names in their
 * canonical case, values type-checked against the schema and coerced where identity providers
 * are known to bend the types (Entra sends `active` as the string "False"), and without what the
 * server owns (`id`, `meta`, a user's `groups`, a group's `members`) or must never keep
 * (`password`). Attributes Assay does not know are kept as given.
 */
import { unstorable } from '../webhooks/storable.ts';
import { badRequest } from './scim.errors.ts';
import { getCi, isObject, type JsonObject, parseAttrPath } from './scim.filter.ts';
import {
  type AttributeDef,
  enterpriseUserAttributes,
  enterpriseUserSchemaUrn,
  findAttribute,
  groupAttributes,
  groupSchemaUrn,
  userAttributes,
  userSchemaUrn,
} from './scim.schemas.ts';

export type { JsonObject } from './scim.filter.ts';

const MAX_DEPTH = 16;
const MAX_NAME = 512;

/**
 * Text PostgreSQL can store (see `unstorable`), nested at most 16 deep: checked before anything
 * is written, so a bad value is a 400, never a failed insert.
 */
export function assertStorable(value: unknown): void {
  const reason = unstorable(value, 'body', MAX_DEPTH);
  if (reason) throw badRequest('invalidValue', reason);
}

const invalid = (where: string, expected: string, value: unknown) =>
  badRequest('invalidValue', `${where}: expected ${expected}, found ${describe(value)}`);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return String(value);
}

/** Booleans as JSON booleans, or the strings "true"/"false" in any case (Entra). */
export function coerceBoolean(value: unknown, where: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw invalid(where, 'true or false', value);
}

function coerceSingle(value: unknown, def: AttributeDef, where: string): unknown {
  switch (def.type) {
    case 'boolean':
      return coerceBoolean(value, where);
    case 'complex': {
      // `manager` sent as the manager's id alone (Entra) means {value: id}.
      if (typeof value === 'string' && findAttribute(def.subAttributes, 'value')) return { value };
      if (!isObject(value)) throw invalid(where, 'an object', value);
      return canonicalize(value, def.subAttributes ?? [], `${where}.`, false);
    }
    default:
      if (typeof value === 'string') return value;
      // Numbers where text is expected (employee numbers) are read as their text.
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      throw invalid(where, 'a string', value);
  }
}

function coerce(value: unknown, def: AttributeDef, where: string): unknown {
  if (!def.multiValued) return coerceSingle(value, def, where);
  if (!Array.isArray(value)) throw invalid(where, 'an array', value);
  return value
    .filter((item) => item !== null)
    .map((item, index) => coerceSingle(item, def, `${where}[${index}]`));
}

/**
 * Known attributes renamed to their canonical case and type-checked; unknown ones kept. At the
 * top level, server-owned and write-only attributes are dropped. `null` means "no value"
 * (RFC 7644 §3.5.1) and removes the attribute.
 */
function canonicalize(
  object: JsonObject,
  defs: readonly AttributeDef[],
  where: string,
  top: boolean,
): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    if (value === null || value === undefined) continue;
    const def = findAttribute(defs, key);
    if (!def) {
      out[key] = value;
      continue;
    }
    if (top && (def.mutability === 'readOnly' || def.mutability === 'writeOnly')) continue;
    out[def.name] = coerce(value, def, `${where}${def.name}`);
  }
  return out;
}

const serverOwned = new Set(['id', 'meta', 'schemas']);

function stripServerOwned(input: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(input)) {
    if (!serverOwned.has(key.toLowerCase())) out[key] = value;
  }
  return out;
}

function nonEmptyString(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(where, 'a non-empty string', value);
  if (value.length > MAX_NAME)
    throw badRequest('invalidValue', `${where}: longer than ${MAX_NAME} characters`);
  return value;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(where, 'a string', value);
  if (value.length > MAX_NAME)
    throw badRequest('invalidValue', `${where}: longer than ${MAX_NAME} characters`);
  return value;
}

export interface UserInput {
  resource: JsonObject;
  userName: string;
  externalId: string | undefined;
  active: boolean;
}

/**
 * A User as sent in a POST or PUT (or as a PATCH left it). `activeIfAbsent`: a new user is
 * active unless it says otherwise; a PUT that leaves `active` out keeps the current state rather
 * than silently re-enabling a disabled account.
 */
export function readUser(input: unknown, activeIfAbsent: boolean): UserInput {
  if (!isObject(input)) throw badRequest('invalidSyntax', 'the request body must be a SCIM User object');
  assertStorable(input);
  const resource = canonicalize(stripServerOwned(input), userAttributes, '', true);
  // The enterprise extension, under its URN in any case, is checked against its schema too.
  for (const key of Object.keys(resource)) {
    if (key.toLowerCase() !== enterpriseUserSchemaUrn.toLowerCase()) continue;
    const extension = resource[key];
    delete resource[key];
    if (extension === null || extension === undefined) continue;
    if (!isObject(extension)) throw invalid(enterpriseUserSchemaUrn, 'an object', extension);
    const canonical = canonicalize(extension, enterpriseUserAttributes, `${enterpriseUserSchemaUrn}:`, false);
    if (Object.keys(canonical).length > 0) resource[enterpriseUserSchemaUrn] = canonical;
  }
  const userName = nonEmptyString(resource.userName, 'userName');
  const externalId = optionalString(resource.externalId, 'externalId');
  if (resource.active === undefined) resource.active = activeIfAbsent;
  return { resource, userName, externalId, active: resource.active === true };
}

export interface GroupInput {
  resource: JsonObject;
  displayName: string;
  externalId: string | undefined;
  /** Member ids as sent (undefined when the body has no `members`). */
  members: MemberInput[] | undefined;
}

export interface MemberInput {
  value: string;
  display?: string;
}

/** Members as a list of `{value, display?}` (a single object is read as a list of one). */
export function readMembers(value: unknown, where = 'members'): MemberInput[] {
  if (value === null || value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, index) => {
    if (!isObject(item)) throw invalid(`${where}[${index}]`, 'an object with "value"', item);
    const id = getCi(item, 'value');
    if (typeof id !== 'string' || id === '') throw invalid(`${where}[${index}].value`, 'a member id', id);
    const display = getCi(item, 'display');
    return typeof display === 'string' && display.length <= MAX_NAME ? { value: id, display } : { value: id };
  });
}

export function readGroup(input: unknown): GroupInput {
  if (!isObject(input)) throw badRequest('invalidSyntax', 'the request body must be a SCIM Group object');
  assertStorable(input);
  const stripped = stripServerOwned(input);
  let members: MemberInput[] | undefined;
  for (const key of Object.keys(stripped)) {
    if (key.toLowerCase() === 'members') {
      members = readMembers(stripped[key]);
      delete stripped[key];
    }
  }
  const resource = canonicalize(stripped, groupAttributes, '', true);
  const displayName = nonEmptyString(resource.displayName, 'displayName');
  const externalId = optionalString(resource.externalId, 'externalId');
  return { resource, displayName, externalId, members };
}

// ---------------------------------------------------------------------------------------------
// Facts about a user that the identity graph uses

/** The address that joins the account to a person: primary email, else work email, else first. */
export function userEmail(resource: JsonObject, userName: string): string | undefined {
  const emails = Array.isArray(resource.emails) ? resource.emails.filter(isObject) : [];
  const pick =
    emails.find((e) => e.primary === true) ??
    emails.find((e) => typeof e.type === 'string' && e.type.toLowerCase() === 'work') ??
    emails[0];
  const candidates = [typeof pick?.value === 'string' ? pick.value : undefined, userName];
  for (const candidate of candidates) {
    const trimmed = candidate?.trim();
    if (trimmed && /^[^\s@"<>(),;:]+@[^\s@"<>(),;:]+\.[^\s@"<>(),;:]+$/.test(trimmed))
      return trimmed.toLowerCase();
  }
  return undefined;
}

export function userDisplayName(resource: JsonObject): string | undefined {
  if (typeof resource.displayName === 'string' && resource.displayName.trim() !== '')
    return resource.displayName;
  const name = isObject(resource.name) ? resource.name : undefined;
  if (typeof name?.formatted === 'string' && name.formatted.trim() !== '') return name.formatted;
  const parts = [name?.givenName, name?.familyName].filter(
    (p): p is string => typeof p === 'string' && p !== '',
  );
  return parts.length > 0 ? parts.join(' ') : undefined;
}

// ---------------------------------------------------------------------------------------------
// Rendering

export interface Meta {
  resourceType: 'User' | 'Group';
  id: string;
  created: Date;
  lastModified: Date;
  version: number;
  location: string;
}

export const etagOf = (version: number) => `W/"${version}"`;

function meta(m: Meta) {
  return {
    resourceType: m.resourceType,
    created: m.created.toISOString(),
    lastModified: m.lastModified.toISOString(),
    version: etagOf(m.version),
    location: m.location,
  };
}

function schemasOf(core: string, resource: JsonObject): string[] {
  const schemas = [core];
  for (const key of Object.keys(resource))
    if (/^urn:/i.test(key) && isObject(resource[key])) schemas.push(key);
  return schemas;
}

export interface GroupRef {
  id: string;
  displayName: string;
  location: string;
}

export function renderUser(m: Meta, resource: JsonObject, groups: GroupRef[]): JsonObject {
  const { userName, externalId, ...rest } = resource;
  return {
    schemas: schemasOf(userSchemaUrn, resource),
    id: m.id,
    ...(externalId !== undefined ? { externalId } : {}),
    userName,
    ...rest,
    groups: groups.map((g) => ({ value: g.id, $ref: g.location, display: g.displayName, type: 'direct' })),
    meta: meta(m),
  };
}

export interface MemberRef {
  id: string;
  display: string;
  location: string;
}

export function renderGroup(m: Meta, resource: JsonObject, members: MemberRef[]): JsonObject {
  const { displayName, externalId, ...rest } = resource;
  return {
    schemas: schemasOf(groupSchemaUrn, resource),
    id: m.id,
    ...(externalId !== undefined ? { externalId } : {}),
    displayName,
    ...rest,
    members: members.map((u) => ({ value: u.id, $ref: u.location, display: u.display, type: 'User' })),
    meta: meta(m),
  };
}

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): top-level attributes, sub-attributes
 * (`name.givenName`) and extension attributes (`urn:…:User:department`). `id` and `schemas` are
 * always returned.
 */
export function project(
  resource: JsonObject,
  attributes: string | undefined,
  excluded: string | undefined,
): JsonObject {
  const fail = (detail: string) => badRequest('invalidValue', `attributes: ${detail}`);
  const list = (text: string) =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .slice(0, 100)
      .map((s) => parseAttrPath(s, fail));
  if (attributes !== undefined && attributes.trim() !== '') {
    const out: JsonObject = { schemas: resource.schemas, id: resource.id };
    for (const path of list(attributes)) {
      const from = path.urn === undefined ? resource : getCi(resource, path.urn);
      if (!isObject(from)) continue;
      const key = Object.keys(from).find((k) => k.toLowerCase() === path.attr.toLowerCase());
      if (key === undefined) continue;
      let value = from[key];
      if (path.sub !== undefined && isObject(value)) {
        const subKey = Object.keys(value).find((k) => k.toLowerCase() === path.sub!.toLowerCase());
        value =
          subKey === undefined ? {} : { ...(isObject(out[key]) ? out[key] : {}), [subKey]: value[subKey] };
      }
      if (path.urn === undefined) out[key] = value;
      else
        out[path.urn] = { ...(isObject(out[path.urn]) ? (out[path.urn] as JsonObject) : {}), [key]: value };
    }
    return out;
  }
  if (excluded !== undefined && excluded.trim() !== '') {
    const out: JsonObject = structuredClone(resource);
    for (const path of list(excluded)) {
      const lower = path.attr.toLowerCase();
      if (path.urn === undefined && (lower === 'id' || lower === 'schemas')) continue;
      const from = path.urn === undefined ? out : getCi(out, path.urn);
      if (!isObject(from)) continue;
      for (const key of Object.keys(from)) {
        if (key.toLowerCase() !== lower) continue;
        const value = from[key];
        if (path.sub === undefined) delete from[key];
        else if (isObject(value)) {
          for (const sub of Object.keys(value))
            if (sub.toLowerCase() === path.sub.toLowerCase()) delete value[sub];
        }
      }
    }
    return out;
  }
  return resource;
}
