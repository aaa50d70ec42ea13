import type { Command } from 'commander';
import { presentFinding } from '../../domains/findings/findings.presenter.ts';
import { listWorkspaceFindings, parseFindingFilter } from '../../domains/findings/findings.service.ts';
import { builtInChecks } from '../../domains/monitoring/checks/index.ts';
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

export function registerCheckCommands(program: Command, io: CommandIO) {
  const checks = program.command('checks').description('automated control checks');

  checks
    .command('list')
    .description('the built-in checks, with their criteria, severity and triggers')
    .action(async (_opts: unknown, command: Command) => {
      const options = globalOptions(command);
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
      const checkIds = opts.check
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
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

  const findings = program.command('findings').description('deficiencies found by the checks');
  findings
    .command('list')
    .description('findings: check, controls, criteria, subject, severity, opened/closed times')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--status <status>', 'open, closed or suppressed')
    .option('--check <id>', 'only this check')
    .option('--severity <level>', 'low, medium, high or critical')
    .action(
      async (
        opts: { tenant: string; status?: string; check?: string; severity?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const filter = parseFindingFilter({
          status: opts.status,
          checkId: opts.check,
          severity: opts.severity,
        });
        const rows = await withDatabase(configFrom(options), (db) =>
          listWorkspaceFindings(db, opts.tenant, filter),
        );
        const list = rows.map(presentFinding);
        output(io, options, { findings: list }, (r) =>
          table(
            ['SEVERITY', 'STATUS', 'CHECK', 'SUBJECT', 'CRITERIA', 'OPENED', 'DETAIL'],
            r.findings.map((f) => [
              f.severity,
              f.status,
              f.checkId,
              f.subject.email ?? f.subject.name,
              f.criteria.join(','),
              f.openedAt.slice(0, 10),
              f.detail.length > 70 ? `${f.detail.slice(0, 69)}…` : f.detail,
            ]),
          ),
        );
      },
    );
}
