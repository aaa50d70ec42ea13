import type { Command } from 'commander';
import {
  createException,
  listExceptions,
  revokeException,
} from '../../domains/findings/exceptions.service.ts';
import {
  presentException,
  presentFinding,
  presentResult,
  presentTask,
} from '../../domains/findings/findings.presenter.ts';
import {
  getFindingDetail,
  listWorkspaceFindings,
  listWorkspaceTasks,
  parseFindingFilter,
  parseTaskFilter,
} from '../../domains/findings/findings.service.ts';
import { presentStatement } from '../../domains/monitoring/monitoring.presenter.ts';
import {
  createPolicyStatement,
  getStatement,
  linkPolicyStatement,
  listStatements,
} from '../../domains/monitoring/policy-statements.service.ts';
import { controlTimeline } from '../../domains/monitoring/timeline.service.ts';
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
import { csv } from './checks.command.ts';

const short = (text: string, max = 70) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function renderStatement(s: ReturnType<typeof presentStatement>): string {
  const verdict =
    s.practice.status === 'matches'
      ? 'matches practice'
      : s.practice.status === 'contradicted'
        ? `contradicted by ${s.practice.openFindings.length} open findings`
        : s.practice.status === 'not_linked'
          ? 'no checks linked yet'
          : 'not every linked check has been evaluated yet';
  return [
    `${s.id}  ${s.statement}`,
    `  checks: ${s.checks.join(', ') || 'none'}`,
    `  ${verdict}`,
    ...s.practice.openFindings.map(
      (f) => `    ${f.severity} ${f.checkId} ${f.subject.email ?? f.subject.name}: ${short(f.detail, 60)}`,
    ),
  ].join('\n');
}

