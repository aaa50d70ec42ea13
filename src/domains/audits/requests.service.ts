/**
 * Auditors' request lists (PBC, "provided by client"): an auditor sends a list of requests for a
 * period — "the Q2 access review", "evidence of termination for a sample of leavers" — as CSV or
 * XLSX. Each request is mapped to the period's controls, explicitly or through the criteria it
 * names, fulfilled automatically once evidence proving every mapped control exists within the
 * period (or by hand, citing evidence), and tracked while open.
 *
 * Columns (header row first; case, spaces, hyphens and underscores do not matter):
 *   request_id   the auditor's reference, unique in the list (aliases: id, ref, request)
 *   description  what is asked for (aliases: request_description, details)
 *   controls     control ids, e.g. AC-05 (aliases: control, control_ids) — separated by , ; or spaces
 *   criteria     criterion ids, e.g. CC6.2 (aliases: criterion, tsc)
 *   due_date     YYYY-MM-DD, optional (aliases: due, due_on)
 * A row names at least one control or criterion. A bad row rejects the whole list, naming the
 * line and the field; nothing is imported from a rejected list.
 */
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { type AuditPeriod, findPeriodIn, periodWindow } from './periods.service.ts';

export type RequestListFormat = 'csv' | 'xlsx';

export interface RequestRowError {
  line: number;
  field: string | null;
  message: string;
}

export interface ParsedRequest {
  line: number;
  ref: string;
  description: string;
  controls: string[];
  criteria: string[];
  dueOn: string | null;
}

export interface AuditRequest {
  id: string;
  ref: string;
  description: string;
  controlRefs: string[];
  criterionRefs: string[];
  controls: string[];
  dueOn: string | null;
  status: 'open' | 'fulfilled';
  fulfilment: 'automatic' | 'manual' | null;
  fulfilledAt: string | null;
  fulfilledBy: string | null;
  evidenceIds: string[];
  note: string | null;
  overdue: boolean;
  line: number;
}

const maxRows = 5000;
const maxReportedErrors = 20;
/** Evidence ids recorded per control when a request is fulfilled automatically. */
const evidencePerControl = 5;

const columnAliases: Record<string, 'ref' | 'description' | 'controls' | 'criteria' | 'dueOn'> = {
  requestid: 'ref',
  id: 'ref',
  ref: 'ref',
  request: 'ref',
  requestref: 'ref',
  pbcid: 'ref',
  description: 'description',
  requestdescription: 'description',
  details: 'description',
  controls: 'controls',
  control: 'controls',
  controlids: 'controls',
  controlreferences: 'controls',
  criteria: 'criteria',
  criterion: 'criteria',
  criterionids: 'criteria',
  tsc: 'criteria',
  duedate: 'dueOn',
  due: 'dueOn',
  dueon: 'dueOn',
};

const fieldNames = {
  ref: 'request_id',
  description: 'description',
  controls: 'controls',
  criteria: 'criteria',
  dueOn: 'due_date',
} as const;

function rejected(errors: RequestRowError[], total: number): AssayError {
  const first = errors[0]!;
  const where = `line ${first.line}${first.field ? `, field ${first.field}` : ''}`;
  return new AssayError(
    'request_list_rejected',
    `request list rejected, nothing imported: ${where}: ${first.message}` +
      (total > 1 ? ` (and ${total - 1} more problem${total === 2 ? '' : 's'})` : ''),
    { errors, total },
  );
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    const v = value as { richText?: { text: string }[]; text?: unknown; result?: unknown };
    if (Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
    if (v.text !== undefined) return cellText(v.text);
    if (v.result !== undefined) return cellText(v.result);
    return '';
  }
  return String(value);
}

