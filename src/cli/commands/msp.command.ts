import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { clientReport, logoFromFile } from '../../domains/msp/client-report.service.ts';
import { mspPortfolio, reachOfUser } from '../../domains/msp/portfolio.service.ts';
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
import { registerPortabilityCommands } from './portability.command.ts';

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
    `clients changed: ${u.clients.length}, unchanged: ${u.unchangedClients.length}${u.otherClients ? `, not yours: ${u.otherClients}` : ''}`,
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

  program
    .command('portfolio')
    .description(
      "an MSP's clients: readiness, failing controls, overdue reviews and tasks, stale vendor reports, upcoming audits, drift",
    )
    .option('--tenant <msp>', 'the MSP workspace')
    .option('--as <email>', 'only the clients this person reaches (as the API would show them)')
    .option('--drift-days <n>', 'drift window in days', '7')
    .option('--no-readiness', 'skip the readiness score (faster for many clients)')
    .action(
      async (
        opts: { tenant?: string; as?: string; driftDays: string; readiness: boolean },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const tenant = requireOption(opts.tenant, '--tenant');
        const driftDays = Number(opts.driftDays);
        if (!Number.isInteger(driftDays) || driftDays < 1 || driftDays > 366) {
          throw new AssayError('validation_failed', `--drift-days "${opts.driftDays}": expected 1–366`, {
            field: '--drift-days',
          });
        }
        const config = configFrom(options);
        const result = await withDatabase(config, async (db) =>
          mspPortfolio(db, tenant, opts.as ? await reachOfUser(db, opts.as) : null, {
            deprovisioningSlaHours: config.deprovisioningSlaHours,
            driftDays,
            readiness: opts.readiness,
          }),
        );
        output(io, options, result, (p) =>
          [
            `portfolio of ${p.msp}: ${p.totals.clients} clients, ${p.totals.failingControls} failing controls, ${p.totals.openFindings} open findings, ${p.totals.overdueTasks} overdue tasks, ${p.totals.overdueReviews} overdue reviews`,
            table(
              [
                'CLIENT',
                'READINESS',
                'FAILING',
                'FINDINGS',
                'OVERDUE',
                'REVIEWS',
                'STALE VENDORS',
                'NEXT AUDIT',
                'DRIFT',
              ],
              p.clients.map((c) => [
                c.client,
                c.readiness ? String(c.readiness.score) : '-',
                String(c.controls.failing),
                `${c.findings.open} (${c.findings.overdue} late)`,
                String(c.overdueTasks),
                String(
                  c.overdueReviews.policies.length +
                    c.overdueReviews.vendors.length +
                    c.overdueReviews.risks.length,
                ),
                String(c.staleVendorReports.length),
                c.upcomingAudits[0] ? `${c.upcomingAudits[0].name} (${c.upcomingAudits[0].endsOn})` : '-',
                String(c.drift.changes),
              ]),
            ),
          ].join('\n'),
        );
      },
    );

  const report = program.command('report').description('reports for clients');
  report
    .command('client')
    .description("a client's compliance status report as HTML, with the MSP's branding")
    .option('--tenant <client>', 'the client workspace')
    .option('--out <file>', 'where to write the HTML')
    .option('--as <email>', 'only if this person reaches the client')
    .option('--brand-name <name>', "the MSP's name on the report (default: the MSP workspace's name)")
    .option('--colour <hex>', 'brand colour, #rrggbb')
    .option('--logo <file>', 'logo image (png, jpg, svg, gif, webp; up to 512 KiB)')
    .action(
      async (
        opts: {
          tenant?: string;
          out?: string;
          as?: string;
          brandName?: string;
          colour?: string;
          logo?: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const tenant = requireOption(opts.tenant, '--tenant');
        const out = requireOption(opts.out, '--out');
        const logo = opts.logo ? logoFromFile(opts.logo) : undefined;
        const config = configFrom(options);
        const result = await withDatabase(config, async (db) =>
          clientReport(db, cliActor(), tenant, opts.as ? await reachOfUser(db, opts.as) : null, {
            branding: { name: opts.brandName, colour: opts.colour, logo },
            deprovisioningSlaHours: config.deprovisioningSlaHours,
          }),
        );
        writeFileSync(out, result.html);
        const { html: _html, ...summary } = result;
        output(io, options, { ...summary, out }, (r) =>
          [
            `wrote ${r.out}: ${r.client}, readiness ${r.status.readiness?.score ?? '–'}, ${r.findings.length} open findings, ${r.overdueTasks.length} overdue tasks`,
            r.previousReportAt
              ? `since ${r.previousReportAt}: ${r.changes.controls.length} control(s) changed, ${r.changes.findingsOpened} finding(s) opened, ${r.changes.findingsClosed} closed`
              : 'first report for this client',
          ].join('\n'),
        );
      },
    );

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
  registerPortabilityCommands(program, io);
}
