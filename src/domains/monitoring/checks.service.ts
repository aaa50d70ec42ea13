/**
 * A workspace's checks: the built-in library plus its custom CEL checks, each with the settings
 * the workspace chose (enabled, thresholds) and the controls it serves.
 */
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { insertAuditEntry } from '../audit/audit.repository.ts';
import { loadCatalog } from '../catalog/catalog.loader.ts';
import { listCheckSettings } from '../findings/findings.repository.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import type { CheckDefinition, Severity } from './check.types.ts';
import { builtInCheckById, builtInChecks } from './checks/index.ts';
import {
  type CustomCheckRecord,
  customCheckDefinition,
  isSubjectKind,
  type SubjectKind,
  subjectKinds,
  validateExpression,
} from './custom-checks.ts';
import {
  type CustomCheckRow,
  findCheckSettings,
  findCustomCheck,
  insertCustomCheck,
  listCustomChecks,
  upsertCheckSettings,
} from './monitoring.repository.ts';

const severities: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export function customRecord(row: CustomCheckRow): CustomCheckRecord {
  return {
    checkId: row.check_id,
    title: row.title,
    description: row.description,
    subjectKind: row.subject_kind,
    expression: row.expression,
    severity: row.severity,
    criteria: row.criteria,
    controlIds: row.control_ids,
  };
}

/**
 * The workspace's custom checks as engine checks: all of them, or those named (an unknown id is
 * refused, naming it).
 */
export async function loadCustomChecks(
  trx: Trx,
  workspaceId: string,
  ids?: string[],
): Promise<CheckDefinition[]> {
  if (ids && ids.length === 0) return [];
  const rows = await listCustomChecks(trx, workspaceId);
  const byId = new Map(rows.map((r) => [r.check_id, r]));
  const chosen = ids
    ? ids.map((id) => {
        const row = byId.get(id);
        if (!row) {
          throw new AssayError('validation_failed', `unknown check "${id}" (see assay checks list)`, {
            field: 'checks',
          });
        }
        return row;
      })
    : rows;
  return chosen.map((row) => customCheckDefinition(customRecord(row)));
}

/** A built-in or custom check of the workspace, or `check_not_found`. */
export async function findWorkspaceCheck(
  trx: Trx,
  workspaceId: string,
  checkId: string,
): Promise<CheckDefinition> {
  const builtIn = builtInCheckById.get(checkId);
  if (builtIn) return builtIn;
  const row = checkId.startsWith('custom.') ? await findCustomCheck(trx, workspaceId, checkId) : undefined;
  if (!row)
    throw new AssayError('check_not_found', `check "${checkId}" does not exist (see assay checks list)`);
  return customCheckDefinition(customRecord(row));
}

export interface WorkspaceCheck {
  id: string;
  kind: 'built_in' | 'custom';
  title: string;
  description: string;
  severity: Severity;
  criteria: string[];
  controls: string[];
  triggers: CheckDefinition['triggers'];
  enabled: boolean;
  defaults: Record<string, number | boolean | string>;
  settings: Record<string, number | boolean | string>;
  graceHours: number;
  remediationDays: number;
  subjectKind?: SubjectKind;
  expression?: string;
}

function describe(
  check: CheckDefinition,
  kind: WorkspaceCheck['kind'],
  controls: string[],
  override: { enabled: boolean; settings: Record<string, unknown> } | undefined,
  custom?: CustomCheckRecord,
): WorkspaceCheck {
  return {
    id: check.id,
    kind,
    title: check.title,
    description: check.description,
    severity: check.severity,
    criteria: check.criteria,
    controls,
    triggers: check.triggers,
    enabled: override?.enabled ?? true,
    defaults: check.defaults,
    settings: {
      ...check.defaults,
      ...((override?.settings ?? {}) as Record<string, number | boolean | string>),
    },
    graceHours: check.graceHours,
    remediationDays: check.remediationDays,
    ...(custom ? { subjectKind: custom.subjectKind, expression: custom.expression } : {}),
  };
}

