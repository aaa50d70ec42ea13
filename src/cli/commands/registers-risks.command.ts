import type { Command } from 'commander';
import {
  presentRisk,
  presentRiskReview,
  presentSignificantChange,
} from '../../domains/registers/risks/risks.presenter.ts';
import {
  createRisk,
  getMatrix,
  getRisk,
  listRisks,
  reviewRisk,
  setMatrix,
  updateRisk,
} from '../../domains/registers/risks/risks.service.ts';
import {
  addSignificantChange,
  assessSignificantChange,
  listSignificantChanges,
  scanSignificantChanges,
} from '../../domains/registers/risks/significant-changes.ts';
import { type CommandIO, table } from '../runtime.ts';
import { act, day, truncate } from './registers-common.ts';

const riskOptions = (c: Command) =>
  c
    .option('--title <text>', 'the risk in a sentence')
    .option('--description <text>', 'cause, event, consequence')
    .option('--category <text>', 'category')
    .option('--owner <who>', 'risk owner')
    .option('--fraud-risk <bool>', 'true for a fraud risk (CC3.3)')
    .option('--inherent-likelihood <n>', '1 to the scale maximum')
    .option('--inherent-impact <n>', '1 to the scale maximum')
    .option('--residual-likelihood <n>', 'after treatment')
    .option('--residual-impact <n>', 'after treatment')
    .option('--treatment <t>', 'mitigate, accept, transfer or avoid')
    .option('--treatment-plan <text>', 'how')
    .option('--controls <list>', 'control template ids, comma-separated')
    .option('--status <status>', 'open or closed')
    .option('--review-cadence-days <n>', 'days between reviews (default 365)');

type Detail = Awaited<ReturnType<typeof detail>>;
async function detail(db: Parameters<typeof getRisk>[0], tenant: string, ref: string) {
  const d = await getRisk(db, tenant, ref);
  return { risk: presentRisk(d.matrix, d.risk), reviews: d.reviews.map(presentRiskReview) };
}
const show = (d: Detail) =>
  [
    `${d.risk.reference} ${d.risk.title}${d.risk.fraudRisk ? ' [fraud]' : ''}`,
    `inherent ${d.risk.inherent.likelihood}×${d.risk.inherent.impact}=${d.risk.inherent.score} ${d.risk.inherent.rating}` +
      (d.risk.residual
        ? `; residual ${d.risk.residual.likelihood}×${d.risk.residual.impact}=${d.risk.residual.score} ${d.risk.residual.rating}`
        : ''),
    `treatment: ${d.risk.treatment}${d.risk.controls.length ? ` via ${d.risk.controls.join(', ')}` : ''}; owner ${d.risk.owner ?? '-'}`,
    `last reviewed ${day(d.risk.lastReviewedAt)}, next due ${day(d.risk.nextReviewDue)}; ${d.reviews.length} reviews`,
  ].join('\n');

