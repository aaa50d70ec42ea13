/**
 * Binary results from the embedded database, for the few statements that move bulk bytes (the
 * ledger's verification reads every envelope and payload).
 *
 * PGlite's `query` returns bytea as hex text and decodes every field of its output as a string;
 * for tens of megabytes that costs more than the database's own work. A statement whose text
 * starts with `binaryResultsMarker` is instead sent in the extended protocol asking for binary
 * results, and its output is read as it leaves the database, without decoding: each bytea column
 * arrives as its raw bytes. Only bytea columns may be selected (other types' binary forms are not
 * what callers expect from this driver).
 */
import type { PGlite } from '@electric-sql/pglite';
import { serialize } from 'pg-protocol';

export const binaryResultsMarker = '/* binary results */';

const byteaOid = 17;

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

/** Runs one statement (the marker first) with binary results: rows of Buffers by column name. */
export async function queryBinary(
  pglite: PGlite,
  text: string,
  parameters: readonly unknown[],
): Promise<Record<string, Buffer | null>[]> {
  const request = Buffer.concat([
    serialize.parse({ text }),
    serialize.bind({ values: parameters.map(parameterText), binary: true }),
    serialize.describe({ type: 'P' }),
    serialize.execute({}),
    serialize.sync(),
  ]);
  const parts: Buffer[] = [];
  // The callback sees the database's output buffer, reused between calls: copy each part.
  await pglite.execProtocolRawStream(request, {
    syncToFs: false,
    onRawData: (data: Uint8Array) => {
      parts.push(Buffer.from(data));
    },
  });
  const output = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  const rows: Record<string, Buffer | null>[] = [];
  let columns: string[] = [];
  let p = 0;
  while (p + 5 <= output.length) {
    const type = output[p]!;
    const end = p + 1 + output.readInt32BE(p + 1);
    const body = p + 5;
    if (type === 0x45 /* E: error */) throw new BinaryQueryError(errorFields(output, body, end));
    if (type === 0x54 /* T: row description */) {
      const count = output.readInt16BE(body);
      columns = [];
      let q = body + 2;
      for (let i = 0; i < count; i++) {
        const close = output.indexOf(0, q);
        const name = output.toString('utf8', q, close);
        const typeOid = output.readInt32BE(close + 7);
        if (typeOid !== byteaOid) {
          throw new TypeError(`binary statement: column ${name} is not bytea (type ${typeOid})`);
        }
        columns.push(name);
        q = close + 19;
      }
    } else if (type === 0x44 /* D: data row */) {
      const count = output.readInt16BE(body);
      const row: Record<string, Buffer | null> = {};
      let q = body + 2;
      for (let i = 0; i < count; i++) {
        const length = output.readInt32BE(q);
        q += 4;
        row[columns[i] ?? `column${i}`] = length < 0 ? null : output.subarray(q, q + length);
        q += Math.max(length, 0);
      }
      rows.push(row);
    }
    p = end;
  }
  return rows;
}
