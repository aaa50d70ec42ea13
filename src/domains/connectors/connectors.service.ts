/**
 * Pull connectors of a workspace: add, list, remove, and run (pull) them.
 *
 * Settings are stored as given (validated by the connector kind) and never hold a secret.
 * Credentials (an LDAP bind password) are sealed with the installation key (secrets.ts), bound to
 * the connector's workspace and id, and opened only for a pull: no API response, CLI output, log
 * line or audit entry carries them.
 *
 * A pull reads the source outside any transaction, then stores what it read in one workspace
 * transaction — through the ingest writer, as an import batch of the connector's kind — together
 * with the connector's new cursor. It is stored whole or not at all; a failed pull records its
 * error and leaves the cursor where the last good pull left it.
 */
import { randomUUID } from 'node:crypto';
import { getPullConnector } from '../../connectors/pull-registry.ts';
import type { Database } from '../../db/database.ts';
import { refreshStatisticsSoon } from '../../db/statistics.ts';
import { AssayError, isAssayError } from '../../errors.ts';
import { enqueueEvaluation, type QueuedEvaluation, touchedByWriter } from '../../jobs/evaluation.ts';
import { wakeWorkers } from '../../jobs/queue.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { type BatchCounts, finishImportBatch, insertImportBatch } from '../ingest/ingest.repository.ts';
import { IngestWriter, ingestGrewTables } from '../ingest/ingest-writer.ts';
import type { SecretBox } from '../secrets/secrets.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { type ConnectorView, presentConnector } from './connectors.presenter.ts';
import {
  deleteConnector,
  findConnectorByName,
  insertConnector,
  listConnectorRows,
  recordPullFailure,
  recordPullSuccess,
} from './connectors.repository.ts';
import type { ConnectorKind } from './connectors.tables.ts';

export const connectorNamePattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export interface AddConnectorInput {
  kind: string;
  name: string;
  settings: Record<string, unknown>;
  /** Secret fields the kind needs (LDAP: `password`). */
  credentials?: Record<string, string> | undefined;
  /** Minutes between scheduled pulls; absent: pulled only on demand. */
  intervalMinutes?: number | undefined;
}

/** The context a connector's credentials are sealed under: moving them to another row fails. */
export function credentialsContext(workspaceId: string, connectorId: string): string {
  return `connector:${workspaceId}:${connectorId}:credentials`;
}

/** Seals a connector's credentials (one JSON object) for storage. */
export function sealConnectorCredentials(
  secrets: SecretBox,
  workspaceId: string,
  connectorId: string,
  credentials: Record<string, string>,
): string {
  return secrets.encrypt(JSON.stringify(credentials), credentialsContext(workspaceId, connectorId));
}

/** Opens what `sealConnectorCredentials` sealed. */
export function unsealConnectorCredentials(
  secrets: SecretBox,
  workspaceId: string,
  connectorId: string,
  sealed: string | null,
): Record<string, string> {
  if (sealed === null) return {};
  const value = JSON.parse(secrets.decrypt(sealed, credentialsContext(workspaceId, connectorId))) as unknown;
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(
      (e): e is [string, string] => typeof e[1] === 'string',
    ),
  );
}

export async function addConnector(
  database: Database,
  secrets: SecretBox,
  actor: Actor,
  workspaceRef: string,
  input: AddConnectorInput,
): Promise<ConnectorView> {
  const connector = getPullConnector(input.kind);
  if (typeof input.name !== 'string' || !connectorNamePattern.test(input.name)) {
    throw new AssayError(
      'validation_failed',
      `connector name "${input.name}": use 1–63 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit`,
      { field: 'name' },
    );
  }
  if (
    input.intervalMinutes !== undefined &&
    (!Number.isInteger(input.intervalMinutes) || input.intervalMinutes < 5 || input.intervalMinutes > 10_080)
  ) {
    throw new AssayError('validation_failed', 'intervalMinutes: a whole number of minutes from 5 to 10080', {
      field: 'intervalMinutes',
    });
  }
  let settings = connector.parseSettings(input.settings ?? {});
  const credentials: Record<string, string> = {};
  for (const field of connector.credentialFields) {
    const value = input.credentials?.[field];
    if (typeof value !== 'string' || value === '') {
      throw new AssayError('validation_failed', `a ${input.kind} connector needs its ${field}`, { field });
    }
    credentials[field] = value;
  }
  for (const field of Object.keys(input.credentials ?? {})) {
    if (!connector.credentialFields.includes(field)) {
      throw new AssayError('validation_failed', `a ${input.kind} connector takes no credential "${field}"`, {
        field,
      });
    }
  }
  if (connector.validateSource) settings = await connector.validateSource(settings);
  const workspace = await getWorkspace(database, workspaceRef);
  const id = randomUUID();
  const sealed =
    connector.credentialFields.length > 0
      ? sealConnectorCredentials(secrets, workspace.id, id, credentials)
      : null;
  const row = await database.inWorkspace(workspace.id, async (trx) => {
    const inserted = await insertConnector(trx, {
      id,
      workspaceId: workspace.id,
      kind: connector.kind,
      name: input.name,
      settings: settings as Record<string, unknown>,
      sealedCredentials: sealed,
      intervalMinutes: input.intervalMinutes ?? null,
      createdByType: actor.type,
      createdById: actor.id,
    });
    if (!inserted) {
      throw new AssayError(
        'connector_exists',
        `workspace ${workspace.slug} already has a connector named "${input.name}"`,
        { field: 'name' },
      );
    }
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'connector.added',
      targetType: 'connector',
      targetId: id,
      details: { kind: connector.kind, name: input.name, settings, credentials: Object.keys(credentials) },
    });
    return inserted;
  });
  return presentConnector(row);
}

