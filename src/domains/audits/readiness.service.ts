/**
 * Type II readiness: per control, its population in the period, the deviations, the sample an
 * auditor would likely test, and the chance that sample finds a deviation; rolled up per
 * criterion and for the report, with the gaps to fix first. Every figure traces back to the
 * occurrences (and their evidence and events) it was computed from.
 */
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import {
  type ControlFrequency,
  defaultConvention,
  probabilityAnyDeviation,
  probabilityOfDetectingDeviation,
  type SampleConvention,
  sampleSize,
} from './forecast.ts';
import {
  computePopulations,
  deviationStatuses,
  type Occurrence,
  type PeriodWindow,
  type Population,
} from './populations.ts';

const day = 24 * 3600 * 1000;

/** Parses `FROM..TO` (inclusive dates, YYYY-MM-DD) into a window [from 00:00, to+1 00:00) UTC. */
export function parsePeriod(raw: string): PeriodWindow {
  const match = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(raw.trim());
  const from = match ? new Date(`${match[1]}T00:00:00Z`) : null;
  const last = match ? new Date(`${match[2]}T00:00:00Z`) : null;
  if (!from || !last || Number.isNaN(from.getTime()) || Number.isNaN(last.getTime())) {
    throw new AssayError(
      'invalid_period',
      `period "${raw}": expected FROM..TO as dates, e.g. 2026-01-01..2026-12-31`,
      {
        field: 'period',
      },
    );
  }
  if (last < from)
    throw new AssayError('invalid_period', `period "${raw}": ends before it starts`, { field: 'period' });
  if (last.getTime() - from.getTime() > 3 * 366 * day) {
    throw new AssayError('invalid_period', `period "${raw}": longer than three years`, { field: 'period' });
  }
  return { from, to: new Date(last.getTime() + day) };
}

export interface ControlReadiness {
  controlId: string;
  templateId: string;
  title: string;
  frequency: ControlFrequency;
  criteria: string[];
  kind: Population['kind'];
  unit: string;
  population: number;
  deviations: { late: number; missing: number; failed: number; total: number };
  exceptions: number;
  sampleSize: number;
  /** P(the auditor's random sample contains at least one deviation). */
  probabilityOfDeviationInSample: number;
  firstDeviation: Occurrence | null;
}

export interface ReadinessReport {
  workspace: string;
  period: { from: string; to: string };
  judgedAt: string;
  /** 0–100: the expected share of controls whose sample would show no deviation. */
  score: number;
  probabilityAnyDeviation: number;
  controls: ControlReadiness[];
  criteria: { criterion: string; controls: string[]; probabilityOfDeviationInSample: number }[];
  gaps: {
    templateId: string;
    title: string;
    probabilityOfDeviationInSample: number;
    deviations: number;
    unit: string;
    first: string | null;
    advice: string;
  }[];
}

export async function readinessReport(
  database: Database,
  workspaceRef: string,
  period: PeriodWindow,
  options: {
    deprovisioningSlaHours: number;
    now?: Date;
    convention?: SampleConvention;
    /** Only these controls (template ids): a declared period's frozen scope. */
    controls?: ReadonlySet<string> | undefined;
  },
): Promise<ReadinessReport & { populations: Population[] }> {
  const workspace = await getWorkspace(database, workspaceRef);
  const now = options.now ?? new Date();
  const populations = await database.inWorkspace(workspace.id, (trx) =>
    computePopulations(trx, workspace.id, period, {
      deprovisioningSlaHours: options.deprovisioningSlaHours,
      now,
      controls: options.controls,
    }),
  );
  const convention = options.convention ?? defaultConvention;
  const controls: ControlReadiness[] = populations.map((p) => {
    const count = (s: string) => p.occurrences.filter((o) => o.status === s).length;
    const deviations = { late: count('late'), missing: count('missing'), failed: count('failed'), total: 0 };
    deviations.total = deviations.late + deviations.missing + deviations.failed;
    const size = sampleSize(p.frequency, p.occurrences.length, convention);
    return {
      controlId: p.controlId,
      templateId: p.templateId,
      title: p.title,
      frequency: p.frequency,
      criteria: p.criteria,
      kind: p.kind,
      unit: p.unit,
      population: p.occurrences.length,
      deviations,
      exceptions: count('exception'),
      sampleSize: size,
      probabilityOfDeviationInSample: probabilityOfDetectingDeviation(
        p.occurrences.length,
        deviations.total,
        size,
      ),
      firstDeviation: p.occurrences.find((o) => deviationStatuses.has(o.status)) ?? null,
    };
  });
  const judged = controls.filter((c) => c.population > 0);
  const score =
    judged.length === 0
      ? 0
      : (100 * judged.reduce((sum, c) => sum + (1 - c.probabilityOfDeviationInSample), 0)) / judged.length;
  const criteria = new Map<string, ControlReadiness[]>();
  for (const c of controls) for (const id of c.criteria) criteria.set(id, [...(criteria.get(id) ?? []), c]);
  const gaps = controls
    .filter((c) => c.deviations.total > 0)
    .sort(
      (a, b) =>
        b.probabilityOfDeviationInSample - a.probabilityOfDeviationInSample ||
        b.deviations.total - a.deviations.total,
    )
    .map((c) => ({
      templateId: c.templateId,
      title: c.title,
      probabilityOfDeviationInSample: c.probabilityOfDeviationInSample,
      deviations: c.deviations.total,
      unit: c.unit,
      first: c.firstDeviation ? `${c.firstDeviation.label}: ${c.firstDeviation.detail}` : null,
      advice:
        c.deviations.missing > 0
          ? `record the missing ${c.unit} evidence, or document an exception`
          : c.deviations.late > 0
            ? `operate each ${c.unit} before its due date`
            : `fix the failures behind the ${c.unit}s`,
    }));
  return {
    workspace: workspace.slug,
    period: { from: period.from.toISOString(), to: period.to.toISOString() },
    judgedAt: (period.to < now ? period.to : now).toISOString(),
    score: Math.round(score * 10) / 10,
    probabilityAnyDeviation: probabilityAnyDeviation(judged.map((c) => c.probabilityOfDeviationInSample)),
    controls,
    criteria: [...criteria.entries()]
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([criterion, list]) => ({
        criterion,
        controls: list.map((c) => c.templateId),
        probabilityOfDeviationInSample: probabilityAnyDeviation(
          list.map((c) => c.probabilityOfDeviationInSample),
        ),
      })),
    gaps,
    populations,
  };
}
