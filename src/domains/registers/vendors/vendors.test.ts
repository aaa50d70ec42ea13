import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at, registerFixture, tester } from '../shared/testing.ts';
import {
  addVendorDocument,
  createVendor,
  getVendor,
  mapCuec,
  recordVendorReview,
  updateVendor,
} from './vendors.service.ts';

const soc2 = (periodEnd: string, extra: Record<string, unknown> = {}) => ({
  kind: 'soc2_type2',
  periodStart: `${Number(periodEnd.slice(0, 4)) - 1}${periodEnd.slice(4)}`,
  periodEnd,
  auditor: 'Moss & Partners LLP',
  opinion: 'unqualified',
  categories: ['security', 'availability'],
  services: ['Managed PostgreSQL'],
  subserviceOrganizations: 'Amazon Web Services (carve_out); Stripe (inclusive)',
  ...extra,
});

test('vendors: create and update the inventory, each change in the ledger and the audit trail', async (t) => {
  const f = await registerFixture(t);
  const vendor = await createVendor(
    f.database,
    tester,
    f.slug,
    {
      name: 'Cloudly',
      service: 'Hosting',
      dataAccessed: 'customer data;logs',
      criticality: 'high',
      owner: 'ops@acme.example',
    },
    { now: at('2026-01-10T09:00:00Z') },
  );
  assert.equal(vendor.name, 'Cloudly');
  assert.deepEqual(vendor.data_accessed, ['customer data', 'logs']);
  const updated = await updateVendor(
    f.database,
    tester,
    f.slug,
    'cloudly',
    { criticality: 'critical' },
    { now: at('2026-01-11T09:00:00Z') },
  );
  assert.equal(updated.criticality, 'critical');
  // An update that changes nothing records nothing.
  await updateVendor(
    f.database,
    tester,
    f.slug,
    'Cloudly',
    { criticality: 'critical' },
    { now: at('2026-01-12T09:00:00Z') },
  );

  const entries = await f.evidenceOfKind('vendor.inventory_entry');
  assert.equal(entries.length, 2);
  const latest = await f.evidence(entries[0]!.id);
  assert.deepEqual(latest.item.subject, { type: 'vendor', id: vendor.id, name: 'Cloudly' });
  assert.equal((latest.content as { vendor: { criticality: string } }).vendor.criticality, 'critical');
  assert.ok(latest.item.controls.includes('VEN-01'));

  const detail = await getVendor(f.database, f.slug, vendor.id);
  const review = detail.tasks.find((task) => task.kind === 'vendor_review' && task.status === 'open');
  assert.ok(review, 'a first vendor review task is open');
  assert.equal(review.due_at?.toISOString(), '2026-02-09T09:00:00.000Z');

  await assert.rejects(
    createVendor(f.database, tester, f.slug, { name: 'CLOUDLY', criticality: 'low' }),
    (e: Error & { code?: string }) => e.code === 'register_record_exists',
  );
  await assert.rejects(
    createVendor(f.database, tester, f.slug, { name: 'Other', criticality: 'huge' }),
    /criticality: "huge" is not one of low, medium, high, critical/,
  );
});

test('vendor reports: stale after twelve months (at risk from nine), renewal closes the finding with the new report', async (t) => {
  const f = await registerFixture(t);
  const t0 = at('2025-06-01T00:00:00Z');
  await createVendor(f.database, tester, f.slug, { name: 'Cloudly', criticality: 'high' }, { now: t0 });
  const { document: old } = await addVendorDocument(
    f.database,
    tester,
    f.slug,
    'Cloudly',
    soc2('2025-03-31'),
    {
      now: at('2025-06-02T00:00:00Z'),
    },
  );
  assert.deepEqual(old.subservice_organizations, [
    { name: 'Amazon Web Services', method: 'carve_out' },
    { name: 'Stripe', method: 'inclusive' },
  ]);
  const stored = await f.evidence(old.evidence_id);
  assert.equal(stored.item.kind, 'vendor.soc2_report');
  assert.equal(stored.item.staleAfter, '2026-03-31T00:00:00.000Z');

  // Ten months after the period: a warning (at risk), no finding yet.
  const warning = await f.run(at('2026-02-01T00:00:00Z'), ['vendor.report_stale']);
  assert.equal(warning.failures, 1);
  assert.equal(warning.findingsOpened, 0);
  // Recording the report evaluated the control (passing); ten months on it is at risk.
  assert.deepEqual(
    warning.drift.find((d) => d.control === 'VEN-03'),
    { control: 'VEN-03', from: 'passing', to: 'at_risk' },
  );

  // Thirteen months after the period: stale, a finding.
  const stale = await f.run(at('2026-04-30T00:00:00Z'), ['vendor.report_stale']);
  assert.equal(stale.findingsOpened, 1);
  const [finding] = await f.findings('vendor.report_stale', 'open');
  assert.ok(finding);
  assert.match(finding.detail, /period ending 2025-03-31 is stale \(period ended 13 months ago\)/);
  assert.ok(finding.control_ids.includes('VEN-03'));

  // A bridging letter is recorded but does not renew assurance.
  await addVendorDocument(
    f.database,
    tester,
    f.slug,
    'Cloudly',
    { kind: 'bridging_letter', periodStart: '2025-04-01', periodEnd: '2026-06-30' },
    { now: at('2026-05-01T00:00:00Z') },
  );
  assert.equal((await f.findings('vendor.report_stale', 'open')).length, 1);
  assert.match(
    (await f.findings('vendor.report_stale', 'open'))[0]!.detail,
    /bridging letter to 2026-06-30 .* not equivalent/,
  );

  // The renewal: the register write re-evaluates and the finding closes citing the new report.
  const { document: renewal } = await addVendorDocument(
    f.database,
    tester,
    f.slug,
    'Cloudly',
    soc2('2026-03-31'),
    {
      now: at('2026-05-10T00:00:00Z'),
    },
  );
  const [closed] = await f.findings('vendor.report_stale', 'closed');
  assert.ok(closed, 'the stale finding is closed');
  assert.equal(closed.closed_at?.toISOString(), '2026-05-10T00:00:00.000Z');
  assert.ok(closed.evidence_ids.includes(renewal.evidence_id!), 'the finding cites the renewed report');
  assert.ok(closed.closing_evidence_id);
  if (closed.closing_evidence_id !== renewal.evidence_id) {
    // The run recorded its own result as the closing evidence: that result cites the report.
    const result = await f.evidence(closed.closing_evidence_id);
    assert.match(JSON.stringify(result.content), new RegExp(renewal.evidence_id!));
  }
});

