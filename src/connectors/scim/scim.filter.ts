/**
 * SCIM filters and attribute paths (RFC 7644 §3.4.2.2 and §3.5.2, figure 1): a tokenizer, a
 * recursive-descent parser (`or` binds looser than `and`, `not (…)`, grouping, value paths such as
 * `emails[type eq "work"]`) and an evaluator over resources as JSON.
 *
 * Attribute names are case-insensitive; string comparisons are too, except for ids and member
 * references (caseExact in the schema). Inputs are bounded (length and nesting), so a hostile
 * filter costs little and cannot exhaust the stack.
 */
import { ScimError } from './scim.errors.ts';
import { enterpriseUserSchemaUrn, groupSchemaUrn, userSchemaUrn } from './scim.schemas.ts';

export type JsonObject = Record<string, unknown>;

export interface AttrPath {
  /** An extension schema URN the attribute lives under (core schema URNs are dropped). */
  urn?: string;
  attr: string;
  sub?: string;
}

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'lt' | 'ge' | 'le';
export type FilterValue = string | number | boolean | null;

export type Filter =
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: FilterValue }
  | { kind: 'present'; path: AttrPath }
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  | { kind: 'valuePath'; path: AttrPath; filter: Filter };

/** A PATCH `path`: an attribute, optionally narrowed by a filter and then a sub-attribute. */
export interface PatchPath {
  attr: AttrPath;
  filter?: Filter;
  /** The sub-attribute after a filter: `emails[type eq "work"].value` → `value`. */
  subAfterFilter?: string;
}

const MAX_TEXT = 4096;
const MAX_DEPTH = 32;
const compareOps = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le']);
const coreUrns = new Set([userSchemaUrn.toLowerCase(), groupSchemaUrn.toLowerCase()]);
const ATTR_NAME = /^[A-Za-z$][\w$-]*$/;

// ---------------------------------------------------------------------------------------------
// Tokens

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: '(' | ')' | '[' | ']'; at: number };

function tokenize(text: string, fail: (detail: string) => ScimError): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
    } else if (ch === '(' || ch === ')' || ch === '[' || ch === ']') {
      tokens.push({ kind: ch, at: i });
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw fail(`unterminated string starting at position ${i + 1}`);
      let value: unknown;
      try {
        value = JSON.parse(text.slice(i, j + 1));
      } catch {
        throw fail(`bad string escape in ${text.slice(i, Math.min(j + 1, i + 40))}`);
      }
      tokens.push({ kind: 'string', value: value as string, at: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !' \t\n\r()[]"'.includes(text[j]!)) j++;
      tokens.push({ kind: 'word', text: text.slice(i, j), at: i });
      i = j;
    }
  }
  return tokens;
}

/** `urn:…:User:name.givenName` → {attr: 'name', sub: 'givenName'}; an extension URN is kept. */
export function parseAttrPath(text: string, fail: (detail: string) => ScimError): AttrPath {
  let rest = text;
  let urn: string | undefined;
  if (/^urn:/i.test(text)) {
    // The whole enterprise extension addressed as one attribute (a PATCH may replace it whole).
    if (text.toLowerCase() === enterpriseUserSchemaUrn.toLowerCase())
      return { attr: enterpriseUserSchemaUrn };
    const colon = text.lastIndexOf(':');
    urn = text.slice(0, colon);
    rest = text.slice(colon + 1);
    if (coreUrns.has(urn.toLowerCase())) urn = undefined;
    else if (urn.toLowerCase() === enterpriseUserSchemaUrn.toLowerCase()) urn = enterpriseUserSchemaUrn;
  }
  const dot = rest.indexOf('.');
  const attr = dot < 0 ? rest : rest.slice(0, dot);
  const sub = dot < 0 ? undefined : rest.slice(dot + 1);
  if (!ATTR_NAME.test(attr) || (sub !== undefined && !ATTR_NAME.test(sub))) {
    throw fail(`"${text.slice(0, 100)}" is not an attribute path`);
  }
  const path: AttrPath = { attr };
  if (urn !== undefined) path.urn = urn;
  if (sub !== undefined) path.sub = sub;
  return path;
}

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
  readonly #tokens: Token[];
  readonly #fail: (detail: string) => ScimError;
  #at = 0;

  constructor(tokens: Token[], fail: (detail: string) => ScimError) {
    this.#tokens = tokens;
    this.#fail = fail;
  }

  get done(): boolean {
    return this.#at >= this.#tokens.length;
  }

  peek(): Token | undefined {
    return this.#tokens[this.#at];
  }

  next(): Token {
    const token = this.#tokens[this.#at++];
    if (!token) throw this.#fail('the filter ends too early');
    return token;
  }

  #keyword(token: Token | undefined, word: string): boolean {
    return token?.kind === 'word' && token.text.toLowerCase() === word;
  }

  filter(depth: number): Filter {
    if (depth > MAX_DEPTH) throw this.#fail(`filters nest at most ${MAX_DEPTH} deep`);
    let left = this.#and(depth);
    while (this.#keyword(this.peek(), 'or')) {
      this.next();
      left = { kind: 'or', left, right: this.#and(depth) };
    }
    return left;
  }

  #and(depth: number): Filter {
    let left = this.#unary(depth);
    while (this.#keyword(this.peek(), 'and')) {
      this.next();
      left = { kind: 'and', left, right: this.#unary(depth) };
    }
    return left;
  }

  #unary(depth: number): Filter {
    const token = this.next();
    if (token.kind === '(') {
      const inner = this.filter(depth + 1);
      this.#expect(')');
      return inner;
    }
    if (this.#keyword(token, 'not') && this.peek()?.kind === '(') {
      this.next();
      const inner = this.filter(depth + 1);
      this.#expect(')');
      return { kind: 'not', filter: inner };
    }
    if (token.kind !== 'word') throw this.#fail(`expected an attribute at position ${token.at + 1}`);
    const path = parseAttrPath(token.text, this.#fail);
    if (this.peek()?.kind === '[') {
      this.next();
      if (path.sub !== undefined)
        throw this.#fail(`"${token.text}[" : a value filter applies to an attribute`);
      const inner = this.filter(depth + 1);
      this.#expect(']');
      return { kind: 'valuePath', path, filter: inner };
    }
    const opToken = this.next();
    if (opToken.kind !== 'word') throw this.#fail(`expected an operator after "${token.text}"`);
    const op = opToken.text.toLowerCase();
    if (op === 'pr') return { kind: 'present', path };
    if (!compareOps.has(op)) throw this.#fail(`unknown operator "${opToken.text.slice(0, 20)}"`);
    return { kind: 'compare', path, op: op as CompareOp, value: this.#value() };
  }

  #value(): FilterValue {
    const token = this.next();
    if (token.kind === 'string') return token.value;
    if (token.kind === 'word') {
      const lower = token.text.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      if (lower === 'null') return null;
      if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(token.text)) return Number(token.text);
    }
    throw this.#fail(
      `expected a value (a quoted string, number, true, false or null) at position ${token.at + 1}`,
    );
  }

  #expect(kind: ')' | ']') {
    const token = this.next();
    if (token.kind !== kind) throw this.#fail(`expected "${kind}" at position ${token.at + 1}`);
  }
}

