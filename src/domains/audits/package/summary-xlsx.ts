/**
 * The package's spreadsheet (summary.xlsx), written with exceljs's streaming writer so that a
 * large period never sits in memory as a workbook: readiness per control, per criterion, the
 * findings of the period, each population's counts by status, and the deviations themselves.
 */
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { Population } from '../populations.ts';
import type { ReadinessReport } from '../readiness.service.ts';
import type { OscalFinding } from './oscal.ts';

/** Deviations listed row by row; beyond this the sheet points to the CSVs. */
const maxDeviationRows = 5000;

export async function writeSummaryXlsx(
  output: Writable,
  input: {
    title: string;
    report: ReadinessReport;
    populations: Population[];
    findings: OscalFinding[];
  },
): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: output,
    useStyles: false,
    useSharedStrings: false,
  });
  workbook.creator = 'Assay';
  workbook.title = input.title;

  const readiness = workbook.addWorksheet('Readiness');
  readiness.columns = [
    { header: 'Control', key: 'control', width: 10 },
    { header: 'Title', key: 'title', width: 40 },
    { header: 'Frequency', key: 'frequency', width: 12 },
    { header: 'Criteria', key: 'criteria', width: 24 },
    { header: 'Kind', key: 'kind', width: 12 },
    { header: 'Unit', key: 'unit', width: 20 },
    { header: 'Population', key: 'population', width: 11 },
    { header: 'Late', key: 'late', width: 7 },
    { header: 'Missing', key: 'missing', width: 8 },
    { header: 'Failed', key: 'failed', width: 7 },
    { header: 'Deviations', key: 'deviations', width: 10 },
    { header: 'Exceptions', key: 'exceptions', width: 10 },
    { header: 'Sample size', key: 'sample', width: 11 },
    { header: 'P(deviation in sample)', key: 'p', width: 20 },
  ];
  for (const c of input.report.controls) {
    readiness
      .addRow({
        control: c.templateId,
        title: c.title,
        frequency: c.frequency,
        criteria: c.criteria.join(', '),
        kind: c.kind,
        unit: c.unit,
        population: c.population,
        late: c.deviations.late,
        missing: c.deviations.missing,
        failed: c.deviations.failed,
        deviations: c.deviations.total,
        exceptions: c.exceptions,
        sample: c.sampleSize,
        p: Number(c.probabilityOfDeviationInSample.toFixed(6)),
      })
      .commit();
  }
  readiness.addRow([]).commit();
  readiness.addRow(['Score', input.report.score]).commit();
  readiness.addRow(['P(any deviation)', Number(input.report.probabilityAnyDeviation.toFixed(6))]).commit();
  readiness.commit();

  const criteria = workbook.addWorksheet('Criteria');
  criteria.columns = [
    { header: 'Criterion', key: 'criterion', width: 12 },
    { header: 'Controls', key: 'controls', width: 40 },
    { header: 'P(deviation in samples)', key: 'p', width: 22 },
  ];
  for (const c of input.report.criteria) {
    criteria
      .addRow({
        criterion: c.criterion,
        controls: c.controls.join(', '),
        p: Number(c.probabilityOfDeviationInSample.toFixed(6)),
      })
      .commit();
  }
  criteria.commit();

  const findings = workbook.addWorksheet('Findings');
  findings.columns = [
    { header: 'Finding', key: 'id', width: 38 },
    { header: 'Check', key: 'check', width: 30 },
    { header: 'Controls', key: 'controls', width: 16 },
    { header: 'Criteria', key: 'criteria', width: 16 },
    { header: 'Subject', key: 'subject', width: 30 },
    { header: 'Severity', key: 'severity', width: 10 },
    { header: 'Status', key: 'status', width: 10 },
    { header: 'Opened', key: 'opened', width: 25 },
    { header: 'Closed', key: 'closed', width: 25 },
    { header: 'Deadline', key: 'deadline', width: 25 },
    { header: 'Exception', key: 'exception', width: 38 },
    { header: 'Detail', key: 'detail', width: 60 },
  ];
  for (const f of input.findings) {
    findings
      .addRow({
        id: f.id,
        check: f.checkId,
        controls: f.controlIds.join(', '),
        criteria: f.criteria.join(', '),
        subject: f.subjectKey,
        severity: f.severity,
        status: f.status,
        opened: f.openedAt,
        closed: f.closedAt ?? '',
        deadline: f.deadline,
        exception: f.exceptionId ?? '',
        detail: f.detail,
      })
      .commit();
  }
  findings.commit();

  const populations = workbook.addWorksheet('Populations');
  populations.columns = [
    { header: 'Control', key: 'control', width: 10 },
    { header: 'Kind', key: 'kind', width: 12 },
    { header: 'Unit', key: 'unit', width: 24 },
    { header: 'Occurrences', key: 'size', width: 12 },
    { header: 'Operated', key: 'operated', width: 10 },
    { header: 'Late', key: 'late', width: 7 },
    { header: 'Missing', key: 'missing', width: 8 },
    { header: 'Failed', key: 'failed', width: 7 },
    { header: 'Exception', key: 'exception', width: 10 },
    { header: 'First', key: 'first', width: 25 },
    { header: 'Last', key: 'last', width: 25 },
    { header: 'Every occurrence', key: 'file', width: 34 },
  ];
  for (const p of input.populations) {
    const count = (status: string) => p.occurrences.filter((o) => o.status === status).length;
    populations
      .addRow({
        control: p.templateId,
        kind: p.kind,
        unit: p.unit,
        size: p.occurrences.length,
        operated: count('operated'),
        late: count('late'),
        missing: count('missing'),
        failed: count('failed'),
        exception: count('exception'),
        first: p.occurrences[0]?.start ?? '',
        last: p.occurrences.at(-1)?.start ?? '',
        file: `controls/${p.templateId}/population.csv`,
      })
      .commit();
  }
  populations.commit();

  // Every deviation, up to a limit (a spreadsheet is for reading; the CSVs hold everything).
  const deviations = workbook.addWorksheet('Deviations');
  deviations.columns = [
    { header: 'Control', key: 'control', width: 10 },
    { header: 'Occurrence', key: 'id', width: 30 },
    { header: 'Label', key: 'label', width: 30 },
    { header: 'Status', key: 'status', width: 10 },
    { header: 'Start', key: 'start', width: 25 },
    { header: 'Due', key: 'due', width: 25 },
    { header: 'Detail', key: 'detail', width: 40 },
    { header: 'Evidence ids', key: 'evidence', width: 40 },
    { header: 'Event ids', key: 'events', width: 20 },
  ];
  let listed = 0;
  let total = 0;
  for (const p of input.populations) {
    for (const o of p.occurrences) {
      if (o.status !== 'late' && o.status !== 'missing' && o.status !== 'failed') continue;
      total += 1;
      if (listed >= maxDeviationRows) continue;
      listed += 1;
      deviations
        .addRow({
          control: p.templateId,
          id: o.id,
          label: o.label,
          status: o.status,
          start: o.start,
          due: o.due,
          detail: o.detail,
          evidence: o.evidenceIds.join(' '),
          events: o.eventIds.join(' '),
        })
        .commit();
    }
  }
  if (total > listed) {
    deviations.addRow([`…and ${total - listed} more: see each control's population.csv`]).commit();
  }
  deviations.commit();
  await workbook.commit();
}
