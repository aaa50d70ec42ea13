/**
 * The periodic compliance status report an MSP sends a client: one self-contained HTML page with
 * the MSP's branding (name, colour, logo) — readiness, control status, open findings, overdue
 * work, and what changed since the previous report (each report keeps a snapshot for the next).
 */
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { findWorkspaceBySlugOrId } from '../workspaces/workspaces.repository.ts';
import { assertReach, type ClientPortfolio, clientStatus, type Reach } from './portfolio.service.ts';

export interface Branding {
  name?: string | undefined;
  colour?: string | undefined;
  /** A logo as a data: URI (the CLI reads `--logo FILE` into one). */
  logo?: string | undefined;
}

const logoTypes: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};
const maxLogoBytes = 512 * 1024;

/** Reads a logo file into a data: URI, naming the file on any problem. */
export function logoFromFile(path: string): string {
  const type = logoTypes[extname(path).toLowerCase()];
  if (!type) {
    throw new AssayError(
      'validation_failed',
      `--logo ${path}: expected a ${Object.keys(logoTypes).join(', ')} file`,
      {
        field: '--logo',
      },
    );
  }
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new AssayError('validation_failed', `--logo ${path}: cannot read the file`, { field: '--logo' });
  }
  if (size > maxLogoBytes) {
    throw new AssayError('validation_failed', `--logo ${path}: larger than 512 KiB`, { field: '--logo' });
  }
  return `data:${type};base64,${readFileSync(path).toString('base64')}`;
}

function checkBranding(branding: Branding) {
  if (branding.colour !== undefined && !/^#[0-9a-fA-F]{6}$/.test(branding.colour)) {
    throw new AssayError('validation_failed', `colour "${branding.colour}": expected #rrggbb`, {
      field: 'colour',
    });
  }
  if (
    branding.logo !== undefined &&
    !/^data:image\/(png|jpeg|svg\+xml|gif|webp);base64,[A-Za-z0-9+/=]+$/.test(branding.logo)
  ) {
    throw new AssayError('validation_failed', 'logo: expected a data:image/…;base64 URI', { field: 'logo' });
  }
  if (branding.name !== undefined && (branding.name.length === 0 || branding.name.length > 200)) {
    throw new AssayError('validation_failed', 'name: expected 1–200 characters', { field: 'name' });
  }
}

interface Snapshot {
  generatedAt: string;
  readiness: number | null;
  controls: Record<string, string>;
  findings: string[];
}

export interface ClientReport {
  client: string;
  generatedAt: string;
  previousReportAt: string | null;
  status: ClientPortfolio;
  controls: { templateId: string; title: string; status: string; owner: string | null }[];
  findings: {
    id: string;
    checkId: string;
    severity: string;
    subject: string;
    detail: string;
    deadline: string;
    overdue: boolean;
  }[];
  overdueTasks: { title: string; assignee: string | null; dueAt: string }[];
  changes: {
    readiness: { from: number | null; to: number | null } | null;
    controls: { templateId: string; from: string | null; to: string | null }[];
    findingsOpened: number;
    findingsClosed: number;
  };
  html: string;
}

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

