import type { Command } from 'commander';
import {
  presentExercise,
  presentFollowUp,
  presentIncident,
  presentPlan,
} from '../../domains/registers/incidents/incidents.presenter.ts';
import {
  addFollowUp,
  createIncident,
  getIncident,
  getPlan,
  listExercises,
  listFollowUps,
  listIncidents,
  recordExercise,
  setPlan,
  updateFollowUp,
  updateIncident,
} from '../../domains/registers/incidents/incidents.service.ts';
import { type CommandIO, table } from '../runtime.ts';
import { act, collect, day, truncate } from './registers-common.ts';

const incidentOptions = (c: Command) =>
  c
    .option('--title <text>', 'what happened')
    .option('--severity <s>', 'low, medium, high or critical')
    .option('--status <s>', 'open, contained, resolved or closed')
    .option('--detected-at <time>', 'when detected (default now)')
    .option('--resolved-at <time>', 'when resolved')
    .option('--closed-at <time>', 'when closed')
    .option('--root-cause <text>', 'root cause')
    .option('--summary <text>', 'summary and impact')
    .option('--owner <who>', 'owner')
    .option('--controls <list>', 'control template ids, comma-separated');

type Detail = Awaited<ReturnType<typeof detail>>;
async function detail(db: Parameters<typeof getIncident>[0], tenant: string, ref: string) {
  const d = await getIncident(db, tenant, ref);
  return { incident: presentIncident(d.incident), followUps: d.followUps.map(presentFollowUp) };
}
const show = (d: Detail) =>
  [
    `${d.incident.reference} ${d.incident.title} — ${d.incident.severity}, ${d.incident.status}`,
    `detected ${d.incident.detectedAt}${d.incident.closedAt ? `, closed ${d.incident.closedAt}` : ''}`,
    d.incident.rootCause ? `root cause: ${d.incident.rootCause}` : 'root cause: -',
    ...d.incident.timeline.map((e) => `  ${e.at} ${e.entry}`),
    ...d.incident.notifications.map((n) => `  notified ${n.recipient} at ${n.at}`),
    ...d.followUps.map((f) => `  follow-up: ${f.title} (${f.status}, due ${day(f.dueAt)})`),
  ].join('\n');

