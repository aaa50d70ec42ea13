/**
 * One database handle for the whole process, whichever engine is behind it: the embedded PGlite
 * (default, a data directory on disk) or a PostgreSQL server (`DATABASE_URL`). Both speak the
 * same SQL and run the same migrations.
 *
 * Tenant isolation is enforced twice: repositories filter by workspace, and every workspace
 * transaction runs as the restricted `assay_app` role with `assay.workspace_id` set, so
 * PostgreSQL row-level security hides every other workspace's rows whatever a query asks for.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
  sql,
  type Transaction,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import { AssayError } from '../errors.ts';
import { PGlitePool } from './pglite-pool.ts';
import { CopyingPool } from './postgres-copy.ts';
import type { DB } from './schema.ts';

export type DatabaseKind = 'pglite' | 'postgres';
export type Trx = Transaction<DB>;

/** A connection for scripts (migrations): runs multi-statement SQL and parameterised queries. */
export interface RawConnection {
  exec(script: string): Promise<void>;
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
}

export interface Database {
  readonly kind: DatabaseKind;
  /** Platform-level access (workspace registry, job claims across workspaces). */
  readonly db: Kysely<DB>;
  /** Runs `fn` in one transaction scoped to a workspace under row-level security. */
  inWorkspace<T>(workspaceId: string, fn: (trx: Trx) => Promise<T>): Promise<T>;
  /** Runs `fn` in one transaction with platform privileges. */
  inSystem<T>(fn: (trx: Trx) => Promise<T>): Promise<T>;
  /** Holds one raw connection for the duration of `fn` (migrations, advisory locks). */
  withRawConnection<T>(fn: (conn: RawConnection) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` whenever another process of this database notifies `channel` (PostgreSQL
   * LISTEN, on a connection of its own). Resolves to a function that stops listening. The
   * embedded database has no other processes: there it listens to nothing.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const appRole = 'assay_app';

// int8 counts and ids fit in a JS number; keep both engines returning the same shapes.
const int8 = 20;
pg.types.setTypeParser(int8, (v) => Number.parseInt(v, 10));

type Listener = Database['listen'];
const listenToNothing: Listener = async () => async () => {};

function wrap(
  kind: DatabaseKind,
  db: Kysely<DB>,
  raw: RawConnectionProvider,
  onClose: () => Promise<void>,
  listen: Listener = listenToNothing,
) {
  let closing: Promise<void> | undefined;
  const database: Database = {
    kind,
    db,
    inWorkspace(workspaceId, fn) {
      const scope: WorkspaceBegin = { workspaceId, taken: false };
      return workspaceBegin.run(scope, () =>
        db.transaction().execute(async (trx) => {
          if (!scope.taken) {
            await sql`select set_config('role', ${appRole}, true), set_config('assay.workspace_id', ${workspaceId}, true)`.execute(
              trx,
            );
          }
          // Transactions `fn` opens itself are not this workspace's.
          return workspaceBegin.exit(() => fn(trx));
        }),
      );
    },
    inSystem(fn) {
      return db.transaction().execute(fn);
    },
    withRawConnection: raw,
    listen,
    close() {
      closing ??= (async () => {
        await db.destroy();
        await onClose();
      })();
      return closing;
    },
  };
  return database;
}

/**
 * On a server every round trip counts (a change's evaluation is a few dozen statements): the
 * driver opens a workspace's transaction and scopes it in one round trip, `begin` and the two
 * settings sent together. The workspace id is inlined only when it is a UUID (ids are); anything
 * else takes the parameterised statement of `inWorkspace`.
 */
interface WorkspaceBegin {
  workspaceId: string;
  /** Set once the driver has scoped the transaction it began. */
  taken: boolean;
}
const workspaceBegin = new AsyncLocalStorage<WorkspaceBegin>();
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class ScopingPostgresDriver extends PostgresDriver {
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    const scope = workspaceBegin.getStore();
    if (
      scope === undefined ||
      scope.taken ||
      !uuidPattern.test(scope.workspaceId) ||
      settings.isolationLevel !== undefined ||
      settings.accessMode !== undefined
    ) {
      return super.beginTransaction(connection, settings);
    }
    scope.taken = true;
    try {
      await connection.executeQuery(
        CompiledQuery.raw(
          `begin; select set_config('role', '${appRole}', true), set_config('assay.workspace_id', '${scope.workspaceId}', true)`,
        ),
      );
    } catch (error) {
      // Never hand back a connection inside a transaction that failed to start.
      await connection.executeQuery(CompiledQuery.raw('rollback')).catch(() => {});
      throw error;
    }
  }
}

class ScopingPostgresDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  constructor(config: PostgresDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ScopingPostgresDriver(this.#config);
  }
}

type RawConnectionProvider = <T>(fn: (conn: RawConnection) => Promise<T>) => Promise<T>;

export interface OpenOptions {
  /** An already created PGlite (tests use in-memory instances). */
  pglite?: PGlite;
}

export async function openDatabase(
  config: { dataDir: string; databaseUrl: string | undefined },
  options: OpenOptions = {},
): Promise<Database> {
  if (config.databaseUrl !== undefined && options.pglite === undefined) {
    return openPostgres(config.databaseUrl);
  }
  return openPGlite(config.dataDir, options.pglite);
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on next use.
  });
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new AssayError(
      'internal',
      `cannot connect to the PostgreSQL server in DATABASE_URL: ${(error as Error).message}`,
    );
  }
  const db = new Kysely<DB>({ dialect: new ScopingPostgresDialect({ pool: new CopyingPool(pool) }) });
  const raw: RawConnectionProvider = async (fn) => {
    const client = await pool.connect();
    try {
      return await fn({
        async exec(script) {
          await client.query(script);
        },
        async query(text, params = []) {
          return (await client.query(text, params)).rows;
        },
      });
    } finally {
      client.release();
    }
  };
  // Kysely's destroy() ends the pool.
  return wrap('postgres', db, raw, async () => {}, listenOn(url));
}

const channelName = /^[a-z_][a-z0-9_]{0,62}$/;

/** LISTEN on a dedicated connection; if it drops, it reconnects (until stopped) after a pause. */
function listenOn(url: string): Listener {
  return async (channel, onNotify) => {
    if (!channelName.test(channel)) throw new AssayError('internal', `not a channel name: ${channel}`);
    let stopped = false;
    let client: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    const connect = async (): Promise<void> => {
      const next = new pg.Client({ connectionString: url });
      next.on('notification', (message) => {
        if (message.channel === channel) onNotify();
      });
      next.on('error', () => {
        // The connection is gone: polling still finds the work; listen again shortly.
        next.end().catch(() => {});
        if (client === next) client = undefined;
        if (!stopped) retry = setTimeout(() => connect().catch(() => {}), 1000);
      });
      await next.connect();
      await next.query(`listen ${channel}`);
      if (stopped) {
        await next.end();
        return;
      }
      client = next;
      // Whatever was notified while not listening is found by looking now.
      onNotify();
    };
    await connect();
    return async () => {
      stopped = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
      client = undefined;
    };
  };
}

async function openPGlite(dataDir: string, given: PGlite | undefined): Promise<Database> {
  let unlock = async () => {};
  let pglite = given;
  if (pglite === undefined) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDirectory(dataDir);
    try {
      pglite = await PGlite.create(join(dataDir, 'pgdata'), {
        parsers: { [int8]: (v: string) => Number.parseInt(v, 10) },
        // An embedded database shares its process with Assay: a small buffer pool keeps the
        // footprint low (the operating system's page cache still holds the data files), which
        // is what keeps a 1 GB import under 512 MB of memory.
        startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
      });
    } catch (error) {
      await unlock();
      throw error;
    }
  }
  const instance = pglite;
  const pool = new PGlitePool(instance);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const raw: RawConnectionProvider = async (fn) => {
    const release = await pool.mutex.acquire();
    try {
      return await fn({
        async exec(script) {
          await instance.exec(script);
        },
        async query(text, params = []) {
          return (await instance.query(text, params)).rows as never[];
        },
      });
    } finally {
      release();
    }
  };
  return wrap('pglite', db, raw, async () => {
    if (given === undefined) await instance.close();
    await unlock();
  });
}

/**
 * PGlite is a single-process database: two processes writing one data directory would corrupt
 * it. The first process takes a lock file; a second one gets a clear error instead.
 */
const heldLocks = new Set<string>();

function lockDataDirectory(dataDir: string): () => Promise<void> {
  const path = join(dataDir, 'assay.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      if (heldLocks.has(path)) throw Object.assign(new Error('held'), { code: 'EEXIST' });
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldLocks.add(path);
      return async () => {
        heldLocks.delete(path);
        rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = Number.NaN;
      try {
        holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
      } catch {
        // the file vanished between the two calls: try again
      }
      // Our own pid counts only if this process really holds the lock (pids are reused after restarts).
      const heldHere = heldLocks.has(path);
      if (heldHere || (Number.isInteger(holder) && holder !== process.pid && isAlive(holder))) {
        throw new AssayError(
          'data_directory_locked',
          `the data directory ${dataDir} is in use by process ${heldHere ? process.pid : holder} (an "assay serve", perhaps). ` +
            'Stop that process, or run both against a PostgreSQL server with --database-url.',
          { dataDir, pid: heldHere ? process.pid : holder },
        );
      }
      // The holder died without cleaning up: take the lock over.
      rmSync(path, { force: true });
    }
  }
  throw new AssayError('data_directory_locked', `cannot lock the data directory ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