export async function clientReport(
  database: Database,
  actor: Actor,
  clientRef: string,
  reach: Reach,
  options: { branding?: Branding; now?: Date; deprovisioningSlaHours: number },
): Promise<ClientReport> {
  const branding = options.branding ?? {};
  checkBranding(branding);
  const client = await findWorkspaceBySlugOrId(database.db, clientRef);
  if (!client)
    throw new AssayError('workspace_not_found', `workspace "${clientRef}" does not exist`, {
      field: 'tenant',
    });
  assertReach(reach, client, clientRef);
  const now = options.now ?? new Date();
  const msp = client.parent_id ? await findWorkspaceBySlugOrId(database.db, client.parent_id) : undefined;
  const status = await clientStatus(database, client, {
    now,
    deprovisioningSlaHours: options.deprovisioningSlaHours,
  });
  const db = database.db;
  const [controls, findings, tasks, previous] = await Promise.all([
    db
      .selectFrom('controls')
      .select(['template_id', 'title', 'status', 'owner'])
      .where('workspace_id', '=', client.id)
      .where('active', '=', true)
      .orderBy('template_id')
      .execute(),
    db
      .selectFrom('findings')
      .select(['id', 'check_id', 'severity', 'subject', 'detail', 'deadline'])
      .where('workspace_id', '=', client.id)
      .where('status', '=', 'open')
      .orderBy('deadline')
      .execute(),
    db
      .selectFrom('tasks')
      .select(['title', 'assignee', 'due_at'])
      .where('workspace_id', '=', client.id)
      .where('status', '=', 'open')
      .where('due_at', '<', now)
      .orderBy('due_at')
      .execute(),
    db
      .selectFrom('msp_client_reports')
      .select(['snapshot', 'generated_at'])
      .where('workspace_id', '=', client.id)
      .orderBy('generated_at', 'desc')
      .limit(1)
      .executeTakeFirst(),
  ]);
  const snapshot: Snapshot = {
    generatedAt: now.toISOString(),
    readiness: status.readiness?.score ?? null,
    controls: Object.fromEntries(controls.map((c) => [c.template_id, c.status])),
    findings: findings.map((f) => f.id).sort(),
  };
  const before = previous?.snapshot as Snapshot | undefined;
  const changes: ClientReport['changes'] = {
    readiness: before ? { from: before.readiness, to: snapshot.readiness } : null,
    controls: [],
    findingsOpened: 0,
    findingsClosed: 0,
  };
  if (before) {
    for (const id of [
      ...new Set([...Object.keys(before.controls), ...Object.keys(snapshot.controls)]),
    ].sort()) {
      const from = before.controls[id] ?? null;
      const to = snapshot.controls[id] ?? null;
      if (from !== to) changes.controls.push({ templateId: id, from, to });
    }
    const was = new Set(before.findings);
    const is = new Set(snapshot.findings);
    changes.findingsOpened = snapshot.findings.filter((f) => !was.has(f)).length;
    changes.findingsClosed = before.findings.filter((f) => !is.has(f)).length;
  }
  const report: Omit<ClientReport, 'html'> = {
    client: client.slug,
    generatedAt: now.toISOString(),
    previousReportAt: previous ? previous.generated_at.toISOString() : null,
    status,
    controls: controls.map((c) => ({
      templateId: c.template_id,
      title: c.title,
      status: c.status,
      owner: c.owner,
    })),
    findings: findings.map((f) => ({
      id: f.id,
      checkId: f.check_id,
      severity: f.severity,
      subject: String(
        (f.subject as { name?: unknown; id?: unknown }).name ?? (f.subject as { id?: unknown }).id ?? '',
      ),
      detail: f.detail,
      deadline: new Date(f.deadline).toISOString(),
      overdue: new Date(f.deadline) < now,
    })),
    overdueTasks: tasks.map((t) => ({
      title: t.title,
      assignee: t.assignee,
      dueAt: new Date(t.due_at as Date).toISOString(),
    })),
    changes,
  };
  const html = renderHtml(report, {
    name: branding.name ?? msp?.name ?? 'Assay',
    colour: branding.colour ?? '#1f4e79',
    logo: branding.logo,
    clientName: client.name,
  });
  await database.inSystem(async (trx) => {
    await trx
      .insertInto('msp_client_reports')
      .values({
        workspace_id: client.id,
        generated_at: now,
        generated_by: `${actor.type}:${actor.id}`,
        snapshot: JSON.stringify(snapshot),
      })
      .execute();
    await recordAudit(trx, {
      workspaceId: client.id,
      actor,
      action: 'client_report.generated',
      targetType: 'workspace',
      targetId: client.id,
      details: {
        readiness: snapshot.readiness,
        openFindings: snapshot.findings.length,
        previous: report.previousReportAt,
      },
    });
  });
  return { ...report, html };
}

