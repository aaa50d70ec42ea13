/**
 * The policy register (CC1.1, CC2.2, CC5.3): markdown documents in numbered versions, each
 * approved and then published; an annual review; and acknowledgement campaigns per version whose
 * per-person records stay with the version they acknowledge. Approval, publication, review and
 * every acknowledgement are evidence.
 */
import { createHash } from 'node:crypto';
import type { Database, Trx } from '../../../db/database.ts';
import { AssayError } from '../../../errors.ts';
import type { Actor } from '../../audit/actor.ts';
import { createPolicyStatement, listStatements } from '../../monitoring/policy-statements.service.ts';
import {
  appendRegisterEvidence,
  audit,
  notFound,
  type RegisterContext,
  readContext,
  registerContext,
  requireControls,
  type WriteOptions,
} from '../shared/context.ts';
import { evaluateRegister } from '../shared/evaluate.ts';
import {
  addDays,
  bool,
  controlIds,
  email,
  emailList,
  integer,
  invalid,
  list,
  oneOf,
  optionalInstant,
  optionalText,
  patch,
  prose,
  text,
} from '../shared/values.ts';
import { acknowledgementStatus, activeWorkforce, defaultAckSettings } from './acknowledgements.ts';
import {
  type AcknowledgementRow,
  findAcknowledgement,
  findCampaign,
  findPolicy,
  findVersion,
  insertAcknowledgement,
  insertCampaign,
  insertPolicy,
  insertPolicyReview,
  insertVersion,
  listAcknowledgementRows,
  listCampaignRows,
  listPolicyReviewRows,
  listPolicyRows,
  listVersionRows,
  listWorkforce,
  type PolicyRow,
  type PolicyVersionRow,
  updatePolicyRow,
  updateVersionRow,
} from './policies.repository.ts';
import type { PolicyKind } from './policies.tables.ts';

export const policyChecks = ['policy.review_overdue', 'policy.acknowledgements_missing'] as const;
export const policyKinds = ['policy', 'standard', 'procedure', 'plan'] as const;
export const ackSources = ['recorded', 'imported', 'self'] as const;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const maxBody = 500_000;

export interface PolicyInput {
  title?: unknown;
  kind?: unknown;
  owner?: unknown;
  reviewCadenceDays?: unknown;
  acknowledgementRequired?: unknown;
  controls?: unknown;
  status?: unknown;
  body?: unknown;
  changeSummary?: unknown;
}

export interface PolicyValues {
  title?: string;
  kind?: PolicyKind;
  owner?: string | null;
  reviewCadenceDays?: number;
  acknowledgementRequired?: boolean;
  controls?: string[];
  status?: 'active' | 'retired';
}

export function normalizePolicy(input: PolicyInput, mode: 'create' | 'update'): PolicyValues {
  const values: PolicyValues = {
    title: patch(input.title, (v) => text('title', v)),
    kind: patch(input.kind, (v) => oneOf('kind', v, policyKinds)),
    owner: patch(input.owner, (v) => optionalText('owner', v)),
    reviewCadenceDays: patch(input.reviewCadenceDays, (v) => integer('reviewCadenceDays', v, 1, 3660)),
    acknowledgementRequired: patch(input.acknowledgementRequired, (v) =>
      bool('acknowledgementRequired', v, true),
    ),
    controls: patch(input.controls, (v) => controlIds('controls', v)),
    status: patch(input.status, (v) => oneOf('status', v, ['active', 'retired'] as const)),
  };
  if (mode === 'create' && values.title === undefined) text('title', undefined);
  return values;
}

function body(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    invalid('body', 'is required (the policy text, in markdown)');
  if (value.length > maxBody) invalid('body', `must be at most ${maxBody} characters`);
  return value.replace(/\r\n/g, '\n');
}

function policySubject(policy: PolicyRow) {
  return { type: 'policy', id: policy.id, name: policy.title };
}

