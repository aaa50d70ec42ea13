/**
 * `assay webhook …`: signing secrets for the webhook receivers (GitHub and generic signed JSON),
 * and the deliveries refused for their signatures.
 */
import type { Command } from 'commander';
import {
  createWebhookSecret,
  listWebhookSecrets,
  revokeWebhookSecret,
} from '../../connectors/webhooks/webhook-secrets.ts';
import { listWebhookRejections } from '../../connectors/webhooks/webhooks.service.ts';
import { openSecretBox } from '../../domains/secrets/secrets.ts';
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

export function registerWebhookCommands(program: Command, io: CommandIO) {
  const webhook = program
    .command('webhook')
    .description('signed webhook receivers (GitHub, generic OCSF JSON)');
  const secret = webhook.command('secret').description('webhook signing secrets, per workspace and source');

  secret
    .command('create')
    .description('create a signing secret; it is printed once and never again')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--source <name>', '"github", or the name of a generic source (e.g. siem)')
    .action(async (opts: { tenant: string; source: string }, command: Command) => {
      const options = globalOptions(command);
      const config = configFrom(options);
      const created = await withDatabase(config, (db) =>
        createWebhookSecret(db, openSecretBox(config), cliActor(), opts.tenant, opts.source),
      );
      output(io, options, created, (r) =>
        [
          `created a ${r.source} webhook secret (${r.id}) for ${r.workspace}`,
          '',
          `  ${r.secret}`,
          '',
          'This secret is shown once. Point the sender at:',
          `  https://<your Assay host>${r.path}`,
          r.source === 'github'
            ? '  Content type application/json, and this secret as the webhook secret.'
            : '  Sign each delivery with X-Assay-Signature: t=<unix seconds>,v1=<HMAC-SHA256 of "t.body">.',
        ].join('\n'),
      );
    });

  secret
    .command('list')
    .description("list a workspace's webhook secrets (never the secrets themselves)")
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const secrets = await withDatabase(configFrom(options), (db) => listWebhookSecrets(db, opts.tenant));
      output(io, options, { secrets }, (r) =>
        r.secrets.length === 0
          ? 'no webhook secrets'
          : table(
              ['id', 'source', 'created', 'revoked'],
              r.secrets.map((s) => [s.id, s.source, s.createdAt, s.revokedAt ?? '-']),
            ),
      );
    });

  secret
    .command('revoke')
    .description('revoke a webhook secret: deliveries signed with it are refused from now on')
    .argument('<id>', 'the secret id (from `assay webhook secret list`)')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (id: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const result = await withDatabase(configFrom(options), (db) =>
        revokeWebhookSecret(db, cliActor(), opts.tenant, id),
      );
      output(io, options, result, (r) => `revoked the ${r.source} webhook secret ${r.id}`);
    });

  webhook
    .command('rejections')
    .description('deliveries refused for their signature: when, which source, why, from where')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--limit <n>', 'how many, newest first', '50')
    .action(async (opts: { tenant: string; limit: string }, command: Command) => {
      const options = globalOptions(command);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new AssayError('validation_failed', '--limit: expected an integer from 1 to 1000', {
          field: '--limit',
        });
      }
      const rejections = await withDatabase(configFrom(options), (db) =>
        listWebhookRejections(db, opts.tenant, limit),
      );
      output(io, options, { rejections }, (r) =>
        r.rejections.length === 0
          ? 'no rejected deliveries'
          : table(
              ['received', 'source', 'reason', 'from', 'delivery', 'event'],
              r.rejections.map((x) => [
                x.receivedAt,
                x.source,
                x.reason,
                x.remoteAddress ?? '-',
                x.deliveryId ?? '-',
                x.eventName ?? '-',
              ]),
            ),
      );
    });
}
