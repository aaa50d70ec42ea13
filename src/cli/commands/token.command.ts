/** `assay token …`: API tokens of a workspace (the local operator, straight in the database). */
import type { Command } from 'commander';
import { workspacePermissions } from '../../domains/access/permissions.ts';
import {
  createApiToken,
  defaultTokenLifetimeDays,
  listApiTokens,
  parseLifetime,
  presentToken,
  revokeApiToken,
} from '../../domains/accounts/tokens.service.ts';
import {
  type CommandIO,
  cliActor,
  configFrom,
  globalOptions,
  output,
  table,
  withDatabase,
} from '../runtime.ts';

export function registerTokenCommands(program: Command, io: CommandIO) {
  const token = program
    .command('token')
    .description('API tokens: one workspace, chosen permissions, an expiry');

  token
    .command('create')
    .description('create an API token; its secret is printed once and never again')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--name <name>', 'what the token is for')
    .requiredOption('--permissions <list>', `comma-separated, from: ${workspacePermissions.join(', ')}`)
    .option(
      '--expires <lifetime>',
      `lifetime, e.g. 30d, 12w (default ${defaultTokenLifetimeDays}d, at most 366d)`,
    )
    .action(
      async (
        opts: { tenant: string; name: string; permissions: string; expires?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const expiresAt = new Date(
          Date.now() + parseLifetime(opts.expires ?? `${defaultTokenLifetimeDays}d`, '--expires'),
        );
        const { row, secret } = await withDatabase(configFrom(options), (db) =>
          createApiToken(db, { actor: cliActor(), userId: null }, opts.tenant, {
            name: opts.name,
            permissions: opts.permissions.split(','),
            expiresAt,
          }),
        );
        output(io, options, { token: presentToken(row), secret }, (r) =>
          [
            `created token "${r.token.name}" (${r.token.id}) for ${opts.tenant}, expires ${r.token.expiresAt}`,
            `permissions: ${r.token.permissions.join(', ')}`,
            '',
            `  ${r.secret}`,
            '',
            'This secret is shown once. Send it as "Authorization: Bearer <secret>".',
          ].join('\n'),
        );
      },
    );

  token
    .command('list')
    .description("a workspace's API tokens (never their secrets), with last use")
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const rows = await withDatabase(configFrom(options), (db) => listApiTokens(db, opts.tenant));
      output(io, options, { tokens: rows.map(presentToken) }, (r) =>
        table(
          ['ID', 'NAME', 'STATUS', 'EXPIRES', 'LAST USED', 'PERMISSIONS'],
          r.tokens.map((t) => [
            t.id,
            t.name,
            t.status,
            t.expiresAt.slice(0, 10),
            t.lastUsedAt?.replace('T', ' ').slice(0, 16) ?? 'never',
            t.permissions.join(','),
          ]),
        ),
      );
    });

  token
    .command('revoke')
    .description('revoke an API token at once')
    .requiredOption('--tenant <slug>', 'workspace')
    .argument('<id>', 'token id (from `assay token list`)')
    .action(async (id: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const row = await withDatabase(configFrom(options), (db) =>
        revokeApiToken(db, cliActor(), opts.tenant, id),
      );
      output(
        io,
        options,
        { token: presentToken(row) },
        (r) => `revoked token "${r.token.name}" (${r.token.id})`,
      );
    });
}
