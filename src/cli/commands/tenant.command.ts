import type { Command } from 'commander';
import { createClientFromTemplate } from '../../domains/msp/templates.service.ts';
import { presentWorkspace } from '../../domains/workspaces/workspaces.presenter.ts';
import {
  createWorkspace,
  getWorkspace,
  listAllWorkspaces,
} from '../../domains/workspaces/workspaces.service.ts';
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

export function registerTenantCommands(program: Command, io: CommandIO) {
  const tenant = program.command('tenant').description('workspaces: companies, MSPs and their clients');

  tenant
    .command('create')
    .description('create a workspace (a client of an MSP with --parent)')
    .argument('<slug>', 'short name: lowercase letters, digits, hyphens')
    .option('--name <name>', 'display name (default: the slug)')
    .option('--kind <kind>', 'company or msp', 'company')
    .option('--parent <msp>', 'the MSP workspace that owns this client')
    .option('--template <name>', "the MSP's template the client follows (with --parent)")
    .action(
      async (
        slug: string,
        opts: { name?: string; kind: string; parent?: string; template?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        if (opts.kind !== 'company' && opts.kind !== 'msp') {
          throw new AssayError('validation_failed', `--kind "${opts.kind}": expected company or msp`, {
            field: '--kind',
          });
        }
        if (opts.template !== undefined && opts.parent === undefined) {
          throw new AssayError('validation_failed', '--template needs --parent (the MSP that owns it)', {
            field: '--template',
          });
        }
        const template = opts.template;
        const row = await withDatabase(configFrom(options), (db) =>
          template !== undefined
            ? createClientFromTemplate(db, cliActor(), opts.parent as string, template, {
                slug,
                name: opts.name,
              })
            : createWorkspace(db, cliActor(), {
                slug,
                name: opts.name,
                kind: opts.kind as 'company' | 'msp',
                parent: opts.parent,
              }),
        );
        output(io, options, presentWorkspace(row), (w) => `created ${w.kind} workspace ${w.slug} (${w.id})`);
      },
    );

  tenant
    .command('list')
    .description('list workspaces')
    .option('--parent <msp>', 'only the clients of this MSP')
    .action(async (opts: { parent?: string }, command: Command) => {
      const options = globalOptions(command);
      const rows = await withDatabase(configFrom(options), (db) =>
        listAllWorkspaces(db, { parent: opts.parent }),
      );
      const workspaces = rows.map(presentWorkspace);
      const slugById = new Map(workspaces.map((w) => [w.id, w.slug]));
      output(io, options, { workspaces }, (r) =>
        table(
          ['SLUG', 'KIND', 'PARENT', 'NAME'],
          r.workspaces.map((w) => [
            w.slug,
            w.kind,
            w.parentId ? (slugById.get(w.parentId) ?? w.parentId) : '',
            w.name,
          ]),
        ),
      );
    });

  tenant
    .command('show')
    .description('show one workspace')
    .argument('<slug>', 'workspace slug or id')
    .action(async (slug: string, _opts: unknown, command: Command) => {
      const options = globalOptions(command);
      const row = await withDatabase(configFrom(options), (db) => getWorkspace(db, slug));
      output(io, options, presentWorkspace(row), (w) =>
        [`${w.slug} — ${w.name}`, `kind: ${w.kind}`, `id: ${w.id}`, `catalog: ${w.catalogVersion}`].join(
          '\n',
        ),
      );
    });
}
