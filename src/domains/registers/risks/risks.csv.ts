/** The CSV form of the risk register (see docs/registers.md). */
import { type CsvKind, cell, type Input, result } from '../shared/csv.ts';
import { findRisk, listRiskRows } from './risks.repository.ts';
import { normalizeRisk, riskChecks, upsertRiskIn } from './risks.service.ts';

export const risks: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeRisk> }> = {
  kind: 'risks',
  register: 'risks',
  description: 'The risk register.',
  checks: riskChecks,
  columns: [
    { header: 'reference', required: true, description: 'Risk reference, e.g. R-001 (the key).' },
    { header: 'title', required: 'new', description: 'The risk in a sentence.' },
    { header: 'description', description: 'Cause, event and consequence.' },
    { header: 'category', description: 'Free text (e.g. security, vendor, fraud).' },
    { header: 'owner', description: 'Who owns the risk.' },
    { header: 'fraud_risk', description: 'true for a fraud risk (CC3.3).' },
    { header: 'inherent_likelihood', required: 'new', description: '1 to the scale maximum (5 by default).' },
    { header: 'inherent_impact', required: 'new', description: '1 to the scale maximum.' },
    { header: 'residual_likelihood', description: 'After treatment.' },
    { header: 'residual_impact', description: 'After treatment.' },
    { header: 'treatment', required: 'new', description: 'mitigate, accept, transfer or avoid.' },
    { header: 'treatment_plan', description: 'How the treatment is carried out.' },
    { header: 'controls', description: 'Control template ids carrying the treatment, `;`-separated.' },
    { header: 'status', description: 'open (default) or closed.' },
    { header: 'review_cadence_days', description: 'Days between reviews (default 365).' },
    {
      header: 'last_reviewed_at',
      description: 'When the risk was last assessed (default: the import time).',
    },
  ],
  async rows(trx, ctx) {
    return (await listRiskRows(trx, ctx.workspaceId)).map((r) => ({
      reference: r.reference,
      title: r.title,
      description: r.description,
      category: r.category,
      owner: cell.text(r.owner),
      fraud_risk: cell.bool(r.fraud_risk),
      inherent_likelihood: cell.int(r.inherent_likelihood),
      inherent_impact: cell.int(r.inherent_impact),
      residual_likelihood: cell.int(r.residual_likelihood),
      residual_impact: cell.int(r.residual_impact),
      treatment: r.treatment,
      treatment_plan: r.treatment_plan,
      controls: cell.list(r.control_ids),
      status: r.status,
      review_cadence_days: cell.int(r.review_cadence_days),
      last_reviewed_at: cell.date(r.last_reviewed_at),
    }));
  },
  parse: (raw) => ({ raw, values: normalizeRisk(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findRisk(trx, ctx.workspaceId, values.reference!);
    return result(await upsertRiskIn(trx, ctx, existing ? values : normalizeRisk(raw, 'create'), 'upsert'));
  },
};
