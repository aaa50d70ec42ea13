/**
 * Canonical JSON for evidence envelopes, following RFC 8785 (JSON Canonicalization Scheme).
 *
 * The ledger hashes envelopes, so two parties must produce byte-identical JSON for the same
 * value, whatever key order or number spelling they started from. The rules:
 *
 * - object members sorted by their names compared as UTF-16 code unit sequences (JS's default
 *   string ordering), no whitespace anywhere;
 * - numbers in ECMAScript shortest round-trip form (`String(n)`, so `-0` becomes `0`,
 *   `1e21` stays `1e+21`); NaN and ±Infinity are rejected;
 * - strings escaped exactly as `JSON.stringify` escapes them (`\b \t \n \f \r`, other
 *   controls as lowercase `\u00xx`, `"` and `\`; everything else literal, encoded as UTF-8);
 * - strings (names and values) must be well-formed Unicode: a lone surrogate is rejected, as
 *   RFC 8785 requires I-JSON input;
 * - only plain objects, arrays, strings, finite numbers, booleans and null are accepted.
 *   `undefined`, functions, bigints, symbols, `Date`s (pass ISO strings), class instances,
 *   sparse arrays and cycles are rejected with an error naming the JSON path (`$.subject.id`).
 */
import { createHash } from 'node:crypto';
import { AssayError } from '../../../errors.ts';

/** Returns the canonical JSON text of `value`; hash its UTF-8 bytes (see `canonicalBytes`). */
export function canonicalize(value: unknown): string {
  return write(value, [], []);
}

/** The UTF-8 bytes of the canonical JSON text: the exact bytes that get hashed. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}

/** Lowercase hex SHA-256; strings are hashed as their UTF-8 bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const SURROGATE = /[\uD800-\uDFFF]/;
// Printable ASCII other than `"` and `\`: such strings serialise as themselves, quoted.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Path segments from the root to the value being written: keys and array indices. */
type Path = (string | number)[];

function formatPath(path: Path): string {
  let out = '$';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function reject(path: Path, reason: string): never {
  const where = formatPath(path);
  throw new AssayError('validation_failed', `Cannot canonicalize ${where}: ${reason}`, { path: where });
}

function isWellFormed(text: string): boolean {
  // Fast path: most evidence text contains no surrogates at all.
  if (!SURROGATE.test(text)) return true;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return false;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return false;
  }
  return true;
}

function writeString(text: string, path: Path): string {
  if (PLAIN.test(text)) return `"${text}"`;
  if (!isWellFormed(text)) reject(path, 'string contains a lone UTF-16 surrogate (not valid Unicode)');
  return JSON.stringify(text);
}

/**
 * Sorts names by UTF-16 code units (RFC 8785 §3.2.3): JS `<` and the default `sort()` both
 * compare strings that way. Insertion sort is several times faster for the handful of members
 * an evidence object has.
 */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 24) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

function write(value: unknown, path: Path, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      return writeString(value, path);
    case 'number':
      if (!Number.isFinite(value)) reject(path, `${value} is not a finite number`);
      // ECMAScript Number::toString is exactly the RFC 8785 number serialisation; -0 prints "0".
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return reject(path, 'undefined is not a JSON value');
    case 'bigint':
      return reject(path, 'bigint is not a JSON value (convert it to a string or number first)');
    case 'symbol':
      return reject(path, 'symbol is not a JSON value');
    case 'function':
      return reject(path, 'function is not a JSON value');
  }
  if (value === null) return 'null';
  const object = value as object;
  if (ancestors.includes(object)) reject(path, 'circular reference');
  if (Array.isArray(object)) {
    ancestors.push(object);
    let out = '[';
    for (let i = 0; i < object.length; i++) {
      if (i > 0) out += ',';
      path.push(i);
      if (!(i in object)) reject(path, 'sparse array hole is not a JSON value');
      out += write(object[i], path, ancestors);
      path.pop();
    }
    ancestors.pop();
    return out + ']';
  }
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) {
    if (object instanceof Date) reject(path, 'Date is not allowed (pass an ISO 8601 string)');
    const name = (proto as { constructor?: { name?: string } })?.constructor?.name ?? 'unknown';
    reject(path, `${name} instance is not a plain JSON object`);
  }
  if (Object.getOwnPropertySymbols(object).length > 0) reject(path, 'symbol-keyed property');
  const record = object as Record<string, unknown>;
  const keys = sortKeys(Object.keys(record));
  ancestors.push(object);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i > 0) out += ',';
    path.push(key);
    out += writeString(key, path);
    out += ':';
    out += write(record[key], path, ancestors);
    path.pop();
  }
  ancestors.pop();
  return out + '}';
}
