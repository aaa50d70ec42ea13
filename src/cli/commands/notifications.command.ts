import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import {
  createChannel,
  listChannels,
  recentDeliveries,
  removeChannel,
  testChannel,
} from '../../domains/notifications/channels.service.ts';
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

function list(raw: string | undefined): string[] | undefined {
  return raw
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function registerNotificationCommands(program: Command, io: CommandIO) {
  const notifications = program
    .command('notifications')
    .description('notification channels: email, signed webhooks, Slack-compatible webhooks');

  notifications
    .command('list')
    .description("the workspace's channels (secrets are never shown)")
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const channels = await withDatabase(configFrom(options), (db) => listChannels(db, opts.tenant));
      output(io, options, { channels }, (r) =>
        r.channels.length === 0
          ? 'no notification channels'
          : table(
              ['NAME', 'KIND', 'TARGET', 'EVENTS', 'FROM', 'DIGEST', 'ID'],
              r.channels.map((c) => [
                c.name,
                c.kind,
                c.target,
                c.events.join(','),
                c.minSeverity,
                c.digestSeconds === 0 ? 'immediate' : `${c.digestSeconds}s`,
                c.id,
              ]),
            ),
      );
    });

  notifications
    .command('add')
    .description('add a channel')
    .argument('<name>', 'a name for the channel')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--kind <kind>', 'email, webhook or slack')
    .option('--to <addresses>', 'email: comma-separated recipients')
    .option('--url <url>', 'webhook or slack: where to post')
    .option(
      '--secret <secret>',
      'webhook: signing secret, 16+ characters (default: one is generated and shown once)',
    )
    .option(
      '--events <kinds>',
      'comma-separated: finding.opened, finding.closed, exception.expiring, exception.expired, control.drift (default all)',
    )
    .option('--min-severity <severity>', 'low, medium, high or critical (default low)')
    .option('--digest-seconds <n>', 'gather notifications for this long into one message (0 = at once)')
    .action(
      async (
        name: string,
        opts: {
          tenant: string;
          kind: string;
          to?: string;
          url?: string;
          secret?: string;
          events?: string;
          minSeverity?: string;
          digestSeconds?: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const config = configFrom(options);
        // The receiver needs the secret: generated here, it is printed once and only stored sealed.
        const generated =
          opts.kind === 'webhook' && opts.secret === undefined
            ? randomBytes(24).toString('base64url')
            : undefined;
        const digest = opts.digestSeconds === undefined ? undefined : Number(opts.digestSeconds);
        const channel = await withDatabase(config, (db) =>
          createChannel(
            db,
            openSecretBox(config).encrypt,
            cliActor(),
            opts.tenant,
            {
              name,
              kind: opts.kind,
              to: list(opts.to),
              url: opts.url,
              secret: opts.secret ?? generated,
              events: list(opts.events),
              minSeverity: opts.minSeverity,
              digestSeconds: digest,
            },
            { digestSeconds: config.notificationDigestSeconds },
          ),
        );
        const result = generated ? { ...channel, generatedSecret: generated } : channel;
        output(io, options, result, (c) =>
          [
            `added ${c.kind} channel "${c.name}" (${c.id}) → ${c.target}`,
            ...(generated
              ? [`signing secret (shown once; the receiver verifies X-Assay-Signature with it): ${generated}`]
              : []),
          ].join('\n'),
        );
      },
    );

  notifications
    .command('remove')
    .description('remove a channel (by name or id)')
    .argument('<channel>', 'channel name or id')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (channelRef: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const channel = await withDatabase(configFrom(options), (db) =>
        removeChannel(db, cliActor(), opts.tenant, channelRef),
      );
      output(io, options, channel, (c) => `removed ${c.kind} channel "${c.name}"`);
    });

  notifications
    .command('test')
    .description('send a test message through a channel now')
    .argument('<channel>', 'channel name or id')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (channelRef: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const config = configFrom(options);
      const result = await withDatabase(config, (db) =>
        testChannel(
          { database: db, secrets: openSecretBox(config), mail: config },
          cliActor(),
          opts.tenant,
          channelRef,
        ),
      );
      if (!result.delivered) {
        throw new AssayError(
          'notification_delivery_failed',
          `the test message did not arrive through "${result.channel.name}": ${result.error}`,
        );
      }
      output(
        io,
        options,
        result,
        (r) => `test message delivered through "${r.channel.name}" (${r.channel.target})`,
      );
    });

  notifications
    .command('deliveries')
    .description('recent deliveries and their status')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--limit <n>', 'how many (default 50)')
    .action(async (opts: { tenant: string; limit?: string }, command: Command) => {
      const options = globalOptions(command);
      const limit = Math.min(500, Math.max(1, Number(opts.limit ?? 50) || 50));
      const deliveries = await withDatabase(configFrom(options), (db) =>
        recentDeliveries(db, opts.tenant, limit),
      );
      output(io, options, { deliveries }, (r) =>
        table(
          ['STATUS', 'ATTEMPTS', 'EVENT', 'SEVERITY', 'TITLE', 'ERROR'],
          r.deliveries.map((d) => [
            d.status,
            String(d.attempts),
            d.event.kind,
            d.event.severity,
            d.event.title,
            d.lastError ?? '',
          ]),
        ),
      );
    });
}
