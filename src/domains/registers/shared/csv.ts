/**
 * CSV import and export for the registers. Each register kind declares its documented columns,
 * how a record becomes a row, and how a row becomes a record (an upsert by the record's natural
 * key, so an export imported again changes nothing). An import is all or nothing: every row is
 * validated first and all problems are reported with their line and column; then the rows are
 * written in one transaction, which a row that fails against the database rolls back whole.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { Trx } from '../../../db/database.ts';
import { AssayError, isAssayError } from '../../../errors.ts';
import type { RegisterContext } from './context.ts';
import { isoDateOrInstant } from './values.ts';

export interface CsvColumn {
  header: string;
  /** The row is rejected without it (for every row, or only for a new record: `new`). */
  required?: true | 'new';
  description: string;
}

export type ApplyResult = 'created' | 'updated' | 'unchanged';

export interface CsvKind<P = unknown> {
  kind: string;
  /** The register it belongs to (for the docs and the CLI). */
  register: string;
  description: string;
  columns: CsvColumn[];
  /** Monitors to evaluate after an import. */
  checks: readonly string[];
  /** Every record as a row of cells, in a stable order. */
  rows(trx: Trx, ctx: RegisterContext): Promise<Record<string, string>[]>;
  /** Checks one row's cells (no database); errors name the field. */
  parse(input: Record<string, string | undefined>): P;
  /** Writes one checked row. `batch` carries state across rows (evidence appended once at the end). */
  apply(trx: Trx, ctx: RegisterContext, parsed: P, batch: Map<string, unknown>): Promise<ApplyResult>;
  finish?(trx: Trx, ctx: RegisterContext, batch: Map<string, unknown>): Promise<void>;
}

export interface RowError {
  line: number;
  field: string | null;
  message: string;
}

export interface ImportSummary {
  kind: string;
  workspace: string;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
}

const maxReportedErrors = 50;
export const maxImportRows = 100_000;

// --- cells --------------------------------------------------------------------------------------

export const cell = {
  text: (v: string | null | undefined) => v ?? '',
  list: (v: string[] | null | undefined) => (v ?? []).join('; '),
  bool: (v: boolean | null | undefined) => (v === null || v === undefined ? '' : v ? 'true' : 'false'),
  int: (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v)),
  /** A date written without a time comes back as a date; an instant as a full ISO date-time. */
  date: (v: Date | null | undefined) => isoDateOrInstant(v ?? null) ?? '',
};

export type Input = Record<string, string | undefined>;

export const result = (r: { created: boolean; changed: boolean }) =>
  r.created ? 'created' : r.changed ? 'updated' : 'unchanged';