/** The catalog templates a check serves: those listing it, plus those it names itself. */
function servedTemplates(catalogVersion: string, check: CheckDefinition): string[] {
  const catalog = loadCatalog(catalogVersion);
  const ids = catalog.templates
    .filter((t) => t.automation.checks.includes(check.id) || (check.controls ?? []).includes(t.id))
    .map((t) => t.id);
  return [...new Set(ids)].sort();
}

export async function listWorkspaceChecks(
  database: Database,
  workspaceRef: string,
): Promise<WorkspaceCheck[]> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const [settings, custom] = await Promise.all([
      listCheckSettings(trx, workspace.id),
      listCustomChecks(trx, workspace.id),
    ]);
    const overrides = new Map(settings.map((s) => [s.check_id, s]));
    return [
      ...builtInChecks.map((c) =>
        describe(c, 'built_in', servedTemplates(workspace.catalog_version, c), overrides.get(c.id)),
      ),
      ...custom.map((row) => {
        const record = customRecord(row);
        return describe(
          customCheckDefinition(record),
          'custom',
          row.control_ids,
          overrides.get(row.check_id),
          record,
        );
      }),
    ];
  });
}

export interface ConfigureCheckInput {
  enabled?: boolean | undefined;
  /** Setting name → value; strings are parsed to the setting's type (CLI `--set key=value`). */
  set?: Record<string, unknown> | undefined;
  /** Back to the defaults before applying `set`. */
  reset?: boolean | undefined;
}

function coerce(checkId: string, key: string, current: number | boolean | string, value: unknown) {
  const where = `settings.${key}`;
  if (typeof current === 'number') {
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && value.trim() !== ''
          ? Number(value)
          : Number.NaN;
    if (!Number.isFinite(n) || n < 0) {
      throw new AssayError(
        'validation_failed',
        `${where}: ${checkId} expects a number ≥ 0, got ${JSON.stringify(value)}`,
        {
          field: where,
        },
      );
    }
    return n;
  }
  if (typeof current === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    throw new AssayError(
      'validation_failed',
      `${where}: ${checkId} expects true or false, got ${JSON.stringify(value)}`,
      {
        field: where,
      },
    );
  }
  if (typeof value !== 'string' || value.length > 2000) {
    throw new AssayError(
      'validation_failed',
      `${where}: ${checkId} expects a string (at most 2000 characters)`,
      {
        field: where,
      },
    );
  }
  return value;
}

/** `assay checks configure`: enables, disables or tunes one check for the workspace. */
export async function configureCheck(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  checkId: string,
  input: ConfigureCheckInput,
): Promise<WorkspaceCheck> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const check = await findWorkspaceCheck(trx, workspace.id, checkId);
    const existing = await findCheckSettings(trx, workspace.id, checkId);
    const settings: Record<string, unknown> = input.reset ? {} : { ...(existing?.settings ?? {}) };
    for (const [key, value] of Object.entries(input.set ?? {})) {
      if (!Object.hasOwn(check.defaults, key)) {
        const known = Object.keys(check.defaults);
        throw new AssayError(
          'validation_failed',
          `settings.${key}: ${checkId} has no setting "${key}" (${known.length > 0 ? `it has ${known.join(', ')}` : 'it has none'})`,
          { field: `settings.${key}` },
        );
      }
      const coerced = coerce(checkId, key, check.defaults[key]!, value);
      // A value equal to the default is stored as no override, so later default changes apply.
      if (coerced === check.defaults[key]) delete settings[key];
      else settings[key] = coerced;
    }
    const enabled = input.enabled ?? existing?.enabled ?? true;
    const row = await upsertCheckSettings(trx, { workspaceId: workspace.id, checkId, enabled, settings });
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'check.configured',
      targetType: 'check',
      targetId: checkId,
      details: {
        enabled,
        settings,
        previous: existing ? { enabled: existing.enabled, settings: existing.settings } : null,
      },
    });
    const controls = check.id.startsWith('custom.')
      ? (check.controls ?? [])
      : servedTemplates(workspace.catalog_version, check);
    return describe(check, check.id.startsWith('custom.') ? 'custom' : 'built_in', controls, {
      enabled: row.enabled,
      settings: row.settings,
    });
  });
}