test('vendor reports: a qualified opinion and an unmapped CUEC are findings until resolved', async (t) => {
  const f = await registerFixture(t);
  const now = at('2026-05-01T00:00:00Z');
  await createVendor(f.database, tester, f.slug, { name: 'Paystream', criticality: 'critical' }, { now });
  const { document } = await addVendorDocument(
    f.database,
    tester,
    f.slug,
    'Paystream',
    soc2('2026-03-31', {
      opinion: 'qualified',
      exceptionsNoted: true,
      exceptionsSummary: 'Change approvals were not retained for 4 of 25 sampled changes.',
      cuecs: [
        {
          reference: 'CUEC-1',
          description: 'User entities review access to the dashboard quarterly.',
          control: 'AC-03',
        },
        { reference: 'CUEC-2', description: 'User entities protect their API keys.' },
      ],
    }),
    { now },
  );
  const [qualified] = await f.findings('vendor.opinion_qualified', 'open');
  assert.ok(qualified);
  assert.match(qualified.detail, /qualified opinion .* Change approvals were not retained/);
  const [unmapped] = await f.findings('vendor.cuec_unmapped', 'open');
  assert.ok(unmapped);
  assert.match(unmapped.detail, /1 of 2 CUECs not mapped .*: CUEC-2/);

  await assert.rejects(
    mapCuec(f.database, tester, f.slug, 'Paystream', document.id, 'CUEC-2', 'NOPE-1'),
    /control: "NOPE-1" is not an active control/,
  );
  const mapped = await mapCuec(f.database, tester, f.slug, 'Paystream', document.id, 'CUEC-2', 'AC-09', {
    now: at('2026-05-02T00:00:00Z'),
  });
  assert.equal(mapped.cuecs.find((c) => c.reference === 'CUEC-2')?.control_id, 'AC-09');
  assert.equal((await f.findings('vendor.cuec_unmapped', 'open')).length, 0);
  assert.equal((await f.findings('vendor.cuec_unmapped', 'closed')).length, 1);

  // The annual review closes the review task and schedules the next one.
  await recordVendorReview(
    f.database,
    tester,
    f.slug,
    'Paystream',
    {
      reviewer: 'sam@acme.example',
      outcome: 'approved_with_conditions',
      notes: 'Compensating review of changes.',
    },
    { now: at('2026-05-03T00:00:00Z') },
  );
  const detail = await getVendor(f.database, f.slug, 'Paystream');
  assert.equal(detail.vendor.last_reviewed_at?.toISOString(), '2026-05-03T00:00:00.000Z');
  const open = detail.tasks.filter((task) => task.status === 'open');
  assert.equal(open.length, 1);
  assert.equal(open[0]!.due_at?.toISOString(), '2027-05-03T00:00:00.000Z');
  const reviews = await f.evidenceOfKind('vendor.review');
  assert.equal(reviews.length, 1);
});

test('vendor documents: bad input names the field', async (t) => {
  const f = await registerFixture(t);
  await createVendor(f.database, tester, f.slug, { name: 'Cloudly', criticality: 'high' });
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ kind: 'soc3' }, /kind: "soc3" is not one of/],
    [
      { kind: 'soc2_type2', periodEnd: '2026-03-31', auditor: 'X', opinion: 'unqualified' },
      /periodStart: a Type II report covers a period/,
    ],
    [
      { kind: 'soc2_type1', periodEnd: '2026-02-30', auditor: 'X', opinion: 'unqualified' },
      /periodEnd: 2026-02-30 is not a real date/,
    ],
    [
      { kind: 'soc2_type1', periodEnd: '2026-03-31', auditor: 'X' },
      /opinion: a SOC 2 report states an opinion/,
    ],
    [
      { kind: 'iso27001', periodEnd: '2027-03-31', auditor: 'BSI', opinion: 'qualified' },
      /opinion: only a SOC 2 report/,
    ],
    [
      { ...soc2('2026-03-31'), subserviceOrganizations: 'AWS' },
      /subserviceOrganizations\[0\]: "AWS" must read/,
    ],
    [{ ...soc2('2026-03-31'), categories: 'security;secrecy' }, /categories\[1\]: "secrecy" is not one of/],
  ];
  for (const [input, message] of cases) {
    await assert.rejects(addVendorDocument(f.database, tester, f.slug, 'Cloudly', input), message);
  }
  await assert.rejects(
    addVendorDocument(f.database, tester, f.slug, 'Nobody', soc2('2026-03-31')),
    (e: Error & { code?: string }) => e.code === 'register_record_not_found',
  );
});
