/**
 * The MSP portfolio: per client, readiness, failing controls, open and overdue findings, overdue
 * reviews and tasks, stale vendor reports, upcoming audits and recent drift. A caller sees only
 * the clients their membership reaches (platform admins and the CLI operator see all).
 */
import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import { findUserByEmail, listMembershipsOfUser } from '../accounts/accounts.repository.ts';
import { readinessReport } from '../audits/readiness.service.ts';
import { listWorkspaces } from '../workspaces/workspaces.repository.ts';
import type { WorkspacesTable } from '../workspaces/workspaces.tables.ts';
import { requireMsp } from './templates.service.ts';

type Workspace = Selectable<WorkspacesTable>;
const day = 86_400_000;

/** Ids of the workspaces a caller reaches; null = every workspace (platform authority). */
export type Reach = ReadonlySet<string> | null;

/**
 * What a person reaches, for the CLI's `--as EMAIL`: their own memberships and, through an MSP
 * membership, the clients it lists (while they still belong to that MSP).
 */
export async function reachOfUser(database: Database, email: string): Promise<Reach> {
  const user = await findUserByEmail(database.db, email.toLowerCase());
  if (!user) throw new AssayError('user_not_found', `--as ${email}: no such user`, { field: '--as' });
  if (user.platform_admin) return null;
  const all = await listWorkspaces(database.db);
  const parentOf = new Map(all.map((w) => [w.id, w.parent_id]));
  const reach = new Set<string>();
  for (const m of await listMembershipsOfUser(database.db, user.id)) {
    reach.add(m.workspace_id);
    for (const client of m.client_workspace_ids)
      if (parentOf.get(client) === m.workspace_id) reach.add(client);
  }
  return reach;
}

/** Fails as "does not exist" (revealing nothing) when the workspace is out of reach. */
export function assertReach(reach: Reach, workspace: { id: string }, ref: string) {
  if (reach !== null && !reach.has(workspace.id)) {
    throw new AssayError('workspace_not_found', `workspace "${ref}" does not exist`, { field: 'tenant' });
  }
}

export interface ClientPortfolio {
  client: string;
  name: string;
  template: string | null;
  readiness: { score: number; window: { from: string; to: string } } | null;
  controls: { active: number; passing: number; failing: number; atRisk: number; noData: number };
  failingControls: string[];
  findings: { open: number; overdue: number; critical: number; high: number };
  overdueTasks: number;
  overdueReviews: { policies: string[]; vendors: string[]; risks: string[] };
  staleVendorReports: string[];
  upcomingAudits: { name: string; reportType: string; startsOn: string; endsOn: string; daysToEnd: number }[];
  drift: { changes: number; controls: string[]; sinceDays: number };
}

export interface Portfolio {
  msp: string;
  generatedAt: string;
  clients: ClientPortfolio[];
  totals: {
    clients: number;
    failingControls: number;
    openFindings: number;
    overdueTasks: number;
    overdueReviews: number;
  };
}

const isoDay = (d: Date | string) => (typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10));

async function countsByWorkspace<T extends { workspace_id: string }>(rows: T[]) {
  const by = new Map<string, T[]>();
  for (const r of rows) by.set(r.workspace_id, [...(by.get(r.workspace_id) ?? []), r]);
  return by;
}

/** One client's figures; also the base of the client report. */
export async function clientStatus(
  database: Database,
  client: Workspace,
  options: { now: Date; deprovisioningSlaHours: number; driftDays?: number; readiness?: boolean },
): Promise<ClientPortfolio> {
  const [one] = await portfolioOf(database, [client], options);
  return one as ClientPortfolio;
}