export function registerRiskCommands(program: Command, io: CommandIO) {
  const risks = program.command('risks').description('the risk register (CC3)');

  risks
    .command('list')
    .requiredOption('--tenant <slug>', 'workspace')
    .description('risks with their ratings')
    .action(
      act(
        io,
        async ({ db, tenant }) => {
          const { matrix, risks: rows } = await listRisks(db, tenant);
          return { matrix, risks: rows.map((r) => presentRisk(matrix, r)) };
        },
        (r) =>
          table(
            ['RISK', 'TITLE', 'INHERENT', 'RESIDUAL', 'TREATMENT', 'OWNER', 'NEXT REVIEW'],
            r.risks.map((x) => [
              x.reference,
              truncate(x.title, 40),
              `${x.inherent.score} ${x.inherent.rating}`,
              x.residual ? `${x.residual.score} ${x.residual.rating}` : '-',
              x.treatment,
              x.owner ?? '-',
              day(x.nextReviewDue),
            ]),
          ),
      ),
    );

  risks
    .command('show')
    .argument('<risk>', 'reference or id')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(act(io, ({ db, tenant, args }) => detail(db, tenant, args[0]!), show));

  riskOptions(risks.command('add').argument('<reference>', 'e.g. R-001').description('add a risk'))
    .option('--last-reviewed-at <date>', 'when last assessed (default now)')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const row = await createRisk(db, actor, tenant, { ...input, reference: args[0] });
          return detail(db, tenant, row.id);
        },
        show,
        ['controls'],
      ),
    );

  riskOptions(risks.command('update').argument('<risk>', 'reference or id').description('update a risk'))
    .option('--reference <ref>', 'rename')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          detail(db, tenant, (await updateRisk(db, actor, tenant, args[0]!, input)).id),
        show,
        ['controls'],
      ),
    );

  riskOptions(
    risks.command('review').argument('<risk>', 'reference or id').description('record a periodic review'),
  )
    .requiredOption('--reviewer <who>', 'who reviewed')
    .option('--notes <text>', 'notes')
    .option('--reviewed-at <date>', 'when (default now)')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          detail(db, tenant, (await reviewRisk(db, actor, tenant, args[0]!, input)).risk.id),
        show,
        ['controls'],
      ),
    );

  risks
    .command('matrix')
    .description('show or set the likelihood × impact scale and rating thresholds')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--likelihood-levels <n>', '2–10')
    .option('--impact-levels <n>', '2–10')
    .option('--medium-from <score>', 'lowest medium score')
    .option('--high-from <score>', 'lowest high score')
    .option('--critical-from <score>', 'lowest critical score')
    .action(
      act(
        io,
        ({ db, actor, tenant, input }) =>
          Object.keys(input).length > 0 ? setMatrix(db, actor, tenant, input) : getMatrix(db, tenant),
        (m) =>
          `${m.likelihoodLevels}×${m.impactLevels}: medium from ${m.mediumFrom}, high from ${m.highFrom}, critical from ${m.criticalFrom}`,
      ),
    );

  const changes = risks
    .command('changes')
    .description('significant changes awaiting risk reassessment (CC3.4)');
  const listed = (rows: ReturnType<typeof presentSignificantChange>[]) =>
    table(
      ['ID', 'KIND', 'DETECTED', 'ASSESSED', 'DESCRIPTION'],
      rows.map((c) => [c.id, c.kind, day(c.detectedAt), day(c.assessedAt), truncate(c.description, 60)]),
    );
  changes
    .command('list')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, tenant }) => ({
          changes: (await listSignificantChanges(db, tenant)).map(presentSignificantChange),
        }),
        (r) => listed(r.changes),
      ),
    );
  changes
    .command('scan')
    .description('detect systems added to scope since the register began')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant }) => ({
          detected: (await scanSignificantChanges(db, actor, tenant)).map(presentSignificantChange),
        }),
        (r) => (r.detected.length === 0 ? 'no new significant changes' : listed(r.detected)),
      ),
    );
  changes
    .command('add')
    .argument('<description>', 'what changed')
    .option('--kind <kind>', 'org_change (default), new_system, new_vendor or other')
    .option('--reference <ref>', 'a reference that makes the record unique')
    .option('--detected-at <date>', 'when')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          presentSignificantChange(
            await addSignificantChange(db, actor, tenant, { ...input, description: args[0] }),
          ),
        (c) => `recorded ${c.kind} ${c.id}; reassessment task ${c.taskId}`,
      ),
    );
  changes
    .command('assess')
    .argument('<id>', 'significant change id')
    .requiredOption('--assessed-by <who>', 'who assessed it')
    .requiredOption('--assessment <text>', 'the conclusion')
    .option('--risks <list>', 'risk references it touched, comma-separated')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          presentSignificantChange(await assessSignificantChange(db, actor, tenant, args[0]!, input)),
        (c) => `assessed ${c.id} (evidence ${c.evidenceId})`,
        ['risks'],
      ),
    );
}
