/**
 * Binary rows from the embedded database, for the few statements that move bulk bytes (the
 * ledger's verification reads every envelope and payload).
 *
 * PGlite's `query` returns bytea as hex text and decodes every field of its output as a string;
 * for tens of megabytes that costs more than the database's own work. A statement whose text
 * starts with `binaryRowsMarker` is instead sent in the extended protocol asking for binary
 * results, and its output is kept as the database wrote it: the caller gets one row,
 * `{ data, row_count }`, where `data` holds the result's DataRow messages back to back — per row
 * 'D', int4 message length, int2 field count, then per field an int4 length (-1 for null) and
 * that many bytes in the column type's binary form (int8send, int2send, raw bytea, …).
 * Nothing is decoded per row, so the caller reads fields in place.
 */
import type { PGlite } from '@electric-sql/pglite';
import { serialize } from 'pg-protocol';

export const binaryRowsMarker = '/* binary rows */';

/** Bytes before each row's field count in `data`: the message type and length. */
export const dataRowHeaderSize = 5;

/** A database error from a binary statement, shaped like the driver's own (code, message). */
export class BinaryQueryError extends Error {
  readonly code: string | undefined;
  readonly severity: string | undefined;
  constructor(fields: Map<string, string>) {
    super(fields.get('M') ?? 'the database rejected the statement');
    this.name = 'error';
    this.code = fields.get('C');
    this.severity = fields.get('S');
  }
}

export interface BinaryRows {
  /** The DataRow messages, back to back (see the module comment). */
  data: Buffer;
  row_count: number;
}

function parameterText(value: unknown, index: number): string | Buffer | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value instanceof Date) return value.toISOString();
  throw new TypeError(`binary statement parameter $${index + 1}: unsupported type ${typeof value}`);
}

function errorFields(message: Buffer, start: number, end: number): Map<string, string> {
  const fields = new Map<string, string>();
  let p = start;
  while (p < end && message[p] !== 0) {
    const type = String.fromCharCode(message[p]!);
    const close = message.indexOf(0, p + 1);
    if (close < 0 || close > end) break;
    fields.set(type, message.toString('utf8', p + 1, close));
    p = close + 1;
  }
  return fields;
}

/** Runs one statement (the marker first) with binary results, its rows as written (see above). */
export async function queryBinaryRows(
  pglite: PGlite,
  text: string,
  parameters: readonly unknown[],
): Promise<BinaryRows> {
  const request = Buffer.concat([
    serialize.parse({ text }),
    serialize.bind({ values: parameters.map(parameterText), binary: true }),
    serialize.execute({}),
    serialize.sync(),
  ]);
  // The callback sees the database's output buffer, reused between calls: copy each part, into
  // one growing buffer rather than a Buffer per part (thousands for a large result).
  let output = Buffer.allocUnsafeSlow(1 << 20);
  let length = 0;
  await pglite.execProtocolRawStream(request, {
    syncToFs: false,
    onRawData: (part: Uint8Array) => {
      if (length + part.length > output.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(output.length * 2, length + part.length));
        output.copy(grown, 0, 0, length);
        output = grown;
      }
      output.set(part, length);
      length += part.length;
    },
  });
  let first = -1;
  let end = 0;
  let rows = 0;
  let p = 0;
  while (p + dataRowHeaderSize <= length) {
    const type = output[p]!;
    const next = p + 1 + output.readInt32BE(p + 1);
    if (type === 0x45 /* E: error */) throw new BinaryQueryError(errorFields(output, p + 5, next));
    if (type === 0x44 /* D: data row */) {
      // Rows come back to back, between the statement's other messages.
      if (first < 0) first = p;
      else if (p !== end) throw new Error('binary statement: its rows are not contiguous');
      end = next;
      rows++;
    }
    p = next;
  }
  return { data: first < 0 ? Buffer.alloc(0) : output.subarray(first, end), row_count: rows };
}