export async function requirePolicy(trx: Trx, ctx: RegisterContext, ref: string) {
  return (await findPolicy(trx, ctx.workspaceId, ref)) ?? notFound('policy', ref, ctx);
}

export async function requireVersion(trx: Trx, ctx: RegisterContext, policy: PolicyRow, version: number) {
  return (
    (await findVersion(trx, ctx.workspaceId, policy.id, version)) ??
    notFound(`version of policy ${policy.title}`, String(version), ctx)
  );
}

export async function createPolicyIn(trx: Trx, ctx: RegisterContext, values: PolicyValues) {
  if (await findPolicy(trx, ctx.workspaceId, values.title!)) {
    throw new AssayError(
      'register_record_exists',
      `policy "${values.title}" already exists in "${ctx.slug}"`,
      {
        field: 'title',
      },
    );
  }
  if (values.controls) await requireControls(trx, ctx, 'controls', values.controls);
  if (values.status === 'active') invalid('status', 'a policy becomes active when a version is published');
  const row = await insertPolicy(trx, {
    workspace_id: ctx.workspaceId,
    title: values.title!,
    kind: values.kind ?? 'policy',
    owner: values.owner ?? null,
    review_cadence_days: values.reviewCadenceDays ?? 365,
    acknowledgement_required: values.acknowledgementRequired ?? true,
    control_ids: values.controls ?? [],
    status: values.status === 'retired' ? 'retired' : 'draft',
    current_version_id: null,
    created_at: ctx.now,
    updated_at: ctx.now,
  });
  await audit(trx, ctx, 'policy.created', 'policy', row.id, { title: row.title });
  return row;
}

export async function updatePolicyIn(
  trx: Trx,
  ctx: RegisterContext,
  current: PolicyRow,
  values: PolicyValues,
) {
  if (values.title !== undefined && values.title.toLowerCase() !== current.title.toLowerCase()) {
    if (await findPolicy(trx, ctx.workspaceId, values.title)) {
      throw new AssayError(
        'register_record_exists',
        `policy "${values.title}" already exists in "${ctx.slug}"`,
        {
          field: 'title',
        },
      );
    }
  }
  if (values.controls) await requireControls(trx, ctx, 'controls', values.controls);
  if (values.status === 'active' && !current.current_version_id) {
    invalid('status', 'publish a version first: a policy is active only with a published version');
  }
  const next = {
    title: values.title ?? current.title,
    kind: values.kind ?? current.kind,
    owner: values.owner !== undefined ? values.owner : current.owner,
    review_cadence_days: values.reviewCadenceDays ?? current.review_cadence_days,
    acknowledgement_required: values.acknowledgementRequired ?? current.acknowledgement_required,
    control_ids: values.controls ?? current.control_ids,
    status: values.status ?? current.status,
  };
  const changed = Object.entries(next).some(
    ([k, v]) => JSON.stringify(v) !== JSON.stringify(current[k as keyof PolicyRow]),
  );
  if (!changed) return current;
  const row = await updatePolicyRow(trx, ctx.workspaceId, current.id, { ...next, updated_at: ctx.now });
  await audit(trx, ctx, 'policy.updated', 'policy', row.id, next);
  return row;
}

