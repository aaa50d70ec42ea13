import type { Command } from 'commander';
import { seedDemoOnStart } from '../../domains/demo/start-demo.ts';
import { startServer } from '../../main.ts';
import { type CommandIO, configFrom, globalOptions } from '../runtime.ts';

export function registerServeCommand(program: Command, io: CommandIO) {
  program
    .command('serve')
    .description('run the API (and, as roles land, workers and the scheduler)')
    .option('--port <port>', 'TCP port (default 8080, or PORT)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1, or HOST)')
    .option('--roles <roles>', 'comma-separated: api,worker,scheduler (default all)')
    .option('--demo', 'on an empty data directory, seed the demo first (npm start; or ASSAY_DEMO=true)')
    .option('--no-demo', 'never seed the demo (or ASSAY_DEMO=false)')
    .action(
      async (opts: { port?: string; host?: string; roles?: string; demo?: boolean }, command: Command) => {
        const options = globalOptions(command);
        const config = configFrom(options, {
          port: opts.port,
          host: opts.host,
          roles: opts.roles,
          demo: opts.demo,
        });
        if (config.demoOnStart) await seedDemoOnStart(config, { log: (line) => io.stderr(`${line}\n`) });
        const server = await startServer(config, { log: (line) => io.stderr(`${line}\n`) });
        if (options.json)
          io.stdout(
            `${JSON.stringify({ url: server.url, roles: config.roles, database: server.database })}\n`,
          );
        await server.closed;
      },
    );
}
