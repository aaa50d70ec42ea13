/**
 * `assay connector …`: pull connectors (an LDAP directory, a git repository) — add, list, show,
 * run, remove. An LDAP bind password comes on standard input only (`--password-stdin`), never as
 * an argument, and is never printed.
 */
import type { Command } from 'commander';
import type { ConnectorView } from '../../domains/connectors/connectors.presenter.ts';
import {
  addConnector,
  getConnector,
  listConnectors,
  type PullSummary,
  removeConnector,
  runConnector,
} from '../../domains/connectors/connectors.service.ts';
import { openSecretBox } from '../../domains/secrets/secrets.ts';
import { AssayError } from '../../errors.ts';
import { type InlineEvaluation, runQueuedEvaluationNow } from '../../jobs/evaluation.ts';
import {
  type CommandIO,
  cliActor,
  configFrom,
  globalOptions,
  output,
  table,
  withDatabase,
} from '../runtime.ts';
import { readPasswordFromStdin } from './user.command.ts';

function parseInterval(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) {
    throw new AssayError('validation_failed', `--interval-minutes "${raw}": a whole number of minutes`, {
      field: '--interval-minutes',
    });
  }
  return Number(raw);
}

function describeConnector(c: ConnectorView): string {
  const last =
    c.lastStatus === null
      ? 'never pulled'
      : c.lastStatus === 'succeeded'
        ? `last pulled ${c.lastSuccessAt}`
        : `last pull failed ${c.lastRunAt}: ${c.lastError}`;
  const settings = Object.entries(c.settings)
    .map(([k, v]) => `  ${k}: ${String(v)}`)
    .join('\n');
  return [
    `${c.name} (${c.kind})${c.intervalMinutes ? `, pulled every ${c.intervalMinutes} minutes` : ''}: ${last}`,
    settings,
    `  credentials: ${c.hasCredentials ? 'stored (sealed)' : 'none'}`,
    ...(c.cursor ? [`  cursor: ${JSON.stringify(c.cursor)}`] : []),
  ].join('\n');
}

function describePull(s: PullSummary): string[] {
  const p = s.pulled;
  const lines = [`pulled ${s.connector} (${s.kind}) into ${s.workspace} at ${s.observedAt}`];
  if (s.kind === 'ldap') {
    lines.push(
      `  read ${p.users} users (${p.disabledUsers} disabled), ${p.groups} groups, ${p.memberships} memberships`,
      `  changes: ${p.created} created, ${p.disabled} disabled, ${p.locked} locked out, ${p.enabled} enabled, ` +
        `${p.deleted} deleted, ${p.granted} memberships granted, ${p.revoked} revoked`,
    );
  } else {
    const range = p.from
      ? `${String(p.from).slice(0, 12)}..${String(p.to).slice(0, 12)}`
      : `up to ${String(p.to).slice(0, 12)}`;
    lines.push(
      `  ${p.repository} ${p.branch} ${range}${p.rewritten === 'yes' ? ' (history rewritten since the last pull)' : ''}`,
      `  ${p.commits} commits, ${p.merges} merges, ${p.pullRequests} pull requests, ${p.approvals} approvals, ` +
        `${p.unsigned} unsigned`,
    );
  }
  lines.push(
    `  stored: events ${s.eventsStored} (already present ${s.duplicates}), account observations ${s.identities}, ` +
      `entitlement changes ${s.entitlementChanges}`,
  );
  return lines;
}

function describeChecks(checks: InlineEvaluation): string {
  switch (checks.status) {
    case 'none':
      return '  checks: nothing new to evaluate';
    case 'queued':
      return `  checks: queued as job ${checks.jobId} (${checks.reason})`;
    case 'evaluated': {
      const s = checks.summary;
      return (
        `  checks: ${s.checks} evaluated, ${s.findingsOpened} findings opened, ${s.findingsClosed} closed, ` +
        `${s.findingsOpen} open`
      );
    }
  }
}

