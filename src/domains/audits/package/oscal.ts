/**
 * The package's OSCAL 1.0.6 documents (NIST): assessment-results — the period as the assessment
 * window, the in-scope criteria as the reviewed controls, each control's tested population as an
 * observation, deviations and open findings as risks, and one finding per criterion — and the
 * plan of action and milestones, one item per risk. UUIDs are name-based (version 5) on the
 * workspace, the period and the thing described, so exporting the same period again gives the
 * same UUIDs and an auditor can follow an item from one package to the next.
 */
import { createHash } from 'node:crypto';
import type { ReadinessReport } from '../readiness.service.ts';

export const oscalVersion = '1.0.6';
/** Assay's namespace for OSCAL props. */
const ns = 'https://assay.dev/ns/oscal';
const namespaceUuid = 'f1c0a7d2-5b8e-4c3a-9e61-2d7b3c4a5e90';

/** RFC 4122 version 5 UUID (SHA-1, name-based). */
export function uuidV5(name: string, namespace: string = namespaceUuid): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface OscalFinding {
  id: string;
  checkId: string;
  controlIds: string[];
  criteria: string[];
  severity: string;
  status: string;
  detail: string;
  subjectKey: string;
  openedAt: string;
  closedAt: string | null;
  deadline: string;
  exceptionId: string | null;
}

export interface OscalInput {
  workspace: { id: string; slug: string; name: string };
  period: { label: string; reportType: 'type1' | 'type2'; from: string; to: string };
  report: ReadinessReport;
  /** First deviations per control, by template id (already limited by the caller). */
  deviations: Map<string, { label: string; status: string; detail: string }[]>;
  findings: OscalFinding[];
  generatedAt: string;
}

/** OSCAL strings may not be empty nor start or end with whitespace. */
function text(value: string, fallback = '-'): string {
  const trimmed = value.replace(/\s+/g, ' ').trim();
  return trimmed === '' ? fallback : trimmed;
}

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;
const prop = (name: string, value: string) => ({ name, ns, value: text(value) });

function metadata(input: OscalInput, title: string, partyUuid: string) {
  return {
    title,
    'last-modified': input.generatedAt,
    version: input.generatedAt,
    'oscal-version': oscalVersion,
    parties: [{ uuid: partyUuid, type: 'organization', name: text(input.workspace.name) }],
    props: [
      prop('workspace', input.workspace.slug),
      prop('audit-period', input.period.label),
      prop('report-type', input.period.reportType),
    ],
  };
}

interface Built {
  observations: Record<string, unknown>[];
  risks: Record<string, unknown>[];
  findings: Record<string, unknown>[];
  poamItems: Record<string, unknown>[];
}