/** Saves the text of the next version; an unapproved draft is revised in place. */
export async function saveDraftIn(
  trx: Trx,
  ctx: RegisterContext,
  policy: PolicyRow,
  input: { body: string; changeSummary: string; version?: number | undefined },
) {
  const versions = await listVersionRows(trx, ctx.workspaceId, policy.id);
  const latest = versions.at(-1);
  const bodySha = sha256(input.body);
  if (latest && !latest.approved_at && (input.version === undefined || input.version === latest.version)) {
    if (latest.body_sha256 === bodySha && latest.change_summary === input.changeSummary) return latest;
    const row = await updateVersionRow(trx, ctx.workspaceId, latest.id, {
      body: input.body,
      body_sha256: bodySha,
      change_summary: input.changeSummary,
    });
    await audit(trx, ctx, 'policy.draft_revised', 'policy', policy.id, { version: row.version });
    return row;
  }
  const number = input.version ?? (latest ? latest.version + 1 : 1);
  if (versions.some((v) => v.version === number)) {
    throw new AssayError(
      'register_transition_invalid',
      `version ${number} of "${policy.title}" is approved and cannot change: save the text as a new version`,
      { field: 'version' },
    );
  }
  if (latest && number < latest.version) {
    invalid('version', `must follow the latest version (${latest.version})`);
  }
  const row = await insertVersion(trx, {
    workspace_id: ctx.workspaceId,
    policy_id: policy.id,
    version: number,
    body: input.body,
    body_sha256: bodySha,
    change_summary: input.changeSummary,
    created_by: ctx.actor.name ?? ctx.actor.id,
    created_at: ctx.now,
  });
  await audit(trx, ctx, 'policy.version_drafted', 'policy', policy.id, { version: number });
  return row;
}

export async function approveVersionIn(
  trx: Trx,
  ctx: RegisterContext,
  policy: PolicyRow,
  version: PolicyVersionRow,
  input: { approver: string; approvedAt: Date },
) {
  if (version.approved_at) {
    throw new AssayError(
      'register_transition_invalid',
      `version ${version.version} of "${policy.title}" was already approved by ${version.approved_by} on ${version.approved_at.toISOString()}`,
    );
  }
  const [evidenceId] = await appendRegisterEvidence(trx, ctx, [
    {
      kind: 'policy.approval',
      controls: ['GOV-06', ...policy.control_ids],
      criteria: ['CC5.3', 'CC1.1'],
      subject: policySubject(policy),
      effectiveAt: input.approvedAt,
      content: {
        title: policy.title,
        version: version.version,
        bodySha256: version.body_sha256,
        changeSummary: version.change_summary,
        approvedBy: input.approver,
      },
    },
  ]);
  const row = await updateVersionRow(trx, ctx.workspaceId, version.id, {
    approved_by: input.approver,
    approved_at: input.approvedAt,
    approval_evidence_id: evidenceId ?? null,
  });
  await audit(trx, ctx, 'policy.version_approved', 'policy', policy.id, {
    version: row.version,
    approver: input.approver,
  });
  return row;
}

export async function publishVersionIn(
  trx: Trx,
  ctx: RegisterContext,
  policy: PolicyRow,
  version: PolicyVersionRow,
  input: { publishedAt: Date; campaign: { dueAt: Date | null; audience: string[] } | false },
) {
  if (!version.approved_at) {
    throw new AssayError(
      'register_transition_invalid',
      `version ${version.version} of "${policy.title}" is not approved yet: approve it before publishing`,
    );
  }
  if (version.published_at) {
    throw new AssayError(
      'register_transition_invalid',
      `version ${version.version} of "${policy.title}" is already published`,
    );
  }
  if (input.publishedAt < version.approved_at) invalid('publishedAt', 'must not be before the approval');
  const [evidenceId] = await appendRegisterEvidence(trx, ctx, [
    {
      kind: 'policy.publication',
      controls: ['GOV-06', ...policy.control_ids],
      criteria: ['CC5.3', 'CC2.2'],
      subject: policySubject(policy),
      effectiveAt: input.publishedAt,
      staleAfter: addDays(input.publishedAt, policy.review_cadence_days),
      content: {
        title: policy.title,
        kind: policy.kind,
        version: version.version,
        approvedBy: version.approved_by,
        approvedAt: version.approved_at.toISOString(),
        bodySha256: version.body_sha256,
        body: version.body,
      },
    },
  ]);
  const published = await updateVersionRow(trx, ctx.workspaceId, version.id, {
    published_at: input.publishedAt,
    publication_evidence_id: evidenceId ?? null,
  });
  // Approving a version is a review of the policy.
  const reviewed =
    policy.last_reviewed_at && policy.last_reviewed_at > version.approved_at
      ? policy.last_reviewed_at
      : version.approved_at;
  const updated = await updatePolicyRow(trx, ctx.workspaceId, policy.id, {
    current_version_id: version.id,
    status: policy.status === 'retired' ? 'retired' : 'active',
    last_reviewed_at: reviewed,
    updated_at: ctx.now,
  });
  await audit(trx, ctx, 'policy.version_published', 'policy', policy.id, { version: version.version });
  let campaign = null;
  if (input.campaign && policy.acknowledgement_required) {
    campaign = await launchCampaignIn(trx, ctx, updated, published, {
      dueAt: input.campaign.dueAt ?? addDays(input.publishedAt, defaultAckSettings.campaignDays),
      audience: input.campaign.audience,
      launchedAt: input.publishedAt,
    });
  }
  return { policy: updated, version: published, campaign };
}

