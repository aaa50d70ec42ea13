/**
 * What every register write shares: the workspace it runs in, who acts, the instant it happens
 * (tests and imports may set it), the audit trail and the evidence ledger — both written in the
 * caller's transaction, so a record and its evidence commit together or not at all.
 */
import type { Database, Trx } from '../../../db/database.ts';
import { AssayError } from '../../../errors.ts';
import type { Actor } from '../../audit/actor.ts';
import { recordAudit } from '../../audit/record-audit.ts';
import { appendEvidence } from '../../evidence/append-evidence.ts';
import type { CollectorType } from '../../evidence/envelope.ts';
import { getWorkspace } from '../../workspaces/workspaces.service.ts';
import { activeControlTemplates } from './registers.repository.ts';

export interface RegisterContext {
  workspaceId: string;
  slug: string;
  actor: Actor;
  /** When the write happens: record times default to it and the monitors evaluate as of it. */
  now: Date;
}

export interface WriteOptions {
  /** The instant of the write (default: now). */
  now?: Date | undefined;
  /** Re-evaluate the register's monitors after the write (default true). */
  evaluate?: boolean | undefined;
}

export async function registerContext(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  options: WriteOptions = {},
): Promise<RegisterContext> {
  const workspace = await getWorkspace(database, workspaceRef);
  return { workspaceId: workspace.id, slug: workspace.slug, actor, now: options.now ?? new Date() };
}

export async function audit(
  trx: Trx,
  ctx: RegisterContext,
  action: string,
  targetType: string,
  targetId: string,
  details: Record<string, unknown> = {},
) {
  await recordAudit(trx, {
    workspaceId: ctx.workspaceId,
    actor: ctx.actor,
    action,
    targetType,
    targetId,
    details,
  });
}

export interface RegisterEvidence {
  /** e.g. `vendor.assurance_report`, `policy.acknowledgement`. */
  kind: string;
  /** Control template ids the record proves; those not active in the workspace are left out. */
  controls: string[];
  criteria: string[];
  subject: { type: string; id: string; name: string };
  effectiveAt: Date;
  staleAfter?: Date | null | undefined;
  content: unknown;
}

function collectorOf(actor: Actor): { type: CollectorType; id: string; name: string | null } {
  const type: CollectorType =
    actor.type === 'system' ? 'system' : actor.type === 'connector' ? 'connector' : 'user';
  return { type, id: `${actor.type}:${actor.id}`, name: actor.name ?? null };
}

/** Appends register records to the workspace's evidence ledger; returns their evidence ids in order. */
export async function appendRegisterEvidence(
  trx: Trx,
  ctx: RegisterContext,
  items: RegisterEvidence[],
): Promise<string[]> {
  if (items.length === 0) return [];
  const active = await activeControlTemplates(
    trx,
    ctx.workspaceId,
    items.flatMap((i) => i.controls),
  );
  const collector = collectorOf(ctx.actor);
  const records = await appendEvidence(
    trx,
    ctx.workspaceId,
    items.map((item) => ({
      kind: item.kind,
      controls: item.controls.filter((c) => active.has(c)),
      criteria: item.criteria,
      subject: item.subject,
      effectiveAt: item.effectiveAt,
      collectedAt: ctx.now,
      collector,
      staleAfter: item.staleAfter && item.staleAfter >= item.effectiveAt ? item.staleAfter : null,
      content: item.content,
    })),
  );
  return records.map((r) => r.id);
}

/** Control template ids named by a register record must be controls of this workspace. */
export async function requireControls(trx: Trx, ctx: RegisterContext, field: string, ids: string[]) {
  if (ids.length === 0) return ids;
  const known = await activeControlTemplates(trx, ctx.workspaceId, ids);
  const missing = ids.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw new AssayError(
      'validation_failed',
      `${field}: ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length === 1 ? 'is not an active control' : 'are not active controls'} of "${ctx.slug}" (see assay controls list)`,
      { field },
    );
  }
  return ids;
}

export function notFound(what: string, ref: string, ctx: RegisterContext): never {
  throw new AssayError('register_record_not_found', `${what} "${ref}" does not exist in "${ctx.slug}"`);
}

const reader: Actor = { type: 'system', id: 'assay' };

/** The workspace context for reads (no actor acts). */
export function readContext(database: Database, workspaceRef: string): Promise<RegisterContext> {
  return registerContext(database, reader, workspaceRef);
}
