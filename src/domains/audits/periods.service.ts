/**
 * Audit periods: a Type I date or a Type II window, the categories in scope, and the scope frozen
 * when the period was declared — the active controls with their criteria, frequency and owner.
 * Readiness, exports and request lists for a named period use that frozen scope, so a later
 * change of scope does not silently change what the period covered.
 */
import { sql } from 'kysely';
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { criteriaForCategories, loadCatalog } from '../catalog/catalog.loader.ts';
import type { TrustServicesCategory } from '../catalog/catalog.types.ts';
import { listControlRows } from '../controls/controls.repository.ts';
import { findScope } from '../scope/scope.repository.ts';
import { parseCategories } from '../scope/scope.service.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import type { PeriodWindow } from './populations.ts';
import { parsePeriod } from './readiness.service.ts';

export type ReportType = 'type1' | 'type2';

export interface ScopeSnapshotControl {
  id: string;
  templateId: string;
  title: string;
  frequency: string;
  owner: string | null;
  ownerRole: string;
  /** The control's criteria that are in the period's scope. */
  criteria: string[];
}

export interface ScopeSnapshot {
  catalogVersion: string;
  categories: TrustServicesCategory[];
  criteria: string[];
  controls: ScopeSnapshotControl[];
  frozenAt: string;
}

export interface AuditPeriod {
  id: string;
  name: string;
  reportType: ReportType;
  /** First day (YYYY-MM-DD). */
  startsOn: string;
  /** Last day, inclusive (YYYY-MM-DD); equal to startsOn for Type I. */
  endsOn: string;
  categories: string[];
  scope: ScopeSnapshot;
  createdBy: string;
  createdAt: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const day = 24 * 3600 * 1000;

function invalid(field: string, message: string): never {
  throw new AssayError('validation_failed', `${field}: ${message}`, { field });
}

function validDate(field: string, value: string): string {
  const trimmed = value.trim();
  const ms = Date.parse(`${trimmed}T00:00:00Z`);
  if (!DATE.test(trimmed) || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== trimmed) {
    invalid(field, `"${value}" is not a date (YYYY-MM-DD)`);
  }
  return trimmed;
}

/** The window [first day 00:00, day after the last 00:00) UTC of a period. */
export function periodWindow(period: Pick<AuditPeriod, 'startsOn' | 'endsOn'>): PeriodWindow {
  const from = new Date(`${period.startsOn}T00:00:00Z`);
  return { from, to: new Date(Date.parse(`${period.endsOn}T00:00:00Z`) + day) };
}

const periodColumns = [
  'id',
  'name',
  'report_type',
  sql<string>`to_char(starts_on, 'YYYY-MM-DD')`.as('starts_on'),
  sql<string>`to_char(ends_on, 'YYYY-MM-DD')`.as('ends_on'),
  'categories',
  'scope_snapshot',
  'created_by',
  'created_at',
] as const;

type PeriodRow = {
  id: string;
  name: string;
  report_type: ReportType;
  starts_on: string;
  ends_on: string;
  categories: string[];
  scope_snapshot: unknown;
  created_by: string;
  created_at: Date;
};

function present(row: PeriodRow): AuditPeriod {
  const snapshot =
    typeof row.scope_snapshot === 'string' ? JSON.parse(row.scope_snapshot) : row.scope_snapshot;
  return {
    id: row.id,
    name: row.name,
    reportType: row.report_type,
    startsOn: row.starts_on,
    endsOn: row.ends_on,
    categories: row.categories,
    scope: snapshot as ScopeSnapshot,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

async function selectPeriods(trx: Trx, workspaceId: string) {
  return (await trx
    .selectFrom('audit_periods')
    .select(periodColumns)
    .where('workspace_id', '=', workspaceId)
    .orderBy('starts_on')
    .orderBy('name')
    .execute()) as PeriodRow[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findPeriodIn(trx: Trx, workspaceId: string, ref: string): Promise<AuditPeriod | null> {
  let query = trx.selectFrom('audit_periods').select(periodColumns).where('workspace_id', '=', workspaceId);
  query = UUID.test(ref)
    ? query.where((eb) => eb.or([eb('id', '=', ref.toLowerCase()), eb('name', '=', ref)]))
    : query.where('name', '=', ref);
  const row = (await query.executeTakeFirst()) as PeriodRow | undefined;
  return row ? present(row) : null;
}

/** Freezes the scope of `categories`: the active controls mapped to their criteria. */
async function freezeScope(
  trx: Trx,
  workspace: { id: string; catalog_version: string },
  categories: TrustServicesCategory[],
  now: Date,
): Promise<ScopeSnapshot> {
  const catalog = loadCatalog(workspace.catalog_version);
  const criteria = criteriaForCategories(catalog, categories).map((c) => c.id);
  const inScope = new Set(criteria);
  const controls = (await listControlRows(trx, workspace.id))
    .map((c) => ({
      id: c.id,
      templateId: c.template_id,
      title: c.title,
      frequency: c.frequency,
      owner: c.owner,
      ownerRole: c.owner_role,
      criteria: c.criteria.filter((id) => inScope.has(id)),
    }))
    .filter((c) => c.criteria.length > 0);
  return { catalogVersion: catalog.version, categories, criteria, controls, frozenAt: now.toISOString() };
}

export interface CreatePeriodInput {
  name: string;
  reportType: string;
  from: string;
  /** Last day, inclusive; defaults to `from` for Type I. */
  to?: string | undefined;
  /** Category names; default: the workspace's scope. */
  categories?: string[] | undefined;
}

export async function createPeriod(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: CreatePeriodInput,
  now: Date = new Date(),
): Promise<AuditPeriod> {
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name.length === 0 || name.length > 200) invalid('name', 'must be 1–200 characters');
  if (/^\d{4}-\d{2}-\d{2}\.\./.test(name)) invalid('name', 'must not look like a FROM..TO window');
  if (input.reportType !== 'type1' && input.reportType !== 'type2') {
    invalid('type', `"${input.reportType}" is not a report type (type1 or type2)`);
  }
  const reportType: ReportType = input.reportType;
  const startsOn = validDate('from', input.from);
  const endsOn = input.to === undefined || input.to === '' ? startsOn : validDate('to', input.to);
  if (reportType === 'type1' && endsOn !== startsOn) {
    invalid('to', 'a Type I report is as of one date: give --from only, or the same date twice');
  }
  if (reportType === 'type2') {
    // The same bounds as FROM..TO everywhere else (no more than three years).
    parsePeriod(`${startsOn}..${endsOn}`);
    if (endsOn === startsOn) invalid('to', 'a Type II period is a window: give its last day');
  }
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const categories =
      input.categories === undefined
        ? parseCategories((await findScope(trx, workspace.id))?.categories ?? [])
        : parseCategories(input.categories);
    if (await findPeriodIn(trx, workspace.id, name)) {
      throw new AssayError('audit_period_exists', `an audit period named "${name}" already exists`, {
        field: 'name',
      });
    }
    const scope = await freezeScope(trx, workspace, categories, now);
    const row = (await trx
      .insertInto('audit_periods')
      .values({
        workspace_id: workspace.id,
        name,
        report_type: reportType,
        starts_on: startsOn,
        ends_on: endsOn,
        categories,
        scope_snapshot: JSON.stringify(scope),
        created_by: `${actor.type}:${actor.id}`,
      })
      .returning(periodColumns)
      .executeTakeFirstOrThrow()) as PeriodRow;
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'audit_period.created',
      targetType: 'audit_period',
      targetId: row.id,
      details: {
        name,
        reportType,
        startsOn,
        endsOn,
        categories,
        controls: scope.controls.length,
      },
    });
    return present(row);
  });
}

