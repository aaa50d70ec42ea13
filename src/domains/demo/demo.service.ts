/**
 * `assay demo`: an MSP with three client workspaces of different sizes and a year of history,
 * imported through the same importers a real client's files go through, then evaluated month by
 * month so every control has a status timeline and the readiness report has populations.
 */
import { Readable } from 'node:stream';
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { assignControlOwner, listControls } from '../controls/controls.service.ts';
import { appendEvidence } from '../evidence/append-evidence.ts';
import { launchCampaign } from '../governance/campaigns.service.ts';
import { importFile } from '../ingest/import.service.ts';
import { runChecks } from '../monitoring/run-checks.service.ts';
import { addVendorDocument, createVendor } from '../registers/vendors/vendors.service.ts';
import { setScope } from '../scope/scope.service.ts';
import { createWorkspace, getWorkspace } from '../workspaces/workspaces.service.ts';
import { generateCompany } from './demo-data.ts';

const day = 24 * 3600 * 1000;

export interface DemoClient {
  slug: string;
  name: string;
  size: number;
  categories: string[];
}

export const defaultDemoClients: DemoClient[] = [
  { slug: 'acme', name: 'Acme Analytics', size: 20, categories: ['security', 'availability'] },
  {
    slug: 'globex',
    name: 'Globex Payments',
    size: 120,
    categories: ['security', 'availability', 'confidentiality'],
  },
  {
    slug: 'initech',
    name: 'Initech Health',
    size: 500,
    categories: ['security', 'availability', 'confidentiality', 'privacy'],
  },
];

export interface DemoOptions {
  seed?: number;
  now?: Date;
  msp?: string;
  clients?: DemoClient[];
  onProgress?: (line: string) => void;
}

export interface DemoSummary {
  msp: string;
  clients: { slug: string; people: number; events: number; openFindings: number; planted: string[] }[];
}