function build(input: OscalInput): Built {
  const base = `${input.workspace.id}/${input.period.label}`;
  const id = (kind: string, key: string) => uuidV5(`${base}/${kind}/${key}`);
  const observations: Record<string, unknown>[] = [];
  const risks: Record<string, unknown>[] = [];
  const poamItems: Record<string, unknown>[] = [];
  const observationOf = new Map<string, string>();
  const risksOfControl = new Map<string, string[]>();
  const addRisk = (templateId: string, uuid: string) =>
    risksOfControl.set(templateId, [...(risksOfControl.get(templateId) ?? []), uuid]);

  for (const c of input.report.controls) {
    const observationUuid = id('observation', c.templateId);
    observationOf.set(c.templateId, observationUuid);
    const deviations = input.deviations.get(c.templateId) ?? [];
    const summary =
      c.population === 0
        ? `${c.templateId} ${c.title}: no occurrences in the period.`
        : `${c.templateId} ${c.title}: population of ${c.population} ${c.unit}s, ${c.deviations.total} deviations ` +
          `(${c.deviations.late} late, ${c.deviations.missing} missing, ${c.deviations.failed} failed), ` +
          `${c.exceptions} covered by exceptions; an auditor's sample of ${c.sampleSize} finds a deviation ` +
          `with probability ${pct(c.probabilityOfDeviationInSample)}.`;
    const listed = deviations.map((d) => `${d.label}: ${d.status} (${d.detail})`).join('; ');
    observations.push({
      uuid: observationUuid,
      title: text(`Population of ${c.templateId}`),
      description: text(listed === '' ? summary : `${summary} Deviations: ${listed}.`),
      props: [
        prop('control', c.templateId),
        prop('population', String(c.population)),
        prop('deviations', String(c.deviations.total)),
        prop('sample-size', String(c.sampleSize)),
        prop('probability-of-deviation-in-sample', c.probabilityOfDeviationInSample.toFixed(6)),
      ],
      methods: [c.kind === 'monitoring' ? 'TEST' : 'EXAMINE'],
      types: [c.deviations.total > 0 ? 'finding' : 'control-objective'],
      'relevant-evidence': [
        {
          href: `../controls/${c.templateId}/population.csv`,
          description: text(`Every occurrence of ${c.templateId} in the period with its evidence ids`),
        },
      ],
      collected: input.generatedAt,
    });
    if (c.deviations.total > 0) {
      const riskUuid = id('risk', `control/${c.templateId}`);
      addRisk(c.templateId, riskUuid);
      risks.push({
        uuid: riskUuid,
        title: text(`${c.templateId} did not operate on every occasion`),
        description: text(summary),
        statement: text(
          `An auditor testing ${c.sampleSize} of ${c.population} ${c.unit}s would find at least one deviation ` +
            `with probability ${pct(c.probabilityOfDeviationInSample)}; a deviation found in the sample is reported ` +
            `as an exception in the Type II report for criteria ${c.criteria.join(', ') || '(none)'}.`,
        ),
        props: [prop('control', c.templateId)],
        status: 'open',
        'related-observations': [{ 'observation-uuid': observationUuid }],
      });
      poamItems.push({
        uuid: id('poam-item', `control/${c.templateId}`),
        title: text(`Remediate deviations of ${c.templateId}`),
        description: text(
          c.deviations.missing > 0
            ? `Record the missing ${c.unit} evidence or document an exception; then operate each ${c.unit} on time.`
            : c.deviations.late > 0
              ? `Operate each ${c.unit} before its due date.`
              : `Fix the failures behind the ${c.unit}s and keep the control passing.`,
        ),
        props: [prop('control', c.templateId)],
        'related-observations': [{ 'observation-uuid': observationUuid }],
        'related-risks': [{ 'risk-uuid': riskUuid }],
      });
    }
  }

  for (const f of input.findings) {
    const riskUuid = id('risk', `finding/${f.id}`);
    const observationUuid = id('observation', `finding/${f.id}`);
    observations.push({
      uuid: observationUuid,
      title: text(`Finding ${f.checkId}`),
      description: text(`${f.checkId} on ${f.subjectKey}: ${f.detail}`),
      props: [prop('finding', f.id), prop('check', f.checkId), prop('severity', f.severity)],
      methods: ['TEST'],
      types: ['finding'],
      collected: f.openedAt,
    });
    for (const control of f.controlIds) addRisk(control, riskUuid);
    const status = f.status === 'closed' ? 'closed' : f.exceptionId !== null ? 'deviation-approved' : 'open';
    risks.push({
      uuid: riskUuid,
      title: text(`${f.checkId}: ${f.subjectKey}`),
      description: text(f.detail),
      statement: text(
        `Opened ${f.openedAt}${f.closedAt ? `, closed ${f.closedAt}` : ''}; severity ${f.severity}; ` +
          `controls ${f.controlIds.join(', ') || '(none)'}; criteria ${f.criteria.join(', ') || '(none)'}.`,
      ),
      props: [prop('finding', f.id), prop('severity', f.severity)],
      status,
      deadline: f.deadline,
      'related-observations': [{ 'observation-uuid': observationUuid }],
    });
    if (status !== 'closed') {
      poamItems.push({
        uuid: id('poam-item', `finding/${f.id}`),
        title: text(`Resolve finding ${f.checkId} on ${f.subjectKey}`),
        description: text(f.detail),
        props: [prop('finding', f.id), prop('deadline', f.deadline)],
        'related-observations': [{ 'observation-uuid': observationUuid }],
        'related-risks': [{ 'risk-uuid': riskUuid }],
      });
    }
  }

  const controlsByTemplate = new Map(input.report.controls.map((c) => [c.templateId, c]));
  const findings = input.report.criteria.map((criterion) => {
    const controls = criterion.controls.map((t) => controlsByTemplate.get(t)).filter((c) => c !== undefined);
    const relatedRisks = [...new Set(criterion.controls.flatMap((t) => risksOfControl.get(t) ?? []))];
    const satisfied = relatedRisks.length === 0;
    const finding: Record<string, unknown> = {
      uuid: id('finding', criterion.criterion),
      title: text(`${criterion.criterion} over ${input.period.label}`),
      description: text(
        `${criterion.criterion} is covered by ${controls.map((c) => c.templateId).join(', ') || 'no control'}; ` +
          `the chance an auditor's samples find a deviation is ${pct(criterion.probabilityOfDeviationInSample)}.`,
      ),
      target: {
        type: 'objective-id',
        'target-id': criterion.criterion,
        status: { state: satisfied ? 'satisfied' : 'not-satisfied', reason: satisfied ? 'pass' : 'fail' },
      },
    };
    const relatedObservations = controls.map((c) => observationOf.get(c.templateId)!);
    if (relatedObservations.length > 0) {
      finding['related-observations'] = relatedObservations.map((u) => ({ 'observation-uuid': u }));
    }
    if (relatedRisks.length > 0) finding['related-risks'] = relatedRisks.map((u) => ({ 'risk-uuid': u }));
    return finding;
  });
  return { observations, risks, findings, poamItems };
}