function camel(header: string): string {
  return header.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function snake(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `periodEnd` → `period_end`, `cuecs[0].control` → `cuecs`: the column a field error belongs to. */
function columnOf(field: string | undefined, columns: CsvColumn[]): string | null {
  if (!field) return null;
  const head = /^[A-Za-z]+/.exec(field)?.[0];
  if (!head) return field;
  const header = snake(head);
  return columns.some((c) => c.header === header) ? `${header}${field.slice(head.length)}` : field;
}

function describe(error: unknown, columns: CsvColumn[]): { field: string | null; message: string } {
  if (isAssayError(error)) {
    const raw = typeof error.details?.field === 'string' ? error.details.field : undefined;
    const field = columnOf(raw, columns);
    let message = error.message;
    if (raw && field && message.startsWith(`${raw}:`)) message = message.slice(raw.length + 1).trim();
    return { field, message };
  }
  throw error;
}

function rejected(kind: string, errors: RowError[], total = errors.length): AssayError {
  const shown = errors
    .slice(0, 5)
    .map((e) => `line ${e.line}${e.field ? `, ${e.field}` : ''}: ${e.message}`)
    .join('; ');
  return new AssayError(
    'import_rejected',
    `${kind}: ${total} row${total === 1 ? '' : 's'} rejected, nothing imported — ${shown}${total > 5 ? '; …' : ''}`,
    { errors: errors.slice(0, maxReportedErrors), line: errors[0]?.line, field: errors[0]?.field },
  );
}

// --- export -------------------------------------------------------------------------------------

export async function exportCsv(kind: CsvKind, trx: Trx, ctx: RegisterContext): Promise<string> {
  const rows = await kind.rows(trx, ctx);
  const headers = kind.columns.map((c) => c.header);
  return stringify(
    rows.map((row) => headers.map((h) => row[h] ?? '')),
    { header: true, columns: headers, record_delimiter: '\n' },
  );
}

// --- import -------------------------------------------------------------------------------------

interface ParsedRow<P> {
  line: number;
  value: P;
}

/** Reads and checks every row; throws `import_rejected` listing each bad row's line and column. */
export function readCsv<P>(kind: CsvKind<P>, text: string): ParsedRow<P>[] {
  let records: { record: string[]; raw: string; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: 1024 * 1024,
    }) as unknown as typeof records;
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw rejected(kind.kind, [
      {
        line: line ?? 1,
        field: null,
        message: `unreadable CSV: ${(error as Error).message.replace(/^[A-Za-z_]+: /, '')}`,
      },
    ]);
  }
  const header = records[0];
  if (!header)
    throw rejected(kind.kind, [
      { line: 1, field: null, message: 'the file is empty: expected a header row' },
    ]);
  const headers = header.record.map((h) => h.trim().toLowerCase());
  const known = new Map(kind.columns.map((c) => [c.header, c]));
  const headerErrors: RowError[] = [];
  headers.forEach((h, i) => {
    if (!known.has(h)) {
      headerErrors.push({
        line: 1,
        field: h || `column ${i + 1}`,
        message: `unknown column (expected: ${kind.columns.map((c) => c.header).join(', ')})`,
      });
    } else if (headers.indexOf(h) !== i) {
      headerErrors.push({ line: 1, field: h, message: 'column appears twice' });
    }
  });
  for (const column of kind.columns) {
    if (column.required === true && !headers.includes(column.header)) {
      headerErrors.push({ line: 1, field: column.header, message: 'required column is missing' });
    }
  }
  if (headerErrors.length > 0) throw rejected(kind.kind, headerErrors);
  if (records.length - 1 > maxImportRows) {
    throw rejected(kind.kind, [
      { line: 1, field: null, message: `at most ${maxImportRows} rows per import` },
    ]);
  }

  const errors: RowError[] = [];
  let errorCount = 0;
  const parsed: ParsedRow<P>[] = [];
  for (const { record, raw, info } of records.slice(1)) {
    const line = info.lines - (raw.replace(/^[\r\n]+|[\r\n]+$/g, '').match(/\n/g)?.length ?? 0);
    if (record.length > headers.length) {
      errorCount++;
      if (errors.length < maxReportedErrors) {
        errors.push({
          line,
          field: null,
          message: `${record.length} fields, but the header has ${headers.length}`,
        });
      }
      continue;
    }
    const input: Record<string, string | undefined> = {};
    headers.forEach((h, i) => {
      const value = record[i];
      // An empty cell leaves the field as it is (its default for a new record).
      input[camel(h)] = value === undefined || value.trim() === '' ? undefined : value;
    });
    const missing = kind.columns.find((c) => c.required === true && input[camel(c.header)] === undefined);
    try {
      if (missing)
        throw new AssayError('validation_failed', `${camel(missing.header)}: is required`, {
          field: camel(missing.header),
        });
      parsed.push({ line, value: kind.parse(input) });
    } catch (error) {
      errorCount++;
      if (errors.length < maxReportedErrors) errors.push({ line, ...describe(error, kind.columns) });
    }
  }
  if (errors.length > 0) throw rejected(kind.kind, errors, errorCount);
  return parsed;
}

/** Writes checked rows in the caller's transaction; a failing row rolls back the whole import. */
export async function applyCsv<P>(
  kind: CsvKind<P>,
  trx: Trx,
  ctx: RegisterContext,
  rows: ParsedRow<P>[],
): Promise<ImportSummary> {
  const summary: ImportSummary = {
    kind: kind.kind,
    workspace: ctx.slug,
    rows: rows.length,
    created: 0,
    updated: 0,
    unchanged: 0,
  };
  const batch = new Map<string, unknown>();
  for (const row of rows) {
    let result: ApplyResult;
    try {
      result = await kind.apply(trx, ctx, row.value, batch);
    } catch (error) {
      if (!isAssayError(error) || error.code === 'internal') throw error;
      throw rejected(kind.kind, [{ line: row.line, ...describe(error, kind.columns) }]);
    }
    summary[result]++;
  }
  await kind.finish?.(trx, ctx, batch);
  return summary;
}
