/**
 * The change register (CC8.1): manual change records — ticket, author, approver, tester, the
 * emergency flag with its retroactive approval — beside the code changes ingested from git, so
 * the CC8.1 picture covers both. Every record is evidence.
 */
import type { Database, Trx } from '../../../db/database.ts';
import { AssayError } from '../../../errors.ts';
import type { Actor } from '../../audit/actor.ts';
import { selectEvents } from '../../monitoring/facts.repository.ts';
import {
  appendRegisterEvidence,
  audit,
  notFound,
  type RegisterContext,
  readContext,
  registerContext,
  type WriteOptions,
} from '../shared/context.ts';
import { evaluateRegister } from '../shared/evaluate.ts';
import {
  addDays,
  bool,
  invalid,
  oneOf,
  optionalInstant,
  optionalText,
  patch,
  prose,
  text,
} from '../shared/values.ts';
import {
  type ChangeRow,
  findChange,
  insertChange,
  listChangeRows,
  updateChangeRow,
} from './changes.repository.ts';
import type { ChangeStatus } from './changes.tables.ts';
import { violations } from './segregation.ts';

export const changeChecks = ['change.manual_segregation_of_duties'] as const;
export const changeStatuses = ['planned', 'approved', 'implemented', 'rolled_back', 'cancelled'] as const;

export interface ChangeInput {
  ticket?: unknown;
  title?: unknown;
  description?: unknown;
  system?: unknown;
  emergency?: unknown;
  author?: unknown;
  approver?: unknown;
  approvedAt?: unknown;
  tester?: unknown;
  testedAt?: unknown;
  implementedAt?: unknown;
  status?: unknown;
}

export interface ChangeValues {
  ticket?: string;
  title?: string;
  description?: string;
  system?: string;
  emergency?: boolean;
  author?: string;
  approver?: string | null;
  approvedAt?: Date | null;
  tester?: string | null;
  testedAt?: Date | null;
  implementedAt?: Date | null;
  status?: ChangeStatus;
}

export function normalizeChange(input: ChangeInput, mode: 'create' | 'update'): ChangeValues {
  const values: ChangeValues = {
    ticket: patch(input.ticket, (v) => text('ticket', v, 100)),
    title: patch(input.title, (v) => text('title', v, 300)),
    description: patch(input.description, (v) => prose('description', v)),
    system: patch(input.system, (v) => prose('system', v, 200)),
    emergency: patch(input.emergency, (v) => bool('emergency', v, false)),
    author: patch(input.author, (v) => text('author', v)),
    approver: patch(input.approver, (v) => optionalText('approver', v)),
    approvedAt: patch(input.approvedAt, (v) => optionalInstant('approvedAt', v)),
    tester: patch(input.tester, (v) => optionalText('tester', v)),
    testedAt: patch(input.testedAt, (v) => optionalInstant('testedAt', v)),
    implementedAt: patch(input.implementedAt, (v) => optionalInstant('implementedAt', v)),
    status: patch(input.status, (v) => oneOf('status', v, changeStatuses)),
  };
  if (mode === 'create') {
    for (const field of ['ticket', 'title', 'author'] as const)
      if (values[field] === undefined) invalid(field, 'is required');
  }
  return values;
}

type ChangeFields = Omit<ChangeRow, 'id' | 'workspace_id' | 'evidence_id' | 'created_at' | 'updated_at'>;

/** Fills the times a status implies; refuses records that contradict themselves. */
function settle(fields: ChangeFields, now: Date): ChangeFields {
  if (fields.approver && !fields.approved_at) fields.approved_at = now;
  if (!fields.approver && fields.approved_at) invalid('approver', 'an approval time needs the approver');
  if (fields.tester && !fields.tested_at) fields.tested_at = now;
  if ((fields.status === 'implemented' || fields.status === 'rolled_back') && !fields.implemented_at)
    fields.implemented_at = now;
  if (fields.status === 'approved' && !fields.approver)
    invalid('approver', 'an approved change names its approver');
  if (fields.implemented_at && fields.status !== 'implemented' && fields.status !== 'rolled_back') {
    invalid(
      'status',
      `a change with an implementation time is implemented or rolled_back, not ${fields.status}`,
    );
  }
  return fields;
}

export function changeContent(row: ChangeFields) {
  return {
    ticket: row.ticket,
    title: row.title,
    description: row.description,
    system: row.system,
    emergency: row.emergency,
    author: row.author,
    approver: row.approver,
    approvedAt: row.approved_at?.toISOString() ?? null,
    tester: row.tester,
    testedAt: row.tested_at?.toISOString() ?? null,
    implementedAt: row.implemented_at?.toISOString() ?? null,
    status: row.status,
  };
}

