import type { Command } from 'commander';
import { presentAssignment } from '../../domains/registers/training/assignments.ts';
import {
  assignTraining,
  createCourse,
  recordCompletion,
  trainingStatus,
  updateCourse,
} from '../../domains/registers/training/training.service.ts';
import { type CommandIO, table } from '../runtime.ts';
import { act, day } from './registers-common.ts';

const courseOptions = (c: Command) =>
  c
    .option('--title <text>', 'course title')
    .option('--kind <kind>', 'security_awareness, role_specific or other')
    .option('--frequency <f>', 'once or annual')
    .option('--due-days <n>', 'days to complete after hire (default 30)')
    .option('--audience-departments <list>', 'departments, comma-separated (default everyone)')
    .option('--audience-titles <list>', 'job titles (substrings), comma-separated')
    .option('--controls <list>', 'further control template ids')
    .option('--active <bool>', 'true or false')
    .option('--effective-from <date>', 'when the course starts to apply');

const courseLists = ['audienceDepartments', 'audienceTitles', 'controls'];

export function registerTrainingCommands(program: Command, io: CommandIO) {
  const training = program
    .command('training')
    .description('the training register: courses, completions, assignments');

  training
    .command('courses')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, tenant }) => ({
          courses: (await trainingStatus(db, tenant)).courses.map((c) => ({
            code: c.code,
            title: c.title,
            kind: c.kind,
            frequency: c.frequency,
            dueDays: c.due_days,
            audienceDepartments: c.audience_departments,
            audienceTitles: c.audience_titles,
            active: c.active,
          })),
        }),
        (r) =>
          table(
            ['COURSE', 'KIND', 'FREQUENCY', 'AUDIENCE', 'TITLE'],
            r.courses.map((c) => [
              c.code,
              c.kind,
              c.frequency,
              [...c.audienceDepartments, ...c.audienceTitles].join(',') || 'everyone',
              c.title,
            ]),
          ),
      ),
    );

  courseOptions(training.command('add-course').argument('<code>', 'course code'))
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const c = await createCourse(db, actor, tenant, { ...input, code: args[0] });
          return { code: c.code, id: c.id };
        },
        (c) => `added course ${c.code}`,
        courseLists,
      ),
    );

  courseOptions(training.command('update-course').argument('<course>', 'code or id'))
    .option('--code <code>', 'rename')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const c = await updateCourse(db, actor, tenant, args[0]!, input);
          return { code: c.code, id: c.id };
        },
        (c) => `updated course ${c.code}`,
        courseLists,
      ),
    );

  training
    .command('complete')
    .argument('<course>', 'course code')
    .argument('<email>', "the person's email")
    .option('--completed-at <date>', 'when (default now)')
    .option('--score <n>', '0–100')
    .requiredOption('--tenant <slug>', 'workspace')
    .description('record a completion')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const row = await recordCompletion(db, actor, tenant, {
            ...input,
            course: args[0],
            email: args[1],
          });
          return {
            course: args[0],
            email: row.email,
            completedAt: row.completed_at.toISOString(),
            evidenceId: row.evidence_id,
          };
        },
        (c) => `${c.email} completed ${c.course} at ${c.completedAt}`,
      ),
    );

  training
    .command('assign')
    .argument('<course>', 'course code')
    .argument('<email>', "the person's email")
    .requiredOption('--due-at <date>', 'due')
    .requiredOption('--tenant <slug>', 'workspace')
    .description('assign a course by hand')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const row = await assignTraining(db, actor, tenant, { ...input, course: args[0], email: args[1] });
          return { course: args[0], email: row.email, dueAt: row.due_at.toISOString() };
        },
        (a) => `assigned ${a.course} to ${a.email}, due ${day(a.dueAt)}`,
      ),
    );

  training
    .command('assignments')
    .option('--state <state>', 'completed, current, due or overdue')
    .requiredOption('--tenant <slug>', 'workspace')
    .description('who owes which training, by when')
    .action(
      act(
        io,
        async ({ db, tenant, input }) => {
          const { assignments, asOf } = await trainingStatus(db, tenant);
          const state = (input as { state?: string }).state;
          return {
            asOf: asOf.toISOString(),
            assignments: assignments.filter((a) => !state || a.state === state).map(presentAssignment),
          };
        },
        (r) =>
          table(
            ['PERSON', 'COURSE', 'REASON', 'DUE', 'STATE'],
            r.assignments.map((a) => [a.email, a.course, a.reason, day(a.dueAt), a.state]),
          ),
      ),
    );
}
