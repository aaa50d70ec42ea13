/**
 * Binary rows from a PostgreSQL server, for the few statements that move bulk bytes (the
 * ledger's verification reads every envelope and payload).
 *
 * The `pg` driver decodes every field of a result as text, so bulk bytea would travel as hex or
 * base64 and be decoded twice. A statement whose text starts with `copyBinaryMarker` is a
 * `COPY (select …) TO STDOUT (FORMAT binary)`: it runs on the same connection (inside the
 * caller's transaction, under its row-level security), and the caller gets one row,
 * `{ data, row_count }`, where `data` holds the rows as PostgreSQL's binary COPY format writes
 * each tuple — int2 field count, then per field an int4 length (-1 for null) and that many bytes
 * in the column type's binary form — back to back, without the file header and trailer.
 *
 * COPY takes no bound parameters: `$n` in the statement is replaced by the n-th parameter
 * written as a literal (numbers as digits, anything else as an escaped string literal). The
 * statements that use this are written for it and hold no `$n` inside their own literals.
 */
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

export const copyBinaryMarker = '/* copy binary */';

const signature = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

export interface CopiedRows {
  /** The tuples, back to back (see the module comment). */
  data: Buffer;
  row_count: number;
}

function literal(client: pg.PoolClient, value: unknown, index: number): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return client.escapeLiteral(value);
  throw new TypeError(`copy statement parameter $${index}: unsupported type ${typeof value}`);
}

/** Runs one marked COPY statement on `client` and returns its tuples (see above). */
export async function copyBinary(
  client: pg.PoolClient,
  text: string,
  parameters: readonly unknown[],
): Promise<CopiedRows> {
  const statement = text.replace(/\$(\d+)\b/g, (_, n: string) => {
    const index = Number(n);
    if (index < 1 || index > parameters.length) {
      throw new TypeError(`copy statement parameter $${index}: no such parameter`);
    }
    return literal(client, parameters[index - 1], index);
  });
  const parts: Buffer[] = [];
  for await (const part of client.query(copyTo(statement))) parts.push(part as Buffer);
  const output = Buffer.concat(parts);
  if (output.length < signature.length + 8 || !output.subarray(0, signature.length).equals(signature)) {
    throw new Error('copy statement: the server did not answer in binary COPY format');
  }
  // Header: signature, int4 flags, int4 length of the header extension, the extension.
  const start = signature.length + 8 + output.readInt32BE(signature.length + 4);
  // Trailer: int2 -1.
  const end = output.length - 2;
  if (output.readInt16BE(end) !== -1) throw new Error('copy statement: the binary COPY output is cut short');
  let rows = 0;
  for (let p = start; p < end; rows++) {
    const fields = output.readInt16BE(p);
    p += 2;
    for (let i = 0; i < fields; i++) p += 4 + Math.max(output.readInt32BE(p), 0);
  }
  return { data: output.subarray(start, end), row_count: rows };
}

/**
 * The server's connection pool as Kysely uses it, with marked COPY statements (see above) run
 * through `copyBinary` on the same connection.
 */
export class CopyingPool implements PostgresPool {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.#pool.connect();
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    return {
      query(statement: unknown, parameters?: readonly unknown[]) {
        if (typeof statement === 'string' && statement.startsWith(copyBinaryMarker)) {
          return copyBinary(client, statement, parameters ?? []).then(
            (rows): PostgresQueryResult<CopiedRows> => ({ command: 'SELECT', rowCount: 1, rows: [rows] }),
          );
        }
        return parameters === undefined ? query(statement) : query(statement, parameters);
      },
      release() {
        client.release();
      },
    } as PostgresPoolClient;
  }

  end(): Promise<void> {
    return this.#pool.end();
  }
}
