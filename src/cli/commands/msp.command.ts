import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ItemChange } from '../../domains/msp/template-items.ts';
import {
  bulkCreateClients,
  createTemplate,
  linkClient,
  listOverrides,
  listTemplates,
  setOverride,
  showTemplate,
  type TemplateUpdate,
  updateTemplate,
} from '../../domains/msp/templates.service.ts';
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

/** Reads a file the user named, failing with a message that names it. */
export function readInputFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new AssayError(
      'validation_failed',
      `${flag} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        field: flag,
      },
    );
  }
}

function readJsonFile(path: string, flag: string): unknown {
  const text = readInputFile(path, flag);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AssayError('invalid_json', `${flag} ${path}: not valid JSON (${(error as Error).message})`, {
      field: flag,
    });
  }
}

function parseJsonOption(text: string, flag: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // A bare word (an email, a number) is taken as a string value.
    if (/^[^{}[\]"]*$/.test(text)) return text;
    throw new AssayError('invalid_json', `${flag}: not valid JSON`, { field: flag });
  }
}

const changeLine = (c: ItemChange) => `  ${c.change.padEnd(7)} ${c.item}`;

function renderUpdate(u: TemplateUpdate): string {
  const lines = [
    `template ${u.template}: v${u.fromVersion} → v${u.toVersion}${u.applied ? ' (applied)' : ' (preview: nothing changed; add --apply to apply)'}`,
    `template items changed: ${u.templateChanges.length}`,
    ...u.templateChanges.map(changeLine),
    `clients changed: ${u.clients.length}, unchanged: ${u.unchangedClients.length}`,
  ];
  for (const c of u.clients) {
    lines.push(`${c.client}:`, ...c.changes.map(changeLine));
    if (c.keptOverrides.length > 0) lines.push(`  keeps its own: ${c.keptOverrides.join(', ')}`);
  }
  return lines.join('\n');
}

export function registerMspCommands(program: Command, io: CommandIO) {
  const template = program
    .command('template')
    .description('MSP templates: control set, owners, checks, policies, cadences');

  template
    .command('create')
    .description('create a template in an MSP workspace from a JSON definition')
    .argument('<name>', 'template name')
    .option('--tenant <msp>', 'the MSP workspace')
    .option('--file <file>', 'JSON definition (see docs/msp.md)')
    .action(async (name: string, opts: { tenant?: string; file?: string }, command: Command) => {
      const options = globalOptions(command);
      const tenant = requireOption(opts.tenant, '--tenant');
      const definition = opts.file ? readJsonFile(opts.file, '--file') : {};
      const result = await withDatabase(configFrom(options), (db) =>
        createTemplate(db, cliActor(), tenant, name, definition),
      );
      output(
        io,
        options,
        result,
        (t) => `created template ${t.name} v${t.version} with ${Object.keys(t.items).length} items`,
      );
    });

  template
    .command('list')
    .description("an MSP's templates")
    .option('--tenant <msp>', 'the MSP workspace')
    .action(async (opts: { tenant?: string }, command: Command) => {
      const options = globalOptions(command);
      const tenant = requireOption(opts.tenant, '--tenant');
      const result = await withDatabase(configFrom(options), (db) => listTemplates(db, tenant));
      output(io, options, result, (r) =>
        table(
          ['NAME', 'VERSION', 'ITEMS', 'CLIENTS'],
          r.templates.map((t) => [
            t.name,
            String(t.version),
            String(Object.keys(t.items).length),
            String(t.clients.length),
          ]),
        ),
      );
    });

  template
    .command('show')
    .description('a template: definition, items and the clients that follow it')
    .argument('<name>', 'template name')
    .option('--tenant <msp>', 'the MSP workspace')
    .action(async (name: string, opts: { tenant?: string }, command: Command) => {
      const options = globalOptions(command);
      const tenant = requireOption(opts.tenant, '--tenant');
      const result = await withDatabase(configFrom(options), (db) => showTemplate(db, tenant, name));
      output(io, options, result, (t) =>
        [
          `${t.name} v${t.version}`,
          `clients: ${t.clients.join(', ') || 'none'}`,
          'items:',
          ...Object.keys(t.items).map((k) => `  ${k}`),
        ].join('\n'),
      );
    });

  const update = (verb: 'set' | 'diff', description: string) =>
    template
      .command(verb)
      .description(description)
      .argument('<name>', 'template name')
      .option('--tenant <msp>', 'the MSP workspace')
      .option('--file <file>', 'the new JSON definition')
      .option('--apply', 'apply the update to the template and its clients (otherwise only a preview)');

  const runUpdate =
    (verb: 'set' | 'diff') =>
    async (name: string, opts: { tenant?: string; file?: string; apply?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const tenant = requireOption(opts.tenant, '--tenant');
      const file = requireOption(opts.file, '--file');
      const definition = readJsonFile(file, '--file');
      const result = await withDatabase(configFrom(options), (db) =>
        updateTemplate(db, cliActor(), tenant, name, definition, {
          apply: verb === 'set' && opts.apply === true,
        }),
      );
      output(io, options, result, renderUpdate);
    };
  update('set', 'update a template: previews the clients and items it changes; --apply applies it').action(
    runUpdate('set'),
  );
  update('diff', 'preview a template update: which clients and which items it would change').action(
    runUpdate('diff'),
  );

  template
    .command('apply')
    .description('make an existing client of the MSP follow a template (preview unless --apply)')
    .argument('<name>', 'template name')
    .option('--tenant <msp>', 'the MSP workspace')
    .option('--client <slug>', 'the client workspace')
    .option('--apply', 'apply (otherwise only a preview)')
    .action(
      async (name: string, opts: { tenant?: string; client?: string; apply?: boolean }, command: Command) => {
        const options = globalOptions(command);
        const tenant = requireOption(opts.tenant, '--tenant');
        const client = requireOption(opts.client, '--client');
        const result = await withDatabase(configFrom(options), (db) =>
          linkClient(db, cliActor(), tenant, name, client, { apply: opts.apply === true }),
        );
        output(io, options, result, (r) =>
          [
            `${r.client} ← ${r.template}${r.applied ? ' (applied)' : ' (preview; add --apply)'}`,
            ...r.changes.map(changeLine),
          ].join('\n'),
        );
      },
    );

  template
    .command('override')
    .description("a client's own value for one template item (survives template updates)")
    .argument(
      '<item>',
      'item key, e.g. owner:security_lead, control:CC-ACCESS-01, check:identity.dormant_accounts',
    )
    .option('--tenant <client>', 'the client workspace')
    .option('--value <json>', 'the value (JSON; an object patches the template value field by field)')
    .option('--exclude', 'take the item out of this client')
    .option('--clear', 'remove the override: back to the template value')
    .option('--reason <text>', 'why this client differs')
    .action(
      async (
        item: string,
        opts: { tenant?: string; value?: string; exclude?: boolean; clear?: boolean; reason?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const tenant = requireOption(opts.tenant, '--tenant');
        const chosen = [opts.value !== undefined, opts.exclude === true, opts.clear === true].filter(
          Boolean,
        ).length;
        if (chosen !== 1) {
          throw new AssayError('validation_failed', 'give exactly one of --value, --exclude or --clear', {
            field: '--value',
          });
        }
        const value = opts.exclude
          ? null
          : opts.value !== undefined
            ? parseJsonOption(opts.value, '--value')
            : undefined;
        const result = await withDatabase(configFrom(options), (db) =>
          setOverride(db, cliActor(), tenant, item, { value, clear: opts.clear, reason: opts.reason }),
        );
        output(io, options, result, (r) =>
          [
            `${r.client}: ${r.item} ${r.overridden ? 'overridden' : 'back to the template'}`,
            ...r.changes.map(changeLine),
          ].join('\n'),
        );
      },
    );

  template
    .command('overrides')
    .description("a client's overrides of its template")
    .option('--tenant <client>', 'the client workspace')
    .action(async (opts: { tenant?: string }, command: Command) => {
      const options = globalOptions(command);
      const tenant = requireOption(opts.tenant, '--tenant');
      const result = await withDatabase(configFrom(options), (db) => listOverrides(db, tenant));
      output(io, options, result, (r) =>
        table(
          ['ITEM', 'VALUE', 'REASON'],
          r.overrides.map((o) => [o.item, JSON.stringify(o.value), o.reason]),
        ),
      );
    });

  const tenant = program.commands.find((c) => c.name() === 'tenant') ?? program.command('tenant');
  tenant
    .command('bulk-create')
    .description(
      'create many clients of an MSP from a template and a CSV (slug,name[,owner:<role>…]); all or nothing',
    )
    .option('--parent <msp>', 'the MSP workspace')
    .option('--template <name>', 'the template the clients follow')
    .option('--csv <file>', 'one client per line')
    .action(async (opts: { parent?: string; template?: string; csv?: string }, command: Command) => {
      const options = globalOptions(command);
      const parent = requireOption(opts.parent, '--parent');
      const name = requireOption(opts.template, '--template');
      const file = requireOption(opts.csv, '--csv');
      const text = readInputFile(file, '--csv');
      const result = await withDatabase(configFrom(options), (db) =>
        bulkCreateClients(db, cliActor(), parent, name, text, file),
      );
      output(io, options, result, (r) => `created ${r.created.length} clients from template ${r.template}`);
    });
}