async function portfolioOf(
  database: Database,
  clients: Workspace[],
  options: { now: Date; deprovisioningSlaHours: number; driftDays?: number; readiness?: boolean },
): Promise<ClientPortfolio[]> {
  if (clients.length === 0) return [];
  const ids = clients.map((c) => c.id);
  const now = options.now;
  const driftDays = options.driftDays ?? 7;
  const driftFrom = new Date(now.getTime() - driftDays * day);
  const db = database.db;
  const [controls, findings, tasks, policies, vendors, risks, audits, drift, links] = await Promise.all([
    db
      .selectFrom('controls')
      .select(['workspace_id', 'template_id', 'status'])
      .where('workspace_id', 'in', ids)
      .where('active', '=', true)
      .orderBy('template_id')
      .execute(),
    db
      .selectFrom('findings')
      .select(['workspace_id', 'check_id', 'severity', 'deadline', 'subject'])
      .where('workspace_id', 'in', ids)
      .where('status', '=', 'open')
      .execute(),
    db
      .selectFrom('tasks')
      .select(['workspace_id'])
      .where('workspace_id', 'in', ids)
      .where('status', '=', 'open')
      .where('due_at', '<', now)
      .execute(),
    db
      .selectFrom('policies')
      .select(['workspace_id', 'title as name'])
      .where('workspace_id', 'in', ids)
      .where('status', '=', 'active')
      .where(
        sql<boolean>`coalesce(last_reviewed_at, created_at) + make_interval(days => review_cadence_days) < ${now}`,
      )
      .orderBy('title')
      .execute(),
    db
      .selectFrom('vendors')
      .select(['workspace_id', 'name'])
      .where('workspace_id', 'in', ids)
      .where('status', '=', 'active')
      .where(
        sql<boolean>`coalesce(last_reviewed_at, created_at) + make_interval(days => review_cadence_days) < ${now}`,
      )
      .orderBy('name')
      .execute(),
    db
      .selectFrom('risks')
      .select(['workspace_id', 'title as name'])
      .where('workspace_id', 'in', ids)
      .where(
        sql<boolean>`coalesce(last_reviewed_at, created_at) + make_interval(days => review_cadence_days) < ${now}`,
      )
      .orderBy('title')
      .execute(),
    db
      .selectFrom('audit_periods')
      .select(['workspace_id', 'name', 'report_type', 'starts_on', 'ends_on'])
      .where('workspace_id', 'in', ids)
      .where(sql<boolean>`ends_on >= ${isoDay(now)}::date`)
      .orderBy('ends_on')
      .execute(),
    db
      .selectFrom('control_status_intervals as i')
      .innerJoin('controls as c', 'c.id', 'i.control_id')
      .select(['i.workspace_id', 'c.template_id'])
      .where('i.workspace_id', 'in', ids)
      .where('i.valid_from', '>=', driftFrom)
      .where('i.valid_from', '<=', now)
      // The first interval of a control is its start, not a change.
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('control_status_intervals as p')
            .select('p.id')
            .whereRef('p.control_id', '=', 'i.control_id')
            .whereRef('p.valid_from', '<', 'i.valid_from'),
        ),
      )
      .execute(),
    db
      .selectFrom('msp_template_links')
      .innerJoin('msp_templates', 'msp_templates.id', 'msp_template_links.template_id')
      .select(['msp_template_links.workspace_id', 'msp_templates.name'])
      .where('msp_template_links.workspace_id', 'in', ids)
      .execute(),
  ]);
  const controlsBy = await countsByWorkspace(controls);
  const findingsBy = await countsByWorkspace(findings);
  const tasksBy = await countsByWorkspace(tasks);
  const policiesBy = await countsByWorkspace(policies);
  const vendorsBy = await countsByWorkspace(vendors);
  const risksBy = await countsByWorkspace(risks);
  const auditsBy = await countsByWorkspace(audits);
  const driftBy = await countsByWorkspace(drift);
  const templateBy = new Map(links.map((l) => [l.workspace_id, l.name]));

  const out: ClientPortfolio[] = [];
  for (const client of clients) {
    const cs = controlsBy.get(client.id) ?? [];
    const fs = findingsBy.get(client.id) ?? [];
    const upcoming = auditsBy.get(client.id) ?? [];
    let readiness: ClientPortfolio['readiness'] = null;
    if (options.readiness !== false) {
      // The audit period under way, else the last 90 days.
      const current = upcoming.find((a) => new Date(a.starts_on) <= now);
      const from = current
        ? new Date(`${isoDay(current.starts_on)}T00:00:00Z`)
        : new Date(now.getTime() - 90 * day);
      const to = current
        ? new Date(Math.min(now.getTime(), Date.parse(`${isoDay(current.ends_on)}T00:00:00Z`) + day))
        : now;
      const report = await readinessReport(
        database,
        client.id,
        { from, to },
        { deprovisioningSlaHours: options.deprovisioningSlaHours, now },
      );
      readiness = {
        score: Math.round(report.score * 10) / 10,
        window: { from: from.toISOString(), to: to.toISOString() },
      };
    }
    const count = (s: string) => cs.filter((c) => c.status === s).length;
    const driftRows = driftBy.get(client.id) ?? [];
    out.push({
      client: client.slug,
      name: client.name,
      template: templateBy.get(client.id) ?? null,
      readiness,
      controls: {
        active: cs.length,
        passing: count('passing'),
        failing: count('failing'),
        atRisk: count('at_risk'),
        noData: count('no_data'),
      },
      failingControls: cs.filter((c) => c.status === 'failing').map((c) => c.template_id),
      findings: {
        open: fs.length,
        overdue: fs.filter((f) => new Date(f.deadline) < now).length,
        critical: fs.filter((f) => f.severity === 'critical').length,
        high: fs.filter((f) => f.severity === 'high').length,
      },
      overdueTasks: (tasksBy.get(client.id) ?? []).length,
      overdueReviews: {
        policies: (policiesBy.get(client.id) ?? []).map((p) => p.name),
        vendors: (vendorsBy.get(client.id) ?? []).map((p) => p.name),
        risks: (risksBy.get(client.id) ?? []).map((p) => p.name),
      },
      staleVendorReports: fs
        .filter((f) => f.check_id === 'vendor.report_stale')
        .map((f) => String((f.subject as { name?: unknown }).name ?? ''))
        .sort(),
      upcomingAudits: upcoming.map((a) => ({
        name: a.name,
        reportType: a.report_type,
        startsOn: isoDay(a.starts_on),
        endsOn: isoDay(a.ends_on),
        daysToEnd: Math.ceil((Date.parse(`${isoDay(a.ends_on)}T00:00:00Z`) - now.getTime()) / day),
      })),
      drift: {
        changes: driftRows.length,
        controls: [...new Set(driftRows.map((d) => d.template_id))].sort(),
        sinceDays: driftDays,
      },
    });
  }
  return out;
}

