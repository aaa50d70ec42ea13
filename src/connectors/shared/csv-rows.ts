/**
 * Streaming CSV rows through csv-parse. Rows are collected as csv-parse produces them (its
 * `on_record` hook) and handed out after each chunk, so a syntax error late in a chunk never
 * discards the good rows before it, and no more than one chunk of rows is held at once.
 */
import { type CsvError, parse } from 'csv-parse';

export interface CsvRow {
  ok: true;
  fields: string[];
  /** Line on which the row ends (1-based). */
  line: number;
}

export interface CsvFailure {
  ok: false;
  line: number | undefined;
  error: string;
  /** Always true: csv-parse cannot go on after a syntax error. */
  fatal: true;
}

export type CsvItem = CsvRow | CsvFailure;

function describeCsvError(error: unknown): { line: number | undefined; reason: string } {
  const csv = error as Partial<CsvError> & { lines?: number };
  const reason = error instanceof Error ? error.message : String(error);
  const line = typeof csv.lines === 'number' ? csv.lines : undefined;
  switch (csv.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return { line, reason: 'a quoted field is never closed (truncated file?)' };
    case 'CSV_MAX_RECORD_SIZE':
      return { line, reason: 'row is larger than the record size limit' };
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_CLOSING_QUOTE':
      return { line, reason: `bad CSV quoting: ${reason}` };
    default:
      return { line, reason: `unreadable CSV: ${reason}` };
  }
}

export async function* readCsvRows(
  bytes: AsyncIterable<Uint8Array>,
  options: { maxRecordBytes: number },
): AsyncGenerator<CsvItem> {
  const queue: CsvRow[] = [];
  let failure: unknown;
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: options.maxRecordBytes,
    on_record: (record: string[], context: { lines: number }) => {
      queue.push({ ok: true, fields: record, line: context.lines });
      return null;
    },
  });
  parser.on('error', (error) => {
    failure ??= error;
  });
  // Rows are taken in on_record; the readable side stays empty but must flow to end.
  parser.resume();
  const write = (chunk: Uint8Array) =>
    new Promise<void>((resolve) => {
      parser.write(chunk, (error) => {
        if (error) failure ??= error;
        resolve();
      });
    });
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  try {
    for await (const chunk of bytes) {
      await write(chunk);
      await settle();
      yield* queue.splice(0);
      if (failure !== undefined) {
        const { line, reason } = describeCsvError(failure);
        yield { ok: false, line, error: reason, fatal: true };
        return;
      }
    }
    await new Promise<void>((resolve) => {
      if (failure !== undefined) {
        resolve();
        return;
      }
      parser.once('end', () => resolve());
      parser.once('error', () => resolve());
      parser.end();
    });
    yield* queue.splice(0);
    if (failure !== undefined) {
      const { line, reason } = describeCsvError(failure);
      yield { ok: false, line, error: reason, fatal: true };
    }
  } finally {
    parser.destroy();
  }
}
