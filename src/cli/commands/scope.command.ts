import type { Command } from 'commander';
import { addSystem, getScope, setScope } from '../../domains/scope/scope.service.ts';
import { draftSystemDescription } from '../../domains/scope/system-description.service.ts';
import { AssayError } from '../../errors.ts';
import {
  type CommandIO,
  cliActor,
  configFrom,
  globalOptions,
  output,
  requireOption,
  table,
  withDatabase,
} from '../runtime.ts';

const systemKinds = ['application', 'infrastructure', 'data_store', 'saas', 'endpoint_fleet'] as const;
const environments = ['production', 'staging', 'development', 'corporate'] as const;
const classifications = ['public', 'internal', 'confidential', 'restricted'] as const;

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new AssayError('validation_failed', `${flag} "${value}": expected one of ${allowed.join(', ')}`, {
      field: flag,
    });
  }
  return value as T;
}

export function registerScopeCommands(program: Command, io: CommandIO) {
  const scope = program.command('scope').description('audit scope: categories and in-scope systems');

  scope
    .command('set')
    .description('choose the Trust Services Categories in scope (security is always included)')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption(
      '--categories <list>',
      'comma-separated: security,availability,confidentiality,processing_integrity,privacy',
    )
    .action(async (opts: { tenant: string; categories: string }, command: Command) => {
      const options = globalOptions(command);
      const result = await withDatabase(configFrom(options), (db) =>
        setScope(db, cliActor(), opts.tenant, opts.categories.split(',')),
      );
      output(io, options, result, (r) =>
        [
          `scope of ${r.workspace}: ${r.categories.join(', ')}`,
          `${r.criteria} criteria in scope, ${r.controls} controls (${r.controlsAdded.length} added, ${r.controlsSetAside.length} set aside)`,
        ].join('\n'),
      );
    });

  scope
    .command('show')
    .description('show the categories and systems in scope')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const {
        workspace,
        scope: row,
        systems,
      } = await withDatabase(configFrom(options), (db) => getScope(db, opts.tenant));
      const result = {
        workspace: workspace.slug,
        categories: row?.categories ?? [],
        catalogVersion: row?.catalog_version ?? workspace.catalog_version,
        systems: systems.map((s) => ({
          id: s.id,
          name: s.name,
          kind: s.kind,
          environment: s.environment,
          owner: s.owner,
          dataClassification: s.data_classification,
        })),
      };
      output(io, options, result, (r) =>
        [
          `categories: ${r.categories.length > 0 ? r.categories.join(', ') : '(not set: run assay scope set)'}`,
          '',
          table(
            ['SYSTEM', 'KIND', 'ENVIRONMENT', 'DATA', 'OWNER'],
            r.systems.map((s) => [s.name, s.kind, s.environment, s.dataClassification, s.owner ?? '']),
          ),
        ].join('\n'),
      );
    });

  const system = scope.command('system').description('in-scope systems');
  system
    .command('add')
    .description('register an in-scope system')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--name <name>', 'system name')
    .requiredOption('--kind <kind>', systemKinds.join(' | '))
    .option('--environment <env>', environments.join(' | '), 'production')
    .option('--owner <owner>', 'owner (email or name)')
    .option('--data-classification <level>', classifications.join(' | '), 'confidential')
    .option('--description <text>', 'what the system does')
    .action(
      async (
        opts: {
          tenant: string;
          name: string;
          kind: string;
          environment: string;
          owner?: string;
          dataClassification: string;
          description?: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const input = {
          name: requireOption(opts.name, '--name'),
          kind: oneOf('--kind', opts.kind, systemKinds),
          environment: oneOf('--environment', opts.environment, environments),
          owner: opts.owner,
          dataClassification: oneOf('--data-classification', opts.dataClassification, classifications),
          description: opts.description,
        };
        const row = await withDatabase(configFrom(options), (db) =>
          addSystem(db, cliActor(), opts.tenant, input),
        );
        output(
          io,
          options,
          {
            id: row.id,
            name: row.name,
            kind: row.kind,
            environment: row.environment,
            owner: row.owner,
            dataClassification: row.data_classification,
          },
          (s) => `added system ${s.name} (${s.kind}, ${s.environment})`,
        );
      },
    );

  scope
    .command('describe')
    .description('print a system-description draft (markdown) generated from the scope')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const markdown = await withDatabase(configFrom(options), (db) =>
        draftSystemDescription(db, opts.tenant),
      );
      output(io, options, { markdown }, (r) => r.markdown);
    });
}
