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
  signOffCampaign,
} from '../../domains/governance/campaigns.service.ts';
import {
  presentCampaign,
  presentChange,
  presentItem,
  presentTask,
} from '../../domains/governance/governance.presenter.ts';
import { listGovernanceTasks, reconcileGovernance } from '../../domains/governance/jml.service.ts';
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
          [`launched ${c.id} "${c.name}" due ${c.dueAt}`, `snapshot sha256 ${c.snapshotSha256}`].join('\n'),
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

  const jml = program.command('jml').description('joiners, movers and leavers: deprovisioning tasks');
  jml
    .command('tasks')
    .description('deprovisioning and revocation tasks with their confirmations')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--status <status>', 'open, done or cancelled')
    .option('--kind <kind>', 'deprovision_account or revoke_entitlement')
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
    .description('reconcile leavers and revocations with the facts now')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const summary = await withDatabase(configFrom(options), (db) =>
        reconcileGovernance(db, opts.tenant, cliActor()),
      );
      output(
        io,
        options,
        summary,
        (s) =>
          `opened ${s.tasksOpened}, confirmed ${s.tasksConfirmed}, overdue ${s.overdue}, revocations confirmed ${s.revocationsConfirmed}`,
      );
    });
}
