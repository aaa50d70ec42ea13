/**
 * MSP templates: create, show, update with a preview of the clients and items it changes (applied
 * only on explicit confirmation), per-client overrides, and onboarding clients from a template —
 * one at a time or many from a CSV, all or nothing.
 */

import { parse } from 'csv-parse/sync';
import type { Selectable } from 'kysely';
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { currentCatalogVersion } from '../catalog/catalog.loader.ts';
import { findWorkspaceBySlugOrId, insertWorkspace } from '../workspaces/workspaces.repository.ts';
import { slugPattern } from '../workspaces/workspaces.service.ts';
import type { WorkspacesTable } from '../workspaces/workspaces.tables.ts';
import { materialiseChanges } from './materialise.ts';
import type { ItemValue, MspTemplatesTable, TemplateItems } from './msp.tables.ts';
import {
  compileDefinition,
  diffItems,
  effectiveItems,
  type ItemChange,
  validateOverride,
} from './template-items.ts';

type Workspace = Selectable<WorkspacesTable>;
/** Workspace ids a caller reaches; null = all (platform authority, the CLI operator). */
type Reach = ReadonlySet<string> | null;
const reaches = (reach: Reach, id: string) => reach === null || reach.has(id);
type TemplateRow = Selectable<MspTemplatesTable>;

const templateNamePattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const actorLabel = (actor: Actor) => `${actor.type}:${actor.id}`;

export async function requireMsp(trx: Trx | Database['db'], ref: string): Promise<Workspace> {
  const ws = await findWorkspaceBySlugOrId(trx, ref);
  if (!ws)
    throw new AssayError('workspace_not_found', `workspace "${ref}" does not exist`, { field: 'tenant' });
  if (ws.kind !== 'msp') {
    throw new AssayError(
      'parent_not_msp',
      `workspace "${ws.slug}" is not an MSP workspace: templates belong to MSPs`,
      {
        field: 'tenant',
      },
    );
  }
  return ws;
}

async function requireTemplate(trx: Trx, msp: Workspace, name: string): Promise<TemplateRow> {
  const row = await trx
    .selectFrom('msp_templates')
    .selectAll()
    .where('workspace_id', '=', msp.id)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row)
    throw new AssayError('template_not_found', `MSP "${msp.slug}" has no template "${name}"`, {
      field: 'template',
    });
  return row;
}

async function overridesOf(trx: Trx, workspaceIds: string[]) {
  const by = new Map<string, Map<string, ItemValue | null>>();
  if (workspaceIds.length === 0) return by;
  const rows = await trx
    .selectFrom('msp_template_overrides')
    .selectAll()
    .where('workspace_id', 'in', workspaceIds)
    .execute();
  for (const r of rows) {
    const m = by.get(r.workspace_id) ?? new Map();
    m.set(r.item_key, r.value);
    by.set(r.workspace_id, m);
  }
  return by;
}

async function clientsOf(trx: Trx, templateId: string) {
  return trx
    .selectFrom('msp_template_links')
    .innerJoin('workspaces', 'workspaces.id', 'msp_template_links.workspace_id')
    .select([
      'workspaces.id',
      'workspaces.slug',
      'msp_template_links.applied_version',
      'msp_template_links.applied_items',
    ])
    .where('msp_template_links.template_id', '=', templateId)
    .orderBy('workspaces.slug')
    .execute();
}