export async function listConnectors(database: Database, workspaceRef: string): Promise<ConnectorView[]> {
  const workspace = await getWorkspace(database, workspaceRef);
  const rows = await database.inWorkspace(workspace.id, (trx) => listConnectorRows(trx, workspace.id));
  return rows.map(presentConnector);
}

export async function getConnector(
  database: Database,
  workspaceRef: string,
  name: string,
): Promise<ConnectorView> {
  const workspace = await getWorkspace(database, workspaceRef);
  const row = await database.inWorkspace(workspace.id, (trx) => findConnectorByName(trx, workspace.id, name));
  if (!row) throw notFound(workspace.slug, name);
  return presentConnector(row);
}

/** Removes a connector and its sealed credentials; what it pulled stays in the workspace. */
export async function removeConnector(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  name: string,
): Promise<void> {
  const workspace = await getWorkspace(database, workspaceRef);
  await database.inWorkspace(workspace.id, async (trx) => {
    const row = await findConnectorByName(trx, workspace.id, name, { lock: true });
    if (!row) throw notFound(workspace.slug, name);
    await deleteConnector(trx, workspace.id, row.id);
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'connector.removed',
      targetType: 'connector',
      targetId: row.id,
      details: { kind: row.kind, name: row.name },
    });
  });
}

function notFound(workspace: string, name: string) {
  return new AssayError('connector_not_found', `workspace ${workspace} has no connector named "${name}"`, {
    field: 'name',
  });
}

export interface PullSummary extends BatchCounts {
  workspace: string;
  connector: string;
  kind: ConnectorKind;
  batchId: string;
  observedAt: string;
  /** What the connector read and what changed (per kind; see docs/connectors/). */
  pulled: Record<string, number | string | null>;
  storedEventIds: number[];
  /** The evaluation queued for the checks the pulled facts trigger (null: none triggered). */
  evaluation: QueuedEvaluation | null;
}

export interface RunConnectorOptions {
  /** The pull time (default: now). */
  now?: Date | undefined;
}

/** Pulls one connector now. */
export async function runConnector(
  database: Database,
  secrets: SecretBox,
  actor: Actor,
  workspaceRef: string,
  name: string,
  options: RunConnectorOptions = {},
): Promise<PullSummary> {
  const workspace = await getWorkspace(database, workspaceRef);
  const row = await database.inWorkspace(workspace.id, (trx) => findConnectorByName(trx, workspace.id, name));
  if (!row) throw notFound(workspace.slug, name);
  const connector = getPullConnector(row.kind);
  const observedAt = (options.now ?? new Date()).toISOString();
  const failed = async (error: unknown) => {
    const message = isAssayError(error) ? error.message : `unexpected error: ${(error as Error).message}`;
    await database
      .inWorkspace(workspace.id, (trx) => recordPullFailure(trx, workspace.id, row.id, observedAt, message))
      .catch(() => {});
    if (isAssayError(error)) throw error;
    throw new AssayError('connector_pull_failed', `connector ${name}: ${message}`);
  };
  try {
    const settings = connector.parseSettings(row.settings);
    const credentials = unsealConnectorCredentials(secrets, workspace.id, row.id, row.sealed_credentials);
    const prepared = await connector.prepare({
      workspaceId: workspace.id,
      connectorId: row.id,
      name: row.name,
      settings,
      credentials,
      cursor: row.cursor,
      lastPulledAt: row.last_success_at?.toISOString() ?? null,
      observedAt,
    });
    const summary = await database.inWorkspace(workspace.id, async (trx): Promise<PullSummary> => {
      // One pull of a connector at a time; a pull that read its source before the one that just
      // committed must not store its older picture over the newer one.
      const locked = await findConnectorByName(trx, workspace.id, name, { lock: true });
      if (!locked || locked.id !== row.id) throw notFound(workspace.slug, name);
      if (locked.last_success_at && locked.last_success_at.toISOString() > observedAt) {
        throw new AssayError(
          'connector_pull_failed',
          `connector ${name}: a pull that read the source later (${locked.last_success_at.toISOString()}) has already been stored`,
        );
      }
      const batch = await insertImportBatch(trx, {
        workspaceId: workspace.id,
        kind: row.kind,
        fileName: row.name,
        actorType: actor.type,
        actorId: actor.id,
      });
      const writer = new IngestWriter(trx, workspace.id, batch.id);
      for await (const record of prepared.records(trx)) await writer.add(record);
      await writer.finish();
      await finishImportBatch(trx, workspace.id, batch.id, 'committed', writer.counts, null);
      const pulled = prepared.summary();
      await recordPullSuccess(trx, workspace.id, row.id, {
        at: observedAt,
        summary: { ...pulled, ...writer.counts },
        cursor: prepared.cursor(),
      });
      await recordAudit(trx, {
        workspaceId: workspace.id,
        actor,
        action: 'connector.pulled',
        targetType: 'connector',
        targetId: row.id,
        details: { kind: row.kind, name: row.name, batchId: batch.id, ...pulled, ...writer.counts },
      });
      // The checks these facts trigger are queued with them: a stored pull never misses its checks.
      const touched = touchedByWriter(writer);
      const evaluation = await enqueueEvaluation(trx, workspace.id, touched, `connector:${row.name}`);
      return {
        workspace: workspace.slug,
        connector: row.name,
        kind: row.kind,
        batchId: batch.id,
        observedAt,
        ...writer.counts,
        pulled,
        storedEventIds: writer.storedEventIds,
        evaluation,
      };
    });
    if (summary.evaluation) wakeWorkers();
    if (ingestGrewTables(summary)) refreshStatisticsSoon(database);
    return summary;
  } catch (error) {
    return failed(error);
  }
}
