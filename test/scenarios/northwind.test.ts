/**
 * End to end, exactly as the scenario's README says: import a company's data in its vendors'
 * formats, run the checks as of the stated time, and compare the open findings with
 * `expected.json` — every expected finding present, nothing else open, and no finding at all for
 * the subjects listed as clean.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cliHarness } from '../helpers/cli.ts';
import { sharedPath } from '../helpers/shared.ts';

interface Expected {
  tenant: string;
  as_of: string;
  expected_open_findings: { subject: string; aliases: string[]; criteria_any: string[]; why: string }[];
  must_have_no_open_finding: string[];
}

interface Finding {
  checkId: string;
  criteria: string[];
  subject: Record<string, unknown>;
  status: string;
  detail: string;
}

function subjectStrings(subject: Record<string, unknown>): string[] {
  const values: string[] = [];
  for (const value of Object.values(subject)) {
    if (typeof value === 'string') values.push(value.toLowerCase());
    if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') values.push(v.toLowerCase());
  }
  return values;
}

function names(entry: { subject: string; aliases: string[] }): string[] {
  return [entry.subject, ...entry.aliases].map((s) => s.toLowerCase());
}

function matches(finding: Finding, entry: Expected['expected_open_findings'][number]): boolean {
  const strings = subjectStrings(finding.subject);
  return (
    names(entry).some((n) => strings.includes(n)) &&
    finding.criteria.some((c) => entry.criteria_any.includes(c))
  );
}

test('northwind: the open findings are exactly those expected', async (t) => {
  const dir = sharedPath('scenarios/northwind');
  const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8')) as Expected;
  const assay = await cliHarness(t);
  const ok = async (...args: string[]) => {
    const result = await assay(...args);
    assert.equal(result.code, 0, `assay ${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  await ok('tenant', 'create', expected.tenant);
  for (const [kind, file] of [
    ['hr-roster', 'hr_roster.csv'],
    ['okta-system-log', 'okta_system_log.jsonl'],
    ['aws-iam-credential-report', 'iam_credential_report.csv'],
    ['aws-cloudtrail', 'cloudtrail.json'],
    ['github-audit-log', 'github_audit_log.jsonl'],
  ] as const) {
    await ok('import', kind, `${dir}/${file}`, '--tenant', expected.tenant);
  }
  await ok('checks', 'run', '--tenant', expected.tenant, '--as-of', expected.as_of);
  const findings = (
    await ok('findings', 'list', '--tenant', expected.tenant, '--status', 'open', '--json')
  ).json().findings as Finding[];

  for (const entry of expected.expected_open_findings) {
    assert.ok(
      findings.some((f) => matches(f, entry)),
      `missing an open finding for ${entry.subject} (${entry.why})`,
    );
  }
  for (const finding of findings) {
    assert.ok(
      expected.expected_open_findings.some((e) => matches(finding, e)),
      `unexpected open finding ${finding.checkId} on ${JSON.stringify(finding.subject)}: ${finding.detail}`,
    );
  }
  for (const clean of expected.must_have_no_open_finding) {
    const hit = findings.find((f) => subjectStrings(f.subject).includes(clean.toLowerCase()));
    assert.equal(hit, undefined, `${clean} must have no open finding, has ${hit?.checkId}`);
  }

  // Replaying every import changes nothing, and a second run opens nothing new.
  for (const [kind, file] of [
    ['okta-system-log', 'okta_system_log.jsonl'],
    ['github-audit-log', 'github_audit_log.jsonl'],
  ] as const) {
    const replay = (await ok('import', kind, `${dir}/${file}`, '--tenant', expected.tenant, '--json')).json();
    assert.equal(replay.eventsStored, 0);
  }
  const again = (
    await ok('checks', 'run', '--tenant', expected.tenant, '--as-of', expected.as_of, '--json')
  ).json();
  assert.equal(again.findingsOpened, 0);
  assert.equal(again.findingsClosed, 0);
});
