/**
 * The server entry: opens the database, applies migrations, and starts the roles this process
 * plays. `assay serve` calls it; tests call it too.
 */
import type { Config } from './config.ts';
import { openDatabase } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { openSecretBox } from './domains/secrets/secrets.ts';
import { buildApp } from './http/app.ts';

export interface RunningServer {
  url: string;
  database: 'pglite' | 'postgres';
  close(): Promise<void>;
  /** Resolves when the server has stopped (signal or close()). */
  closed: Promise<void>;
}

export async function startServer(
  config: Config,
  options: { log?: (line: string) => void; handleSignals?: boolean } = {},
): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  const database = await openDatabase(config);
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
    const app = await buildApp(
      { config, database, secrets },
      { logger: config.logLevel !== 'silent' && config.logLevel !== 'info' },
    );
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    log(
      `assay listening on ${url} (database: ${database.kind === 'pglite' ? `embedded, ${config.dataDir}` : 'postgresql'})`,
    );
    const close = () => {
      stopping ??= (async () => {
        await app.close();
        await database.close();
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
    await database.close();
    throw error;
  }
}
