import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setScope } from '../scope/scope.service.ts';
import { createWorkspace } from '../workspaces/workspaces.service.ts';
import { recordChange } from './changes/changes.service.ts';
import { recordContinuityTest } from './continuity/continuity.service.ts';
import {
  createIncident,
  listFollowUps,
  recordExercise,
  updateFollowUp,
} from './incidents/incidents.service.ts';
import {
  acknowledgePolicy,
  approvePolicyVersion,
  createPolicy,
  publishPolicyVersion,
  savePolicyDraft,
} from './policies/policies.service.ts';
import { csvKindNames, csvKinds } from './registers.csv.ts';
import { exportRegister, importRegister } from './registers.service.ts';
import { createRisk } from './risks/risks.service.ts';
import { at, registerFixture, tester } from './shared/testing.ts';
import { createCourse, recordCompletion } from './training/training.service.ts';
import { addVendorDocument, createVendor } from './vendors/vendors.service.ts';

const now = { now: at('2026-06-01T00:00:00Z') };

async function populate(f: Awaited<ReturnType<typeof registerFixture>>) {
  const { database, slug } = f;
  await createVendor(
    database,
    tester,
    slug,
    {
      name: 'Cloudly',
      service: 'Hosting, "managed"',
      dataAccessed: ['customer data', 'logs'],
      criticality: 'critical',
      owner: 'ops@acme.example',
      contractStart: '2025-01-01',
      contractEnd: '2027-12-31',
    },
    now,
  );
  await createVendor(database, tester, slug, { name: 'Mailer', criticality: 'low', inScope: false }, now);
  await addVendorDocument(
    database,
    tester,
    slug,
    'Cloudly',
    {
      kind: 'soc2_type2',
      periodStart: '2025-04-01',
      periodEnd: '2026-03-31',
      auditor: 'Moss & Partners LLP',
      opinion: 'unqualified',
      exceptionsNoted: true,
      exceptionsSummary: 'One late access review; management response: reviews moved earlier.',
      categories: 'security;availability',
      services: ['Managed PostgreSQL', 'Object storage'],
      subserviceOrganizations: 'Amazon Web Services (carve_out)',
      receivedAt: '2026-05-02T10:00:00Z',
      cuecs: [
        { reference: 'CUEC-1', description: 'Review access, quarterly; remove leavers.', control: 'AC-03' },
        { reference: 'CUEC-2', description: 'Protect API keys.' },
      ],
    },
    now,
  );
  await addVendorDocument(
    database,
    tester,
    slug,
    'Cloudly',
    { kind: 'bridging_letter', periodStart: '2026-04-01', periodEnd: '2026-06-30', receivedAt: '2026-05-20' },
    now,
  );
  await createRisk(
    database,
    tester,
    slug,
    {
      reference: 'R-001',
      title: 'Account takeover',
      description: 'Line one\nline two',
      inherentLikelihood: 4,
      inherentImpact: 5,
      residualLikelihood: 2,
      residualImpact: 3,
      treatment: 'mitigate',
      controls: 'AC-02',
      lastReviewedAt: '2026-02-01',
    },
    now,
  );
  await createRisk(
    database,
    tester,
    slug,
    {
      reference: 'R-002',
      title: 'Refund fraud',
      fraudRisk: true,
      inherentLikelihood: 2,
      inherentImpact: 3,
      treatment: 'accept',
      reviewCadenceDays: 90,
    },
    now,
  );
  const { policy } = await createPolicy(
    database,
    tester,
    slug,
    {
      title: 'Acceptable Use',
      body: '# Acceptable use\n\n- No sharing, "ever".\n- Lock screens.',
      owner: 'hr@acme.example',
    },
    now,
  );
  await approvePolicyVersion(
    database,
    tester,
    slug,
    policy.id,
    1,
    { approver: 'ceo@acme.example', approvedAt: '2026-01-10T00:00:00Z' },
    now,
  );
  await publishPolicyVersion(
    database,
    tester,
    slug,
    policy.id,
    1,
    { publishedAt: '2026-01-11T00:00:00Z' },
    now,
  );
  await savePolicyDraft(database, tester, slug, policy.id, { body: 'draft two' }, now);
  await createPolicy(
    database,
    tester,
    slug,
    { title: 'Draft Standard', kind: 'standard', body: 'not yet', acknowledgementRequired: false },
    now,
  );
  await acknowledgePolicy(
    database,
    tester,
    slug,
    policy.id,
    { email: 'ana@acme.example', acknowledgedAt: '2026-01-12T08:00:00Z' },
    now,
  );
  await acknowledgePolicy(
    database,
    tester,
    slug,
    policy.id,
    { email: 'ben@acme.example', acknowledgedAt: '2026-01-13T08:00:00Z', source: 'self' },
    now,
  );
  await createIncident(
    database,
    tester,
    slug,
    {
      reference: 'INC-1',
      title: 'Phishing',
      severity: 'high',
      status: 'closed',
      detectedAt: '2026-02-01T10:00:00Z',
      rootCause: 'Lookalike domain',
      timeline: '2026-02-01T10:00:00Z Reported\n2026-02-01T11:00:00Z Blocked',
      notifications: '2026-02-02T09:00:00Z Board',
      closedAt: '2026-02-03T00:00:00Z',
    },
    now,
  );
  await recordExercise(
    database,
    tester,
    slug,
    {
      title: 'Ransomware',
      scenario: 'Encrypted build server',
      heldAt: '2026-03-01T14:00:00Z',
      participants: 'ana;ben',
      followUps: [
        { title: 'Shorter backups', dueAt: '2026-04-30', owner: 'ben' },
        { title: 'Call tree', dueAt: '2026-05-30' },
      ],
    },
    now,
  );
  const [action] = (await listFollowUps(database, slug)).filter((a) => a.title === 'Shorter backups');
  await updateFollowUp(
    database,
    tester,
    slug,
    action!.id,
    { status: 'done', resolution: 'Every 4 hours.', closedAt: '2026-04-15' },
    now,
  );
  await createCourse(
    database,
    tester,
    slug,
    {
      code: 'SAT',
      title: 'Security awareness',
      kind: 'security_awareness',
      frequency: 'annual',
      effectiveFrom: '2025-01-01',
    },
    now,
  );
  await createCourse(
    database,
    tester,
    slug,
    {
      code: 'SDLC',
      title: 'Secure coding',
      kind: 'role_specific',
      frequency: 'once',
      dueDays: 60,
      audienceDepartments: 'Engineering;Platform',
      audienceTitles: 'engineer',
      effectiveFrom: '2025-06-01',
    },
    now,
  );
  await recordCompletion(
    database,
    tester,
    slug,
    { course: 'SAT', email: 'ana@acme.example', completedAt: '2026-01-20T12:30:00Z', score: 90 },
    now,
  );
  await recordChange(
    database,
    tester,
    slug,
    {
      ticket: 'CHG-1',
      title: 'Rotate keys',
      system: 'Billing',
      author: 'ana',
      approver: 'ben',
      approvedAt: '2026-03-01T09:00:00Z',
      implementedAt: '2026-03-01T10:00:00Z',
    },
    now,
  );
  await recordChange(
    database,
    tester,
    slug,
    {
      ticket: 'CHG-2',
      title: 'Hotfix',
      emergency: true,
      author: 'cho',
      implementedAt: '2026-03-02T02:00:00Z',
    },
    now,
  );
  await recordContinuityTest(
    database,
    tester,
    slug,
    {
      kind: 'backup_restore',
      target: 'Billing DB',
      performedAt: '2026-04-01T10:00:00Z',
      performedBy: 'ben',
      result: 'success',
      rtoTargetMinutes: 240,
      rtoActualMinutes: 90,
      notes: 'Restored, "scratch" instance',
    },
    now,
  );
  await recordContinuityTest(
    database,
    tester,
    slug,
    {
      kind: 'dr_exercise',
      target: 'Region failover',
      performedAt: '2026-05-01',
      performedBy: 'ops',
      result: 'partial',
    },
    now,
  );
}