export async function launchCampaignIn(
  trx: Trx,
  ctx: RegisterContext,
  policy: PolicyRow,
  version: PolicyVersionRow,
  input: { dueAt: Date; audience: string[]; launchedAt: Date },
) {
  if (!version.published_at) {
    throw new AssayError(
      'register_transition_invalid',
      `version ${version.version} of "${policy.title}" is not published`,
    );
  }
  if (await findCampaign(trx, ctx.workspaceId, version.id)) {
    throw new AssayError(
      'register_record_exists',
      `version ${version.version} of "${policy.title}" already has its acknowledgement campaign`,
    );
  }
  if (input.dueAt < input.launchedAt) invalid('dueAt', 'must not be before the launch');
  const row = await insertCampaign(trx, {
    workspace_id: ctx.workspaceId,
    policy_id: policy.id,
    version_id: version.id,
    launched_at: input.launchedAt,
    due_at: input.dueAt,
    audience: input.audience,
    launched_by: ctx.actor.name ?? ctx.actor.id,
    created_at: ctx.now,
  });
  await audit(trx, ctx, 'policy.campaign_launched', 'policy', policy.id, {
    version: version.version,
    dueAt: input.dueAt.toISOString(),
    audience: input.audience.length > 0 ? input.audience.length : 'workforce',
  });
  return row;
}

export async function reviewPolicyIn(
  trx: Trx,
  ctx: RegisterContext,
  policy: PolicyRow,
  input: { reviewer: string; outcome: 'no_change' | 'revision_needed'; notes: string; reviewedAt: Date },
) {
  const current = policy.current_version_id
    ? (await listVersionRows(trx, ctx.workspaceId, policy.id)).find((v) => v.id === policy.current_version_id)
    : undefined;
  const [evidenceId] = await appendRegisterEvidence(trx, ctx, [
    {
      kind: 'policy.review',
      controls: ['GOV-06', ...policy.control_ids],
      criteria: ['CC5.3', 'CC1.1'],
      subject: policySubject(policy),
      effectiveAt: input.reviewedAt,
      staleAfter: addDays(input.reviewedAt, policy.review_cadence_days),
      content: {
        title: policy.title,
        version: current?.version ?? null,
        ...input,
        reviewedAt: input.reviewedAt.toISOString(),
      },
    },
  ]);
  const review = await insertPolicyReview(trx, {
    workspace_id: ctx.workspaceId,
    policy_id: policy.id,
    version_id: current?.id ?? null,
    reviewed_at: input.reviewedAt,
    reviewer: input.reviewer,
    outcome: input.outcome,
    notes: input.notes,
    evidence_id: evidenceId ?? null,
    created_at: ctx.now,
  });
  const latest =
    policy.last_reviewed_at && policy.last_reviewed_at > input.reviewedAt
      ? policy.last_reviewed_at
      : input.reviewedAt;
  await updatePolicyRow(trx, ctx.workspaceId, policy.id, { last_reviewed_at: latest, updated_at: ctx.now });
  await audit(trx, ctx, 'policy.reviewed', 'policy', policy.id, {
    outcome: input.outcome,
    reviewer: input.reviewer,
  });
  return review;
}