export function parseFilter(text: string): Filter {
  const fail = (detail: string) => new ScimError(400, `filter: ${detail}`, 'invalidFilter');
  if (text.length > MAX_TEXT) throw fail(`longer than ${MAX_TEXT} characters`);
  const parser = new Parser(tokenize(text, fail), fail);
  if (parser.done) throw fail('empty');
  const filter = parser.filter(0);
  if (!parser.done) throw fail(`unexpected text at position ${(parser.peek()?.at ?? 0) + 1}`);
  return filter;
}

/** Parses a PATCH operation's `path` (RFC 7644 §3.5.2, figure 1). */
export function parsePatchPath(text: string): PatchPath {
  const fail = (detail: string) => new ScimError(400, `path: ${detail}`, 'invalidPath');
  if (text.length > MAX_TEXT) throw fail(`longer than ${MAX_TEXT} characters`);
  const tokens = tokenize(text, fail);
  const first = tokens[0];
  if (first?.kind !== 'word') throw fail(`"${text.slice(0, 100)}" is not an attribute path`);
  const attr = parseAttrPath(first.text, fail);
  if (tokens.length === 1) return { attr };
  if (tokens[1]?.kind !== '[' || attr.sub !== undefined) throw fail(`"${text.slice(0, 100)}" is not a path`);
  const last = tokens[tokens.length - 1]!;
  let end = tokens.length;
  let subAfterFilter: string | undefined;
  if (last.kind === 'word' && tokens[tokens.length - 2]?.kind === ']') {
    if (!/^\.[A-Za-z$][\w$-]*$/.test(last.text))
      throw fail(`"${last.text.slice(0, 50)}" is not a sub-attribute`);
    subAfterFilter = last.text.slice(1);
    end--;
  }
  if (tokens[end - 1]?.kind !== ']') throw fail(`"${text.slice(0, 100)}": the value filter is not closed`);
  const filterFail = (detail: string) => new ScimError(400, `path filter: ${detail}`, 'invalidFilter');
  const parser = new Parser(tokens.slice(2, end - 1), filterFail);
  if (parser.done) throw filterFail('empty');
  const filter = parser.filter(1);
  if (!parser.done) throw filterFail(`unexpected text at position ${(parser.peek()?.at ?? 0) + 1}`);
  const path: PatchPath = { attr, filter };
  if (subAfterFilter !== undefined) path.subAfterFilter = subAfterFilter;
  return path;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A property by name, case-insensitively (RFC 7643 §2.1). */
export function getCi(object: JsonObject, key: string): unknown {
  if (Object.hasOwn(object, key)) return object[key];
  const lower = key.toLowerCase();
  for (const name of Object.keys(object)) if (name.toLowerCase() === lower) return object[name];
  return undefined;
}

/** The object an attribute path is read from: the resource itself or an extension's object. */
function base(resource: JsonObject, path: AttrPath): JsonObject | undefined {
  if (path.urn === undefined) return resource;
  const extension = getCi(resource, path.urn);
  return isObject(extension) ? extension : undefined;
}

const caseExactAttrs = new Set(['id', 'externalid']);
const referenceAttrs = new Set(['members', 'groups', 'manager']);

function caseExact(path: AttrPath, parent: string | undefined): boolean {
  const attr = path.attr.toLowerCase();
  if (parent === undefined && path.sub === undefined && caseExactAttrs.has(attr)) return true;
  if (path.sub?.toLowerCase() === 'value' && referenceAttrs.has(attr)) return true;
  return parent !== undefined && referenceAttrs.has(parent) && attr === 'value';
}

/** The values an attribute path names (flattened over multi-valued attributes). */
function valuesAt(resource: JsonObject, path: AttrPath): unknown[] {
  const from = base(resource, path);
  if (!from) return [];
  const value = getCi(from, path.attr);
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  if (path.sub === undefined) {
    // A complex value compared as a whole is compared by its `value` sub-attribute.
    return items.map((item) => (isObject(item) && 'value' in item ? item.value : item));
  }
  const sub = path.sub;
  return items.flatMap((item) => {
    if (!isObject(item)) return [];
    const inner = getCi(item, sub);
    return Array.isArray(inner) ? inner : inner === undefined ? [] : [inner];
  });
}

function compareOne(actual: unknown, op: CompareOp, expected: FilterValue, exact: boolean): boolean {
  if (expected === null) return op === 'eq' ? actual === null : op === 'ne' ? actual !== null : false;
  if (typeof expected === 'string' && typeof actual === 'string') {
    const a = exact ? actual : actual.toLowerCase();
    const e = exact ? expected : expected.toLowerCase();
    switch (op) {
      case 'eq':
        return a === e;
      case 'ne':
        return a !== e;
      case 'co':
        return a.includes(e);
      case 'sw':
        return a.startsWith(e);
      case 'ew':
        return a.endsWith(e);
      case 'gt':
        return a > e;
      case 'lt':
        return a < e;
      case 'ge':
        return a >= e;
      case 'le':
        return a <= e;
    }
  }
  if (typeof expected === 'number' && typeof actual === 'number') {
    switch (op) {
      case 'eq':
        return actual === expected;
      case 'ne':
        return actual !== expected;
      case 'gt':
        return actual > expected;
      case 'lt':
        return actual < expected;
      case 'ge':
        return actual >= expected;
      case 'le':
        return actual <= expected;
      default:
        return false;
    }
  }
  if (typeof expected === 'boolean' && typeof actual === 'boolean') {
    return op === 'eq' ? actual === expected : op === 'ne' ? actual !== expected : false;
  }
  return op === 'ne';
}

/** Whether a resource (or, inside a value filter, one item of a multi-valued attribute) matches. */
export function matches(resource: JsonObject, filter: Filter, parent?: string): boolean {
  switch (filter.kind) {
    case 'and':
      return matches(resource, filter.left, parent) && matches(resource, filter.right, parent);
    case 'or':
      return matches(resource, filter.left, parent) || matches(resource, filter.right, parent);
    case 'not':
      return !matches(resource, filter.filter, parent);
    case 'present':
      return valuesAt(resource, filter.path).some(
        (v) => v !== null && v !== '' && !(isObject(v) && Object.keys(v).length === 0),
      );
    case 'valuePath': {
      const from = base(resource, filter.path);
      const value = from ? getCi(from, filter.path.attr) : undefined;
      const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
      const attr = filter.path.attr.toLowerCase();
      return items.some((item) => isObject(item) && matches(item, filter.filter, attr));
    }
    case 'compare': {
      const values = valuesAt(resource, filter.path);
      const exact = caseExact(filter.path, parent);
      if (values.length === 0) return filter.op === 'ne' || (filter.op === 'eq' && filter.value === null);
      if (filter.op === 'ne') return !values.some((v) => compareOne(v, 'eq', filter.value, exact));
      return values.some((v) => compareOne(v, filter.op, filter.value, exact));
    }
  }
}

/**
 * An equality the database can answer: `userName eq "x"`, `externalId eq "x"`, `id eq "x"`,
 * `displayName eq "x"` — on its own or as one side of an `and`. The full filter is still applied
 * to what the database returns; this only narrows the rows read.
 */
export function indexableEquality(filter: Filter): { attr: string; value: string } | undefined {
  if (filter.kind === 'compare' && filter.op === 'eq' && typeof filter.value === 'string') {
    const { path } = filter;
    if (path.urn === undefined && path.sub === undefined) {
      const attr = path.attr.toLowerCase();
      if (attr === 'username' || attr === 'externalid' || attr === 'id' || attr === 'displayname') {
        return { attr, value: filter.value };
      }
    }
  }
  if (filter.kind === 'and') return indexableEquality(filter.left) ?? indexableEquality(filter.right);
  return undefined;
}
