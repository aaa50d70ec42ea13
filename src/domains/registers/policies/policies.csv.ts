/**
 * The CSV form of the policy register: policies with their current text, and acknowledgements
 * (see docs/registers.md).
 */
import { type CsvKind, cell, type Input } from '../shared/csv.ts';
import {
  email,
  instant,
  integer,
  invalid,
  oneOf,
  optionalInstant,
  optionalText,
  prose,
  text,
} from '../shared/values.ts';
import type { AcknowledgementRow, PolicyRow, PolicyVersionRow } from './policies.repository.ts';
import {
  findPolicy,
  findVersion,
  listAcknowledgementRows,
  listPolicyRows,
  listVersionRows,
} from './policies.repository.ts';
import {
  acknowledgeIn,
  acknowledgementEvidence,
  ackSources,
  approveVersionIn,
  createPolicyIn,
  normalizePolicy,
  policyChecks,
  policyKinds,
  publishVersionIn,
  saveDraftIn,
  updatePolicyIn,
} from './policies.service.ts';

interface PolicyCsvRow {
  raw: Input;
  values: ReturnType<typeof normalizePolicy>;
  version: number | null;
  body: string | null;
  changeSummary: string;
  approvedBy: string | null;
  approvedAt: Date | null;
  publishedAt: Date | null;
}

export const policies: CsvKind<PolicyCsvRow> = {
  kind: 'policies',
  register: 'policies',
  description:
    'Policies with the text of their current version (or latest draft), its approval and publication.',
  checks: policyChecks,
  columns: [
    { header: 'title', required: true, description: 'Policy title (the key).' },
    { header: 'kind', description: `${policyKinds.join(', ')} (default policy).` },
    { header: 'owner', description: 'Policy owner.' },
    { header: 'review_cadence_days', description: 'Days between reviews (default 365).' },
    { header: 'acknowledgement_required', description: 'true (default) or false.' },
    { header: 'controls', description: 'Control template ids the policy supports, `;`-separated.' },
    {
      header: 'status',
      description: 'draft, active or retired (retired retires the policy; the others follow publication).',
    },
    { header: 'version', description: 'Version number of the text in `body`.' },
    { header: 'body', description: 'The policy text, markdown (quoted; may span lines).' },
    { header: 'change_summary', description: 'What changed in this version.' },
    { header: 'approved_by', description: 'Who approved this version.' },
    { header: 'approved_at', description: 'When.' },
    { header: 'published_at', description: 'When this version was published (needs the approval).' },
  ],
  async rows(trx, ctx) {
    const versions = await listVersionRows(trx, ctx.workspaceId);
    return (await listPolicyRows(trx, ctx.workspaceId)).map((p) => {
      const own = versions.filter((v) => v.policy_id === p.id);
      const v = own.find((x) => x.id === p.current_version_id) ?? own.at(-1);
      return {
        title: p.title,
        kind: p.kind,
        owner: cell.text(p.owner),
        review_cadence_days: cell.int(p.review_cadence_days),
        acknowledgement_required: cell.bool(p.acknowledgement_required),
        controls: cell.list(p.control_ids),
        status: p.status,
        version: cell.int(v?.version),
        body: v?.body ?? '',
        change_summary: v?.change_summary ?? '',
        approved_by: cell.text(v?.approved_by),
        approved_at: cell.date(v?.approved_at),
        published_at: cell.date(v?.published_at),
      };
    });
  },
  parse(raw) {
    const status = raw.status?.trim();
    if (status !== undefined) oneOf('status', status, ['draft', 'active', 'retired'] as const);
    const values = normalizePolicy(
      { ...raw, status: status === 'retired' ? 'retired' : undefined },
      'update',
    );
    const version = raw.version === undefined ? null : integer('version', raw.version, 1, 100_000);
    const body = raw.body === undefined ? null : raw.body.replace(/\r\n/g, '\n');
    if ((version === null) !== (body === null))
      invalid(version === null ? 'version' : 'body', 'give the version and its body together');
    const approvedBy = optionalText('approvedBy', raw.approvedBy);
    const approvedAt = optionalInstant('approvedAt', raw.approvedAt);
    const publishedAt = optionalInstant('publishedAt', raw.publishedAt);
    if (approvedAt && !approvedBy) invalid('approvedBy', 'an approval time needs the approver');
    if (publishedAt && !approvedBy) invalid('approvedBy', 'a published version must be approved');
    if ((approvedBy || publishedAt) && version === null)
      invalid('version', 'approval and publication belong to a version');
    return {
      raw,
      values,
      version,
      body,
      changeSummary: prose('changeSummary', raw.changeSummary),
      approvedBy,
      approvedAt,
      publishedAt,
    };
  },
  async apply(trx, ctx, row) {
    let policy = await findPolicy(trx, ctx.workspaceId, row.values.title!);
    let changed = false;
    let created = false;
    if (!policy) {
      policy = await createPolicyIn(trx, ctx, { ...row.values });
      created = true;
    } else {
      const next = await updatePolicyIn(trx, ctx, policy, row.values);
      changed = next !== policy;
      policy = next;
    }
    if (row.version === null || row.body === null)
      return created ? 'created' : changed ? 'updated' : 'unchanged';
    let version = await findVersion(trx, ctx.workspaceId, policy.id, row.version);
    if (version && version.body !== row.body) {
      if (version.approved_at) {
        invalid(
          'body',
          `version ${row.version} of "${policy.title}" is approved; its text cannot change (give a new version number)`,
        );
      }
      version = await saveDraftIn(trx, ctx, policy, {
        body: row.body,
        changeSummary: row.changeSummary,
        version: row.version,
      });
      changed = true;
    } else if (!version) {
      version = await saveDraftIn(trx, ctx, policy, {
        body: row.body,
        changeSummary: row.changeSummary,
        version: row.version,
      });
      changed = true;
    }
    if (row.approvedBy && !version.approved_at) {
      version = await approveVersionIn(trx, ctx, policy, version, {
        approver: row.approvedBy,
        approvedAt: row.approvedAt ?? ctx.now,
      });
      changed = true;
    }
    if (row.publishedAt && !version.published_at) {
      await publishVersionIn(trx, ctx, policy, version, { publishedAt: row.publishedAt, campaign: false });
      changed = true;
    }
    return created ? 'created' : changed ? 'updated' : 'unchanged';
  },
};