export function registerFindingCommands(program: Command, io: CommandIO) {
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
            ['ID', 'SEVERITY', 'STATUS', 'CHECK', 'SUBJECT', 'CRITERIA', 'OPENED', 'DETAIL'],
            r.findings.map((f) => [
              f.id.slice(0, 8),
              f.severity,
              f.status,
              f.checkId,
              f.subject.email ?? f.subject.name,
              f.criteria.join(','),
              f.openedAt.slice(0, 10),
              short(f.detail),
            ]),
          ),
        );
      },
    );

  findings
    .command('show')
    .description("one finding with its check's result history, its tasks and its exception")
    .argument('<id>', 'finding id')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (id: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const detail = await withDatabase(configFrom(options), (db) => getFindingDetail(db, opts.tenant, id));
      const result = {
        finding: presentFinding(detail.finding),
        results: detail.results.map(presentResult),
        tasks: detail.tasks.map(presentTask),
        exception: detail.exception ? presentException(detail.exception) : null,
      };
      output(io, options, result, (r) =>
        [
          `${r.finding.id} — ${r.finding.checkId} (${r.finding.severity}, ${r.finding.status})`,
          `subject: ${r.finding.subject.type} ${r.finding.subject.email ?? r.finding.subject.name} (${r.finding.subject.id})`,
          `criteria: ${r.finding.criteria.join(', ')}; controls: ${r.finding.controlIds.join(', ') || 'none'}`,
          `opened ${r.finding.openedAt}, deadline ${r.finding.deadline}${r.finding.closedAt ? `, closed ${r.finding.closedAt}` : ''}`,
          `owner: ${r.finding.owner ?? 'unassigned'}`,
          r.finding.detail,
          ...(r.exception
            ? [
                `exception ${r.exception.id} (${r.exception.status}): approved by ${r.exception.approver} until ${r.exception.expiresAt}`,
              ]
            : []),
          'tasks:',
          ...r.tasks.map((t) => `  ${t.status.padEnd(9)} ${t.dueAt?.slice(0, 10) ?? '-'}  ${t.title}`),
          'results (newest first):',
          ...r.results.slice(0, 20).map((x) => `  ${x.asOf}  ${x.status.padEnd(4)}  ${short(x.detail, 80)}`),
        ].join('\n'),
      );
    });

  program
    .command('tasks')
    .description('work assigned to people: remediating findings')
    .command('list')
    .description('tasks, soonest due first')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--status <status>', 'open, done or cancelled')
    .option('--assignee <who>', 'only this assignee')
    .action(async (opts: { tenant: string; status?: string; assignee?: string }, command: Command) => {
      const options = globalOptions(command);
      const filter = parseTaskFilter({ status: opts.status, assignee: opts.assignee });
      const rows = await withDatabase(configFrom(options), (db) =>
        listWorkspaceTasks(db, opts.tenant, filter),
      );
      output(io, options, { tasks: rows.map(presentTask) }, (r) =>
        table(
          ['STATUS', 'DUE', 'ASSIGNEE', 'FINDING', 'TITLE'],
          r.tasks.map((t) => [
            t.status,
            t.dueAt?.slice(0, 10) ?? '-',
            t.assignee ?? '(unassigned)',
            t.findingId?.slice(0, 8) ?? '-',
            short(t.title),
          ]),
        ),
      );
    });

  const exceptions = program
    .command('exceptions')
    .description('approved, time-limited acceptances of known deviations');
  exceptions
    .command('create')
    .description(
      'record an exception for a finding (or a check and subject); the approver must not be the requester',
    )
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--finding <id>', 'the finding it covers')
    .option('--check <id>', 'or: the check…')
    .option('--subject <key>', '…and the subject key, e.g. identity:<id> or repository:org/repo')
    .requiredOption('--justification <text>', 'why the deviation is accepted')
    .requiredOption('--approver <who>', 'who approved it')
    .requiredOption('--expires <date>', 'when it expires (ISO date or date-time, at most a year ahead)')
    .option('--requested-by <who>', 'who asks for it (default: you)')
    .action(
      async (
        opts: {
          tenant: string;
          finding?: string;
          check?: string;
          subject?: string;
          justification: string;
          approver: string;
          expires: string;
          requestedBy?: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        if (!opts.finding && !(opts.check && opts.subject)) {
          throw new AssayError('validation_failed', 'give --finding, or --check and --subject', {
            field: '--finding',
          });
        }
        const created = await withDatabase(configFrom(options), (db) =>
          createException(db, cliActor(), opts.tenant, {
            finding: opts.finding,
            checkId: opts.check,
            subject: opts.subject,
            justification: opts.justification,
            approver: opts.approver,
            expiresAt: opts.expires,
            requestedBy: opts.requestedBy,
          }),
        );
        const result = {
          exception: presentException(created.exception),
          suppressedFinding: created.finding ? presentFinding(created.finding) : null,
        };
        output(io, options, result, (r) =>
          [
            `exception ${r.exception.id}: ${r.exception.checkId} for ${r.exception.subjectKey}, approved by ${r.exception.approver} until ${r.exception.expiresAt}`,
            r.suppressedFinding
              ? `finding ${r.suppressedFinding.id} suppressed`
              : 'no open finding to suppress yet',
          ].join('\n'),
        );
      },
    );

  exceptions
    .command('list')
    .description('exceptions with their status (active, expired, revoked)')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--status <status>', 'active, expired or revoked')
    .option('--check <id>', 'only this check')
    .action(async (opts: { tenant: string; status?: string; check?: string }, command: Command) => {
      const options = globalOptions(command);
      const now = new Date();
      const rows = await withDatabase(configFrom(options), (db) =>
        listExceptions(db, opts.tenant, { status: opts.status, checkId: opts.check }, { now }),
      );
      output(io, options, { exceptions: rows.map((e) => presentException(e.row, now)) }, (r) =>
        table(
          ['ID', 'STATUS', 'CHECK', 'SUBJECT', 'APPROVER', 'EXPIRES'],
          r.exceptions.map((e) => [
            e.id.slice(0, 8),
            e.status,
            e.checkId,
            short(e.subjectKey, 50),
            e.approver,
            e.expiresAt.slice(0, 10),
          ]),
        ),
      );
    });

  exceptions
    .command('revoke')
    .description('end an exception before it expires; the finding it suppressed reopens')
    .argument('<id>', 'exception id')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--reason <text>', 'why')
    .action(async (id: string, opts: { tenant: string; reason?: string }, command: Command) => {
      const options = globalOptions(command);
      const revoked = await withDatabase(configFrom(options), (db) =>
        revokeException(db, cliActor(), opts.tenant, id, { reason: opts.reason }),
      );
      const result = {
        exception: presentException(revoked.exception),
        reopenedFinding: revoked.finding ? presentFinding(revoked.finding) : null,
      };
      output(io, options, result, (r) =>
        [
          `exception ${r.exception.id} revoked`,
          ...(r.reopenedFinding ? [`finding ${r.reopenedFinding.id} reopened`] : []),
        ].join('\n'),
      );
    });

  // `controls` belongs to the controls commands; the timeline is monitoring's view of a control.
  const controls =
    program.commands.find((c) => c.name() === 'controls') ??
    program.command('controls').description("the workspace's controls");
  controls
    .command('timeline')
    .description("a control's status timeline: intervals of passing, failing, at risk or no data")
    .argument('<control>', 'control id or template id (e.g. AC-04)')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--from <date>', 'from this instant')
    .option('--to <date>', 'until this instant')
    .action(
      async (control: string, opts: { tenant: string; from?: string; to?: string }, command: Command) => {
        const options = globalOptions(command);
        const timeline = await withDatabase(configFrom(options), (db) =>
          controlTimeline(db, opts.tenant, control, { from: opts.from, to: opts.to }),
        );
        output(io, options, timeline, (t) =>
          [
            `${t.control.templateId} — ${t.control.title} (now ${t.control.status})`,
            table(
              ['FROM', 'TO', 'STATUS', 'REASON'],
              t.intervals.map((i) => [i.from, i.to ?? 'now', i.status, short(i.reason, 60)]),
            ),
          ].join('\n'),
        );
      },
    );

  const statements = program
    .command('policy-statements')
    .description('policy statements linked to the checks that prove them (policy vs practice)');
  statements
    .command('add')
    .description('record a policy statement, optionally linked to checks')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption(
      '--statement <text>',
      'what the policy says, e.g. "MFA is required for all remote access"',
    )
    .option('--checks <ids>', 'checks that prove it (comma-separated)')
    .option('--policy <id>', 'the policy it belongs to')
    .action(
      async (
        opts: { tenant: string; statement: string; checks?: string; policy?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const created = await withDatabase(configFrom(options), (db) =>
          createPolicyStatement(db, cliActor(), opts.tenant, {
            statement: opts.statement,
            checks: csv(opts.checks),
            policyId: opts.policy,
          }),
        );
        output(io, options, presentStatement(created), renderStatement);
      },
    );
  statements
    .command('link')
    .description('link checks to a statement (adds them; --replace sets the list, --remove unlinks)')
    .argument('<id>', 'statement id')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--checks <ids>', 'check ids (comma-separated)')
    .option('--replace', 'make these the only linked checks')
    .option('--remove', 'unlink these checks')
    .action(
      async (
        id: string,
        opts: { tenant: string; checks: string; replace?: boolean; remove?: boolean },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const linked = await withDatabase(configFrom(options), (db) =>
          linkPolicyStatement(db, cliActor(), opts.tenant, id, {
            checks: csv(opts.checks) ?? [],
            replace: opts.replace,
            remove: opts.remove,
          }),
        );
        output(io, options, presentStatement(linked), renderStatement);
      },
    );
  statements
    .command('list')
    .description('statements and whether practice matches them')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const rows = await withDatabase(configFrom(options), (db) => listStatements(db, opts.tenant));
      output(io, options, { statements: rows.map(presentStatement) }, (r) =>
        r.statements.length === 0
          ? 'no policy statements yet'
          : r.statements.map(renderStatement).join('\n\n'),
      );
    });
  statements
    .command('show')
    .description('one statement, with the open findings that contradict it')
    .argument('<id>', 'statement id')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (id: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const row = await withDatabase(configFrom(options), (db) => getStatement(db, opts.tenant, id));
      output(io, options, presentStatement(row), renderStatement);
    });
}