function renderHtml(
  r: Omit<ClientReport, 'html'>,
  b: { name: string; colour: string; logo: string | undefined; clientName: string },
) {
  const s = r.status;
  const row = (cells: unknown[]) => `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
  const head = (cells: string[]) => `<tr>${cells.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const reviews = [
    ...s.overdueReviews.policies.map((n) => ['policy', n]),
    ...s.overdueReviews.vendors.map((n) => ['vendor', n]),
    ...s.overdueReviews.risks.map((n) => ['risk', n]),
  ];
  const changeText = r.previousReportAt
    ? `<p>Since the report of ${esc(r.previousReportAt.slice(0, 10))}: readiness ${esc(r.changes.readiness?.from ?? '–')} → ${esc(r.changes.readiness?.to ?? '–')}; ${r.changes.findingsOpened} finding(s) opened, ${r.changes.findingsClosed} closed; ${r.changes.controls.length} control(s) changed status.</p>` +
      (r.changes.controls.length
        ? `<table>${head(['Control', 'Was', 'Now'])}${r.changes.controls.map((c) => row([c.templateId, c.from ?? 'not in scope', c.to ?? 'not in scope'])).join('')}</table>`
        : '')
    : '<p>This is the first report.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${esc(b.clientName)} — compliance status ${esc(r.generatedAt.slice(0, 10))}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:60rem;color:#222}
header{display:flex;align-items:center;gap:1rem;border-bottom:4px solid ${b.colour};padding-bottom:.5rem}
header img{max-height:3rem}
h1,h2{color:${b.colour}}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;font-size:.9rem}
th{background:${b.colour};color:#fff}
.kpi{display:inline-block;margin-right:2rem}.kpi b{font-size:1.6rem;display:block;color:${b.colour}}
.failing{color:#b00020}.overdue{color:#b00020;font-weight:bold}
footer{margin-top:2rem;font-size:.8rem;color:#666}
</style></head><body>
<header>${b.logo ? `<img src="${esc(b.logo)}" alt="${esc(b.name)}">` : ''}<div><strong>${esc(b.name)}</strong><br>Compliance status report for ${esc(b.clientName)}</div></header>
<p>Generated ${esc(r.generatedAt)}</p>
<h2>Summary</h2>
<div class="kpi"><b>${esc(s.readiness ? s.readiness.score : '–')}</b>readiness (of 100)</div>
<div class="kpi"><b>${s.controls.passing}/${s.controls.active}</b>controls passing</div>
<div class="kpi"><b>${s.controls.failing}</b>controls failing</div>
<div class="kpi"><b>${s.findings.open}</b>open findings (${s.findings.overdue} overdue)</div>
<div class="kpi"><b>${s.overdueTasks + reviews.length}</b>overdue tasks and reviews</div>
${s.upcomingAudits.length ? `<p>Audit periods: ${s.upcomingAudits.map((a) => `${esc(a.name)} (${esc(a.reportType)}, ${esc(a.startsOn)} to ${esc(a.endsOn)})`).join('; ')}</p>` : ''}
<h2>Changes since the last report</h2>
${changeText}
<h2>Open findings</h2>
${r.findings.length ? `<table>${head(['Severity', 'Check', 'Subject', 'Detail', 'Deadline'])}${r.findings.map((f) => `<tr><td>${esc(f.severity)}</td><td>${esc(f.checkId)}</td><td>${esc(f.subject)}</td><td>${esc(f.detail)}</td><td class="${f.overdue ? 'overdue' : ''}">${esc(f.deadline.slice(0, 10))}</td></tr>`).join('')}</table>` : '<p>No open findings.</p>'}
<h2>Overdue work</h2>
${r.overdueTasks.length || reviews.length ? `<table>${head(['What', 'Who / kind', 'Due'])}${r.overdueTasks.map((t) => row([t.title, t.assignee ?? 'unassigned', t.dueAt.slice(0, 10)])).join('')}${reviews.map(([k, n]) => row([`review of ${n}`, k, 'overdue'])).join('')}</table>` : '<p>Nothing overdue.</p>'}
${s.staleVendorReports.length ? `<p>Vendors whose assurance reports are stale: ${s.staleVendorReports.map(esc).join(', ')}</p>` : ''}
<h2>Controls</h2>
<table>${head(['Control', 'Title', 'Status', 'Owner'])}${r.controls.map((c) => `<tr><td>${esc(c.templateId)}</td><td>${esc(c.title)}</td><td class="${c.status === 'failing' ? 'failing' : ''}">${esc(c.status)}</td><td>${esc(c.owner ?? 'unassigned')}</td></tr>`).join('')}</table>
<footer>Prepared by ${esc(b.name)} with Assay. Every figure traces to the workspace's checks, findings and evidence.</footer>
</body></html>
`;
}
