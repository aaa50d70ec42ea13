/**
 * `assay user …`: people, managed by the local operator straight in the database (like psql),
 * not through the API. Passwords come on standard input only, never as arguments (which would
 * land in shell history and process listings).
 */
import type { Command } from 'commander';
import { setPlatformAdmin } from '../../domains/accounts/accounts.repository.ts';
import {
  createUser,
  getUserByEmail,
  listAllUsers,
  presentUser,
  resetUserMfa,
  setUserPassword,
} from '../../domains/accounts/users.service.ts';
import { recordAudit } from '../../domains/audit/record-audit.ts';
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

export async function readPasswordFromStdin(io: CommandIO): Promise<string> {
  const text = io.stdin
    ? await io.stdin()
    : await new Promise<string>((resolve, reject) => {
        if (process.stdin.isTTY) {
          reject(
            new AssayError(
              'validation_failed',
              '--password-stdin: pipe the password in, e.g. `printf %s "$PW" | assay …`',
            ),
          );
          return;
        }
        let data = '';
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', (chunk) => {
          data += chunk;
        });
        process.stdin.on('end', () => resolve(data));
        process.stdin.on('error', reject);
      });
  const password = text.replace(/\r?\n$/, '');
  if (password === '') {
    throw new AssayError('validation_failed', '--password-stdin: standard input was empty', {
      field: 'password',
    });
  }
  return password;
}

export function registerUserCommands(program: Command, io: CommandIO) {
  const user = program.command('user').description('people who sign in to Assay');

  user
    .command('create')
    .description('create a person (a platform admin with --platform-admin)')
    .argument('<email>', 'their email address (their sign-in name)')
    .option('--name <name>', 'display name')
    .option('--platform-admin', 'may create workspaces and act in every workspace (needs a second factor)')
    .option(
      '--password-stdin',
      'read a password from standard input (else: single sign-on only, until one is set)',
    )
    .action(
      async (
        email: string,
        opts: { name?: string; platformAdmin?: boolean; passwordStdin?: boolean },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const password = opts.passwordStdin ? await readPasswordFromStdin(io) : undefined;
        const row = await withDatabase(configFrom(options), (db) =>
          createUser(db, cliActor(), {
            email,
            displayName: opts.name,
            password,
            platformAdmin: opts.platformAdmin === true,
          }),
        );
        output(io, options, presentUser(row), (u) =>
          [
            `created ${u.platformAdmin ? 'platform admin' : 'user'} ${u.email} (${u.id})`,
            u.passwordSet
              ? ''
              : 'no password: they sign in through single sign-on, or set one with `assay user set-password`',
            u.platformAdmin ? 'platform admins must enrol a second factor (TOTP) at their first sign-in' : '',
          ]
            .filter((line) => line !== '')
            .join('\n'),
        );
      },
    );

  user
    .command('list')
    .description('list people')
    .action(async (_opts: unknown, command: Command) => {
      const options = globalOptions(command);
      const rows = await withDatabase(configFrom(options), (db) => listAllUsers(db));
      const users = rows.map(presentUser);
      output(io, options, { users }, (r) =>
        table(
          ['EMAIL', 'PLATFORM ADMIN', 'PASSWORD', 'MFA', 'CREATED'],
          r.users.map((u) => [
            u.email,
            u.platformAdmin ? 'yes' : '',
            u.passwordSet ? 'set' : '',
            u.mfaEnabled ? 'totp' : '',
            u.createdAt.slice(0, 10),
          ]),
        ),
      );
    });

  user
    .command('set-password')
    .description("set a person's password from standard input (ends their sessions)")
    .argument('<email>', 'the person')
    .action(async (email: string, _opts: unknown, command: Command) => {
      const options = globalOptions(command);
      const password = await readPasswordFromStdin(io);
      const row = await withDatabase(configFrom(options), async (db) => {
        const found = await getUserByEmail(db, email);
        await setUserPassword(db, cliActor(), found, password);
        return found;
      });
      output(
        io,
        options,
        presentUser({ ...row, password_hash: 'set' }),
        (u) => `password set for ${u.email}`,
      );
    });

  user
    .command('reset-mfa')
    .description('remove a person’s second factor and recovery codes (lost device); they enrol again')
    .argument('<email>', 'the person')
    .action(async (email: string, _opts: unknown, command: Command) => {
      const options = globalOptions(command);
      const row = await withDatabase(configFrom(options), async (db) => {
        const found = await getUserByEmail(db, email);
        await resetUserMfa(db, cliActor(), found);
        return found;
      });
      output(
        io,
        options,
        { email: row.email, mfaEnabled: false },
        (r) => `second factor removed for ${r.email}; their sessions ended`,
      );
    });

  user
    .command('platform-admin')
    .description('grant or withdraw platform administration')
    .argument('<email>', 'the person')
    .option('--revoke', 'withdraw it')
    .action(async (email: string, opts: { revoke?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const platformAdmin = opts.revoke !== true;
      const row = await withDatabase(configFrom(options), async (db) => {
        const found = await getUserByEmail(db, email);
        await db.inSystem(async (trx) => {
          await setPlatformAdmin(trx, found.id, platformAdmin);
          await recordAudit(trx, {
            workspaceId: null,
            actor: cliActor(),
            action: platformAdmin ? 'user.platform_admin_granted' : 'user.platform_admin_revoked',
            targetType: 'user',
            targetId: found.id,
            details: { email: found.email },
          });
        });
        return found;
      });
      output(io, options, { email: row.email, platformAdmin }, (r) =>
        r.platformAdmin ? `${r.email} is a platform admin` : `${r.email} is no longer a platform admin`,
      );
    });
}
