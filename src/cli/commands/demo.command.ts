import type { Command } from 'commander';
import { seedDemo } from '../../domains/demo/demo.service.ts';
import { AssayError } from '../../errors.ts';
import { type CommandIO, cliActor, configFrom, globalOptions, output, withDatabase } from '../runtime.ts';

export function registerDemoCommand(program: Command, io: CommandIO) {
  program
    .command('demo')
    .description('seed an MSP with three client workspaces (20, 120 and 500 people) and a year of history')
    .option('--seed <n>', 'random seed (the same seed gives the same data)', '2026')
    .option('--small', 'smaller clients (for a quick look)')
    .action(async (opts: { seed: string; small?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0) {
        throw new AssayError('validation_failed', `--seed "${opts.seed}": expected a non-negative integer`, {
          field: '--seed',
        });
      }
      const clients = opts.small
        ? [
            { slug: 'acme', name: 'Acme Analytics', size: 12, categories: ['security', 'availability'] },
            {
              slug: 'globex',
              name: 'Globex Payments',
              size: 25,
              categories: ['security', 'confidentiality'],
            },
            { slug: 'initech', name: 'Initech Health', size: 40, categories: ['security', 'privacy'] },
          ]
        : undefined;
      const summary = await withDatabase(configFrom(options), (db) =>
        seedDemo(db, cliActor(), { seed, clients, onProgress: (line) => io.stderr(`${line}\n`) }),
      );
      output(io, options, summary, (s) =>
        [
          `seeded MSP ${s.msp} with ${s.clients.length} clients:`,
          ...s.clients.map(
            (c) => `  ${c.slug}: ${c.people} people, ${c.events} events, ${c.openFindings} open findings`,
          ),
          '',
          'try: assay findings list --tenant acme --status open',
          '     assay readiness --tenant acme --period <a year ago>..<today>',
        ].join('\n'),
      );
    });
}