export function registerIncidentCommands(program: Command, io: CommandIO) {
  const incidents = program
    .command('incidents')
    .description('the incident register, the response plan, tabletop exercises');

  incidents
    .command('list')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, tenant }) => ({ incidents: (await listIncidents(db, tenant)).map(presentIncident) }),
        (r) =>
          table(
            ['INCIDENT', 'SEVERITY', 'STATUS', 'DETECTED', 'TITLE'],
            r.incidents.map((i) => [
              i.reference,
              i.severity,
              i.status,
              day(i.detectedAt),
              truncate(i.title, 50),
            ]),
          ),
      ),
    );

  incidents
    .command('show')
    .argument('<incident>', 'reference or id')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(act(io, ({ db, tenant, args }) => detail(db, tenant, args[0]!), show));

  incidentOptions(
    incidents.command('add').argument('<reference>', 'incident reference').description('report an incident'),
  )
    .option('--timeline <entry>', '"<date-time> <what happened>" (repeatable)', collect)
    .option('--notification <entry>', '"<date-time> <who was told>" (repeatable)', collect)
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const { timeline, notification, ...rest } = input as typeof input & {
            timeline?: string[];
            notification?: string[];
          };
          const row = await createIncident(db, actor, tenant, {
            ...rest,
            reference: args[0],
            timeline,
            notifications: notification,
          });
          return detail(db, tenant, row.id);
        },
        show,
        ['controls'],
      ),
    );

  incidentOptions(incidents.command('update').argument('<incident>', 'reference or id'))
    .option('--timeline <entry>', 'append "<date-time> <what happened>" (repeatable)', collect)
    .option('--notification <entry>', 'append "<date-time> <who was told>" (repeatable)', collect)
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const { timeline, notification, ...rest } = input as typeof input & {
            timeline?: string[];
            notification?: string[];
          };
          const row = await updateIncident(db, actor, tenant, args[0]!, {
            ...rest,
            addTimeline: timeline,
            addNotification: notification,
          });
          return detail(db, tenant, row.id);
        },
        show,
        ['controls'],
      ),
    );

  incidents
    .command('plan')
    .description('show or set the incident-response plan (and record a test outside a tabletop)')
    .option('--title <title>', 'plan name')
    .option('--policy <policy>', 'the policy document holding it')
    .option('--owner <who>', 'owner')
    .option('--tested-at <time>', 'record a test of the plan')
    .option('--notes <text>', 'notes on the test')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input }) => {
          if (Object.keys(input).length > 0) await setPlan(db, actor, tenant, input);
          const { plan, lastTestedAt } = await getPlan(db, tenant);
          return presentPlan(plan, lastTestedAt);
        },
        (p) => `${p.title ?? '(no plan recorded)'}; last tested ${day(p.lastTestedAt)}`,
      ),
    );

  const exercises = incidents.command('exercises').description('tabletop exercises');
  exercises
    .command('list')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, tenant }) => ({
          exercises: (await listExercises(db, tenant)).exercises.map(presentExercise),
        }),
        (r) =>
          table(
            ['HELD', 'TITLE', 'PARTICIPANTS', 'TESTS PLAN'],
            r.exercises.map((e) => [
              day(e.heldAt),
              truncate(e.title, 50),
              String(e.participants.length),
              e.testsPlan ? 'yes' : 'no',
            ]),
          ),
      ),
    );
  exercises
    .command('add')
    .argument('<title>', 'exercise title')
    .requiredOption('--scenario <text>', 'the scenario played')
    .requiredOption('--held-at <time>', 'when')
    .requiredOption('--participants <list>', 'comma-separated')
    .option('--facilitator <who>', 'who ran it')
    .option('--outcomes <text>', 'what was learned')
    .option('--tests-plan <bool>', 'true (default) or false')
    .option('--follow-up <title|owner|due>', 'a follow-up action (repeatable)', collect)
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const { followUp, ...rest } = input as typeof input & { followUp?: string[] };
          const followUps = followUp?.map((f) => {
            const [title, owner, dueAt] = f.split('|').map((s) => s.trim());
            return { title, owner: owner || null, dueAt };
          });
          return presentExercise(
            await recordExercise(db, actor, tenant, { ...rest, title: args[0], followUps }),
          );
        },
        (e) => `recorded exercise "${e.title}" held ${day(e.heldAt)} (evidence ${e.evidenceId})`,
        ['participants'],
      ),
    );

  const followUps = incidents
    .command('follow-ups')
    .description('follow-up actions from exercises and incidents');
  followUps
    .command('list')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, tenant }) => ({ actions: (await listFollowUps(db, tenant)).map(presentFollowUp) }),
        (r) =>
          table(
            ['ID', 'STATUS', 'DUE', 'OWNER', 'TITLE'],
            r.actions.map((a) => [a.id, a.status, day(a.dueAt), a.owner ?? '-', truncate(a.title, 50)]),
          ),
      ),
    );
  followUps
    .command('add')
    .argument('<title>', 'the action')
    .requiredOption('--due-at <date>', 'due')
    .option('--owner <who>', 'owner')
    .option('--exercise <title>', 'the exercise it follows from')
    .option('--incident <reference>', 'the incident it follows from')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          presentFollowUp(await addFollowUp(db, actor, tenant, { ...input, title: args[0] })),
        (a) => `added ${a.id} due ${day(a.dueAt)}`,
      ),
    );
  followUps
    .command('update')
    .argument('<id>', 'action id')
    .option('--status <status>', 'open, done or cancelled')
    .option('--resolution <text>', 'how it was closed')
    .option('--closed-at <date>', 'when')
    .option('--owner <who>', 'owner')
    .option('--due-at <date>', 'due')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          presentFollowUp(await updateFollowUp(db, actor, tenant, args[0]!, input)),
        (a) => `${a.title}: ${a.status}${a.closedAt ? ` (closed ${day(a.closedAt)})` : ''}`,
      ),
    );
}
