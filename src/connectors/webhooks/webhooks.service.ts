/**
 * Receiving signed webhook deliveries.
 *
 * 1. The signature is checked first, against the workspace's active secrets for the source. A
 *    delivery that fails (no signature, wrong signature, stale timestamp, no secret, unknown
 *    workspace) is answered 401 and recorded in `webhook_rejections` — when, which source, why and
 *    from which address, never the body. An unknown workspace and one without a secret get the
 *    same answer, so slugs cannot be probed.
 * 2. The payload is normalised before anything is written; a payload that cannot be read is a
 *    400 and stores nothing.
 * 3. The delivery id, the events and the identity-graph facts are written in one transaction
 *    through the ingest writer. A delivery id seen before changes nothing (a redelivery or a
 *    replay); events are keyed by it as well.
 */
import { createHash } from 'node:crypto';
import type { Database, Trx } from '../../db/database.ts';
import type { EntitlementFact, ImportRecord } from '../../domains/events/event.model.ts';
import { findIdentity } from '../../domains/identity/identity.repository.ts';
import type { SecretBox } from '../../domains/secrets/secrets.ts';
import { findWorkspaceBySlugOrId } from '../../domains/workspaces/workspaces.repository.ts';
import { getWorkspace } from '../../domains/workspaces/workspaces.service.ts';
import { AssayError, isAssayError } from '../../errors.ts';
import { parseOcsf } from '../ocsf/ocsf.parser.ts';
import { FieldError } from '../shared/import-context.ts';
import { type GitHubRecords, isStoredGitHubEvent, normalizeGitHubDelivery } from './github-webhook.ts';
import { ingestPush } from './push-ingest.ts';
import { type Verdict, verifyAssaySignature, verifyGitHubSignature } from './signatures.ts';
import { unstorable } from './storable.ts';
import { parseSource, unsealWebhookSecret } from './webhook-secrets.ts';
import {
  activeSecrets,
  finishDelivery,
  heldEntitlementNames,
  insertDelivery,
  insertRejection,
  listRejections,
} from './webhooks.repository.ts';

export interface Delivery {
  workspaceRef: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  contentType: string | undefined;
  remoteAddress: string | undefined;
  /** Injected for tests of the time window; defaults to the clock. */
  now?: Date;
}

export interface DeliveryResult {
  status: 'stored' | 'ignored' | 'duplicate';
  delivery: string;
  event: string;
  eventsStored: number;
  duplicates: number;
  entitlementChanges: number;
  /** Events this delivery stored (new, not replays): what change-triggered checks start from. */
  storedEventIds: number[];
}