/** Rows as [line, cells] with the header first, from CSV text or an XLSX workbook. */
async function readTable(format: RequestListFormat, content: Buffer): Promise<[number, string[]][]> {
  if (format === 'csv') {
    let records: { record: string[]; info: { lines: number } }[];
    try {
      records = parse(content.toString('utf8'), {
        bom: true,
        info: true,
        relax_column_count: true,
        skip_empty_lines: true,
        max_record_size: 64 * 1024,
      }) as unknown as typeof records;
    } catch (error) {
      const line = (error as { lines?: number }).lines ?? 1;
      throw rejected([{ line, field: null, message: `not valid CSV: ${(error as Error).message}` }], 1);
    }
    // csv-parse counts the lines up to the end of a record; a record starts where it ends for
    // the one-line rows of request lists (multi-line cells are reported at their last line).
    return records.map((r) => [r.info.lines, r.record]);
  }
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(content as unknown as ArrayBuffer);
  } catch (error) {
    throw rejected(
      [{ line: 1, field: null, message: `not a readable XLSX workbook: ${(error as Error).message}` }],
      1,
    );
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw rejected([{ line: 1, field: null, message: 'the workbook has no worksheet' }], 1);
  const rows: [number, string[]][] = [];
  sheet.eachRow({ includeEmpty: false }, (row, number) => {
    const values = Array.isArray(row.values) ? row.values.slice(1) : [];
    const cells = values.map(cellText);
    if (cells.some((c) => c.trim() !== '')) rows.push([number, cells]);
  });
  return rows;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const splitRefs = (value: string) =>
  value
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Parses and checks a request list's rows (no database); a bad row rejects the list. */
export async function parseRequestList(format: RequestListFormat, content: Buffer): Promise<ParsedRequest[]> {
  const table = await readTable(format, content);
  if (table.length === 0) throw rejected([{ line: 1, field: null, message: 'the list is empty' }], 1);
  const [headerLine, header] = table[0]!;
  const columns = header.map((h) => columnAliases[h.toLowerCase().replace(/[\s_\-#]+/g, '')] ?? null);
  const errors: RequestRowError[] = [];
  let total = 0;
  const fail = (line: number, field: string | null, message: string) => {
    total += 1;
    if (errors.length < maxReportedErrors) errors.push({ line, field, message });
  };
  for (const needed of ['ref', 'description'] as const) {
    if (!columns.includes(needed)) fail(headerLine, fieldNames[needed], 'the header has no such column');
  }
  if (!columns.includes('controls') && !columns.includes('criteria')) {
    fail(headerLine, 'controls', 'the header needs a controls or a criteria column');
  }
  const seen = new Set<string>();
  for (const [i, name] of columns.entries()) {
    if (name === null) continue;
    if (seen.has(name)) fail(headerLine, fieldNames[name], `column ${header[i]} repeats ${fieldNames[name]}`);
    seen.add(name);
  }
  if (errors.length > 0) throw rejected(errors, total);
  if (table.length - 1 > maxRows) {
    throw rejected(
      [{ line: table[maxRows + 1]![0], field: null, message: `more than ${maxRows} requests` }],
      1,
    );
  }

  const requests: ParsedRequest[] = [];
  const refs = new Map<string, number>();
  for (const [line, cells] of table.slice(1)) {
    const get = (name: keyof typeof fieldNames) => {
      const index = columns.indexOf(name);
      return index < 0 ? '' : (cells[index] ?? '').trim();
    };
    if (cells.length > header.length && cells.slice(header.length).some((c) => c.trim() !== '')) {
      fail(line, null, `${cells.length} fields, but the header has ${header.length}`);
      continue;
    }
    const ref = get('ref');
    const description = get('description');
    const controls = splitRefs(get('controls'));
    const criteria = splitRefs(get('criteria'));
    const due = get('dueOn');
    let ok = true;
    const bad = (field: keyof typeof fieldNames, message: string) => {
      fail(line, fieldNames[field], message);
      ok = false;
    };
    if (ref === '') bad('ref', 'is empty');
    else if (ref.length > 100) bad('ref', 'is longer than 100 characters');
    else if (refs.has(ref)) bad('ref', `"${ref}" is also on line ${refs.get(ref)}`);
    if (description === '') bad('description', 'is empty');
    else if (description.length > 4000) bad('description', 'is longer than 4000 characters');
    if (controls.length === 0 && criteria.length === 0) {
      bad(columns.includes('controls') ? 'controls' : 'criteria', 'name at least one control or criterion');
    }
    for (const id of [...controls, ...criteria]) {
      if (id.length > 100)
        bad(controls.includes(id) ? 'controls' : 'criteria', `"${id.slice(0, 40)}…" is too long`);
    }
    let dueOn: string | null = null;
    if (due !== '') {
      const ms = Date.parse(`${due}T00:00:00Z`);
      if (!DATE.test(due) || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== due) {
        bad('dueOn', `"${due}" is not a date (YYYY-MM-DD)`);
      } else {
        dueOn = due;
      }
    }
    if (ref !== '') refs.set(ref, refs.get(ref) ?? line);
    if (ok) requests.push({ line, ref, description, controls, criteria, dueOn });
  }
  if (total > 0) throw rejected(errors, total);
  if (requests.length === 0)
    throw rejected([{ line: headerLine, field: null, message: 'the list has no requests' }], 1);
  return requests;
}

/** Maps each request to the period's controls; an unknown reference rejects the list. */
export function mapRequests(
  period: AuditPeriod,
  requests: ParsedRequest[],
): (ParsedRequest & { controlIds: string[] })[] {
  const controls = period.scope.controls;
  const byTemplate = new Map(controls.map((c) => [c.templateId.toUpperCase(), c.templateId]));
  const byId = new Map(controls.map((c) => [c.id, c.templateId]));
  const criteria = new Map(period.scope.criteria.map((c) => [c.toUpperCase(), c]));
  const errors: RequestRowError[] = [];
  let total = 0;
  const mapped = requests.map((r) => {
    const ids = new Set<string>();
    for (const ref of r.controls) {
      const template = byTemplate.get(ref.toUpperCase()) ?? byId.get(ref.toLowerCase());
      if (template === undefined) {
        total += 1;
        if (errors.length < maxReportedErrors) {
          errors.push({
            line: r.line,
            field: 'controls',
            message: `"${ref}" is not a control in the scope of ${period.name}`,
          });
        }
      } else {
        ids.add(template);
      }
    }
    for (const ref of r.criteria) {
      const criterion = criteria.get(ref.toUpperCase());
      const covering = criterion ? controls.filter((c) => c.criteria.includes(criterion)) : [];
      if (covering.length === 0) {
        total += 1;
        if (errors.length < maxReportedErrors) {
          errors.push({
            line: r.line,
            field: 'criteria',
            message: criterion
              ? `no control of ${period.name} covers ${criterion}`
              : `"${ref}" is not a criterion in the scope of ${period.name}`,
          });
        }
      }
      for (const c of covering) ids.add(c.templateId);
    }
    return { ...r, controlIds: [...ids].sort() };
  });
  if (total > 0) throw rejected(errors, total);
  return mapped;
}

type RequestRow = {
  id: string;
  request_ref: string;
  description: string;
  control_refs: string[];
  criterion_refs: string[];
  control_ids: string[];
  due_on: string | null;
  status: 'open' | 'fulfilled';
  fulfilment: 'automatic' | 'manual' | null;
  fulfilled_at: Date | null;
  fulfilled_by: string | null;
  evidence_ids: string[];
  note: string | null;
  source_line: number;
};

function present(row: RequestRow, today: string): AuditRequest {
  return {
    id: row.id,
    ref: row.request_ref,
    description: row.description,
    controlRefs: row.control_refs,
    criterionRefs: row.criterion_refs,
    controls: row.control_ids,
    dueOn: row.due_on,
    status: row.status,
    fulfilment: row.fulfilment,
    fulfilledAt: row.fulfilled_at ? new Date(row.fulfilled_at).toISOString() : null,
    fulfilledBy: row.fulfilled_by,
    evidenceIds: row.evidence_ids,
    note: row.note,
    overdue: row.status === 'open' && row.due_on !== null && row.due_on < today,
    line: row.source_line,
  };
}

function selectRequests(trx: Trx, workspaceId: string, periodId: string) {
  return trx
    .selectFrom('audit_requests')
    .select([
      'id',
      'request_ref',
      'description',
      'control_refs',
      'criterion_refs',
      'control_ids',
      sql<string | null>`to_char(due_on, 'YYYY-MM-DD')`.as('due_on'),
      'status',
      'fulfilment',
      'fulfilled_at',
      'fulfilled_by',
      sql<string[]>`evidence_ids::text[]`.as('evidence_ids'),
      'note',
      'source_line',
    ])
    .where('workspace_id', '=', workspaceId)
    .where('period_id', '=', periodId);
}

async function requirePeriod(trx: Trx, workspace: { id: string; slug: string }, ref: string) {
  const period = await findPeriodIn(trx, workspace.id, ref);
  if (!period) {
    throw new AssayError(
      'audit_period_not_found',
      `no audit period "${ref}" in "${workspace.slug}": request lists belong to a declared period (assay periods create)`,
      { field: 'period' },
    );
  }
  return period;
}

/**
 * Fulfils every open request of the period whose controls all have evidence effective within
 * the period; returns the refs fulfilled.
 */
async function autoFulfil(trx: Trx, workspaceId: string, period: AuditPeriod, now: Date): Promise<string[]> {
  const window = periodWindow(period);
  const open = (await selectRequests(trx, workspaceId, period.id)
    .where('status', '=', 'open')
    .execute()) as RequestRow[];
  if (open.length === 0) return [];
  const controls = [...new Set(open.flatMap((r) => r.control_ids))];
  const { rows } = await sql<{ control: string; ids: string[] }>`
    select c.control, array(
      select e.id::text from evidence_items e
      where e.workspace_id = ${workspaceId} and e.control_ids @> array[c.control]::text[]
        and e.effective_at >= ${window.from} and e.effective_at < ${window.to}
      order by e.effective_at desc, e.leaf_index desc limit ${evidencePerControl}
    ) as ids
    from unnest(${sql.val(controls)}::text[]) as c(control)`.execute(trx);
  const evidence = new Map(rows.map((r) => [r.control, r.ids]));
  const fulfilled: string[] = [];
  for (const request of open) {
    const ids = request.control_ids.map((c) => evidence.get(c) ?? []);
    if (request.control_ids.length === 0 || ids.some((list) => list.length === 0)) continue;
    await trx
      .updateTable('audit_requests')
      .set({
        status: 'fulfilled',
        fulfilment: 'automatic',
        fulfilled_at: now,
        fulfilled_by: 'system:evidence',
        evidence_ids: [...new Set(ids.flat())],
        note: `evidence within ${period.name} proves ${request.control_ids.join(', ')}`,
        updated_at: now,
      })
      .where('id', '=', request.id)
      .execute();
    fulfilled.push(request.request_ref);
  }
  return fulfilled;
}

export interface ImportResult {
  period: string;
  imported: number;
  created: number;
  updated: number;
  fulfilled: string[];
  open: number;
}

export async function importRequestList(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  periodRef: string,
  input: { format: RequestListFormat; content: Buffer; fileName?: string | undefined },
  now: Date = new Date(),
): Promise<ImportResult> {
  const workspace = await getWorkspace(database, workspaceRef);
  const parsed = await parseRequestList(input.format, input.content);
  return database.inWorkspace(workspace.id, async (trx) => {
    const period = await requirePeriod(trx, workspace, periodRef);
    const mapped = mapRequests(period, parsed);
    const existing = new Set(
      (
        await trx
          .selectFrom('audit_requests')
          .select('request_ref')
          .where('workspace_id', '=', workspace.id)
          .where('period_id', '=', period.id)
          .execute()
      ).map((r) => r.request_ref),
    );
    const importedBy = `${actor.type}:${actor.id}`;
    for (let i = 0; i < mapped.length; i += 500) {
      await trx
        .insertInto('audit_requests')
        .values(
          mapped.slice(i, i + 500).map((r) => ({
            workspace_id: workspace.id,
            period_id: period.id,
            request_ref: r.ref,
            description: r.description,
            control_refs: r.controls,
            criterion_refs: r.criteria,
            control_ids: r.controlIds,
            due_on: r.dueOn,
            status: 'open' as const,
            source_line: r.line,
            imported_by: importedBy,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['workspace_id', 'period_id', 'request_ref']).doUpdateSet((eb) => ({
            description: eb.ref('excluded.description'),
            control_refs: eb.ref('excluded.control_refs'),
            criterion_refs: eb.ref('excluded.criterion_refs'),
            control_ids: eb.ref('excluded.control_ids'),
            due_on: eb.ref('excluded.due_on'),
            source_line: eb.ref('excluded.source_line'),
            updated_at: now,
          })),
        )
        .execute();
    }
    const fulfilled = await autoFulfil(trx, workspace.id, period, now);
    const open = await trx
      .selectFrom('audit_requests')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('workspace_id', '=', workspace.id)
      .where('period_id', '=', period.id)
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow();
    const created = mapped.filter((r) => !existing.has(r.ref)).length;
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'audit_requests.imported',
      targetType: 'audit_period',
      targetId: period.id,
      details: {
        period: period.name,
        file: input.fileName ?? null,
        format: input.format,
        requests: mapped.length,
        created,
        fulfilled,
      },
    });
    return {
      period: period.name,
      imported: mapped.length,
      created,
      updated: mapped.length - created,
      fulfilled,
      open: Number(open.n),
    };
  });
}

export async function listRequests(
  database: Database,
  workspaceRef: string,
  periodRef: string,
  filter: { status?: 'open' | 'fulfilled' | undefined } = {},
  now: Date = new Date(),
): Promise<{ period: string; requests: AuditRequest[] }> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const period = await requirePeriod(trx, workspace, periodRef);
    let query = selectRequests(trx, workspace.id, period.id);
    if (filter.status) query = query.where('status', '=', filter.status);
    const rows = (await query.orderBy('source_line').orderBy('request_ref').execute()) as RequestRow[];
    const today = now.toISOString().slice(0, 10);
    return { period: period.name, requests: rows.map((r) => present(r, today)) };
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Fulfils one request by hand, citing evidence of the workspace; or (no ref) re-runs the
 * automatic fulfilment over the period's open requests.
 */
export async function fulfilRequests(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  periodRef: string,
  input: { ref?: string | undefined; evidenceIds?: string[] | undefined; note?: string | undefined },
  now: Date = new Date(),
): Promise<{ period: string; fulfilled: string[]; requests: AuditRequest[] }> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const period = await requirePeriod(trx, workspace, periodRef);
    let fulfilled: string[];
    if (input.ref === undefined) {
      fulfilled = await autoFulfil(trx, workspace.id, period, now);
    } else {
      const row = (await selectRequests(trx, workspace.id, period.id)
        .where('request_ref', '=', input.ref)
        .executeTakeFirst()) as RequestRow | undefined;
      if (!row) {
        throw new AssayError('audit_request_not_found', `no request "${input.ref}" in ${period.name}`);
      }
      const ids = [...new Set((input.evidenceIds ?? []).map((id) => id.trim().toLowerCase()))];
      if (ids.length === 0) {
        throw new AssayError('validation_failed', 'evidence: cite at least one evidence id', {
          field: 'evidence',
        });
      }
      for (const id of ids) {
        if (!UUID.test(id)) {
          throw new AssayError('validation_failed', `evidence: "${id}" is not an evidence id`, {
            field: 'evidence',
          });
        }
      }
      const found = await trx
        .selectFrom('evidence_items')
        .select('id')
        .where('workspace_id', '=', workspace.id)
        .where('id', 'in', ids)
        .execute();
      const missing = ids.filter((id) => !found.some((f) => f.id === id));
      if (missing.length > 0) {
        throw new AssayError(
          'evidence_not_found',
          `evidence ${missing[0]} does not exist in "${workspace.slug}"`,
          {
            field: 'evidence',
          },
        );
      }
      const note = input.note?.trim() ?? null;
      if (note !== null && note.length > 2000) {
        throw new AssayError('validation_failed', 'note: at most 2000 characters', { field: 'note' });
      }
      await trx
        .updateTable('audit_requests')
        .set({
          status: 'fulfilled',
          fulfilment: 'manual',
          fulfilled_at: now,
          fulfilled_by: `${actor.type}:${actor.id}`,
          evidence_ids: ids,
          note: note === '' ? null : note,
          updated_at: now,
        })
        .where('id', '=', row.id)
        .execute();
      fulfilled = [row.request_ref];
    }
    if (fulfilled.length > 0) {
      await recordAudit(trx, {
        workspaceId: workspace.id,
        actor,
        action: 'audit_requests.fulfilled',
        targetType: 'audit_period',
        targetId: period.id,
        details: { period: period.name, requests: fulfilled, manual: input.ref !== undefined },
      });
    }
    const rows = (await selectRequests(trx, workspace.id, period.id)
      .where('request_ref', 'in', fulfilled.length > 0 ? fulfilled : [''])
      .orderBy('source_line')
      .execute()) as RequestRow[];
    return {
      period: period.name,
      fulfilled,
      requests: rows.map((r) => present(r, now.toISOString().slice(0, 10))),
    };
  });
}
