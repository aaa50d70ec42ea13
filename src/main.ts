/**
 * The server entry: opens the database, applies migrations, and starts the roles this process
 * plays. `assay serve` calls it; tests call it too.
 */
import type { Config } from './config.ts';
import { type Database, openDatabase } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { openSecretBox } from './domains/secrets/secrets.ts';
import { buildApp } from './http/app.ts';
import { startBackgroundRoles } from './jobs/roles.ts';

export interface RunningServer {
  url: string;
  database: 'pglite' | 'postgres';
  close(): Promise<void>;
  /** Resolves when the server has stopped (signal or close()). */
  closed: Promise<void>;
}

export async function startServer(
  config: Config,
  options: {
    log?: (line: string) => void;
    handleSignals?: boolean;
    /** An already open database (tests); close() leaves it open. */
    database?: Database;
  } = {},
): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  const database = options.database ?? (await openDatabase(config));
  const closeDatabase = () => (options.database ? Promise.resolve() : database.close());
  let stopping: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  try {
    const report = await migrate(database);
    if (report.applied.length > 0) log(`applied ${report.applied.length} migrations`);
    const secrets = openSecretBox(config, log);
    // On the embedded database a missing key is generated now, so the log says so at start-up.
    if (database.kind === 'pglite' || config.secretKey !== undefined) secrets.ready();
    else log('ASSAY_SECRET_KEY is not set: single sign-on and second factors are unavailable until it is');
    // A process without the api role (a dedicated worker or scheduler) serves no HTTP.
    const app = config.roles.includes('api')
      ? await buildApp(
          { config, database, secrets },
          { logger: config.logLevel !== 'silent' && config.logLevel !== 'info' },
        )
      : undefined;
    let url = '';
    if (app) {
      await app.listen({ port: config.port, host: config.host });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
      log(
        `assay listening on ${url} (database: ${database.kind === 'pglite' ? `embedded, ${config.dataDir}` : 'postgresql'})`,
      );
    }
    const background = startBackgroundRoles(database, config, secrets, log);
    const close = () => {
      stopping ??= (async () => {
        // No new requests, then the jobs in hand finish, then the database closes.
        await app?.close();
        await background.stop();
        await closeDatabase();
        resolveClosed();
      })();
      return stopping;
    };
    if (options.handleSignals !== false) {
      const onSignal = (signal: string) => {
        log(`${signal} received, shutting down`);
        void close();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
    return { url, database: database.kind, close, closed };
  } catch (error) {
    await closeDatabase();
    throw error;
  }
}
