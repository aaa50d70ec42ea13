/**
 * Shared set-up for the push connector tests: an API over a fresh database with a workspace, a
 * SCIM token and webhook secrets, plus readers of what the identity graph holds afterwards.
 */
import { createHmac } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { createScimToken } from '../../src/connectors/scim/scim-tokens.service.ts';
import { createWebhookSecret } from '../../src/connectors/webhooks/webhook-secrets.ts';
import type { Database } from '../../src/db/database.ts';
import type { Actor } from '../../src/domains/audit/actor.ts';
import { rawPayload } from '../../src/domains/ingest/ingest.repository.ts';
import { openSecretBox } from '../../src/domains/secrets/secrets.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';

export const operator: Actor = { type: 'cli', id: 'test-operator' };
export const scimJson = 'application/scim+json';

export interface PushHarness extends TestApp {
  workspaceId: string;
  /** SCIM token of workspace `acme`, directory `okta`. */
  token: string;
  /** A SCIM request to `/scim/v2/acme…` with the token, no Assay session. */
  scim(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
}

export async function pushHarness(t: TestContext, directory = 'okta'): Promise<PushHarness> {
  const harness = await buildTestApp(t);
  const workspace = await createWorkspace(harness.database, operator, { slug: 'acme' });
  const { token } = await createScimToken(harness.database, operator, 'acme', { directory });
  const scim: PushHarness['scim'] = (method, path, body, headers = {}) =>
    harness.anonymous({
      method: method as 'GET',
      url: `/scim/v2/acme${path}`,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': scimJson }),
        ...headers,
      },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  return { ...harness, workspaceId: workspace.id, token, scim };
}

/** Creates a webhook secret for `acme` with the same key the app uses. */
export async function webhookSecret(harness: TestApp, source: string, workspace = 'acme'): Promise<string> {
  const secrets = openSecretBox(harness.config);
  const created = await createWebhookSecret(harness.database, secrets, operator, workspace, source);
  return created.secret;
}

export function githubSignature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function assaySignature(
  secret: string,
  body: string | Buffer,
  at = Math.floor(Date.now() / 1000),
): string {
  const mac = createHmac('sha256', secret).update(`${at}.`).update(body).digest('hex');
  return `t=${at},v1=${mac}`;
}

// ---------------------------------------------------------------------------------------------
// Reading the identity graph

export async function account(database: Database, workspaceId: string, system: string, externalId: string) {
  return database.inWorkspace(workspaceId, (trx) =>
    trx
      .selectFrom('identities')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('system', '=', system)
      .where('external_id', '=', externalId)
      .executeTakeFirst(),
  );
}

/** Entitlements an account holds now: the latest change per name is a grant. */
export async function heldEntitlements(database: Database, workspaceId: string, identityId: string) {
  const changes = await database.inWorkspace(workspaceId, (trx) =>
    trx
      .selectFrom('entitlement_changes')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('identity_id', '=', identityId)
      .orderBy('at')
      .orderBy('id')
      .execute(),
  );
  const latest = new Map<string, (typeof changes)[number]>();
  for (const change of changes) latest.set(change.name, change);
  return [...latest.values()]
    .filter((c) => c.granted)
    .map((c) => ({ name: c.name, privileged: c.privileged }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function events(database: Database, workspaceId: string) {
  return database.inWorkspace(workspaceId, (trx) =>
    trx
      .selectFrom('events')
      .leftJoin('evidence_items', (join) =>
        join
          .onRef('evidence_items.workspace_id', '=', 'events.workspace_id')
          .on(sql<boolean>`evidence_items.id = events.evidence_id::uuid`),
      )
      .select([
        'events.id',
        'events.source',
        'events.source_key',
        'events.system',
        'events.class_uid',
        'events.activity_id',
        'events.action',
        'events.target_identity_id',
        'events.data',
        rawPayload.as('raw'),
      ])
      .where('events.workspace_id', '=', workspaceId)
      .orderBy('events.id')
      .execute(),
  );
}

/** Row counts of everything a push can write: a failed request must leave all of them alone. */
export async function footprint(database: Database) {
  const tables = [
    'scim_users',
    'scim_groups',
    'scim_group_members',
    'events',
    'identities',
    'identity_observations',
    'entitlement_changes',
    'webhook_deliveries',
  ] as const;
  const counts: Record<string, number> = {};
  await database.inSystem(async (trx) => {
    for (const table of tables) {
      const row = await trx
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    // Versions change on every stored write even when row counts do not.
    const versions = await trx
      .selectFrom('scim_users')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('version'), eb.val(0)).as('v'))
      .executeTakeFirstOrThrow();
    counts.userVersions = Number(versions.v);
    const groupVersions = await trx
      .selectFrom('scim_groups')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('version'), eb.val(0)).as('v'))
      .executeTakeFirstOrThrow();
    counts.groupVersions = Number(groupVersions.v);
  });
  return counts;
}
