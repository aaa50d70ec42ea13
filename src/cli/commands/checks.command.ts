import type { Command } from 'commander';
import { builtInChecks } from '../../domains/monitoring/checks/index.ts';
import {
  addCustomCheck,
  configureCheck,
  listWorkspaceChecks,
} from '../../domains/monitoring/checks.service.ts';
import { presentCheck } from '../../domains/monitoring/monitoring.presenter.ts';
import { runChecks } from '../../domains/monitoring/run-checks.service.ts';
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

function parseAsOf(raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(date.getTime())) {
    throw new AssayError(
      'validation_failed',
      `--as-of "${raw}": expected an ISO date-time such as 2026-11-15T00:00:00Z`,
      {
        field: '--as-of',
      },
    );
  }
  return date;
}

export function csv(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--set key=value` options → a settings object (values parsed by the check's own types). */
function parseSets(sets: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const set of sets) {
    const at = set.indexOf('=');
    if (at <= 0) {
      throw new AssayError(
        'validation_failed',
        `--set "${set}": expected key=value, e.g. --set deadlineHours=48`,
        {
          field: '--set',
        },
      );
    }
    out[set.slice(0, at).trim()] = set.slice(at + 1);
  }
  return out;
}

function renderCheck(c: ReturnType<typeof presentCheck>): string {
  const settings = Object.entries(c.settings)
    .map(([k, v]) => `${k}=${v}${c.defaults[k] !== v ? ` (default ${c.defaults[k]})` : ''}`)
    .join(', ');
  return [
    `${c.id} — ${c.title} (${c.enabled ? 'enabled' : 'disabled'})`,
    `severity: ${c.severity}; criteria: ${c.criteria.join(', ')}; controls: ${c.controls.join(', ') || 'none'}`,
    `settings: ${settings || 'none'}`,
    ...(c.expression ? [`${c.subjectKind} must satisfy: ${c.expression}`] : []),
  ].join('\n');
}

export function registerCheckCommands(program: Command, io: CommandIO) {
  const checks = program.command('checks').description('automated control checks');

  checks
    .command('list')
    .description(
      'the checks, with their criteria, severity and triggers (with --tenant: custom checks and settings too)',
    )
    .option('--tenant <slug>', 'workspace: include its custom checks and its settings')
    .action(async (opts: { tenant?: string }, command: Command) => {
      const options = globalOptions(command);
      if (opts.tenant) {
        const tenant = opts.tenant;
        const list = (await withDatabase(configFrom(options), (db) => listWorkspaceChecks(db, tenant))).map(
          presentCheck,
        );
        output(io, options, { checks: list }, (r) =>
          table(
            ['CHECK', 'ENABLED', 'SEVERITY', 'CRITERIA', 'CONTROLS', 'TITLE'],
            r.checks.map((c) => [
              c.id,
              c.enabled ? 'yes' : 'no',
              c.severity,
              c.criteria.join(','),
              c.controls.join(','),
              c.title,
            ]),
          ),
        );
        return;
      }
      const list = builtInChecks.map((c) => ({
        id: c.id,
        title: c.title,
        severity: c.severity,
        criteria: c.criteria,
        triggers: c.triggers,
        defaults: c.defaults,
      }));
      output(io, options, { checks: list }, (r) =>
        table(
          ['CHECK', 'SEVERITY', 'CRITERIA', 'TITLE'],
          r.checks.map((c) => [c.id, c.severity, c.criteria.join(','), c.title]),
        ),
      );
    });

  checks
    .command('run')
    .description('evaluate checks now (or as at a past instant with --as-of)')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--as-of <time>', 'evaluate as at this instant (ISO date-time)')
    .option('--check <ids>', 'only these checks (comma-separated)')
    .action(async (opts: { tenant: string; asOf?: string; check?: string }, command: Command) => {
      const options = globalOptions(command);
      const asOf = parseAsOf(opts.asOf);
      const checkIds = csv(opts.check);
      const summary = await withDatabase(configFrom(options), (db) =>
        runChecks(db, cliActor(), opts.tenant, { asOf, checkIds, trigger: 'manual' }),
      );
      output(io, options, summary, (s) =>
        [
          `evaluated ${s.checks} checks for ${s.workspace} as of ${s.asOf}: ${s.results} results, ${s.failures} failing`,
          `findings: ${s.findingsOpened} opened, ${s.findingsClosed} closed, ${s.findingsOpen} open`,
          ...s.drift.map((d) => `drift: ${d.control} ${d.from} → ${d.to}`),
        ].join('\n'),
      );
    });

  checks
    .command('configure')
    .description(
      "enable, disable or tune one check for a workspace (keys and types follow the check's settings)",
    )
    .argument('<check>', 'check id, e.g. identity.leaver_access_removed')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--set <key=value>', 'a setting (repeatable), e.g. --set deadlineHours=48', collect)
    .option('--enable', 'evaluate the check')
    .option('--disable', 'stop evaluating the check')
    .option('--reset', 'back to the default settings (before any --set)')
    .action(
      async (
        check: string,
        opts: { tenant: string; set?: string[]; enable?: boolean; disable?: boolean; reset?: boolean },
        command: Command,
      ) => {
        const options = globalOptions(command);
        if (opts.enable && opts.disable) {
          throw new AssayError('validation_failed', 'give --enable or --disable, not both', {
            field: '--enable',
          });
        }
        const set = parseSets(opts.set);
        const enabled = opts.enable ? true : opts.disable ? false : undefined;
        const result = await withDatabase(configFrom(options), (db) =>
          configureCheck(db, cliActor(), opts.tenant, check, { enabled, set, reset: opts.reset }),
        );
        output(io, options, presentCheck(result), renderCheck);
      },
    );

  checks
    .command('add-custom')
    .description('add a custom check: a CEL expression each identity, person or event must satisfy')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--id <id>', 'check id (custom. is added when missing), e.g. mfa-everywhere')
    .requiredOption('--title <title>', 'what the check judges')
    .requiredOption('--kind <kind>', 'subject kind: identity, person or event')
    .requiredOption('--expression <cel>', 'CEL expression that must hold, e.g. identity.mfaEnabled == true')
    .requiredOption('--severity <level>', 'low, medium, high or critical')
    .requiredOption('--criteria <ids>', 'criteria it tests (comma-separated), e.g. CC6.1')
    .option('--controls <ids>', 'control templates it serves (comma-separated), e.g. AC-02')
    .option('--description <text>', 'a longer explanation')
    .action(
      async (
        opts: {
          tenant: string;
          id: string;
          title: string;
          kind: string;
          expression: string;
          severity: string;
          criteria: string;
          controls?: string;
          description?: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const result = await withDatabase(configFrom(options), (db) =>
          addCustomCheck(db, cliActor(), opts.tenant, {
            id: opts.id,
            title: opts.title,
            description: opts.description,
            subjectKind: opts.kind,
            expression: opts.expression,
            severity: opts.severity,
            criteria: csv(opts.criteria) ?? [],
            controls: csv(opts.controls),
          }),
        );
        output(io, options, presentCheck(result), renderCheck);
      },
    );
}