/** Records one person's acknowledgement of one version; a repeat keeps the first record. */
export async function acknowledgeIn(
  trx: Trx,
  ctx: RegisterContext,
  policy: PolicyRow,
  version: PolicyVersionRow,
  input: { email: string; acknowledgedAt: Date; source: AcknowledgementRow['source'] },
  evidence: 'now' | 'defer' = 'now',
) {
  if (!version.published_at) {
    throw new AssayError(
      'register_transition_invalid',
      `version ${version.version} of "${policy.title}" is not published: only published versions are acknowledged`,
    );
  }
  const existing = await findAcknowledgement(trx, ctx.workspaceId, version.id, input.email);
  if (existing) return { row: existing, created: false };
  const campaign = await findCampaign(trx, ctx.workspaceId, version.id);
  const row = await insertAcknowledgement(trx, {
    workspace_id: ctx.workspaceId,
    policy_id: policy.id,
    version_id: version.id,
    campaign_id: campaign?.id ?? null,
    email: input.email,
    acknowledged_at: input.acknowledgedAt,
    source: input.source,
    created_at: ctx.now,
  });
  if (evidence === 'now') await acknowledgementEvidence(trx, ctx, [{ policy, version, row }]);
  return { row, created: true };
}

/** Appends acknowledgements to the ledger in one batch (an import may carry thousands). */
export async function acknowledgementEvidence(
  trx: Trx,
  ctx: RegisterContext,
  items: { policy: PolicyRow; version: PolicyVersionRow; row: AcknowledgementRow }[],
) {
  const ids = await appendRegisterEvidence(
    trx,
    ctx,
    items.map(({ policy, version, row }) => ({
      kind: 'policy.acknowledgement',
      controls: ['GOV-07', ...policy.control_ids.filter((c) => c === 'GOV-01')],
      criteria: ['CC2.2', 'CC1.5'],
      subject: { type: 'person', id: row.email, name: row.email },
      effectiveAt: row.acknowledged_at,
      content: {
        policy: policy.title,
        version: version.version,
        bodySha256: version.body_sha256,
        email: row.email,
        source: row.source,
      },
    })),
  );
  for (const [i, item] of items.entries()) {
    await trx
      .updateTable('policy_acknowledgements')
      .set({ evidence_id: ids[i] ?? null })
      .where('workspace_id', '=', ctx.workspaceId)
      .where('id', '=', item.row.id)
      .execute();
    item.row.evidence_id = ids[i] ?? null;
  }
}

// --- public operations -------------------------------------------------------------------------

async function write<T>(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  options: WriteOptions,
  fn: (trx: Trx, ctx: RegisterContext) => Promise<T>,
) {
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const result = await database.inWorkspace(ctx.workspaceId, (trx) => fn(trx, ctx));
  await evaluateRegister(database, ctx, policyChecks, options.evaluate);
  return result;
}

export async function createPolicy(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: PolicyInput,
  options: WriteOptions = {},
) {
  const values = normalizePolicy(input, 'create');
  const draft =
    input.body === undefined
      ? null
      : { body: body(input.body), changeSummary: prose('changeSummary', input.changeSummary) };
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const policy = await createPolicyIn(trx, ctx, values);
    const version = draft ? await saveDraftIn(trx, ctx, policy, draft) : null;
    return { policy, version };
  });
}

export async function updatePolicy(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  policyRef: string,
  input: PolicyInput,
  options: WriteOptions = {},
) {
  const values = normalizePolicy(input, 'update');
  return write(database, actor, workspaceRef, options, async (trx, ctx) =>
    updatePolicyIn(trx, ctx, await requirePolicy(trx, ctx, policyRef), values),
  );
}