async function changeEvidence(trx: Trx, ctx: RegisterContext, row: ChangeRow, change: string) {
  const [id] = await appendRegisterEvidence(trx, ctx, [
    {
      kind: 'change.manual_record',
      controls: ['CHG-01', ...(row.emergency ? ['CHG-04'] : [])],
      criteria: ['CC8.1'],
      subject: { type: 'change', id: row.id, name: `${row.ticket} ${row.title}`.slice(0, 200) },
      effectiveAt: row.implemented_at ?? row.approved_at ?? ctx.now,
      content: {
        change,
        record: changeContent(row),
        segregationOfDuties: violations(row, ctx.now, { emergencyApprovalDays: 5 }).map((v) => v.reason),
      },
    },
  ]);
  return updateChangeRow(trx, ctx.workspaceId, row.id, { evidence_id: id ?? null });
}

export async function upsertChangeIn(
  trx: Trx,
  ctx: RegisterContext,
  values: ChangeValues,
  mode: 'create' | 'upsert',
) {
  const existing = await findChange(trx, ctx.workspaceId, values.ticket!);
  if (existing && mode === 'create') {
    throw new AssayError(
      'register_record_exists',
      `change "${values.ticket}" already exists in "${ctx.slug}"`,
      { field: 'ticket' },
    );
  }
  if (existing) return updateChangeIn(trx, ctx, existing, values);
  const fields = settle(
    {
      ticket: values.ticket!,
      title: values.title!,
      description: values.description ?? '',
      system: values.system ?? '',
      emergency: values.emergency ?? false,
      author: values.author!,
      approver: values.approver ?? null,
      approved_at: values.approvedAt ?? null,
      tester: values.tester ?? null,
      tested_at: values.testedAt ?? null,
      implemented_at: values.implementedAt ?? null,
      status:
        values.status ?? (values.implementedAt ? 'implemented' : values.approver ? 'approved' : 'planned'),
    },
    ctx.now,
  );
  const row = await insertChange(trx, {
    workspace_id: ctx.workspaceId,
    ...fields,
    created_at: ctx.now,
    updated_at: ctx.now,
  });
  const withEvidence = await changeEvidence(trx, ctx, row, 'recorded');
  await audit(trx, ctx, 'change.recorded', 'change', row.id, { ticket: row.ticket });
  return { row: withEvidence, created: true, changed: true };
}

export async function updateChangeIn(
  trx: Trx,
  ctx: RegisterContext,
  current: ChangeRow,
  values: ChangeValues,
) {
  if (values.ticket !== undefined && values.ticket.toLowerCase() !== current.ticket.toLowerCase()) {
    if (await findChange(trx, ctx.workspaceId, values.ticket)) {
      throw new AssayError(
        'register_record_exists',
        `change "${values.ticket}" already exists in "${ctx.slug}"`,
        { field: 'ticket' },
      );
    }
  }
  const pick = <K extends keyof ChangeValues, F extends keyof ChangeFields>(k: K, f: F) =>
    (values[k] !== undefined ? values[k] : current[f]) as ChangeFields[F];
  const fields = settle(
    {
      ticket: pick('ticket', 'ticket'),
      title: pick('title', 'title'),
      description: pick('description', 'description'),
      system: pick('system', 'system'),
      emergency: pick('emergency', 'emergency'),
      author: pick('author', 'author'),
      approver: pick('approver', 'approver'),
      // A new approver is a new approval: it happens now unless its time is given.
      approved_at:
        values.approver !== undefined &&
        values.approver !== current.approver &&
        values.approvedAt === undefined
          ? null
          : pick('approvedAt', 'approved_at'),
      tester: pick('tester', 'tester'),
      tested_at: pick('testedAt', 'tested_at'),
      implemented_at: pick('implementedAt', 'implemented_at'),
      status: pick('status', 'status'),
    },
    ctx.now,
  );
  if (JSON.stringify(changeContent(fields)) === JSON.stringify(changeContent(current))) {
    return { row: current, created: false, changed: false };
  }
  const row = await updateChangeRow(trx, ctx.workspaceId, current.id, { ...fields, updated_at: ctx.now });
  const what =
    row.approver && !current.approver
      ? row.implemented_at && row.approved_at && row.approved_at > row.implemented_at
        ? 'approved retroactively'
        : 'approved'
      : row.status !== current.status
        ? `status ${current.status} → ${row.status}`
        : 'updated';
  const withEvidence = await changeEvidence(trx, ctx, row, what);
  await audit(trx, ctx, 'change.updated', 'change', row.id, { change: what });
  return { row: withEvidence, created: false, changed: true };
}