type AckBatch = { policy: PolicyRow; version: PolicyVersionRow; row: AcknowledgementRow }[];

export const policyAcknowledgements: CsvKind<{
  policy: string;
  version: number;
  email: string;
  at: Date;
  source: AcknowledgementRow['source'];
}> = {
  kind: 'policy-acknowledgements',
  register: 'policies',
  description: 'Per person and policy version, when they acknowledged it.',
  checks: policyChecks,
  columns: [
    { header: 'policy', required: true, description: 'Policy title.' },
    { header: 'version', required: true, description: 'The version acknowledged.' },
    { header: 'email', required: true, description: "The person's email." },
    { header: 'acknowledged_at', required: true, description: 'When.' },
    { header: 'source', description: `${ackSources.join(', ')} (default imported).` },
  ],
  async rows(trx, ctx) {
    const titles = new Map((await listPolicyRows(trx, ctx.workspaceId)).map((p) => [p.id, p.title]));
    const versions = new Map((await listVersionRows(trx, ctx.workspaceId)).map((v) => [v.id, v.version]));
    return (await listAcknowledgementRows(trx, ctx.workspaceId))
      .map((a) => ({
        policy: titles.get(a.policy_id) ?? '',
        version: cell.int(versions.get(a.version_id)),
        email: a.email,
        acknowledged_at: cell.date(a.acknowledged_at),
        source: a.source,
      }))
      .sort(
        (a, b) =>
          a.policy.localeCompare(b.policy) ||
          Number(a.version) - Number(b.version) ||
          a.acknowledged_at.localeCompare(b.acknowledged_at) ||
          a.email.localeCompare(b.email),
      );
  },
  parse: (raw) => ({
    policy: text('policy', raw.policy),
    version: integer('version', raw.version, 1, 100_000),
    email: email('email', raw.email),
    at: instant('acknowledgedAt', raw.acknowledgedAt),
    source: oneOf('source', raw.source ?? 'imported', ackSources),
  }),
  async apply(trx, ctx, row, batch) {
    const key = `${row.policy.toLowerCase()}\u0000${row.version}`;
    let found = batch.get(`v:${key}`) as { policy: PolicyRow; version: PolicyVersionRow } | undefined;
    if (!found) {
      const policy = await findPolicy(trx, ctx.workspaceId, row.policy);
      if (!policy) invalid('policy', `policy "${row.policy}" does not exist (import policies first)`);
      const version = await findVersion(trx, ctx.workspaceId, policy.id, row.version);
      if (!version) invalid('version', `"${policy.title}" has no version ${row.version}`);
      found = { policy, version };
      batch.set(`v:${key}`, found);
    }
    const { row: ack, created } = await acknowledgeIn(
      trx,
      ctx,
      found.policy,
      found.version,
      { email: row.email, acknowledgedAt: row.at, source: row.source },
      'defer',
    );
    if (!created) return 'unchanged';
    const pending = (batch.get('acks') as AckBatch | undefined) ?? [];
    pending.push({ ...found, row: ack });
    batch.set('acks', pending);
    return 'created';
  },
  async finish(trx, ctx, batch) {
    const pending = (batch.get('acks') as AckBatch | undefined) ?? [];
    for (let i = 0; i < pending.length; i += 5000)
      await acknowledgementEvidence(trx, ctx, pending.slice(i, i + 5000));
  },
};
