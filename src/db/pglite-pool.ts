/**
 * Presents one embedded PGlite instance as a `pg`-style pool so Kysely's PostgreSQL dialect can
 * drive it. PGlite has a single connection, so `connect()` hands it out to one caller at a time.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import { binaryRowsMarker, queryBinaryRows } from './pglite-binary.ts';

export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async acquire(): Promise<() => void> {
    let release!: () => void;
    // The next holder gets the connection on the following turn of the event loop, not at once:
    // PGlite answers without I/O, so back-to-back transactions would otherwise hold the loop and
    // starve timers and sockets (an HTTP request, a poll) until the whole queue had drained.
    const next = new Promise<void>((resolve) => {
      release = () => setImmediate(resolve);
    });
    const previous = this.#tail;
    this.#tail = previous.then(() => next);
    await previous;
    return release;
  }
}

function commandOf(sql: string): PostgresQueryResult<unknown>['command'] {
  const match = /^\s*(?:with\b[\s\S]*?\)\s*)?(insert|update|delete|merge|select)\b/i.exec(sql);
  return (match?.[1]?.toUpperCase() ?? 'SELECT') as PostgresQueryResult<unknown>['command'];
}

export class PGlitePool implements PostgresPool {
  readonly #pglite: PGlite;
  readonly #mutex = new Mutex();

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  get mutex(): Mutex {
    return this.#mutex;
  }

  async connect(): Promise<PostgresPoolClient> {
    const release = await this.#mutex.acquire();
    const pglite = this.#pglite;
    let released = false;
    const client = {
      async query(sql: string, parameters: ReadonlyArray<unknown>) {
        if (sql.startsWith(binaryRowsMarker)) {
          const rows = await queryBinaryRows(pglite, sql, parameters);
          return { command: 'SELECT', rowCount: 1, rows: [rows] };
        }
        const result = await pglite.query(sql, [...parameters]);
        return {
          command: commandOf(sql),
          rowCount: result.affectedRows ?? result.rows.length,
          rows: result.rows,
        };
      },
      release() {
        if (!released) {
          released = true;
          release();
        }
      },
    };
    return client as unknown as PostgresPoolClient;
  }

  async end(): Promise<void> {
    // The owner of the PGlite instance closes it.
  }
}