/** `assay portfolio --tenant MSP` and GET /workspaces/:msp/portfolio. */
export async function mspPortfolio(
  database: Database,
  mspRef: string,
  reach: Reach,
  options: { now?: Date; deprovisioningSlaHours: number; driftDays?: number; readiness?: boolean },
): Promise<Portfolio> {
  const msp = await requireMsp(database.db, mspRef);
  // A caller who cannot reach the MSP itself learns nothing about it.
  const children = (await listWorkspaces(database.db, { parentId: msp.id })).filter(
    (c) => reach === null || reach.has(c.id),
  );
  if (reach !== null && !reach.has(msp.id) && children.length === 0) {
    throw new AssayError('workspace_not_found', `workspace "${mspRef}" does not exist`, { field: 'tenant' });
  }
  const now = options.now ?? new Date();
  const clients = await portfolioOf(database, children, { ...options, now });
  return {
    msp: msp.slug,
    generatedAt: now.toISOString(),
    clients,
    totals: {
      clients: clients.length,
      failingControls: clients.reduce((s, c) => s + c.controls.failing, 0),
      openFindings: clients.reduce((s, c) => s + c.findings.open, 0),
      overdueTasks: clients.reduce((s, c) => s + c.overdueTasks, 0),
      overdueReviews: clients.reduce(
        (s, c) =>
          s +
          c.overdueReviews.policies.length +
          c.overdueReviews.vendors.length +
          c.overdueReviews.risks.length,
        0,
      ),
    },
  };
}
