import type { Command } from 'commander';
import { createPeriod, listPeriods } from '../../domains/audits/periods.service.ts';
import {
  type CommandIO,
  cliActor,
  configFrom,
  globalOptions,
  output,
  table,
  withDatabase,
} from '../runtime.ts';

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

export function registerPeriodCommands(program: Command, io: CommandIO) {
  const periods = program
    .command('periods')
    .description('audit periods: a Type I date or a Type II window, with the scope frozen when declared');

  periods
    .command('create')
    .description(
      'declare an audit period and freeze its scope (the active controls, their criteria and owners)',
    )
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--name <name>', 'the period’s name, e.g. FY2026')
    .requiredOption('--type <type>', 'type1 (one date) or type2 (a window)')
    .requiredOption('--from <date>', 'first day (YYYY-MM-DD); the report date for Type I')
    .option('--to <date>', 'last day, inclusive (YYYY-MM-DD); Type II only')
    .option('--categories <list>', 'Trust Services categories (default: the workspace’s scope)')
    .action(
      async (
        opts: { tenant: string; name: string; type: string; from: string; to?: string; categories?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const period = await withDatabase(configFrom(options), (db) =>
          createPeriod(db, cliActor(), opts.tenant, {
            name: opts.name,
            reportType: opts.type,
            from: opts.from,
            to: opts.to,
            categories: opts.categories === undefined ? undefined : list(opts.categories),
          }),
        );
        output(io, options, period, (p) =>
          [
            `audit period ${p.name} (${p.reportType}) ${p.startsOn}..${p.endsOn} declared`,
            `categories: ${p.categories.join(', ')}; ${p.scope.criteria.length} criteria; ${p.scope.controls.length} controls frozen`,
          ].join('\n'),
        );
      },
    );

  periods
    .command('list')
    .description('the workspace’s audit periods')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const rows = await withDatabase(configFrom(options), (db) => listPeriods(db, opts.tenant));
      output(io, options, { periods: rows }, (r) =>
        r.periods.length === 0
          ? 'no audit periods (assay periods create …)'
          : table(
              ['NAME', 'TYPE', 'FROM', 'TO', 'CATEGORIES', 'CONTROLS', 'CREATED'],
              r.periods.map((p) => [
                p.name,
                p.reportType,
                p.startsOn,
                p.endsOn,
                p.categories.join(','),
                String(p.scope.controls.length),
                p.createdAt.slice(0, 10),
              ]),
            ),
      );
    });
}