function header(headers: Delivery['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Header values kept in the rejection record: bounded, printable. */
function clip(value: string | undefined, max = 200): string | null {
  if (value === undefined) return null;
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

interface Verified {
  workspace: { id: string; slug: string };
}

/** Resolves the workspace and checks the signature; records and refuses a failure. */
async function verify(
  database: Database,
  box: SecretBox,
  delivery: Delivery,
  source: string,
  check: (secrets: string[]) => Verdict,
  deliveryId: string | undefined,
  eventName: string | undefined,
): Promise<Verified> {
  const workspace =
    delivery.workspaceRef.length <= 100
      ? await findWorkspaceBySlugOrId(database.db, delivery.workspaceRef)
      : undefined;
  let reason: string;
  if (!workspace) {
    reason = 'unknown workspace';
  } else {
    const rows = await database.inWorkspace(workspace.id, (trx) => activeSecrets(trx, workspace.id, source));
    if (rows.length === 0) {
      reason = `no active webhook secret for source "${source}"`;
    } else {
      const secrets = rows.map((row) =>
        unsealWebhookSecret(
          box,
          { id: row.id, workspaceId: row.workspace_id, source: row.source },
          row.sealed_secret,
        ),
      );
      const verdict = check(secrets);
      if (verdict.ok) return { workspace };
      reason = verdict.reason;
    }
  }
  await database.inSystem((trx) =>
    insertRejection(trx, {
      workspaceId: workspace?.id ?? null,
      workspaceRef: clip(delivery.workspaceRef, 100) ?? '',
      source,
      reason,
      remoteAddress: clip(delivery.remoteAddress, 100),
      deliveryId: clip(deliveryId),
      eventName: clip(eventName, 100),
    }),
  );
  // The sender is told what is wrong with the header itself, but not whether the workspace
  // exists or has a secret: one answer for all of those, so nothing is learnt by probing.
  const format = check([]);
  const told =
    !format.ok && format.reason !== 'signature does not match'
      ? format.reason
      : `the signature does not match a webhook secret for "${source}" in this workspace`;
  throw new AssayError('bad_signature', `delivery refused: ${told}`, { source });
}

function rejectedPayload(message: string, field?: string): AssayError {
  return new AssayError('import_rejected', message, field ? { field } : undefined);
}

/** Stores the delivery and its records in one transaction; a known delivery id changes nothing. */
async function store(
  database: Database,
  workspaceId: string,
  values: { source: string; deliveryId: string; eventName: string; status: 'stored' | 'ignored' },
  build: (trx: Trx) => Promise<ImportRecord[]>,
): Promise<DeliveryResult> {
  return database.inWorkspace(workspaceId, async (trx) => {
    const base = {
      delivery: values.deliveryId,
      event: values.eventName,
      eventsStored: 0,
      duplicates: 0,
      entitlementChanges: 0,
      storedEventIds: [] as number[],
    };
    const row = await insertDelivery(trx, { workspaceId, ...values });
    if (!row) return { status: 'duplicate' as const, ...base };
    if (values.status === 'ignored') return { status: 'ignored' as const, ...base };
    const records = await build(trx);
    for (const record of records) {
      const reason = unstorable(record.type === 'event' ? record.event.raw : record, 'payload');
      if (reason) throw rejectedPayload(`${values.deliveryId}: ${reason}`);
    }
    const { counts, storedEventIds } = await ingestPush(trx, workspaceId, records, 'webhook');
    await finishDelivery(trx, workspaceId, row.id, counts);
    return {
      status: 'stored' as const,
      ...base,
      eventsStored: counts.eventsStored,
      duplicates: counts.duplicates,
      entitlementChanges: counts.entitlementChanges,
      storedEventIds,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// GitHub

/** The JSON payload of a GitHub delivery: a JSON body, or the `payload` field of a form post. */
function githubPayload(body: Buffer, contentType: string | undefined): unknown {
  let text = body.toString('utf8');
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null)
      throw rejectedPayload('a form-encoded delivery must carry a "payload" field', 'payload');
    text = payload;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AssayError('invalid_json', `the delivery body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Revocations of what a removed (or re-permissioned) collaborator held on the repository. */
async function revocations(
  trx: Trx,
  workspaceId: string,
  normalized: GitHubRecords,
): Promise<ImportRecord[]> {
  const held = normalized.revokeHeld;
  if (!held) return [];
  const { account, event } = held;
  const identity = await findIdentity(trx, workspaceId, {
    system: account.system ?? event.system,
    externalId: account.externalId,
    userName: account.userName,
  });
  if (!identity) return [];
  const names = await heldEntitlementNames(trx, workspaceId, identity.id, held.prefix);
  return names
    .filter((n) => n.name !== held.keep)
    .map((n) => {
      const entitlement: EntitlementFact = {
        source: event.source,
        system: event.system,
        identity: account,
        name: n.name,
        kind: 'permission',
        privileged: n.privileged,
        granted: false,
        at: event.time,
        eventSourceKey: event.sourceKey,
      };
      return {
        type: 'entitlement' as const,
        position: { file: `github delivery ${event.sourceKey}` },
        entitlement,
      };
    });
}

export async function receiveGitHub(
  database: Database,
  box: SecretBox,
  delivery: Delivery,
): Promise<DeliveryResult> {
  const deliveryId = header(delivery.headers, 'x-github-delivery')?.trim();
  const eventName = header(delivery.headers, 'x-github-event')?.trim();
  const signature = header(delivery.headers, 'x-hub-signature-256');
  const { workspace } = await verify(
    database,
    box,
    delivery,
    'github',
    (secrets) => verifyGitHubSignature(delivery.body, signature, secrets),
    deliveryId,
    eventName,
  );
  if (!eventName || !/^[a-z_]{1,100}$/.test(eventName)) {
    throw new AssayError('validation_failed', 'X-GitHub-Event: missing or not an event name', {
      field: 'X-GitHub-Event',
    });
  }
  if (!deliveryId || deliveryId.length > 200 || !/^[\x21-\x7e]+$/.test(deliveryId)) {
    throw new AssayError('validation_failed', 'X-GitHub-Delivery: missing or not a delivery id', {
      field: 'X-GitHub-Delivery',
    });
  }
  const receivedAt = (delivery.now ?? new Date()).toISOString();
  const stored = isStoredGitHubEvent(eventName);
  let normalized: GitHubRecords | undefined;
  if (stored) {
    const payload = githubPayload(delivery.body, delivery.contentType);
    const reason = unstorable(payload, 'payload');
    if (reason) throw rejectedPayload(reason);
    try {
      normalized = normalizeGitHubDelivery({ eventName, deliveryId, receivedAt, payload });
    } catch (error) {
      if (error instanceof FieldError) {
        throw rejectedPayload(`${eventName} delivery ${deliveryId}: ${error.message}`, error.field);
      }
      throw error;
    }
  }
  // `ping` (sent when the hook is created) and events Assay does not use are acknowledged.
  return store(
    database,
    workspace.id,
    { source: 'github', deliveryId, eventName, status: stored ? 'stored' : 'ignored' },
    async (trx) =>
      normalized ? [...normalized.records, ...(await revocations(trx, workspace.id, normalized))] : [],
  );
}

// ---------------------------------------------------------------------------------------------
// Generic signed JSON (OCSF events)

async function* once(body: Buffer): AsyncGenerator<Uint8Array> {
  yield body;
}

/** Events without a product name are attributed to the webhook source rather than "ocsf". */
function attribute(record: ImportRecord, source: string): ImportRecord {
  const rename = <T extends { system?: string }>(value: T | undefined) => {
    if (value && value.system === 'ocsf') value.system = source;
  };
  if (record.type === 'event') {
    rename(record.event);
    rename(record.event.actor);
    rename(record.event.target);
  } else if (record.type === 'entitlement') {
    rename(record.entitlement);
    rename(record.entitlement.identity);
  } else if (record.type === 'identity') {
    rename(record.identity);
  }
  return record;
}

export async function receiveGeneric(
  database: Database,
  box: SecretBox,
  sourceName: string,
  delivery: Delivery,
): Promise<DeliveryResult> {
  const source = parseSource(sourceName);
  if (source === 'github') {
    throw new AssayError('validation_failed', 'GitHub deliveries go to /webhooks/github/:workspace', {
      field: 'source',
    });
  }
  const now = delivery.now ?? new Date();
  const signature = header(delivery.headers, 'x-assay-signature');
  const givenId = header(delivery.headers, 'x-assay-delivery')?.trim();
  const { workspace } = await verify(
    database,
    box,
    delivery,
    source,
    (secrets) => verifyAssaySignature(delivery.body, signature, secrets, Math.floor(now.getTime() / 1000)),
    givenId,
    undefined,
  );
  if (
    givenId !== undefined &&
    (givenId.length === 0 || givenId.length > 200 || !/^[\x21-\x7e]+$/.test(givenId))
  ) {
    throw new AssayError(
      'validation_failed',
      'X-Assay-Delivery: not a delivery id (1–200 printable characters)',
      {
        field: 'X-Assay-Delivery',
      },
    );
  }
  // Without a delivery id, the signed bytes identify the delivery: a replay is recognised.
  const deliveryId = givenId ?? `sha256:${createHash('sha256').update(delivery.body).digest('hex')}`;
  const records: ImportRecord[] = [];
  try {
    for await (const record of parseOcsf(once(delivery.body), {
      fileName: `${source} delivery`,
      onError: 'fail',
      observedAt: now.toISOString(),
    })) {
      records.push(attribute(record, source));
    }
  } catch (error) {
    if (isAssayError(error)) throw error;
    throw rejectedPayload(`${source} delivery: ${(error as Error).message}`);
  }
  if (records.length === 0) throw rejectedPayload(`${source} delivery: the body holds no event`);
  return store(
    database,
    workspace.id,
    { source, deliveryId, eventName: 'ocsf', status: 'stored' },
    async () => records,
  );
}

/** Deliveries refused for their signature, newest first (only those that named this workspace). */
export async function listWebhookRejections(database: Database, workspaceRef: string, limit: number) {
  const workspace = await getWorkspace(database, workspaceRef);
  const rows = await database.inWorkspace(workspace.id, (trx) => listRejections(trx, workspace.id, limit));
  return rows.map((row) => ({
    id: row.id,
    receivedAt: row.received_at.toISOString(),
    source: row.source,
    reason: row.reason,
    remoteAddress: row.remote_address,
    deliveryId: row.delivery_id,
    eventName: row.event_name,
  }));
}
