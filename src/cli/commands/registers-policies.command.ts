import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { presentStatement } from '../../domains/monitoring/monitoring.presenter.ts';
import {
  presentAcknowledgement,
  presentCampaign,
  presentPolicy,
  presentPolicyReview,
  presentVersion,
} from '../../domains/registers/policies/policies.presenter.ts';
import {
  acknowledgePolicy,
  addPolicyStatement,
  approvePolicyVersion,
  createPolicy,
  getPolicy,
  launchCampaign,
  listPolicies,
  policyStatements,
  publishPolicyVersion,
  reviewPolicy,
  savePolicyDraft,
  updatePolicy,
  versionAcknowledgements,
} from '../../domains/registers/policies/policies.service.ts';
import { AssayError } from '../../errors.ts';
import { type CommandIO, table } from '../runtime.ts';
import { act, day } from './registers-common.ts';

function readBody(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new AssayError('validation_failed', `${file}: no such file`, { field: '--file' });
  }
}

const version = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new AssayError('validation_failed', `version "${v}": expected a number`, { field: 'version' });
  return n;
};

type Detail = Awaited<ReturnType<typeof detail>>;
async function detail(db: Parameters<typeof getPolicy>[0], tenant: string, ref: string) {
  const d = await getPolicy(db, tenant, ref);
  const number = new Map(d.versions.map((v) => [v.id, v.version]));
  return {
    policy: presentPolicy(d.policy, d.versions),
    versions: d.versions.map(presentVersion),
    reviews: d.reviews.map(presentPolicyReview),
    campaigns: d.campaigns.map((c) => presentCampaign(c, number.get(c.version_id) ?? 0)),
  };
}
const show = (d: Detail) =>
  [
    `${d.policy.title} (${d.policy.kind}) — ${d.policy.status}, current version ${d.policy.currentVersion ?? '-'}`,
    `last reviewed ${day(d.policy.lastReviewedAt)}, next review due ${day(d.policy.nextReviewDue)}`,
    ...d.versions.map(
      (v) =>
        `  v${v.version}: ${v.approvedAt ? `approved by ${v.approvedBy} ${day(v.approvedAt)}` : 'draft'}${v.publishedAt ? `, published ${day(v.publishedAt)}` : ''}${v.changeSummary ? ` — ${v.changeSummary}` : ''}`,
    ),
    ...d.campaigns.map(
      (c) => `  campaign for v${c.version}: due ${day(c.dueAt)} (${c.audience.length || 'whole workforce'})`,
    ),
  ].join('\n');

const policyOptions = (c: Command) =>
  c
    .option('--kind <kind>', 'policy, standard, procedure or plan')
    .option('--owner <who>', 'owner')
    .option('--review-cadence-days <n>', 'days between reviews (default 365)')
    .option('--acknowledgement-required <bool>', 'true (default) or false')
    .option('--controls <list>', 'control template ids, comma-separated');