export async function savePolicyDraft(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  policyRef: string,
  input: { body?: unknown; changeSummary?: unknown },
  options: WriteOptions = {},
) {
  const draft = { body: body(input.body), changeSummary: prose('changeSummary', input.changeSummary) };
  return write(database, actor, workspaceRef, { ...options, evaluate: false }, async (trx, ctx) =>
    saveDraftIn(trx, ctx, await requirePolicy(trx, ctx, policyRef), draft),
  );
}

export async function approvePolicyVersion(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  policyRef: string,
  version: number,
  input: { approver?: unknown; approvedAt?: unknown },
  options: WriteOptions = {},
) {
  const approver = text('approver', input.approver);
  const approvedAt = optionalInstant('approvedAt', input.approvedAt);
  return write(database, actor, workspaceRef, { ...options, evaluate: false }, async (trx, ctx) => {
    const policy = await requirePolicy(trx, ctx, policyRef);
    return approveVersionIn(trx, ctx, policy, await requireVersion(trx, ctx, policy, version), {
      approver,
      approvedAt: approvedAt ?? ctx.now,
    });
  });
}

export async function publishPolicyVersion(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  policyRef: string,
  version: number,
  input: { publishedAt?: unknown; campaign?: unknown; dueAt?: unknown; audience?: unknown },
  options: WriteOptions = {},
) {
  const publishedAt = optionalInstant('publishedAt', input.publishedAt);
  const launch = bool('campaign', input.campaign, true);
  const dueAt = optionalInstant('dueAt', input.dueAt);
  const audience = emailList('audience', input.audience);
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const policy = await requirePolicy(trx, ctx, policyRef);
    return publishVersionIn(trx, ctx, policy, await requireVersion(trx, ctx, policy, version), {
      publishedAt: publishedAt ?? ctx.now,
      campaign: launch ? { dueAt, audience } : false,
    });
  });
}

export async function launchCampaign(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  policyRef: string,
  version: number,
  input: { dueAt?: unknown; audience?: unknown; launchedAt?: unknown },
  options: WriteOptions = {},
) {
  const dueAt = optionalInstant('dueAt', input.dueAt);
  const audience = emailList('audience', input.audience);
  const launchedAt = optionalInstant('launchedAt', input.launchedAt);
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const policy = await requirePolicy(trx, ctx, policyRef);
    const at = launchedAt ?? ctx.now;
    return launchCampaignIn(trx, ctx, policy, await requireVersion(trx, ctx, policy, version), {
      dueAt: dueAt ?? addDays(at, defaultAckSettings.campaignDays),
      audience,
      launchedAt: at,
    });
  });
}

export async function reviewPolicy(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  policyRef: string,
  input: { reviewer?: unknown; outcome?: unknown; notes?: unknown; reviewedAt?: unknown },
  options: WriteOptions = {},
) {
  const reviewer = text('reviewer', input.reviewer);
  const outcome = oneOf('outcome', input.outcome ?? 'no_change', ['no_change', 'revision_needed'] as const);
  const notes = prose('notes', input.notes);
  const reviewedAt = optionalInstant('reviewedAt', input.reviewedAt);
  return write(database, actor, workspaceRef, options, async (trx, ctx) =>
    reviewPolicyIn(trx, ctx, await requirePolicy(trx, ctx, policyRef), {
      reviewer,
      outcome,
      notes,
      reviewedAt: reviewedAt ?? ctx.now,
    }),
  );
}