async function write<T>(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  options: WriteOptions,
  fn: (trx: Trx, ctx: RegisterContext) => Promise<T>,
) {
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const result = await database.inWorkspace(ctx.workspaceId, (trx) => fn(trx, ctx));
  await evaluateRegister(database, ctx, changeChecks, options.evaluate);
  return result;
}

export async function recordChange(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: ChangeInput,
  options: WriteOptions = {},
) {
  const values = normalizeChange(input, 'create');
  return write(
    database,
    actor,
    workspaceRef,
    options,
    async (trx, ctx) => (await upsertChangeIn(trx, ctx, values, 'create')).row,
  );
}

export async function updateChange(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  ref: string,
  input: ChangeInput,
  options: WriteOptions = {},
) {
  const values = normalizeChange(input, 'update');
  return write(
    database,
    actor,
    workspaceRef,
    options,
    async (trx, ctx) =>
      (
        await updateChangeIn(
          trx,
          ctx,
          (await findChange(trx, ctx.workspaceId, ref)) ?? notFound('change', ref, ctx),
          values,
        )
      ).row,
  );
}

export async function listChanges(database: Database, workspaceRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, (trx) => listChangeRows(trx, ctx.workspaceId));
}

export async function getChange(database: Database, workspaceRef: string, ref: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(
    ctx.workspaceId,
    async (trx) => (await findChange(trx, ctx.workspaceId, ref)) ?? notFound('change', ref, ctx),
  );
}

/**
 * The CC8.1 picture over a window: manual change records (approved, by whom, segregation of
 * duties) beside the code changes ingested from git (merged pull requests and whether someone
 * other than the author approved each before the merge).
 */
export async function changePicture(
  database: Database,
  workspaceRef: string,
  input: { from?: unknown; to?: unknown },
  settings = { emergencyApprovalDays: 5 },
) {
  const ctx = await readContext(database, workspaceRef);
  const to = optionalInstant('to', input.to) ?? ctx.now;
  const from = optionalInstant('from', input.from) ?? addDays(to, -90);
  if (from > to) invalid('from', 'must not be after to');
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const manual = (await listChangeRows(trx, ctx.workspaceId)).filter(
      (c) => c.implemented_at && c.implemented_at >= from && c.implemented_at <= to,
    );
    const events = await selectEvents(trx, ctx.workspaceId, { classUids: [990002], since: from, until: to });
    type Code = { pullRequest?: number | string; change?: string; reviewState?: string };
    type Data = {
      code?: Code;
      actor?: { userName?: string };
      target?: { userName?: string };
      repository?: string;
    };
    const data = (e: (typeof events)[number]) => e.data as unknown as Data;
    const merges = events.filter((e) => data(e).code?.change === 'pull_request_merged');
    const approvals = events.filter(
      (e) => data(e).code?.change === 'review_submitted' && /approved/i.test(data(e).code?.reviewState ?? ''),
    );
    const code = merges.map((m) => {
      const d = data(m);
      const author = d.target?.userName ?? d.actor?.userName ?? null;
      const repository = m.repository ?? d.repository ?? null;
      const approvers = approvals
        .filter(
          (a) =>
            data(a).code?.pullRequest === d.code?.pullRequest &&
            (a.repository ?? data(a).repository ?? null) === repository &&
            a.time <= m.time,
        )
        .map((a) => data(a).actor?.userName ?? null)
        .filter((u): u is string => u !== null && u !== author);
      return {
        repository,
        pullRequest: d.code?.pullRequest ?? null,
        mergedAt: m.time.toISOString(),
        author,
        approvers: [...new Set(approvers)],
        independentlyApproved: approvers.length > 0,
        eventId: m.id,
      };
    });
    const manualOut = manual.map((c) => ({
      ...changeContent(c),
      evidenceId: c.evidence_id,
      segregationOfDuties: violations(c, to, settings).map((v) => v.reason),
    }));
    return {
      workspace: ctx.slug,
      from: from.toISOString(),
      to: to.toISOString(),
      summary: {
        manualChanges: manualOut.length,
        manualEmergency: manualOut.filter((c) => c.emergency).length,
        manualWithSegregationIssues: manualOut.filter((c) => c.segregationOfDuties.length > 0).length,
        codeChanges: code.length,
        codeIndependentlyApproved: code.filter((c) => c.independentlyApproved).length,
      },
      manual: manualOut,
      code,
    };
  });
}