export interface AddCustomCheckInput {
  /** `custom.<name>`; the prefix is added when missing. */
  id: string;
  title: string;
  description?: string | undefined;
  subjectKind: string;
  expression: string;
  severity: string;
  criteria: string[];
  controls?: string[] | undefined;
}

const customIdPattern = /^custom\.[a-z0-9_.-]{1,80}$/;

/** `assay checks add-custom`: validates the CEL expression (naming the position of an error) and stores the check. */
export async function addCustomCheck(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: AddCustomCheckInput,
): Promise<WorkspaceCheck> {
  const workspace = await getWorkspace(database, workspaceRef);
  const id = input.id.startsWith('custom.') ? input.id : `custom.${input.id}`;
  if (!customIdPattern.test(id)) {
    throw new AssayError(
      'validation_failed',
      `id "${input.id}": use lowercase letters, digits, dots, hyphens or underscores (e.g. custom.mfa-everywhere)`,
      { field: 'id' },
    );
  }
  const title = input.title.trim();
  if (title.length === 0 || title.length > 200) {
    throw new AssayError('validation_failed', 'title: must be 1–200 characters', { field: 'title' });
  }
  if (!isSubjectKind(input.subjectKind)) {
    throw new AssayError(
      'validation_failed',
      `subjectKind "${input.subjectKind}": expected one of ${subjectKinds.join(', ')}`,
      { field: 'subjectKind' },
    );
  }
  if (!(severities as readonly string[]).includes(input.severity)) {
    throw new AssayError(
      'validation_failed',
      `severity "${input.severity}": expected one of ${severities.join(', ')}`,
      {
        field: 'severity',
      },
    );
  }
  const catalog = loadCatalog(workspace.catalog_version);
  const criteria = [...new Set(input.criteria.map((c) => c.trim()).filter(Boolean))];
  if (criteria.length === 0) {
    throw new AssayError('validation_failed', 'criteria: name at least one criterion, e.g. CC6.1', {
      field: 'criteria',
    });
  }
  const knownCriteria = new Set(catalog.criteria.map((c) => c.id));
  for (const c of criteria) {
    if (!knownCriteria.has(c)) {
      throw new AssayError(
        'validation_failed',
        `criteria: "${c}" is not a criterion of catalog ${catalog.version}`,
        {
          field: 'criteria',
        },
      );
    }
  }
  const controls = [...new Set((input.controls ?? []).map((c) => c.trim()).filter(Boolean))];
  const knownTemplates = new Set(catalog.templates.map((t) => t.id));
  for (const c of controls) {
    if (!knownTemplates.has(c)) {
      throw new AssayError(
        'validation_failed',
        `controls: "${c}" is not a control template of catalog ${catalog.version}`,
        {
          field: 'controls',
        },
      );
    }
  }
  validateExpression(input.subjectKind, input.expression);
  return database.inWorkspace(workspace.id, async (trx) => {
    if (await findCustomCheck(trx, workspace.id, id)) {
      throw new AssayError('custom_check_exists', `check "${id}" already exists in "${workspace.slug}"`, {
        field: 'id',
      });
    }
    const row = await insertCustomCheck(trx, {
      workspace_id: workspace.id,
      check_id: id,
      title,
      description: (input.description ?? '').trim(),
      subject_kind: input.subjectKind as SubjectKind,
      expression: input.expression,
      severity: input.severity as Severity,
      criteria,
      control_ids: controls,
      created_by: actor.name ?? actor.id,
    });
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'check.custom_added',
      targetType: 'check',
      targetId: id,
      details: {
        subjectKind: row.subject_kind,
        expression: row.expression,
        severity: row.severity,
        criteria,
        controls,
      },
    });
    const record = customRecord(row);
    return describe(customCheckDefinition(record), 'custom', controls, undefined, record);
  });
}

/** Which workspace controls each check serves (catalog listing or the check's own `controls`). */
export function controlsServedBy<C extends { template_id: string; checks: string[] }>(
  controls: C[],
  check: CheckDefinition,
): C[] {
  return controls.filter(
    (c) => c.checks.includes(check.id) || (check.controls ?? []).includes(c.template_id),
  );
}