export function registerConnectorCommands(program: Command, io: CommandIO) {
  const connector = program
    .command('connector')
    .description('pull connectors: an LDAP directory, a git repository');
  const add = connector.command('add').description('add a pull connector to a workspace');

  add
    .command('ldap')
    .description('an LDAP directory: users, groups and disabled state (the bind password on standard input)')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--name <name>', 'connector name; accounts land in system ldap:<name>')
    .requiredOption('--url <url>', 'ldap://host[:port] or ldaps://host[:port]')
    .requiredOption('--bind-dn <dn>', 'the read-only service account to bind as')
    .requiredOption('--base-dn <dn>', 'where users and groups are searched')
    .option('--password-stdin', 'read the bind password from standard input (required)')
    .option('--user-base-dn <dn>', 'search users here instead of --base-dn')
    .option('--group-base-dn <dn>', 'search groups here instead of --base-dn')
    .option('--user-filter <filter>', 'LDAP filter for users (default: inetOrgPerson, posixAccount, AD user)')
    .option(
      '--group-filter <filter>',
      'LDAP filter for groups (default: groupOfNames, groupOfUniqueNames, posixGroup, AD group)',
    )
    .option('--page-size <n>', 'entries per page of the paged search (default 500)')
    .option('--interval-minutes <n>', 'pull on this schedule when `assay serve` runs a scheduler')
    .action(
      async (
        opts: {
          tenant: string;
          name: string;
          url: string;
          bindDn: string;
          baseDn: string;
          passwordStdin?: boolean;
          userBaseDn?: string;
          groupBaseDn?: string;
          userFilter?: string;
          groupFilter?: string;
          pageSize?: string;
          intervalMinutes?: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        if (!opts.passwordStdin) {
          throw new AssayError(
            'validation_failed',
            'an LDAP connector needs its bind password: pipe it in with --password-stdin',
            { field: '--password-stdin' },
          );
        }
        const password = await readPasswordFromStdin(io);
        const config = configFrom(options);
        const view = await withDatabase(config, (db) =>
          addConnector(db, openSecretBox(config), cliActor(), opts.tenant, {
            kind: 'ldap',
            name: opts.name,
            settings: {
              url: opts.url,
              bindDn: opts.bindDn,
              baseDn: opts.baseDn,
              userBaseDn: opts.userBaseDn,
              groupBaseDn: opts.groupBaseDn,
              userFilter: opts.userFilter,
              groupFilter: opts.groupFilter,
              pageSize: opts.pageSize,
            },
            credentials: { password },
            intervalMinutes: parseInterval(opts.intervalMinutes),
          }),
        );
        output(io, options, view, (c) => `added connector ${describeConnector(c)}`);
      },
    );

  add
    .command('git')
    .description("a git repository on this machine: the branch's history for change management")
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--name <name>', 'connector name')
    .requiredOption('--path <dir>', 'the repository (a clone or mirror kept up to date)')
    .option('--branch <branch>', 'the branch whose history is the record of changes (default: HEAD)')
    .option('--repository <org/repo>', 'how findings name the repository (default: from remote.origin.url)')
    .option('--since <date>', 'on the first pull, only commits after this date')
    .option('--interval-minutes <n>', 'pull on this schedule when `assay serve` runs a scheduler')
    .action(
      async (
        opts: {
          tenant: string;
          name: string;
          path: string;
          branch?: string;
          repository?: string;
          since?: string;
          intervalMinutes?: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const config = configFrom(options);
        const view = await withDatabase(config, (db) =>
          addConnector(db, openSecretBox(config), cliActor(), opts.tenant, {
            kind: 'git',
            name: opts.name,
            settings: {
              path: opts.path,
              branch: opts.branch,
              repository: opts.repository,
              since: opts.since,
            },
            intervalMinutes: parseInterval(opts.intervalMinutes),
          }),
        );
        output(io, options, view, (c) => `added connector ${describeConnector(c)}`);
      },
    );

  connector
    .command('list')
    .description("a workspace's connectors and their last pull")
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const connectors = await withDatabase(configFrom(options), (db) => listConnectors(db, opts.tenant));
      output(io, options, { connectors }, (r) =>
        r.connectors.length === 0
          ? 'no connectors'
          : table(
              ['NAME', 'KIND', 'LAST PULL', 'STATUS', 'ERROR'],
              r.connectors.map((c) => [
                c.name,
                c.kind,
                c.lastRunAt ?? 'never',
                c.lastStatus ?? '-',
                c.lastError ?? '',
              ]),
            ),
      );
    });

  connector
    .command('show')
    .description('one connector: settings (never credentials), cursor, last pull')
    .argument('<name>', 'connector name')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (name: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const view = await withDatabase(configFrom(options), (db) => getConnector(db, opts.tenant, name));
      output(io, options, view, describeConnector);
    });

  connector
    .command('run')
    .description('pull now and print what was read and stored; then evaluate the checks it triggers')
    .argument('<name>', 'connector name')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (name: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const config = configFrom(options);
      const { summary, checks } = await withDatabase(config, async (db) => {
        const summary = await runConnector(db, openSecretBox(config), cliActor(), opts.tenant, name);
        // No worker runs in the CLI: the checks the pull triggered are evaluated here, now.
        const checks = await runQueuedEvaluationNow(
          db,
          summary.evaluation,
          cliActor(),
          config.jobLeaseSeconds,
        );
        return { summary, checks };
      });
      const { storedEventIds: _ids, evaluation: _evaluation, ...pulled } = summary;
      const result = {
        ...pulled,
        checks:
          checks.status === 'evaluated'
            ? {
                status: checks.status,
                runId: checks.summary.runId,
                findingsOpened: checks.summary.findingsOpened,
                findingsClosed: checks.summary.findingsClosed,
                findingsOpen: checks.summary.findingsOpen,
              }
            : checks,
      };
      output(io, options, result, () => [...describePull(summary), describeChecks(checks)].join('\n'));
    });

  connector
    .command('remove')
    .description('remove a connector and its sealed credentials (what it pulled stays)')
    .argument('<name>', 'connector name')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (name: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      await withDatabase(configFrom(options), (db) => removeConnector(db, cliActor(), opts.tenant, name));
      output(io, options, { removed: name }, () => `removed connector ${name}`);
    });
}
