/** `assay member …`: who holds which role in a workspace (the local operator, straight in the database). */
import type { Command } from 'commander';
import { roles } from '../../domains/access/permissions.ts';
import {
  addMember,
  listWorkspaceMembers,
  presentMember,
  removeMember,
} from '../../domains/accounts/memberships.service.ts';
import { parseLifetime } from '../../domains/accounts/tokens.service.ts';
import { listWorkspaces } from '../../domains/workspaces/workspaces.repository.ts';
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

function parsePeriod(text: string): { start: string; end: string } {
  const match = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(text.trim());
  if (!match) {
    throw new AssayError(
      'validation_failed',
      `--period "${text}": use FROM..TO, e.g. 2026-01-01..2026-06-30`,
      {
        field: '--period',
      },
    );
  }
  return { start: match[1]!, end: match[2]! };
}

export function registerMemberCommands(program: Command, io: CommandIO) {
  const member = program.command('member').description('members of a workspace and their roles');

  member
    .command('add')
    .description(
      'give a person a role in a workspace (creates the person if new; changes the role if a member)',
    )
    .requiredOption('--tenant <slug>', 'workspace')
    .argument('<email>', 'the person')
    .requiredOption('--role <role>', roles.join(', '))
    .option(
      '--clients <slugs>',
      'MSP workspace only: comma-separated client workspaces this membership reaches',
    )
    .option('--expires <lifetime>', 'access ends after this long, e.g. 30d, 12w (required for auditors)')
    .option('--period <from..to>', 'auditors: the audit period they may see, e.g. 2026-01-01..2026-06-30')
    .action(
      async (
        email: string,
        opts: { tenant: string; role: string; clients?: string; expires?: string; period?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const clients = opts.clients
          ?.split(',')
          .map((c) => c.trim())
          .filter((c) => c !== '');
        const expiresAt = opts.expires
          ? new Date(Date.now() + parseLifetime(opts.expires, '--expires'))
          : null;
        const result = await withDatabase(configFrom(options), async (db) => {
          const added = await addMember(db, { actor: cliActor(), mayManageOwners: true }, opts.tenant, {
            email,
            role: opts.role,
            clients,
            expiresAt,
            auditPeriod: opts.period ? parsePeriod(opts.period) : undefined,
          });
          const { rows } = await listWorkspaceMembers(db, added.workspace.id);
          const slugs = new Map((await listWorkspaces(db.db)).map((w) => [w.id, w.slug]));
          return {
            member: presentMember(rows.find((r) => r.id === added.membership.id)!, slugs),
            workspace: added.workspace.slug,
            userCreated: added.userCreated,
          };
        });
        output(io, options, result, (r) =>
          [
            `${r.member.email} is ${r.member.role} in ${r.workspace}` +
              (r.member.clients.length > 0 ? `, reaching ${r.member.clients.join(', ')}` : '') +
              (r.member.auditPeriod
                ? ` for ${r.member.auditPeriod.start}..${r.member.auditPeriod.end}`
                : '') +
              (r.member.expiresAt ? ` until ${r.member.expiresAt}` : ''),
            r.userCreated
              ? `created ${r.member.email} without a password (single sign-on, or \`assay user set-password\`)`
              : '',
          ]
            .filter((line) => line !== '')
            .join('\n'),
        );
      },
    );

  member
    .command('list')
    .description('members of a workspace')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const members = await withDatabase(configFrom(options), async (db) => {
        const { rows } = await listWorkspaceMembers(db, opts.tenant);
        const slugs = new Map((await listWorkspaces(db.db)).map((w) => [w.id, w.slug]));
        return rows.map((r) => presentMember(r, slugs));
      });
      output(io, options, { members }, (r) =>
        table(
          ['EMAIL', 'ROLE', 'CLIENTS', 'PERIOD', 'EXPIRES'],
          r.members.map((m) => [
            m.email,
            m.role,
            m.clients.join(','),
            m.auditPeriod ? `${m.auditPeriod.start}..${m.auditPeriod.end}` : '',
            m.expiresAt?.slice(0, 10) ?? '',
          ]),
        ),
      );
    });

  member
    .command('remove')
    .description('take a person out of a workspace (revokes the API tokens they created there)')
    .requiredOption('--tenant <slug>', 'workspace')
    .argument('<email>', 'the person (or membership id)')
    .action(async (email: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const result = await withDatabase(configFrom(options), (db) =>
        removeMember(db, { actor: cliActor(), mayManageOwners: true }, opts.tenant, email),
      );
      output(
        io,
        options,
        {
          email: result.member.email,
          role: result.member.role,
          tokensRevoked: result.tokensRevoked.map((t) => t.id),
        },
        (r) =>
          `removed ${r.email} (${r.role})${r.tokensRevoked.length > 0 ? `; revoked ${r.tokensRevoked.length} API tokens` : ''}`,
      );
    });
}
