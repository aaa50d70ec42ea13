import type { Command } from 'commander';
import { presentControl } from '../../domains/controls/controls.presenter.ts';
import {
  assignControlOwner,
  coverageReport,
  getControl,
  listControls,
} from '../../domains/controls/controls.service.ts';
import { AssayError } from '../../errors.ts';
import {
  type CommandIO,
  cliActor,
  configFrom,
  globalOptions,
  output,
  table,
  withDatabase,
} from '../runtime.ts';

export function registerControlCommands(program: Command, io: CommandIO) {
  const controls = program.command('controls').description("the workspace's controls");

  controls
    .command('list')
    .description('controls with owner, criteria and status')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const rows = await withDatabase(configFrom(options), (db) => listControls(db, opts.tenant));
      output(io, options, { controls: rows.map(presentControl) }, (r) =>
        table(
          ['CONTROL', 'TITLE', 'FREQUENCY', 'OWNER', 'STATUS', 'CRITERIA'],
          r.controls.map((c) => [
            c.templateId,
            c.title.length > 48 ? `${c.title.slice(0, 47)}…` : c.title,
            c.frequency,
            c.owner ?? `(${c.ownerRole})`,
            c.status,
            c.criteria.join(','),
          ]),
        ),
      );
    });

  controls
    .command('show')
    .description('one control')
    .argument('<control>', 'control id or template id (e.g. AC-01)')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (control: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const row = await withDatabase(configFrom(options), (db) => getControl(db, opts.tenant, control));
      output(io, options, presentControl(row), (c) =>
        [
          `${c.templateId} — ${c.title}`,
          c.description,
          `frequency: ${c.frequency}`,
          `owner: ${c.owner ?? `unassigned (role ${c.ownerRole})`}`,
          `criteria: ${c.criteria.join(', ')}`,
          `status: ${c.status}`,
          'evidence:',
          ...c.evidence.map((e) => `  - ${e}`),
        ].join('\n'),
      );
    });

  controls
    .command('assign')
    .description('assign an owner to one control, or to every control with an owner role')
    .argument('[control]', 'control id or template id')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--role <ownerRole>', 'assign every active control with this owner role instead')
    .option('--owner <owner>', 'owner (email or name)')
    .option('--clear', 'remove the owner')
    .action(
      async (
        control: string | undefined,
        opts: { tenant: string; role?: string; owner?: string; clear?: boolean },
        command: Command,
      ) => {
        const options = globalOptions(command);
        if ((opts.owner === undefined) === (opts.clear !== true)) {
          throw new AssayError('validation_failed', 'give exactly one of --owner or --clear', {
            field: '--owner',
          });
        }
        const rows = await withDatabase(configFrom(options), (db) =>
          assignControlOwner(db, cliActor(), opts.tenant, {
            control,
            ownerRole: opts.role,
            owner: opts.clear ? null : (opts.owner ?? null),
          }),
        );
        output(io, options, { controls: rows.map(presentControl) }, (r) =>
          r.controls.map((c) => `${c.templateId}: owner ${c.owner ?? '(none)'}`).join('\n'),
        );
      },
    );

  program
    .command('coverage')
    .description('per in-scope criterion: the controls covering it, and the gaps')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const report = await withDatabase(configFrom(options), (db) => coverageReport(db, opts.tenant));
      output(io, options, report, (r) =>
        [
          `coverage of ${r.workspace} (catalog ${r.catalogVersion}; ${r.categories.join(', ')})`,
          '',
          table(
            ['CRITERION', 'CONTROLS', 'OWNED', 'TITLE'],
            r.criteria.map((e) => [
              e.criterion,
              e.controls.map((c) => c.templateId).join(',') || 'NONE',
              e.owned ? 'yes' : 'no',
              e.title,
            ]),
          ),
          '',
          `gaps: ${r.gaps.uncovered.length} criteria uncovered${r.gaps.uncovered.length ? ` (${r.gaps.uncovered.join(', ')})` : ''}; ` +
            `${r.gaps.withoutOwner.length} criteria with no owned control; ${r.gaps.controlsWithoutOwner.length} controls without an owner`,
        ].join('\n'),
      );
    });
}