/** Acknowledges a version (default: the current one) for one person. */
export async function acknowledgePolicy(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  policyRef: string,
  input: { email?: unknown; version?: unknown; acknowledgedAt?: unknown; source?: unknown },
  options: WriteOptions = {},
) {
  const who = email('email', input.email);
  const versionNumber =
    input.version === undefined || input.version === null
      ? null
      : integer('version', input.version, 1, 100_000);
  const acknowledgedAt = optionalInstant('acknowledgedAt', input.acknowledgedAt);
  const source = oneOf('source', input.source ?? 'recorded', ackSources);
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const policy = await requirePolicy(trx, ctx, policyRef);
    let version: PolicyVersionRow;
    if (versionNumber !== null) version = await requireVersion(trx, ctx, policy, versionNumber);
    else {
      const current = (await listVersionRows(trx, ctx.workspaceId, policy.id)).find(
        (v) => v.id === policy.current_version_id,
      );
      if (!current) {
        throw new AssayError(
          'register_transition_invalid',
          `"${policy.title}" has no published version to acknowledge`,
        );
      }
      version = current;
    }
    const result = await acknowledgeIn(trx, ctx, policy, version, {
      email: who,
      acknowledgedAt: acknowledgedAt ?? ctx.now,
      source,
    });
    if (result.created) {
      await audit(trx, ctx, 'policy.acknowledged', 'policy', policy.id, {
        version: version.version,
        email: who,
      });
    }
    return { ...result, version };
  });
}

export async function listPolicies(database: Database, workspaceRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, async (trx) => ({
    policies: await listPolicyRows(trx, ctx.workspaceId),
    versions: await listVersionRows(trx, ctx.workspaceId),
  }));
}

export async function getPolicy(database: Database, workspaceRef: string, policyRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const policy = await requirePolicy(trx, ctx, policyRef);
    return {
      policy,
      versions: await listVersionRows(trx, ctx.workspaceId, policy.id),
      reviews: await listPolicyReviewRows(trx, ctx.workspaceId, policy.id),
      campaigns: (await listCampaignRows(trx, ctx.workspaceId)).filter((c) => c.policy_id === policy.id),
    };
  });
}

/** One version's campaign: who must acknowledge, by when, who has (with timestamps), who is late. */
export async function versionAcknowledgements(
  database: Database,
  workspaceRef: string,
  policyRef: string,
  versionNumber: number,
  options: { asOf?: Date } = {},
) {
  const ctx = await readContext(database, workspaceRef);
  const asOf = options.asOf ?? ctx.now;
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const policy = await requirePolicy(trx, ctx, policyRef);
    const version = await requireVersion(trx, ctx, policy, versionNumber);
    const campaign = (await findCampaign(trx, ctx.workspaceId, version.id)) ?? null;
    const acknowledgements = await listAcknowledgementRows(trx, ctx.workspaceId, { versionId: version.id });
    const status = version.published_at
      ? acknowledgementStatus({
          publishedAt: version.published_at,
          campaign,
          workforce: activeWorkforce(await listWorkforce(trx, ctx.workspaceId), asOf),
          acknowledgements,
          asOf,
        })
      : null;
    return { policy, version, campaign, acknowledgements, status, asOf };
  });
}

// --- statements: policy vs practice -------------------------------------------------------------

/** The statements this policy makes, each with whether the checks linked to it show practice matching. */
export async function policyStatements(database: Database, workspaceRef: string, policyRef: string) {
  const ctx = await readContext(database, workspaceRef);
  const policy = await database.inWorkspace(ctx.workspaceId, (trx) => requirePolicy(trx, ctx, policyRef));
  const statements = (await listStatements(database, workspaceRef)).filter(
    (s) => s.statement.policy_id === policy.id,
  );
  return { policy, statements };
}

/** Adds a statement to a policy, linked to the checks that prove it (see docs/checks.md). */
export async function addPolicyStatement(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  policyRef: string,
  input: { statement?: unknown; checks?: unknown },
) {
  const statement = text('statement', input.statement, 2000);
  const checks = list('checks', input.checks, 50, 100);
  const ctx = await readContext(database, workspaceRef);
  const policy = await database.inWorkspace(ctx.workspaceId, (trx) => requirePolicy(trx, ctx, policyRef));
  return createPolicyStatement(database, actor, workspaceRef, { statement, checks, policyId: policy.id });
}
