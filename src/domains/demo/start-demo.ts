/**
 * The demo on start: `npm start` (`assay serve --demo`) on an empty data directory seeds the
 * demo MSP and its clients before the API listens, so a newcomer's first page is a populated
 * portfolio. A data directory that already holds workspaces is left as it is. So that the newcomer
 * can sign in to see it, the demo gets a compliance lead of the MSP reaching every client, whose
 * password is generated and printed once (the embedded database admits one process: the CLI
 * cannot add a user while the server runs).
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../../config.ts';
import { openDatabase } from '../../db/database.ts';
import { migrate } from '../../db/migrate.ts';
import { addMember } from '../accounts/memberships.service.ts';
import { createUser } from '../accounts/users.service.ts';
import { systemActor } from '../audit/actor.ts';
import { listAllWorkspaces } from '../workspaces/workspaces.service.ts';
import { type DemoClient, type DemoSummary, seedDemo } from './demo.service.ts';

export interface StartDemoOptions {
  log: (line: string) => void;
  /** The clients to seed (default: the demo's three). */
  clients?: DemoClient[];
  now?: Date;
}

/** Who signs in to the demo on start: a compliance lead (password only, no second factor needed). */
export const demoSignInEmail = 'demo@bluepeak.example';

export interface StartDemoSummary extends DemoSummary {
  signIn: { email: string; password: string };
}

/** Seeds the demo when the database holds no workspace; returns what was seeded, or null. */
export async function seedDemoOnStart(
  config: Pick<Config, 'dataDir' | 'databaseUrl'>,
  options: StartDemoOptions,
): Promise<StartDemoSummary | null> {
  const database = await openDatabase(config);
  try {
    await migrate(database);
    const existing = await listAllWorkspaces(database);
    if (existing.length > 0) {
      options.log(
        `demo: not seeded, the data directory already holds ${existing.length} workspace${existing.length === 1 ? '' : 's'}`,
      );
      return null;
    }
    options.log(
      'demo: empty data directory, seeding an MSP with three clients and a year of history (--no-demo or ASSAY_DEMO=false to skip)',
    );
    const started = Date.now();
    const summary = await seedDemo(database, systemActor, {
      ...(options.clients ? { clients: options.clients } : {}),
      ...(options.now ? { now: options.now } : {}),
      onProgress: (line) => options.log(`demo: ${line}`),
    });
    options.log(
      `demo: seeded ${summary.msp} with ${summary.clients.map((c) => `${c.slug} (${c.people} people)`).join(', ')} in ${Math.round((Date.now() - started) / 1000)} s`,
    );
    const password = `demo-${randomBytes(12).toString('base64url')}`;
    await createUser(database, systemActor, {
      email: demoSignInEmail,
      displayName: 'Demo compliance lead',
      password,
    });
    await addMember(database, { actor: systemActor, mayManageOwners: true }, summary.msp, {
      email: demoSignInEmail,
      role: 'compliance_manager',
      clients: summary.clients.map((c) => c.slug),
    });
    options.log(
      `demo: sign in as ${demoSignInEmail} with the password ${password} (shown once; change it with assay user set-password)`,
    );
    return { ...summary, signIn: { email: demoSignInEmail, password } };
  } finally {
    await database.close();
  }
}