export function presentTemplate(row: TemplateRow, clients: string[]) {
  return {
    name: row.name,
    version: row.version,
    definition: row.definition,
    items: row.items,
    clients,
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function createTemplate(
  database: Database,
  actor: Actor,
  mspRef: string,
  name: string,
  definition: unknown,
) {
  if (!templateNamePattern.test(name)) {
    throw new AssayError(
      'validation_failed',
      `template name "${name}": use 1–63 lowercase letters, digits, dots, hyphens`,
      {
        field: 'name',
      },
    );
  }
  const items = compileDefinition(definition);
  return database.inSystem(async (trx) => {
    const msp = await requireMsp(trx, mspRef);
    const existing = await trx
      .selectFrom('msp_templates')
      .select('id')
      .where('workspace_id', '=', msp.id)
      .where('name', '=', name)
      .executeTakeFirst();
    if (existing)
      throw new AssayError('template_exists', `MSP "${msp.slug}" already has a template "${name}"`, {
        field: 'name',
      });
    const row = await trx
      .insertInto('msp_templates')
      .values({
        workspace_id: msp.id,
        name,
        definition: JSON.stringify(definition),
        items: JSON.stringify(items),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, {
      workspaceId: msp.id,
      actor,
      action: 'template.created',
      targetType: 'template',
      targetId: row.id,
      details: { name, version: 1, items: Object.keys(items).length },
    });
    return presentTemplate(row, []);
  });
}

export async function showTemplate(database: Database, mspRef: string, name: string, reach: Reach = null) {
  return database.inSystem(async (trx) => {
    const msp = await requireMsp(trx, mspRef);
    const row = await requireTemplate(trx, msp, name);
    const clients = await clientsOf(trx, row.id);
    return presentTemplate(
      row,
      clients.filter((c) => reaches(reach, c.id)).map((c) => c.slug),
    );
  });
}

export async function listTemplates(database: Database, mspRef: string, reach: Reach = null) {
  return database.inSystem(async (trx) => {
    const msp = await requireMsp(trx, mspRef);
    const rows = await trx
      .selectFrom('msp_templates')
      .selectAll()
      .where('workspace_id', '=', msp.id)
      .orderBy('name')
      .execute();
    const out = [];
    for (const row of rows)
      out.push(
        presentTemplate(
          row,
          (await clientsOf(trx, row.id)).filter((c) => reaches(reach, c.id)).map((c) => c.slug),
        ),
      );
    return { templates: out };
  });
}

export interface ClientChange {
  client: string;
  changes: ItemChange[];
  /** Items the template changes that this client overrides: they keep the client's value. */
  keptOverrides: string[];
}

export interface TemplateUpdate {
  template: string;
  fromVersion: number;
  toVersion: number;
  applied: boolean;
  templateChanges: ItemChange[];
  clients: ClientChange[];
  unchangedClients: string[];
  /** Clients that follow the template but that the caller does not reach (not named). */
  otherClients: number;
}

/**
 * `assay template set`: compares a new definition with the current one and, per client, what
 * would change after that client's overrides. Nothing is written unless `apply` is true; then the
 * template gets a new version and every changed client receives exactly its changed items.
 */
export async function updateTemplate(
  database: Database,
  actor: Actor,
  mspRef: string,
  name: string,
  definition: unknown,
  options: { apply: boolean; reach?: Reach },
): Promise<TemplateUpdate> {
  const reach = options.reach ?? null;
  const items = compileDefinition(definition);
  return database.inSystem(async (trx) => {
    const msp = await requireMsp(trx, mspRef);
    const row = await requireTemplate(trx, msp, name);
    const clients = await clientsOf(trx, row.id);
    const overrides = await overridesOf(
      trx,
      clients.map((c) => c.id),
    );
    const result: TemplateUpdate = {
      template: name,
      fromVersion: row.version,
      toVersion: row.version + 1,
      applied: false,
      templateChanges: diffItems(row.items, items),
      clients: [],
      unchangedClients: [],
      otherClients: 0,
    };
    const plans: { id: string; slug: string; effective: TemplateItems; changes: ItemChange[] }[] = [];
    for (const client of clients) {
      const own = overrides.get(client.id) ?? new Map();
      const before = effectiveItems(client.applied_items, own);
      const after = effectiveItems(items, own);
      const changes = diffItems(before, after);
      const keptOverrides = result.templateChanges.map((c) => c.item).filter((k) => own.has(k));
      // A caller learns nothing of clients outside their reach, and cannot change them.
      if (!reaches(reach, client.id)) {
        result.otherClients += 1;
        if (changes.length > 0 && options.apply) {
          throw new AssayError(
            'forbidden',
            'this update changes clients you are not assigned to: someone who reaches every client of the template must apply it',
          );
        }
      } else if (changes.length === 0) result.unchangedClients.push(client.slug);
      else result.clients.push({ client: client.slug, changes, keptOverrides });
      plans.push({ id: client.id, slug: client.slug, effective: after, changes });
    }
    if (!options.apply) return result;
    if (result.templateChanges.length === 0) return { ...result, toVersion: row.version, applied: true };
    await trx
      .updateTable('msp_templates')
      .set({
        version: row.version + 1,
        definition: JSON.stringify(definition),
        items: JSON.stringify(items),
        updated_at: new Date(),
      })
      .where('id', '=', row.id)
      .execute();
    await recordAudit(trx, {
      workspaceId: msp.id,
      actor,
      action: 'template.updated',
      targetType: 'template',
      targetId: row.id,
      details: {
        name,
        fromVersion: row.version,
        toVersion: row.version + 1,
        items: result.templateChanges.map((c) => `${c.change} ${c.item}`),
        clients: result.clients.map((c) => c.client),
      },
    });
    for (const plan of plans) {
      await materialiseChanges(trx, plan.id, plan.effective, plan.changes, actorLabel(actor));
      await trx
        .updateTable('msp_template_links')
        .set({
          applied_version: row.version + 1,
          applied_items: JSON.stringify(items),
          applied_at: new Date(),
        })
        .where('workspace_id', '=', plan.id)
        .execute();
      if (plan.changes.length > 0) {
        await recordAudit(trx, {
          workspaceId: plan.id,
          actor,
          action: 'template.applied',
          targetType: 'template',
          targetId: row.id,
          details: {
            template: name,
            version: row.version + 1,
            items: plan.changes.map((c) => `${c.change} ${c.item}`),
          },
        });
      }
    }
    return { ...result, applied: true };
  });
}

async function requireClientOf(trx: Trx, clientRef: string) {
  const client = await findWorkspaceBySlugOrId(trx, clientRef);
  if (!client)
    throw new AssayError('workspace_not_found', `workspace "${clientRef}" does not exist`, {
      field: 'tenant',
    });
  const link = await trx
    .selectFrom('msp_template_links')
    .selectAll()
    .where('workspace_id', '=', client.id)
    .executeTakeFirst();
  if (!link) {
    throw new AssayError('template_not_found', `workspace "${client.slug}" does not follow an MSP template`, {
      field: 'tenant',
    });
  }
  const template = await trx
    .selectFrom('msp_templates')
    .selectAll()
    .where('id', '=', link.template_id)
    .executeTakeFirstOrThrow();
  return { client, link, template };
}

/**
 * Sets (or with `clear`, removes) a client's own value for one template item and brings the
 * client in line at once. A null value takes the item out of this client.
 */
export async function setOverride(
  database: Database,
  actor: Actor,
  clientRef: string,
  item: string,
  input: { value?: unknown; clear?: boolean; reason?: string },
) {
  return database.inSystem(async (trx) => {
    const { client, link, template } = await requireClientOf(trx, clientRef);
    const own = (await overridesOf(trx, [client.id])).get(client.id) ?? new Map<string, ItemValue | null>();
    const before = effectiveItems(link.applied_items, own);
    if (input.clear) {
      if (!own.has(item))
        throw new AssayError('validation_failed', `item: "${client.slug}" has no override of "${item}"`, {
          field: 'item',
        });
      own.delete(item);
      await trx
        .deleteFrom('msp_template_overrides')
        .where('workspace_id', '=', client.id)
        .where('item_key', '=', item)
        .execute();
    } else {
      const value = validateOverride(item, input.value ?? null, link.applied_items[item]);
      own.set(item, value);
      const stored = JSON.stringify(value);
      await trx
        .insertInto('msp_template_overrides')
        .values({
          workspace_id: client.id,
          item_key: item,
          value: stored,
          reason: input.reason ?? '',
          created_by: actorLabel(actor),
        })
        .onConflict((oc) =>
          oc.columns(['workspace_id', 'item_key']).doUpdateSet({ value: stored, reason: input.reason ?? '' }),
        )
        .execute();
    }
    const after = effectiveItems(link.applied_items, own);
    const changes = diffItems(before, after);
    await materialiseChanges(trx, client.id, after, changes, actorLabel(actor));
    await recordAudit(trx, {
      workspaceId: client.id,
      actor,
      action: input.clear ? 'template.override_cleared' : 'template.override_set',
      targetType: 'template_item',
      targetId: item,
      details: {
        template: template.name,
        item,
        value: input.clear ? undefined : own.get(item),
        reason: input.reason ?? '',
      },
    });
    return { client: client.slug, template: template.name, item, overridden: !input.clear, changes };
  });
}

export async function listOverrides(database: Database, clientRef: string) {
  return database.inSystem(async (trx) => {
    const { client, template, link } = await requireClientOf(trx, clientRef);
    const rows = await trx
      .selectFrom('msp_template_overrides')
      .selectAll()
      .where('workspace_id', '=', client.id)
      .orderBy('item_key')
      .execute();
    return {
      client: client.slug,
      template: template.name,
      appliedVersion: link.applied_version,
      templateVersion: template.version,
      overrides: rows.map((r) => ({ item: r.item_key, value: r.value, reason: r.reason, by: r.created_by })),
    };
  });
}

export interface OnboardClient {
  slug: string;
  name?: string | undefined;
  overrides?: Record<string, unknown>;
}

async function onboardInTransaction(
  trx: Trx,
  actor: Actor,
  msp: Workspace,
  template: TemplateRow,
  input: OnboardClient,
) {
  const ws = await insertWorkspace(trx, {
    slug: input.slug,
    name: (input.name ?? input.slug).trim(),
    kind: 'company',
    parentId: msp.id,
    catalogVersion: currentCatalogVersion,
  });
  await recordAudit(trx, {
    workspaceId: ws.id,
    actor,
    action: 'workspace.created',
    targetType: 'workspace',
    targetId: ws.id,
    details: { slug: ws.slug, kind: ws.kind, parentId: msp.id, template: template.name },
  });
  const own = new Map<string, ItemValue | null>();
  for (const [key, value] of Object.entries(input.overrides ?? {})) {
    const v = validateOverride(key, value, template.items[key]);
    own.set(key, v);
    await trx
      .insertInto('msp_template_overrides')
      .values({
        workspace_id: ws.id,
        item_key: key,
        value: JSON.stringify(v),
        reason: 'at onboarding',
        created_by: actorLabel(actor),
      })
      .execute();
  }
  const effective = effectiveItems(template.items, own);
  await materialiseChanges(trx, ws.id, effective, diffItems({}, effective), actorLabel(actor));
  await trx
    .insertInto('msp_template_links')
    .values({
      workspace_id: ws.id,
      template_id: template.id,
      applied_version: template.version,
      applied_items: JSON.stringify(template.items),
    })
    .execute();
  await recordAudit(trx, {
    workspaceId: ws.id,
    actor,
    action: 'template.applied',
    targetType: 'template',
    targetId: template.id,
    details: {
      template: template.name,
      version: template.version,
      items: Object.keys(effective).length,
      onboarding: true,
    },
  });
  return ws;
}

/** `assay tenant create SLUG --parent MSP --template NAME`: a client with everything in one step. */
export async function createClientFromTemplate(
  database: Database,
  actor: Actor,
  mspRef: string,
  templateName: string,
  input: OnboardClient,
) {
  checkSlug(input.slug, 'slug');
  return database.inSystem(async (trx) => {
    const msp = await requireMsp(trx, mspRef);
    const template = await requireTemplate(trx, msp, templateName);
    if (await findWorkspaceBySlugOrId(trx, input.slug)) {
      throw new AssayError('workspace_exists', `workspace "${input.slug}" already exists`, { field: 'slug' });
    }
    return onboardInTransaction(trx, actor, msp, template, input);
  });
}

function checkSlug(slug: string, place: string) {
  if (!slugPattern.test(slug)) {
    throw new AssayError(
      'validation_failed',
      `${place} "${slug}": use 1–63 lowercase letters, digits or hyphens, starting with a letter or digit`,
      {
        field: place,
      },
    );
  }
}

/**
 * `assay tenant bulk-create`: one client per CSV line (columns `slug`, optional `name`, and any
 * `owner:<role>` or `cadence:<register>` column as that client's override). Every line is checked
 * first and all problems are reported by line; then all clients are created in one transaction.
 */
export async function bulkCreateClients(
  database: Database,
  actor: Actor,
  mspRef: string,
  templateName: string,
  csv: string,
  fileLabel = 'CSV',
) {
  let records: string[][];
  try {
    records = parse(csv, { skip_empty_lines: true, trim: true, relax_column_count: false, bom: true });
  } catch (error) {
    throw new AssayError('import_rejected', `${fileLabel}: ${(error as Error).message}`, { file: fileLabel });
  }
  const [header, ...rows] = records;
  if (!header?.includes('slug')) {
    throw new AssayError(
      'import_rejected',
      `${fileLabel} line 1: a header with a "slug" column is required`,
      { file: fileLabel, line: 1 },
    );
  }
  const allowedExtra = /^(owner:[a-z_]+|cadence:[a-z]+)$/;
  header.forEach((h, i) => {
    if (h !== 'slug' && h !== 'name' && !allowedExtra.test(h)) {
      throw new AssayError(
        'import_rejected',
        `${fileLabel} line 1, column ${i + 1} "${h}": expected slug, name, owner:<role> or cadence:<register>`,
        {
          file: fileLabel,
          line: 1,
        },
      );
    }
  });
  if (rows.length === 0)
    throw new AssayError('import_rejected', `${fileLabel}: no clients listed`, { file: fileLabel });
  const errors: { line: number; field: string; message: string }[] = [];
  const clients: (OnboardClient & { line: number })[] = [];
  const seen = new Map<string, number>();
  return database.inSystem(async (trx) => {
    const msp = await requireMsp(trx, mspRef);
    const template = await requireTemplate(trx, msp, templateName);
    rows.forEach((cells, i) => {
      const line = i + 2;
      const row = Object.fromEntries(header.map((h, j) => [h, cells[j] ?? '']));
      const slug = row.slug ?? '';
      if (!slugPattern.test(slug)) {
        errors.push({
          line,
          field: 'slug',
          message: `"${slug}" is not a valid slug (lowercase letters, digits, hyphens)`,
        });
        return;
      }
      if (seen.has(slug))
        errors.push({ line, field: 'slug', message: `"${slug}" already appears on line ${seen.get(slug)}` });
      seen.set(slug, line);
      const overrides: Record<string, unknown> = {};
      for (const h of header) {
        if (!allowedExtra.test(h) || !row[h]) continue;
        const raw = row[h] as string;
        const value = h.startsWith('cadence:') ? Number(raw) : raw;
        try {
          validateOverride(h, value, template.items[h]);
          overrides[h] = value;
        } catch (error) {
          errors.push({ line, field: h, message: (error as Error).message.replace(/^value: /, '') });
        }
      }
      clients.push({ line, slug, name: row.name || undefined, overrides });
    });
    if (clients.length > 0) {
      const existing = await trx
        .selectFrom('workspaces')
        .select('slug')
        .where(
          'slug',
          'in',
          clients.map((c) => c.slug),
        )
        .execute();
      const taken = new Set(existing.map((e) => e.slug));
      for (const c of clients)
        if (taken.has(c.slug))
          errors.push({ line: c.line, field: 'slug', message: `workspace "${c.slug}" already exists` });
    }
    if (errors.length > 0) {
      errors.sort((a, b) => a.line - b.line);
      throw new AssayError(
        'import_rejected',
        `${fileLabel}: nothing created; ${errors.length} problem(s): ${errors.map((e) => `line ${e.line}, ${e.field}: ${e.message}`).join('; ')}`,
        { file: fileLabel, errors },
      );
    }
    const created = [];
    for (const c of clients) created.push(await onboardInTransaction(trx, actor, msp, template, c));
    await recordAudit(trx, {
      workspaceId: msp.id,
      actor,
      action: 'template.bulk_onboarded',
      targetType: 'template',
      targetId: template.id,
      details: { template: template.name, clients: created.map((w) => w.slug) },
    });
    return {
      template: template.name,
      created: created.map((w) => ({ id: w.id, slug: w.slug, name: w.name })),
    };
  });
}

/**
 * `assay template apply NAME --client C`: makes an existing client of the MSP follow the template
 * (its current items become the client's); a preview unless `apply`.
 */
export async function linkClient(
  database: Database,
  actor: Actor,
  mspRef: string,
  templateName: string,
  clientRef: string,
  options: { apply: boolean },
) {
  return database.inSystem(async (trx) => {
    const msp = await requireMsp(trx, mspRef);
    const template = await requireTemplate(trx, msp, templateName);
    const client = await findWorkspaceBySlugOrId(trx, clientRef);
    if (!client || client.parent_id !== msp.id) {
      throw new AssayError(
        'workspace_not_found',
        `"${clientRef}" is not a client workspace of "${msp.slug}"`,
        { field: 'client' },
      );
    }
    const link = await trx
      .selectFrom('msp_template_links')
      .selectAll()
      .where('workspace_id', '=', client.id)
      .executeTakeFirst();
    const own = (await overridesOf(trx, [client.id])).get(client.id) ?? new Map();
    const before = link ? effectiveItems(link.applied_items, own) : {};
    const after = effectiveItems(template.items, own);
    const changes = diffItems(before, after);
    if (!options.apply) return { client: client.slug, template: template.name, applied: false, changes };
    await materialiseChanges(trx, client.id, after, changes, actorLabel(actor));
    const values = {
      workspace_id: client.id,
      template_id: template.id,
      applied_version: template.version,
      applied_items: JSON.stringify(template.items),
    };
    await trx
      .insertInto('msp_template_links')
      .values(values)
      .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ ...values, applied_at: new Date() }))
      .execute();
    await recordAudit(trx, {
      workspaceId: client.id,
      actor,
      action: 'template.applied',
      targetType: 'template',
      targetId: template.id,
      details: {
        template: template.name,
        version: template.version,
        items: changes.map((c) => `${c.change} ${c.item}`),
      },
    });
    return { client: client.slug, template: template.name, applied: true, changes };
  });
}