test('registers CSV: every register round-trips into another workspace, and re-importing changes nothing', async (t) => {
  const f = await registerFixture(t);
  await populate(f);
  await createWorkspace(f.database, tester, { slug: 'beta' });
  await setScope(f.database, tester, 'beta', ['security', 'availability']);
  const later = { now: at('2026-06-02T00:00:00Z') };
  for (const kind of csvKindNames) {
    const csv = await exportRegister(f.database, f.slug, kind);
    assert.ok(csv.split('\n').length > 2, `${kind} exports rows`);
    const into = await importRegister(f.database, tester, 'beta', kind, csv, later);
    assert.equal(into.created + into.updated, into.rows, `${kind}: every row written`);
    assert.equal(
      await exportRegister(f.database, 'beta', kind),
      csv,
      `${kind}: the copy exports the same CSV`,
    );
    const again = await importRegister(f.database, tester, f.slug, kind, csv, later);
    assert.deepEqual(
      { created: again.created, updated: again.updated, unchanged: again.unchanged },
      { created: 0, updated: 0, unchanged: again.rows },
      `${kind}: importing its own export changes nothing`,
    );
  }
  const copied = await f.evidenceOfKind('vendor.soc2_report');
  assert.equal(copied.length, 1, 'the source workspace recorded no new evidence on re-import');
});