function withArrays(target: Record<string, unknown>, arrays: Record<string, unknown[]>) {
  // OSCAL arrays hold at least one item: empty ones are left out.
  for (const [key, value] of Object.entries(arrays)) if (value.length > 0) target[key] = value;
  return target;
}

export function buildOscal(input: OscalInput): {
  assessmentResults: Record<string, unknown>;
  poam: Record<string, unknown>;
} {
  const base = `${input.workspace.id}/${input.period.label}`;
  const partyUuid = uuidV5(`${input.workspace.id}/party`);
  const built = build(input);
  const criteria = input.report.criteria.map((c) => c.criterion);
  const reviewed = {
    description: text(
      `The Trust Services Criteria in scope for ${input.period.label}, each referenced as a control.`,
    ),
    'control-selections': [
      criteria.length > 0
        ? { 'include-controls': criteria.map((c) => ({ 'control-id': c })) }
        : { 'include-all': {} },
    ],
  };
  const result = withArrays(
    {
      uuid: uuidV5(`${base}/result`),
      title: text(
        `SOC 2 ${input.period.reportType === 'type1' ? 'Type I' : 'Type II'} readiness, ${input.period.label}`,
      ),
      description: text(
        `Operating effectiveness of ${input.workspace.name} over ${input.period.from} to ${input.period.to} ` +
          `(judged at ${input.report.judgedAt}): readiness score ${input.report.score} / 100; the chance that an ` +
          `auditor's samples find at least one deviation is ${pct(input.report.probabilityAnyDeviation)}.`,
      ),
      start: input.period.from,
      end: input.period.to,
      props: [
        prop('readiness-score', String(input.report.score)),
        prop('probability-any-deviation', input.report.probabilityAnyDeviation.toFixed(6)),
        prop('judged-at', input.report.judgedAt),
      ],
      'reviewed-controls': reviewed,
    },
    { observations: built.observations, risks: built.risks, findings: built.findings },
  );
  const assessmentResults = {
    'assessment-results': {
      uuid: uuidV5(`${base}/assessment-results`),
      metadata: metadata(
        input,
        text(`Assessment results: ${input.workspace.name}, ${input.period.label}`),
        partyUuid,
      ),
      'import-ap': {
        href: '../manifest.json',
        remarks: text(
          'Assay exports no separate assessment plan: the period, the frozen scope and the sampling convention ' +
            'are in the manifest and in report.html.',
        ),
      },
      results: [result],
    },
  };
  const poamItems =
    built.poamItems.length > 0
      ? built.poamItems
      : [
          {
            uuid: uuidV5(`${base}/poam-item/none`),
            title: 'No open items',
            description: text(`No control deviated and no finding was open during ${input.period.label}.`),
          },
        ];
  const poam = {
    'plan-of-action-and-milestones': withArrays(
      {
        uuid: uuidV5(`${base}/poam`),
        metadata: metadata(
          input,
          text(`Plan of action and milestones: ${input.workspace.name}, ${input.period.label}`),
          partyUuid,
        ),
      },
      { observations: built.observations, risks: built.risks, 'poam-items': poamItems },
    ),
  };
  return { assessmentResults, poam };
}