export function registerPolicyCommands(program: Command, io: CommandIO) {
  const policies = program
    .command('policies')
    .description('the policy register: versions, approval, acknowledgements');

  policies
    .command('list')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, tenant }) => {
          const { policies: rows, versions } = await listPolicies(db, tenant);
          return { policies: rows.map((p) => presentPolicy(p, versions)) };
        },
        (r) =>
          table(
            ['POLICY', 'KIND', 'STATUS', 'VERSION', 'LAST REVIEW', 'NEXT REVIEW'],
            r.policies.map((p) => [
              p.title,
              p.kind,
              p.status,
              String(p.currentVersion ?? '-'),
              day(p.lastReviewedAt),
              day(p.nextReviewDue),
            ]),
          ),
      ),
    );

  policies
    .command('show')
    .argument('<policy>', 'title or id')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(act(io, ({ db, tenant, args }) => detail(db, tenant, args[0]!), show));

  policyOptions(
    policies
      .command('add')
      .argument('<title>', 'policy title')
      .description('add a policy (with a first draft from --file)'),
  )
    .option('--file <markdown>', 'the text of version 1')
    .option('--change-summary <text>', 'what the draft says')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const { file, ...rest } = input as typeof input & { file?: string };
          const { policy } = await createPolicy(db, actor, tenant, {
            ...rest,
            title: args[0],
            body: readBody(file),
          });
          return detail(db, tenant, policy.id);
        },
        show,
        ['controls'],
      ),
    );

  policyOptions(policies.command('update').argument('<policy>', 'title or id'))
    .option('--title <title>', 'rename')
    .option('--status <status>', 'retired (or active again)')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          detail(db, tenant, (await updatePolicy(db, actor, tenant, args[0]!, input)).id),
        show,
        ['controls'],
      ),
    );

  policies
    .command('draft')
    .argument('<policy>', 'title or id')
    .requiredOption('--file <markdown>', 'the text of the next version')
    .option('--change-summary <text>', 'what changed')
    .requiredOption('--tenant <slug>', 'workspace')
    .description('save the next version (an unapproved draft is revised in place)')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const { file, changeSummary } = input as { file: string; changeSummary?: string };
          return presentVersion(
            await savePolicyDraft(db, actor, tenant, args[0]!, { body: readBody(file), changeSummary }),
          );
        },
        (v) => `saved version ${v.version} (draft)`,
      ),
    );

  policies
    .command('approve')
    .argument('<policy>', 'title or id')
    .argument('<version>', 'version number')
    .requiredOption('--approver <who>', 'who approves')
    .option('--approved-at <date>', 'when (default now)')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          presentVersion(await approvePolicyVersion(db, actor, tenant, args[0]!, version(args[1]!), input)),
        (v) => `version ${v.version} approved by ${v.approvedBy} (evidence ${v.approvalEvidenceId})`,
      ),
    );

  policies
    .command('publish')
    .argument('<policy>', 'title or id')
    .argument('<version>', 'version number')
    .option('--published-at <date>', 'when (default now)')
    .option('--due-at <date>', 'acknowledgement deadline (default 30 days)')
    .option('--audience <emails>', 'who must acknowledge, comma-separated (default the whole workforce)')
    .option('--no-campaign', 'do not launch an acknowledgement campaign')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const { policy } = await publishPolicyVersion(
            db,
            actor,
            tenant,
            args[0]!,
            version(args[1]!),
            input,
          );
          return detail(db, tenant, policy.id);
        },
        show,
        ['audience'],
      ),
    );

  policies
    .command('campaign')
    .argument('<policy>', 'title or id')
    .argument('<version>', 'version number')
    .option('--due-at <date>', 'deadline (default 30 days)')
    .option('--audience <emails>', 'comma-separated (default the whole workforce)')
    .requiredOption('--tenant <slug>', 'workspace')
    .description("launch a published version's acknowledgement campaign")
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          presentCampaign(
            await launchCampaign(db, actor, tenant, args[0]!, version(args[1]!), input),
            version(args[1]!),
          ),
        (c) => `campaign for version ${c.version} due ${day(c.dueAt)}`,
        ['audience'],
      ),
    );

  policies
    .command('acknowledge')
    .argument('<policy>', 'title or id')
    .requiredOption('--email <email>', 'who acknowledged')
    .option('--policy-version <n>', 'version (default the current one)')
    .option('--acknowledged-at <date>', 'when (default now)')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const { policyVersion, ...rest } = input as typeof input & { policyVersion?: string };
          const {
            row,
            version: v,
            created,
          } = await acknowledgePolicy(db, actor, tenant, args[0]!, {
            ...rest,
            version: policyVersion,
          });
          return { ...presentAcknowledgement(row, v.version), created };
        },
        (a) =>
          `${a.email} acknowledged version ${a.version} at ${a.acknowledgedAt}${a.created ? '' : ' (already recorded)'}`,
      ),
    );

  policies
    .command('acknowledgements')
    .argument('<policy>', 'title or id')
    .argument('<version>', 'version number')
    .requiredOption('--tenant <slug>', 'workspace')
    .description("a version's acknowledgements and who is still missing")
    .action(
      act(
        io,
        async ({ db, tenant, args }) => {
          const d = await versionAcknowledgements(db, tenant, args[0]!, version(args[1]!));
          return {
            policy: d.policy.title,
            version: d.version.version,
            acknowledgements: d.acknowledgements.map((a) => presentAcknowledgement(a, d.version.version)),
            overdue:
              d.status?.overdue.map((m) => ({ email: m.email, deadline: m.deadline.toISOString() })) ?? [],
            deadline: d.status?.deadline.toISOString() ?? null,
          };
        },
        (r) =>
          [
            `${r.policy} v${r.version}: ${r.acknowledgements.length} acknowledged; deadline ${day(r.deadline)}`,
            ...r.acknowledgements.map((a) => `  ${a.email}  ${a.acknowledgedAt}`),
            ...r.overdue.map((m) => `  overdue: ${m.email} (due ${day(m.deadline)})`),
          ].join('\n'),
      ),
    );

  policies
    .command('review')
    .argument('<policy>', 'title or id')
    .requiredOption('--reviewer <who>', 'who reviewed')
    .option('--outcome <outcome>', 'no_change (default) or revision_needed')
    .option('--notes <text>', 'notes')
    .option('--reviewed-at <date>', 'when')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          presentPolicyReview(await reviewPolicy(db, actor, tenant, args[0]!, input)),
        (r) => `review recorded ${day(r.reviewedAt)}: ${r.outcome}`,
      ),
    );

  policies
    .command('statements')
    .argument('<policy>', 'title or id')
    .requiredOption('--tenant <slug>', 'workspace')
    .description('the statements the policy makes and whether practice matches them')
    .action(
      act(
        io,
        async ({ db, tenant, args }) => ({
          statements: (await policyStatements(db, tenant, args[0]!)).statements.map(presentStatement),
        }),
        (r) =>
          r.statements.length === 0
            ? 'no statements (add one with assay policies add-statement)'
            : r.statements
                .map((s) => `${s.practice.status.padEnd(14)} ${s.statement} [${s.checks.join(', ')}]`)
                .join('\n'),
      ),
    );

  policies
    .command('add-statement')
    .argument('<policy>', 'title or id')
    .requiredOption(
      '--statement <text>',
      'what the policy says, e.g. "MFA is required for all remote access"',
    )
    .option('--checks <list>', 'the checks that prove it, comma-separated')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          presentStatement(await addPolicyStatement(db, actor, tenant, args[0]!, input)),
        (s) => `added statement ${s.id}: ${s.practice.status}`,
        ['checks'],
      ),
    );
}
