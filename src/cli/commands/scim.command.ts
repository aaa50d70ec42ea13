/** `assay scim token …`: bearer tokens for identity providers pushing users and groups over SCIM. */
import type { Command } from 'commander';
import {
  createScimToken,
  listScimTokens,
  revokeScimToken,
} from '../../connectors/scim/scim-tokens.service.ts';
import {
  type CommandIO,
  cliActor,
  configFrom,
  globalOptions,
  output,
  table,
  withDatabase,
} from '../runtime.ts';

export function registerScimCommands(program: Command, io: CommandIO) {
  const scim = program
    .command('scim')
    .description('SCIM 2.0 provisioning from identity providers (Okta, Entra)');
  const token = scim.command('token').description('SCIM bearer tokens, one per identity provider connection');

  token
    .command('create')
    .description('create a SCIM token; it is printed once and never again')
    .requiredOption('--tenant <slug>', 'workspace')
    .option(
      '--directory <name>',
      'the identity provider, e.g. okta or entra: accounts land in system scim:<name>',
      'idp',
    )
    .option('--name <name>', 'what the token is for (default: "<directory> provisioning")')
    .action(async (opts: { tenant: string; directory: string; name?: string }, command: Command) => {
      const options = globalOptions(command);
      const created = await withDatabase(configFrom(options), (db) =>
        createScimToken(db, cliActor(), opts.tenant, { directory: opts.directory, name: opts.name }),
      );
      output(io, options, created, (r) =>
        [
          `created SCIM token "${r.name}" (${r.id}) for ${r.workspace}; accounts land in system ${r.system}`,
          '',
          `  ${r.token}`,
          '',
          'This token is shown once. In the identity provider, set:',
          `  SCIM base URL:  https://<your Assay host>${r.basePath}`,
          '  Authentication: HTTP header / Bearer token, with the token above',
        ].join('\n'),
      );
    });

  token
    .command('list')
    .description("list a workspace's SCIM tokens (never their secrets)")
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const tokens = await withDatabase(configFrom(options), (db) => listScimTokens(db, opts.tenant));
      output(io, options, { tokens }, (r) =>
        r.tokens.length === 0
          ? 'no SCIM tokens'
          : table(
              ['id', 'directory', 'name', 'created', 'last used', 'revoked'],
              r.tokens.map((t) => [
                t.id,
                t.directory,
                t.name,
                t.createdAt,
                t.lastUsedAt ?? '-',
                t.revokedAt ?? '-',
              ]),
            ),
      );
    });

  token
    .command('revoke')
    .description('revoke a SCIM token: the identity provider using it is refused from now on')
    .argument('<id>', 'the token id (from `assay scim token list`)')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (id: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const result = await withDatabase(configFrom(options), (db) =>
        revokeScimToken(db, cliActor(), opts.tenant, id),
      );
      output(io, options, result, (r) => `revoked SCIM token "${r.name}" (${r.id})`);
    });
}