test('registers CSV: malformed rows are rejected with line and field, and nothing is imported', async (t) => {
  const f = await registerFixture(t);
  const csv = [
    'name,criticality,in_scope,contract_start',
    'Cloudly,high,true,2026-01-01',
    '"Mailer, Inc.",medium,maybe,2026-01-01',
    'Bad Date,low,true,2026-02-30',
    ',low,true,',
    'Nocrit,,true,',
  ].join('\n');
  await assert.rejects(
    importRegister(f.database, tester, f.slug, 'vendors', csv),
    (error: Error & { code?: string; details?: { errors: unknown[] } }) => {
      assert.equal(error.code, 'import_rejected');
      assert.deepEqual(error.details?.errors, [
        { line: 3, field: 'in_scope', message: 'must be true or false' },
        { line: 4, field: 'contract_start', message: '2026-02-30 is not a real date' },
        { line: 5, field: 'name', message: 'is required' },
      ]);
      assert.match(
        error.message,
        /3 rows rejected, nothing imported — line 3, in_scope: must be true or false/,
      );
      return true;
    },
  );
  assert.equal(
    await exportRegister(f.database, f.slug, 'vendors'),
    'name,service,data_accessed,criticality,in_scope,owner,contract_start,contract_end,status,review_cadence_days\n',
  );

  // A row that fails against the database (here: no criticality for a new vendor) rolls back the rows before it.
  await assert.rejects(
    importRegister(f.database, tester, f.slug, 'vendors', 'name,criticality\nCloudly,high\nNocrit,\n'),
    (error: Error & { details?: { errors: unknown[] } }) => {
      assert.deepEqual(error.details?.errors, [
        { line: 3, field: 'criticality', message: 'is required (one of low, medium, high, critical)' },
      ]);
      return true;
    },
  );
  assert.equal(
    (await exportRegister(f.database, f.slug, 'vendors')).split('\n').length,
    2,
    'Cloudly was not kept',
  );

  await assert.rejects(
    importRegister(f.database, tester, f.slug, 'vendors', 'name,colour\nX,red\n'),
    /line 1, colour: unknown column/,
  );
  await assert.rejects(
    importRegister(f.database, tester, f.slug, 'risks', 'title\nX\n'),
    /line 1, reference: required column is missing/,
  );
  await assert.rejects(
    importRegister(f.database, tester, f.slug, 'vendors', 'name,criticality\n"unterminated,high\n'),
    /import_rejected|unreadable CSV/,
  );
  await assert.rejects(
    importRegister(
      f.database,
      tester,
      f.slug,
      'vendor-documents',
      'vendor,kind,period_end,auditor\nGhost,iso27001,2027-01-01,BSI\n',
    ),
    /line 2, vendor: vendor "Ghost" does not exist/,
  );
  await assert.rejects(
    importRegister(f.database, tester, f.slug, 'widgets', 'a\n'),
    (e: Error & { code?: string }) => e.code === 'unsupported_import_kind',
  );
  const multi =
    'reference,title,severity,timeline\nINC-1,x,low,"2026-01-01T00:00:00Z ok\nnot a time line"\nINC-2,y,urgent,\n';
  await assert.rejects(
    importRegister(f.database, tester, f.slug, 'incidents', multi),
    (error: Error & { details?: { errors: { line: number; field: string }[] } }) => {
      assert.deepEqual(
        error.details?.errors.map((e) => [e.line, e.field]),
        [
          [2, 'timeline[1].at'],
          [4, 'severity'],
        ],
      );
      return true;
    },
  );
});

test('registers CSV: docs/registers.md documents every kind with its exact header row', () => {
  const docs = readFileSync(new URL('../../../docs/registers.md', import.meta.url), 'utf8');
  for (const kind of csvKinds) {
    assert.ok(docs.includes(`### \`${kind.kind}\``), `${kind.kind} has a section`);
    assert.ok(
      docs.includes(`\n${kind.columns.map((c) => c.header).join(',')}\n`),
      `${kind.kind}: header row documented`,
    );
    for (const column of kind.columns)
      assert.ok(docs.includes(`| \`${column.header}\` |`), `${kind.kind}.${column.header} documented`);
  }
});