export async function listPeriods(database: Database, workspaceRef: string): Promise<AuditPeriod[]> {
  const workspace = await getWorkspace(database, workspaceRef);
  const rows = await database.inWorkspace(workspace.id, (trx) => selectPeriods(trx, workspace.id));
  return rows.map(present);
}

export async function getPeriod(database: Database, workspaceRef: string, ref: string): Promise<AuditPeriod> {
  const workspace = await getWorkspace(database, workspaceRef);
  const period = await database.inWorkspace(workspace.id, (trx) => findPeriodIn(trx, workspace.id, ref));
  if (!period) {
    throw new AssayError('audit_period_not_found', `no audit period "${ref}" in "${workspace.slug}"`);
  }
  return period;
}

/** What a `--period` argument names: a declared period, or an ad-hoc window. */
export interface ResolvedPeriod {
  window: PeriodWindow;
  /** The declared period, when the argument named one. */
  period: AuditPeriod | null;
  /** How to show it: the period's name, or FROM..TO. */
  label: string;
  /** Inclusive first and last day. */
  firstDay: string;
  lastDay: string;
}

export function isWindowArgument(raw: string): boolean {
  return /^\s*\d{4}-\d{2}-\d{2}\.\./.test(raw);
}

/** Resolves `FROM..TO` or a declared period's name (or id). */
export async function resolvePeriod(
  database: Database,
  workspaceRef: string,
  raw: string,
): Promise<ResolvedPeriod> {
  if (isWindowArgument(raw)) {
    const window = parsePeriod(raw);
    const firstDay = window.from.toISOString().slice(0, 10);
    const lastDay = new Date(window.to.getTime() - day).toISOString().slice(0, 10);
    return { window, period: null, label: `${firstDay}..${lastDay}`, firstDay, lastDay };
  }
  const name = raw.trim();
  if (name === '') {
    throw new AssayError('invalid_period', 'period: give FROM..TO or the name of an audit period', {
      field: 'period',
    });
  }
  const workspace = await getWorkspace(database, workspaceRef);
  const period = await database.inWorkspace(workspace.id, (trx) => findPeriodIn(trx, workspace.id, name));
  if (!period) {
    throw new AssayError(
      'audit_period_not_found',
      `period "${name}": no audit period of that name in "${workspace.slug}" (expected FROM..TO or a name from assay periods list)`,
      { field: 'period' },
    );
  }
  return {
    window: periodWindow(period),
    period,
    label: period.name,
    firstDay: period.startsOn,
    lastDay: period.endsOn,
  };
}

/** The controls a resolved period covers: its frozen scope, or every active control for a window. */
export function scopeTemplateIds(resolved: ResolvedPeriod): ReadonlySet<string> | undefined {
  return resolved.period ? new Set(resolved.period.scope.controls.map((c) => c.templateId)) : undefined;
}