export async function seedDemo(
  database: Database,
  actor: Actor,
  options: DemoOptions = {},
): Promise<DemoSummary> {
  const seed = options.seed ?? 2026;
  const now = options.now ?? new Date();
  const mspSlug = options.msp ?? 'bluepeak';
  const log = options.onProgress ?? (() => {});
  const existing = await getWorkspace(database, mspSlug).catch(() => null);
  if (existing) {
    throw new AssayError(
      'workspace_exists',
      `the demo MSP "${mspSlug}" already exists; use a fresh --data directory`,
    );
  }
  await createWorkspace(database, actor, { slug: mspSlug, name: 'BluePeak Compliance (MSP)', kind: 'msp' });
  const summary: DemoSummary = { msp: mspSlug, clients: [] };
  for (const [index, client] of (options.clients ?? defaultDemoClients).entries()) {
    const started = Date.now();
    await createWorkspace(database, actor, { slug: client.slug, name: client.name, parent: mspSlug });
    await setScope(database, actor, client.slug, client.categories);
    const company = generateCompany({ slug: client.slug, size: client.size, seed: seed + index * 7919, now });
    const head = company.people[0]!.email;
    const roles = [...new Set((await listControls(database, client.slug)).map((c) => c.owner_role))];
    for (const ownerRole of roles) {
      // Leave the privacy controls unowned in one client: a visible coverage gap.
      if (ownerRole === 'privacy_officer' && index === 2) continue;
      await assignControlOwner(database, actor, client.slug, {
        ownerRole,
        owner: ownerRole === 'hr_lead' ? `hr@${company.domain}` : head,
      });
    }
    let events = 0;
    for (const kind of [
      'hr-roster',
      'okta-system-log',
      'aws-iam-credential-report',
      'aws-cloudtrail',
      'github-audit-log',
    ] as const) {
      const result = await importFile(
        database,
        actor,
        client.slug,
        kind,
        Readable.from([Buffer.from(company.files[kind])]),
        {
          fileName: `${kind}.${kind.endsWith('report') || kind === 'hr-roster' ? 'csv' : kind === 'aws-cloudtrail' ? 'json' : 'jsonl'}`,
          observedAt: now.toISOString(),
        },
      );
      events += result.eventsStored;
    }
    await recordProgrammeEvidence(database, actor, client.slug, now, index);
    // Month by month, as the programme would have been monitored.
    for (let k = 0; k < 12; k++) {
      await runChecks(database, actor, client.slug, {
        asOf: new Date(now.getTime() - (365 - k * 30) * day),
        trigger: 'demo',
      });
    }
    const final = await runChecks(database, actor, client.slug, { asOf: now, trigger: 'demo' });
    await launchDemoReview(database, actor, client.slug, company.accountId, now);
    log(
      `${client.slug}: ${client.size} people, ${events} events, ${final.findingsOpen} open findings (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    summary.clients.push({
      slug: client.slug,
      people: client.size,
      events,
      openFindings: final.findingsOpen ?? 0,
      planted: company.planted,
    });
  }
  return summary;
}

/**
 * This quarter's access review, open: the AWS account's users, so the reviewer's screen has real
 * work. People are reviewed by their manager, the head of IT (the leaver who kept access among
 * them); the head's own account, the root user, the contractor nobody declared and the ownerless
 * service account fall to the fallback reviewer, security.
 */
async function launchDemoReview(
  database: Database,
  actor: Actor,
  slug: string,
  accountId: string,
  now: Date,
) {
  const quarter = Math.floor(now.getUTCMonth() / 3) + 1;
  await launchCampaign(database, actor, slug, {
    name: `${now.getUTCFullYear()} Q${quarter} AWS access review`,
    fallbackReviewer: `security@${slug}.example`,
    dueInDays: 14,
    scope: { systems: [`aws-iam:${accountId}`] },
  });
}

/** Access reviews (one quarter skipped), and vendors with a current and a stale SOC 2 report. */
async function recordProgrammeEvidence(
  database: Database,
  actor: Actor,
  slug: string,
  now: Date,
  index: number,
) {
  const workspace = await getWorkspace(database, slug);
  const quarterEnds = [3, 2, 1, 0].map((q) => new Date(now.getTime() - q * 91 * day - 5 * day));
  await database.inWorkspace(workspace.id, (trx) =>
    appendEvidence(
      trx,
      workspace.id,
      quarterEnds
        .filter((_, i) => i !== 1)
        .map((at) => ({
          kind: 'access_review.signoff',
          controls: ['AC-05'],
          criteria: ['CC6.2', 'CC6.3'],
          effectiveAt: at,
          collector: { type: 'user' as const, id: `security@${slug}.example` },
          content: { campaign: `access review ${at.toISOString().slice(0, 7)}`, decisions: 40 + index * 10 },
        })),
    ),
  );
  await createVendor(
    database,
    actor,
    slug,
    {
      name: 'CloudHost',
      service: 'Infrastructure hosting',
      criticality: 'critical',
      inScope: true,
      owner: `security@${slug}.example`,
    },
    { now, evaluate: false },
  );
  await addVendorDocument(
    database,
    actor,
    slug,
    'CloudHost',
    {
      kind: 'soc2_type2',
      periodStart: new Date(now.getTime() - 200 * day).toISOString(),
      periodEnd: new Date(now.getTime() - 20 * day).toISOString(),
      auditor: 'Example CPA LLP',
      opinion: 'unqualified',
      categories: ['security', 'availability'],
    },
    { now, evaluate: false },
  );
  await createVendor(
    database,
    actor,
    slug,
    {
      name: 'MailRelay',
      service: 'Transactional email',
      criticality: 'high',
      inScope: true,
      owner: `security@${slug}.example`,
    },
    { now, evaluate: false },
  );
  await addVendorDocument(
    database,
    actor,
    slug,
    'MailRelay',
    {
      kind: 'soc2_type2',
      periodStart: new Date(now.getTime() - 600 * day).toISOString(),
      periodEnd: new Date(now.getTime() - 420 * day).toISOString(),
      auditor: 'Example CPA LLP',
      opinion: 'unqualified',
      categories: ['security'],
    },
    { now, evaluate: false },
  );
}
