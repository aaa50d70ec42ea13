/**
 * Small, strict readers for values inside vendor records. They throw `FieldError` with the field
 * path and a reason a person can act on; importers turn that into a rejection.
 */
import { createHash } from 'node:crypto';
import { FieldError } from './import-context.ts';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The record itself must be a JSON object. */
export function requireObject(value: unknown, what: string): JsonObject {
  if (!isObject(value)) {
    const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new FieldError(undefined, `expected ${what} (a JSON object), found ${found}`);
  }
  return value;
}

/** A nested object, or undefined when absent/null; any other type is an error. */
export function optionalObject(record: JsonObject, key: string, path = key): JsonObject | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new FieldError(path, 'expected an object');
  return value;
}

/** A non-empty string (numbers are accepted and turned into strings), or undefined. */
export function optionalString(record: JsonObject | undefined, key: string, path = key): string | undefined {
  if (!record) return undefined;
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') throw new FieldError(path, `expected a string, found ${describe(value)}`);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Like `optionalString` but never throws: wrong types read as absent (for free-form context). */
export function looseString(record: JsonObject | undefined, key: string): string | undefined {
  if (!record) return undefined;
  const value = record[key];
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function requireString(record: JsonObject, key: string, path = key): string {
  const value = optionalString(record, key, path);
  if (value === undefined) throw new FieldError(path, 'required but missing');
  return value;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// Time

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

function validDate(year: number, month: number, day: number): boolean {
  if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= days;
}

/**
 * Parses an ISO 8601 date-time and returns it as UTC ISO with milliseconds. Accepted: `T` or a
 * space between date and time (Panther test data writes `2022-03-22 14:21:53.225`), fractions to
 * nanoseconds (truncated to milliseconds), `Z` or a `±hh:mm` offset; a time without zone is read
 * as UTC. Returns undefined when the text is not such a date-time.
 */
export function parseIsoDateTime(text: string): string | undefined {
  const match = TIMESTAMP.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  let epoch = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), ms);
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offH > 23 || offM > 59) return undefined;
    epoch -= sign * (offH * 60 + offM) * 60_000;
  }
  return new Date(epoch).toISOString();
}

/** A required date-time string field. */
export function requireDateTime(record: JsonObject, key: string, path = key): string {
  const value = record[key];
  if (value === undefined || value === null || value === '')
    throw new FieldError(path, 'required but missing');
  return dateTimeValue(value, path);
}

/** A date-time field value (string). */
export function dateTimeValue(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new FieldError(path, `not an ISO date-time: ${describe(value)}`);
  const iso = parseIsoDateTime(value);
  if (iso === undefined) throw new FieldError(path, `not an ISO date-time: ${describe(value)}`);
  return iso;
}

/** Epoch milliseconds (number or digit string) or an ISO date-time string. */
export function epochOrDateTimeValue(value: unknown, path: string): string {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d{10,16}(\.\d+)?$/.test(value.trim()))) {
    const ms = Math.trunc(Number(value));
    // 2000-01-01 .. 9999: a number outside is not a plausible epoch-milliseconds time.
    if (!Number.isFinite(ms) || ms < 946_684_800_000 || ms > 253_402_300_799_999) {
      throw new FieldError(path, `not an epoch-milliseconds time: ${describe(value)}`);
    }
    return new Date(ms).toISOString();
  }
  if (typeof value === 'string') {
    const iso = parseIsoDateTime(value);
    if (iso !== undefined) return iso;
  }
  throw new FieldError(path, `not an epoch-milliseconds time or ISO date-time: ${describe(value)}`);
}

/** A calendar date (YYYY-MM-DD); an ISO date-time is accepted and reduced to its UTC date. */
export function dateValue(value: string, path: string): string {
  const text = value.trim();
  const match = DATE_ONLY.exec(text);
  if (match) {
    if (!validDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
      throw new FieldError(path, `not a valid date: ${describe(value)}`);
    }
    return text;
  }
  const iso = parseIsoDateTime(text);
  if (iso !== undefined) return iso.slice(0, 10);
  throw new FieldError(path, `not a date (YYYY-MM-DD): ${describe(value)}`);
}

/** Midnight UTC of a YYYY-MM-DD date, as an event time. */
export function dateToTime(date: string): string {
  return `${date}T00:00:00.000Z`;
}

// ---------------------------------------------------------------------------------------------
// Identities

const EMAIL = /^[^\s@"<>(),;:]+@[^\s@"<>(),;:]+\.[^\s@"<>(),;:]+$/;

/** Lower-cased email when the text is one, else undefined (user names are not always emails). */
export function emailOrUndefined(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  return EMAIL.test(trimmed) ? trimmed.toLowerCase() : undefined;
}

// ---------------------------------------------------------------------------------------------
// Keys

/** JSON with object keys sorted at every level: the same record always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const keys = Object.keys(value).sort();
  const parts: string[] = [];
  for (const key of keys) {
    const item = (value as JsonObject)[key];
    if (item === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${parts.join(',')}}`;
}

/** `sha256:<hex>` of the canonical JSON of `value`: the source key of records without an id. */
export function hashKey(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex')}`;
}
