import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  campaignReport,
  type Decision,
  decideItem,
  delegateItems,
  getCampaign,
  launchCampaign,
  listCampaigns,
  setRecurrence,
  signOffCampaign,
} from '../../domains/governance/campaigns.service.ts';
import {
  presentCampaign,
  presentChange,
  presentItem,
  presentOnboarding,
  presentTask,
} from '../../domains/governance/governance.presenter.ts';
import type { Recurrence } from '../../domains/governance/governance.tables.ts';
import {
  getGovernanceSettings,
  updateGovernanceSettings,
} from '../../domains/governance/governance-settings.ts';
import { listGovernanceTasks, reconcileGovernance } from '../../domains/governance/jml.service.ts';
import {
  approveAccessRequest,
  listOnboarding,
  type OnboardingFilter,
} from '../../domains/governance/joiners.service.ts';
import { listMovers } from '../../domains/governance/movers.service.ts';
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

const list = (value: string | undefined) =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');

export function registerGovernanceCommands(program: Command, io: CommandIO) {
  const reviews = program
    .command('reviews')
    .description('access review campaigns (snapshot, decisions, sign-off)');
  reviews
    .command('launch')
    .description('launch a campaign: the entitlements in scope are snapshotted now')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--name <name>', 'campaign name, e.g. "2026 Q4 access review"')
    .requiredOption(
      '--fallback-reviewer <email>',
      'reviewer of items with no manager or owner (the system owner)',
    )
    .option('--systems <list>', 'only these systems (comma-separated)')
    .option('--groups <list>', 'only these groups or roles')
    .option('--people <list>', "only these people's accounts (emails)")
    .option('--privileged-only', 'only privileged entitlements')
    .option('--no-non-human', 'leave out non-human identities')
    .option('--no-delegated', "leave out the MSP staff's delegated access")
    .option('--due-in-days <n>', 'days reviewers have (default 14)')
    .option(
      '--recurrence [period]',
      'recurring: the next one launches monthly, quarterly (the default) or annually',
    )
    .action(
      async (
        opts: {
          tenant: string;
          name: string;
          fallbackReviewer: string;
          systems?: string;
          groups?: string;
          people?: string;
          privilegedOnly?: boolean;
          nonHuman: boolean;
          delegated: boolean;
          dueInDays?: string;
          recurrence?: string | boolean;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const dueInDays = opts.dueInDays === undefined ? undefined : Number(opts.dueInDays);
        const campaign = await withDatabase(configFrom(options), (db) =>
          launchCampaign(db, cliActor(), opts.tenant, {
            name: opts.name,
            fallbackReviewer: opts.fallbackReviewer,
            dueInDays,
            recurrence: (opts.recurrence === true ? 'quarterly' : opts.recurrence || undefined) as
              | Recurrence
              | undefined,
            scope: {
              systems: list(opts.systems),
              groups: list(opts.groups),
              people: list(opts.people),
              privilegedOnly: opts.privilegedOnly,
              includeNonHuman: opts.nonHuman,
              includeDelegated: opts.delegated,
            },
          }),
        );
        output(io, options, presentCampaign(campaign), (c) =>
          [
            `launched ${c.id} "${c.name}" due ${c.dueAt}`,
            `snapshot sha256 ${c.snapshotSha256}`,
            ...(c.recurrence ? [`recurs ${c.recurrence}; next launch ${c.nextLaunchAt}`] : []),
          ].join('\n'),
        );
      },
    );

  reviews
    .command('list')
    .description('campaigns with their progress')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const rows = await withDatabase(configFrom(options), (db) => listCampaigns(db, opts.tenant));
      const result = {
        campaigns: rows.map((r) => ({ ...presentCampaign(r.campaign), items: r.items, decided: r.decided })),
      };
      output(io, options, result, (r) =>
        table(
          ['ID', 'NAME', 'STATUS', 'DECIDED', 'LAUNCHED', 'DUE'],
          r.campaigns.map((c) => [
            c.id,
            c.name,
            c.status,
            `${c.decided}/${c.items}`,
            c.launchedAt.slice(0, 10),
            c.dueAt.slice(0, 10),
          ]),
        ),
      );
    });

  reviews
    .command('show')
    .description('a campaign: every item with its reviewer and decision, and changes since launch')
    .argument('<id>', 'campaign id')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (id: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const detail = await withDatabase(configFrom(options), (db) => getCampaign(db, opts.tenant, id));
      const result = {
        campaign: presentCampaign(detail.campaign),
        items: detail.items.map(presentItem),
        changesSinceLaunch: detail.changesSinceLaunch.map(presentChange),
      };
      output(io, options, result, (r) =>
        [
          `${r.campaign.id} "${r.campaign.name}" (${r.campaign.status})`,
          table(
            ['ITEM', 'REVIEWER', 'SYSTEM', 'ACCOUNT', 'ENTITLEMENT', 'DECISION', 'CONFIRMED'],
            r.items.map((i) => [
              i.id,
              i.reviewer,
              i.system,
              i.account,
              i.entitlement,
              i.decision ?? '-',
              i.confirmedAt ?? '',
            ]),
          ),
          r.changesSinceLaunch.length === 0
            ? 'no entitlement changes since launch'
            : `changes since launch (not under review):\n${r.changesSinceLaunch
                .map((c) => `  ${c.at} ${c.granted ? 'granted' : 'revoked'} ${c.entitlement} (${c.system})`)
                .join('\n')}`,
        ].join('\n'),
      );
    });

  reviews
    .command('decide')
    .description('decide one item: keep, revoke or modify, with a justification')
    .argument('<campaign>', 'campaign id')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--item <id>', 'item id')
    .requiredOption('--decision <decision>', 'keep, revoke or modify')
    .requiredOption('--justification <text>', 'why')
    .requiredOption('--reviewer <email>', 'the deciding reviewer')
    .action(
      async (
        campaign: string,
        opts: { tenant: string; item: string; decision: string; justification: string; reviewer: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const item = await withDatabase(configFrom(options), (db) =>
          decideItem(db, cliActor(), opts.tenant, campaign, {
            item: opts.item,
            decision: opts.decision as Decision,
            justification: opts.justification,
            reviewer: opts.reviewer,
          }),
        );
        output(
          io,
          options,
          presentItem(item),
          (i) =>
            `${i.decision} ${i.entitlement} of ${i.account} (${i.system})${i.taskId ? `; revocation task ${i.taskId}` : ''}`,
        );
      },
    );

  reviews
    .command('delegate')
    .description("hand a reviewer's undecided items to another reviewer")
    .argument('<campaign>', 'campaign id')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--from <email>', 'current reviewer')
    .requiredOption('--to <email>', 'new reviewer')
    .action(
      async (campaign: string, opts: { tenant: string; from: string; to: string }, command: Command) => {
        const options = globalOptions(command);
        const result = await withDatabase(configFrom(options), (db) =>
          delegateItems(db, cliActor(), opts.tenant, campaign, { from: opts.from, to: opts.to }),
        );
        output(io, options, result, (r) => `${r.delegated} items delegated to ${opts.to}`);
      },
    );

  reviews
    .command('sign-off')
    .description('sign the campaign off into the evidence ledger (every item must be decided)')
    .argument('<campaign>', 'campaign id')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--signer <email>', 'who signs')
    .action(async (campaign: string, opts: { tenant: string; signer: string }, command: Command) => {
      const options = globalOptions(command);
      const row = await withDatabase(configFrom(options), (db) =>
        signOffCampaign(db, cliActor(), opts.tenant, campaign, { signer: opts.signer }),
      );
      output(
        io,
        options,
        presentCampaign(row),
        (c) =>
          `signed off by ${c.signedOffBy} at ${c.signedOffAt}; decisions sha256 ${c.decisionsSha256}; evidence ${c.evidenceId}`,
      );
    });

  reviews
    .command('export')
    .description('the reviewer-by-reviewer report as CSV')
    .argument('<campaign>', 'campaign id')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--out <file>', 'write to this file (default: stdout)')
    .action(async (campaign: string, opts: { tenant: string; out?: string }, command: Command) => {
      const options = globalOptions(command);
      const report = await withDatabase(configFrom(options), (db) =>
        campaignReport(db, opts.tenant, campaign),
      );
      if (opts.out) {
        writeFileSync(opts.out, report.csv);
        output(
          io,
          options,
          { file: opts.out, bytes: Buffer.byteLength(report.csv) },
          (r) => `wrote ${r.file}`,
        );
      } else if (options.json) {
        output(io, options, { csv: report.csv }, () => '');
      } else {
        io.stdout(report.csv);
      }
    });

  reviews
    .command('recurrence')
    .description("start, change or stop a campaign's recurrence (the scheduler launches the next one)")
    .argument('<campaign>', 'campaign id (any campaign of the series)')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--set <period>', 'monthly, quarterly, annually or none')
    .action(async (campaign: string, opts: { tenant: string; set: string }, command: Command) => {
      const options = globalOptions(command);
      const row = await withDatabase(configFrom(options), (db) =>
        setRecurrence(db, cliActor(), opts.tenant, campaign, opts.set as Recurrence | 'none'),
      );
      output(io, options, presentCampaign(row), (c) =>
        c.recurrence
          ? `"${c.name}" recurs ${c.recurrence}; next launch ${c.nextLaunchAt}`
          : `"${c.name}" no longer recurs`,
      );
    });

  const jml = program
    .command('jml')
    .description('joiners, movers and leavers: onboarding, mover reviews, deprovisioning');
  jml
    .command('tasks')
    .description('deprovisioning and revocation tasks with their confirmations')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--status <status>', 'open, done or cancelled')
    .option(
      '--kind <kind>',
      'deprovision_account, revoke_entitlement, revoke_delegated_access, access_review_overdue, onboarding_policy_ack, onboarding_training or onboarding_access_request',
    )
    .action(async (opts: { tenant: string; status?: string; kind?: string }, command: Command) => {
      const options = globalOptions(command);
      if (opts.status && !['open', 'done', 'cancelled'].includes(opts.status)) {
        throw new AssayError('validation_failed', '--status: open, done or cancelled', { field: 'status' });
      }
      const rows = await withDatabase(configFrom(options), (db) =>
        listGovernanceTasks(db, opts.tenant, {
          status: opts.status as 'open' | undefined,
          kind: opts.kind,
        }),
      );
      const result = { tasks: rows.map(presentTask) };
      output(io, options, result, (r) =>
        table(
          ['ID', 'KIND', 'STATUS', 'DUE', 'DONE', 'TIME-TO-REVOKE', 'TITLE'],
          r.tasks.map((t) => {
            const seconds = (t.details.confirmation as { timeToRevokeSeconds?: number } | undefined)
              ?.timeToRevokeSeconds;
            return [
              t.id.slice(0, 8),
              t.kind,
              t.status,
              t.dueAt ?? '',
              t.completedAt ?? '',
              seconds === undefined ? '' : `${(seconds / 3600).toFixed(1)} h`,
              t.title,
            ];
          }),
        ),
      );
    });
  jml
    .command('evaluate')
    .description('reconcile joiners, movers, leavers, revocations and recurring campaigns with the facts now')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const summary = await withDatabase(configFrom(options), (db) =>
        reconcileGovernance(db, opts.tenant, cliActor()),
      );
      output(io, options, summary, (s) =>
        [
          `leavers: opened ${s.tasksOpened}, confirmed ${s.tasksConfirmed}, overdue ${s.overdue}`,
          `revocations confirmed ${s.revocationsConfirmed + s.delegatedRevocationsConfirmed}`,
          `joiners: onboarding items opened ${s.onboardingOpened}, completed ${s.onboardingCompleted}, overdue ${s.onboardingOverdue}`,
          `movers: ${s.moversDetected} detected, ${s.moverReviewsLaunched} reviews launched`,
          `recurring campaigns launched ${s.recurringCampaignsLaunched}`,
        ].join('\n'),
      );
    });

  jml
    .command('onboarding')
    .description("joiners' onboarding sets: acknowledgements, training and the access request")
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--person <email>', 'one joiner')
    .option('--status <status>', 'open, overdue, complete or cancelled')
    .action(async (opts: { tenant: string; person?: string; status?: string }, command: Command) => {
      const options = globalOptions(command);
      const rows = await withDatabase(configFrom(options), (db) =>
        listOnboarding(db, opts.tenant, {
          person: opts.person,
          status: opts.status as OnboardingFilter['status'],
        }),
      );
      const result = { joiners: rows.map(presentOnboarding) };
      output(io, options, result, (r) =>
        table(
          ['PERSON', 'STARTED', 'STATUS', 'ITEM', 'KIND', 'ITEM STATUS', 'DUE'],
          r.joiners.flatMap((j) =>
            j.items.map((t) => [
              j.person,
              j.startedAt.slice(0, 10),
              j.status,
              t.id,
              t.kind.replace(/^onboarding_/, ''),
              t.status,
              t.dueAt?.slice(0, 10) ?? '',
            ]),
          ),
        ),
      );
    });

  jml
    .command('approve')
    .description("approve a joiner's initial access request (evidence in the ledger)")
    .argument('<task>', 'the onboarding_access_request task id')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--approver <email>', 'who approves (not the joiner)')
    .requiredOption('--justification <text>', 'why this access is needed')
    .option('--entitlements <list>', 'the access approved, comma-separated (e.g. scim:okta/Engineering)')
    .action(
      async (
        task: string,
        opts: { tenant: string; approver: string; justification: string; entitlements?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const row = await withDatabase(configFrom(options), (db) =>
          approveAccessRequest(db, cliActor(), opts.tenant, task, {
            approver: opts.approver,
            justification: opts.justification,
            entitlements: list(opts.entitlements),
          }),
        );
        output(
          io,
          options,
          presentTask(row),
          (t) => `approved by ${opts.approver}; evidence ${String(t.details.evidenceId)}`,
        );
      },
    );

  jml
    .command('movers')
    .description('mover reviews: the change, the new manager reviewing, progress and flagged entitlements')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const rows = await withDatabase(configFrom(options), (db) => listMovers(db, opts.tenant));
      const result = {
        movers: rows.map((m) => ({
          campaign: presentCampaign(m.campaign),
          items: m.items,
          decided: m.decided,
          flagged: m.flagged,
        })),
      };
      output(io, options, result, (r) =>
        table(
          ['CAMPAIGN', 'PERSON', 'STATUS', 'DECIDED', 'FLAGGED', 'LAUNCHED', 'CHANGED'],
          r.movers.map((m) => [
            m.campaign.id,
            m.campaign.subjectEmail ?? '',
            m.campaign.status,
            `${m.decided}/${m.items}`,
            String(m.flagged),
            m.campaign.launchedAt.slice(0, 10),
            ((m.campaign.moverChange?.changed as string[] | undefined) ?? []).join(','),
          ]),
        ),
      );
    });

  jml
    .command('settings')
    .description('joiner and mover deadlines (days) and the mover fallback reviewer')
    .requiredOption('--tenant <slug>', 'workspace')
    .option(
      '--set <key=value>',
      'change a setting (repeatable), e.g. trainingDays=14',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .action(async (opts: { tenant: string; set: string[] }, command: Command) => {
      const options = globalOptions(command);
      const changes: Record<string, unknown> = {};
      for (const pair of opts.set) {
        const at = pair.indexOf('=');
        if (at <= 0) {
          throw new AssayError('validation_failed', `--set: "${pair}" is not key=value`, { field: 'set' });
        }
        changes[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const settings = await withDatabase(configFrom(options), (db) =>
        opts.set.length === 0
          ? getGovernanceSettings(db, opts.tenant)
          : updateGovernanceSettings(db, cliActor(), opts.tenant, changes),
      );
      output(io, options, settings, (s) =>
        Object.entries(s)
          .map(([k, v]) => `${k} ${v ?? '-'}`)
          .join('\n'),
      );
    });
}
