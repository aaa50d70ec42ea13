/**
 * The package's readable report (report.html): one self-contained page — inline styles, no
 * scripts, fonts or images from elsewhere — that says what was tested, what deviated, how the
 * score was reached and how to verify the package.
 */
import type { Population } from '../populations.ts';
import type { ReadinessReport } from '../readiness.service.ts';
import type { OscalFinding } from './oscal.ts';
import type { PackageSummary } from './package-format.ts';

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => escapes[c]!);
const pct = (p: number) => `${(p * 100).toFixed(1)}%`;

function table(headers: string[], rows: unknown[][]): string {
  if (rows.length === 0) return '<p class="none">None.</p>';
  return `<table><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Deviations listed per control in the report; the full list is in each population.csv. */
const deviationsShown = 25;

export function renderReportHtml(input: {
  summary: Omit<PackageSummary, 'files'>;
  report: ReadinessReport;
  populations: Population[];
  findings: OscalFinding[];
  scopeNote: string;
}): string {
  const { summary, report } = input;
  const period = summary.period;
  const judged = report.controls.filter((c) => c.population > 0).length;
  const deviating = input.populations
    .map((p) => ({
      p,
      deviations: p.occurrences.filter(
        (o) => o.status === 'late' || o.status === 'missing' || o.status === 'failed',
      ),
    }))
    .filter((d) => d.deviations.length > 0);
  const body = `
<header>
  <h1>SOC 2 ${period.reportType === 'type1' ? 'Type I' : 'Type II'} readiness — ${escapeHtml(summary.workspace.name)}</h1>
  <p>Period <strong>${escapeHtml(period.label)}</strong>: ${escapeHtml(period.firstDay)} to ${escapeHtml(period.lastDay)} (inclusive),
  judged at ${escapeHtml(report.judgedAt)}. Package created ${escapeHtml(summary.createdAt)} by ${escapeHtml(summary.createdBy)}.</p>
  <p>${escapeHtml(input.scopeNote)}</p>
</header>
<section>
  <h2>Summary</h2>
  <dl>
    <dt>Readiness score</dt><dd>${escapeHtml(report.score)} / 100</dd>
    <dt>Chance an auditor's samples find at least one deviation</dt><dd>${pct(report.probabilityAnyDeviation)}</dd>
    <dt>Controls with a population</dt><dd>${judged} of ${report.controls.length}</dd>
    <dt>Controls with deviations</dt><dd>${report.gaps.length}</dd>
    <dt>Findings open during the period</dt><dd>${input.findings.length}</dd>
    <dt>Evidence items in the package</dt><dd>${summary.evidence.items}</dd>
  </dl>
  <h3>How the score is reached</h3>
  <p>For each control, its population is every occurrence it should have operated in the period (each
  quarter's review, each day's monitoring, each termination, each merged change). Each occurrence is
  operated, late, missing, failed or covered by an exception, with the evidence behind it
  (<code>controls/&lt;control&gt;/population.csv</code>). The sample an auditor would likely test follows a
  practitioner convention (annual 1, quarterly 2, monthly up to 5, weekly up to 15, daily up to 40, many times a
  day up to 60; event populations by size) — a convention, not an AICPA rule. The probability that such a
  random sample contains at least one deviation is hypergeometric: 1 − C(N−K, n) / C(N, n) for a population of
  N with K deviations and a sample of n. The score is 100 × the average, over the controls with a
  population, of the chance that their sample finds no deviation.</p>
</section>
<section>
  <h2>Gaps to fix first</h2>
  ${table(
    ['Control', 'Title', 'P(found)', 'Deviations', 'First', 'Advice'],
    report.gaps.map((g) => [
      g.templateId,
      g.title,
      pct(g.probabilityOfDeviationInSample),
      `${g.deviations} ${g.unit}s`,
      g.first ?? '',
      g.advice,
    ]),
  )}
</section>
<section>
  <h2>Controls</h2>
  ${table(
    [
      'Control',
      'Title',
      'Criteria',
      'Population',
      'Late',
      'Missing',
      'Failed',
      'Exceptions',
      'Sample',
      'P(found)',
    ],
    report.controls.map((c) => [
      c.templateId,
      c.title,
      c.criteria.join(', '),
      `${c.population} ${c.unit}s`,
      c.deviations.late,
      c.deviations.missing,
      c.deviations.failed,
      c.exceptions,
      c.sampleSize,
      pct(c.probabilityOfDeviationInSample),
    ]),
  )}
</section>
<section>
  <h2>Criteria</h2>
  ${table(
    ['Criterion', 'Controls', 'P(found)'],
    report.criteria.map((c) => [c.criterion, c.controls.join(', '), pct(c.probabilityOfDeviationInSample)]),
  )}
</section>
<section>
  <h2>Deviations</h2>
  ${
    deviating.length === 0
      ? '<p class="none">None.</p>'
      : deviating
          .map(
            ({ p, deviations }) =>
              `<h3>${escapeHtml(p.templateId)} ${escapeHtml(p.title)}</h3>${table(
                ['Occurrence', 'Status', 'Due', 'Detail', 'Evidence', 'Events'],
                deviations
                  .slice(0, deviationsShown)
                  .map((o) => [
                    o.label,
                    o.status,
                    o.due,
                    o.detail,
                    o.evidenceIds.join(' '),
                    o.eventIds.join(' '),
                  ]),
              )}${
                deviations.length > deviationsShown
                  ? `<p>…and ${deviations.length - deviationsShown} more in controls/${escapeHtml(p.templateId)}/population.csv.</p>`
                  : ''
              }`,
          )
          .join('\n')
  }
</section>
<section>
  <h2>Findings</h2>
  ${table(
    ['Check', 'Subject', 'Controls', 'Severity', 'Status', 'Opened', 'Closed', 'Detail'],
    input.findings.map((f) => [
      f.checkId,
      f.subjectKey,
      f.controlIds.join(', '),
      f.severity,
      f.exceptionId ? `${f.status} (exception)` : f.status,
      f.openedAt,
      f.closedAt ?? '',
      f.detail,
    ]),
  )}
</section>
<section>
  <h2>Verifying this package</h2>
  <p>Every file is listed in <code>manifest.json</code> with its SHA-256 and size. The manifest's summary
  (workspace, period, the ledger checkpoint of ${summary.checkpoint.treeSize} entries with root
  <code>${escapeHtml(summary.checkpoint.rootHash)}</code>, and the hash of the file listing) is signed with the
  workspace's ledger key <code>${escapeHtml(summary.checkpoint.keyId)}</code> — confirm that key id with the
  client, not from the package. Each evidence envelope has an inclusion proof in <code>ledger/proofs/</code>
  against that signed checkpoint. <code>assay verify FILE.zip</code> checks all of it offline; the manual
  recipe is in docs/evidence-verification.md (the files it names are <code>ledger/checkpoint.txt</code>,
  <code>ledger/checkpoint.sig</code>, <code>ledger/ledger-key.pem</code>, each envelope, and the
  <code>files</code> of each proof).</p>
</section>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${summary.workspace.name} — ${period.label}`)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .25rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } tr:nth-child(even) td { background: #fbfcfd; }
dl { display: grid; grid-template-columns: max-content auto; gap: .25rem 1rem; } dt { font-weight: 600; } dd { margin: 0; }
code { background: #f6f8fa; padding: 0 .2rem; } .none { color: #57606a; }
@media print { body { margin: 0; } h2 { break-after: avoid; } }
</style>
</head>
<body>${body}
</body>
</html>
`;
}
