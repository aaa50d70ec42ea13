/**
 * The reviewer-by-reviewer report an auditor reads: every entitlement under review, its decision
 * and justification, who decided and when, and for revocations the source's confirmation.
 */
import { stringify } from 'csv-stringify/sync';
import type { CampaignRow, ItemRow } from './campaigns.service.ts';

export const reportColumns = [
  'reviewer',
  'delegated_from',
  'system',
  'account',
  'subject_type',
  'person',
  'owner',
  'entitlement',
  'privileged',
  'decision',
  'justification',
  'decided_by',
  'decided_at',
  'revocation_task',
  'confirmed_at',
  'confirmation',
  'confirmation_evidence',
  'flag',
] as const;

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : '');

export function campaignReportCsv(campaign: CampaignRow, items: ItemRow[]): string {
  const sorted = [...items].sort(
    (a, b) =>
      a.reviewer.localeCompare(b.reviewer) ||
      a.system.localeCompare(b.system) ||
      a.account.localeCompare(b.account) ||
      a.entitlement.localeCompare(b.entitlement),
  );
  // Comment lines first (readers skip lines starting with #), one fact each, no line breaks.
  const oneLine = (text: string) => text.replace(/[\r\n]+/g, ' ');
  const header = [
    `# access review "${oneLine(campaign.name)}" (${campaign.id})`,
    `# launched ${iso(campaign.launched_at)} by ${oneLine(campaign.launched_by)}; snapshot sha256 ${campaign.snapshot_sha256}`,
    campaign.signed_off_at
      ? `# signed off ${iso(campaign.signed_off_at)} by ${campaign.signed_off_by}; decisions sha256 ${campaign.decisions_sha256}; ledger evidence ${campaign.evidence_id}`
      : '# not signed off',
  ];
  const rows = sorted.map((i) => [
    i.reviewer,
    i.delegated_from ?? '',
    i.system,
    i.account,
    i.subject_type,
    i.person_email ?? '',
    i.owner ?? '',
    i.entitlement,
    i.privileged ? 'yes' : 'no',
    i.decision ?? '',
    i.justification ?? '',
    i.decided_by ?? '',
    iso(i.decided_at),
    i.task_id ?? '',
    iso(i.confirmed_at),
    i.confirmation ?? (i.decision === 'revoke' ? 'awaiting confirmation by the source' : ''),
    i.evidence_id ?? '',
    // A mover review's flag: why the entitlement may not fit the new role.
    i.flag ? `${i.flag}: ${i.flag_reason ?? ''}` : '',
  ]);
  return `${header.join('\n')}\n${stringify([[...reportColumns], ...rows])}`;
}
