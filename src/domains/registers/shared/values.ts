/**
 * Validation of register input, shared by the API, the CLI and CSV import: every failure is a
 * `validation_failed` error naming the field, so a CSV import can say "line 7, field due_on".
 */
import { AssayError } from '../../../errors.ts';

export function invalid(field: string, message: string): never {
  throw new AssayError('validation_failed', `${field}: ${message}`, { field });
}

const blank = (value: unknown) =>
  value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

export function text(field: string, value: unknown, max = 200): string {
  if (typeof value !== 'string') invalid(field, 'is required');
  const trimmed = value.trim();
  if (trimmed.length === 0) invalid(field, 'is required');
  if (trimmed.length > max) invalid(field, `must be at most ${max} characters`);
  return trimmed;
}

/** Free text that may be empty (descriptions, notes). */
export function prose(field: string, value: unknown, max = 20_000): string {
  if (blank(value)) return '';
  if (typeof value !== 'string') invalid(field, 'must be text');
  if (value.length > max) invalid(field, `must be at most ${max} characters`);
  return value.trim();
}

export function optionalText(field: string, value: unknown, max = 200): string | null {
  return blank(value) ? null : text(field, value, max);
}

export function oneOf<T extends string>(field: string, value: unknown, options: readonly T[]): T {
  if (blank(value)) invalid(field, `is required (one of ${options.join(', ')})`);
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value.trim())) {
    invalid(field, `"${String(value ?? '')}" is not one of ${options.join(', ')}`);
  }
  return value.trim() as T;
}

export function optionalOneOf<T extends string>(
  field: string,
  value: unknown,
  options: readonly T[],
): T | null {
  return blank(value) ? null : oneOf(field, value, options);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A calendar date (`2026-03-31`, stored as midnight UTC) or an instant with a time zone. Dates
 * are how people write periods and deadlines; instants are how systems log what happened.
 */
export function instant(field: string, value: unknown): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) invalid(field, 'is not a real date');
    return value;
  }
  if (typeof value !== 'string')
    invalid(field, 'is required (a date such as 2026-03-31 or a date-time with a zone)');
  const raw = value.trim();
  const date = DATE.exec(raw);
  if (date) {
    const d = new Date(Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3])));
    if (d.toISOString().slice(0, 10) !== raw) invalid(field, `${raw} is not a real date`);
    return d;
  }
  if (!INSTANT.test(raw)) {
    invalid(
      field,
      `"${raw.slice(0, 40)}" is not a date (2026-03-31) or a date-time with a zone (2026-03-31T09:30:00Z)`,
    );
  }
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) invalid(field, `${raw} is not a real date-time`);
  return d;
}

export function optionalInstant(field: string, value: unknown): Date | null {
  return blank(value) ? null : instant(field, value);
}

export function integer(field: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    invalid(field, `must be a whole number from ${min} to ${max}`);
  }
  return n;
}

export function optionalInteger(field: string, value: unknown, min: number, max: number): number | null {
  return blank(value) ? null : integer(field, value, min, max);
}

export function bool(field: string, value: unknown, fallback: boolean): boolean {
  if (blank(value)) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['true', 'yes', 'y', '1'].includes(v)) return true;
    if (['false', 'no', 'n', '0'].includes(v)) return false;
  }
  return invalid(field, 'must be true or false');
}

/** A list given as an array, or as text separated by semicolons (CSV cells, CLI options). */
export function list(field: string, value: unknown, max = 200, itemMax = 200): string[] {
  if (blank(value)) return [];
  const items = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.split(';')
      : invalid(field, 'must be a list');
  const out: string[] = [];
  items.forEach((item, i) => {
    if (typeof item !== 'string') invalid(`${field}[${i}]`, 'must be text');
    const trimmed = item.trim();
    if (trimmed === '') return;
    if (trimmed.length > itemMax) invalid(`${field}[${i}]`, `must be at most ${itemMax} characters`);
    if (!out.includes(trimmed)) out.push(trimmed);
  });
  if (out.length > max) invalid(field, `lists at most ${max} items`);
  return out;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function email(field: string, value: unknown): string {
  const v = text(field, value, 254).toLowerCase();
  if (!EMAIL.test(v)) invalid(field, `"${v}" is not an email address`);
  return v;
}

export function emailList(field: string, value: unknown): string[] {
  return list(field, value, 100_000, 254).map((v, i) => email(`${field}[${i}]`, v));
}

/** Applies `fn` to a patch field only when it was given (undefined = leave unchanged). */
export function patch<T>(value: unknown, fn: (v: unknown) => T): T | undefined {
  return value === undefined ? undefined : fn(value);
}

/** A calendar date as people write it. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Dates given without a time come back as dates; instants as full ISO date-times. */
export function isoDateOrInstant(date: Date | null): string | null {
  if (!date) return null;
  const iso = date.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}

export function addMonths(date: Date, months: number): Date {
  const d = new Date(date.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

export const dayMs = 24 * 3600 * 1000;

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * dayMs);
}

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** Control template ids (`VEN-03`), as written in the catalog. */
export function controlIds(field: string, value: unknown): string[] {
  return list(field, value, 100, 40).map((id) => id.toUpperCase());
}
