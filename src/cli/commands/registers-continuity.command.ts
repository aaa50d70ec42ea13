import type { Command } from 'commander';
import type { ContinuityTestRow } from '../../domains/registers/continuity/continuity.repository.ts';
import {
  continuityContent,
  listContinuityTests,
  recordContinuityTest,
  updateContinuityTest,
} from '../../domains/registers/continuity/continuity.service.ts';
import { type CommandIO, table } from '../runtime.ts';
import { act, day } from './registers-common.ts';

const present = (row: ContinuityTestRow) => ({
  id: row.id,
  ...continuityContent(row),
  evidenceId: row.evidence_id,
});

const testOptions = (c: Command) =>
  c
    .option('--performed-by <who>', 'who ran it')
    .option('--result <result>', 'success, partial or failed')
    .option('--rto-target-minutes <n>', 'recovery time objective')
    .option('--rto-actual-minutes <n>', 'measured')
    .option('--rpo-target-minutes <n>', 'recovery point objective')
    .option('--rpo-actual-minutes <n>', 'measured')
    .option('--notes <text>', 'notes');

export function registerContinuityCommands(program: Command, io: CommandIO) {
  const continuity = program
    .command('continuity')
    .description('the continuity register: restore tests and DR exercises (A1.2, A1.3)');

  continuity
    .command('list')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, tenant }) => ({ tests: (await listContinuityTests(db, tenant)).map(present) }),
        (r) =>
          table(
            ['PERFORMED', 'KIND', 'TARGET', 'RESULT', 'RTO', 'RPO'],
            r.tests.map((t) => [
              day(t.performedAt),
              t.kind,
              t.target,
              t.result,
              t.rto.actualMinutes === null ? '-' : `${t.rto.actualMinutes}/${t.rto.targetMinutes ?? '?'} min`,
              t.rpo.actualMinutes === null ? '-' : `${t.rpo.actualMinutes}/${t.rpo.targetMinutes ?? '?'} min`,
            ]),
          ),
      ),
    );

  testOptions(
    continuity
      .command('add')
      .argument('<kind>', 'backup_restore or dr_exercise')
      .argument('<target>', 'the system or data set')
      .requiredOption('--performed-at <time>', 'when'),
  )
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          present(
            await recordContinuityTest(db, actor, tenant, { ...input, kind: args[0], target: args[1] }),
          ),
        (t) => `recorded ${t.kind} of ${t.target}: ${t.result} (evidence ${t.evidenceId})`,
      ),
    );

  testOptions(continuity.command('update').argument('<id>', 'test id'))
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          present(await updateContinuityTest(db, actor, tenant, args[0]!, input)),
        (t) => `corrected ${t.kind} of ${t.target}: ${t.result}`,
      ),
    );
}
