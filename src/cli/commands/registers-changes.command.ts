import type { Command } from 'commander';
import type { ChangeRow } from '../../domains/registers/changes/changes.repository.ts';
import {
  changeContent,
  changePicture,
  getChange,
  listChanges,
  recordChange,
  updateChange,
} from '../../domains/registers/changes/changes.service.ts';
import { violations } from '../../domains/registers/changes/segregation.ts';
import { type CommandIO, table } from '../runtime.ts';
import { act, day, truncate } from './registers-common.ts';

const present = (row: ChangeRow) => ({
  id: row.id,
  ...changeContent(row),
  segregationOfDuties: violations(row, new Date(), { emergencyApprovalDays: 5 }).map((v) => v.reason),
  evidenceId: row.evidence_id,
});
const show = (c: ReturnType<typeof present>) =>
  [
    `${c.ticket} ${c.title}${c.emergency ? ' [emergency]' : ''} — ${c.status}`,
    `author ${c.author}; approver ${c.approver ?? '-'} ${c.approvedAt ?? ''}; tester ${c.tester ?? '-'}; implemented ${c.implementedAt ?? '-'}`,
    ...c.segregationOfDuties.map((s) => `segregation of duties: ${s}`),
  ].join('\n');

const changeOptions = (c: Command) =>
  c
    .option('--title <text>', 'the change')
    .option('--description <text>', 'details')
    .option('--system <name>', 'the system changed')
    .option('--emergency', 'an emergency change (approved afterwards)')
    .option('--author <who>', 'who made it')
    .option('--approver <who>', 'who approved it')
    .option('--approved-at <time>', 'when')
    .option('--tester <who>', 'who tested it')
    .option('--tested-at <time>', 'when')
    .option('--implemented-at <time>', 'when it went live')
    .option('--status <status>', 'planned, approved, implemented, rolled_back or cancelled');

export function registerChangeCommands(program: Command, io: CommandIO) {
  const changes = program
    .command('changes')
    .description('the change register: manual change records (CC8.1)');

  changes
    .command('list')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, tenant }) => ({ changes: (await listChanges(db, tenant)).map(present) }),
        (r) =>
          table(
            ['TICKET', 'STATUS', 'IMPLEMENTED', 'AUTHOR', 'APPROVER', 'ISSUES', 'TITLE'],
            r.changes.map((c) => [
              c.ticket,
              c.status,
              day(c.implementedAt),
              c.author,
              c.approver ?? '-',
              String(c.segregationOfDuties.length),
              truncate(c.title, 40),
            ]),
          ),
      ),
    );

  changes
    .command('show')
    .argument('<change>', 'ticket or id')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(act(io, async ({ db, tenant, args }) => present(await getChange(db, tenant, args[0]!)), show));

  changeOptions(
    changes.command('add').argument('<ticket>', 'ticket reference').description('record a manual change'),
  )
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          present(await recordChange(db, actor, tenant, { ...input, ticket: args[0] })),
        show,
      ),
    );

  changeOptions(
    changes
      .command('update')
      .argument('<change>', 'ticket or id')
      .description('approve, test or implement a change'),
  )
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          present(await updateChange(db, actor, tenant, args[0]!, input)),
        show,
      ),
    );

  changes
    .command('picture')
    .description('CC8.1 over a window: manual and code changes, approvals, segregation of duties')
    .option('--from <date>', 'start (default 90 days ago)')
    .option('--to <date>', 'end (default now)')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        ({ db, tenant, input }) => changePicture(db, tenant, input),
        (p) =>
          [
            `${p.workspace} ${day(p.from)}..${day(p.to)}`,
            `manual changes: ${p.summary.manualChanges} (${p.summary.manualEmergency} emergency, ${p.summary.manualWithSegregationIssues} with segregation issues)`,
            `code changes merged: ${p.summary.codeChanges} (${p.summary.codeIndependentlyApproved} independently approved)`,
          ].join('\n'),
      ),
    );
}
