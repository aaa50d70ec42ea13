/**
 * Auditors' request lists (PBC) over the FY2025 period: CSV and XLSX lists map requests to the
 * period's controls (explicitly or by criterion), requests proven by evidence within the period
 * are fulfilled at once, the rest stay open (overdue past their date) until evidence is cited;
 * a malformed list is rejected with its line and field, and nothing of it is kept.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { cliActor } from '../../src/cli/runtime.ts';
import { createPeriod, getPeriod, listPeriods } from '../../src/domains/audits/periods.service.ts';
import {
  fulfilRequests,
  importRequestList,
  listRequests,
} from '../../src/domains/audits/requests.service.ts';
import { isAssayError } from '../../src/errors.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { seedYear } from './fixtures.ts';

const now = new Date('2026-02-01T00:00:00Z');
const csv = (text: string) => ({ format: 'csv' as const, content: Buffer.from(text) });

test('periods freeze their scope; request lists map, auto-fulfil, track and reject whole', async (t) => {
  const { database } = await createTestDatabase(t);
  const seeded = await seedYear(database);
  const actor = cliActor();

  // The period froze the active controls with their criteria and owners.
  const period = await getPeriod(database, 'acme', 'FY2025');
  assert.equal(period.reportType, 'type2');
  assert.deepEqual([period.startsOn, period.endsOn], ['2025-01-01', '2025-12-31']);
  assert.deepEqual(period.categories, ['security']);
  const ac05 = period.scope.controls.find((c) => c.templateId === 'AC-05');
  assert.ok(ac05 && ac05.criteria.length > 0 && ac05.frequency === 'quarterly');
  assert.ok(period.scope.criteria.includes('CC6.1'));
  await assert.rejects(
    createPeriod(database, actor, 'acme', {
      name: 'FY2025',
      reportType: 'type2',
      from: '2025-01-01',
      to: '2025-12-31',
    }),
    (e: unknown) => isAssayError(e) && e.code === 'audit_period_exists',
  );
  await assert.rejects(
    createPeriod(database, actor, 'acme', {
      name: 'Bad',
      reportType: 'type1',
      from: '2025-01-01',
      to: '2025-02-01',
    }),
    /Type I/,
  );
  await assert.rejects(
    createPeriod(database, actor, 'acme', {
      name: 'Bad',
      reportType: 'type2',
      from: '2025-02-30',
      to: '2025-12-31',
    }),
    /not a date/,
  );
  const asOf = await createPeriod(database, actor, 'acme', {
    name: 'Type I 2025-06-30',
    reportType: 'type1',
    from: '2025-06-30',
  });
  assert.equal(asOf.endsOn, '2025-06-30');
  assert.deepEqual(
    (await listPeriods(database, 'acme')).map((p) => p.name),
    ['FY2025', 'Type I 2025-06-30'],
  );

  // A control of the period with no evidence at all in 2025.
  const { rows } = await sql<{ template_id: string }>`
    select c.template_id from controls c
    where c.workspace_id = ${seeded.workspaceId} and c.active and not exists (
      select 1 from evidence_items e where e.workspace_id = c.workspace_id
        and e.control_ids @> array[c.template_id]::text[]
        and e.effective_at >= '2025-01-01' and e.effective_at < '2026-01-01')
    order by c.template_id limit 1`.execute(database.db);
  const bare = rows[0]!.template_id;
  const bareCriterion = period.scope.controls.find((c) => c.templateId === bare)!.criteria[0]!;

  const list = [
    'Request ID,Description,Controls,Criteria,Due Date',
    'PBC-01,Quarterly user access reviews for the period,AC-05,,2026-01-15',
    `PBC-02,"Evidence that ${bare} operated",${bare.toLowerCase()},,2025-12-01`,
    `PBC-03,Everything behind ${bareCriterion},,${bareCriterion},`,
  ].join('\n');
  const imported = await importRequestList(database, actor, 'acme', 'FY2025', csv(list), now);
  assert.equal(imported.imported, 3);
  assert.equal(imported.created, 3);
  assert.deepEqual(imported.fulfilled, ['PBC-01'], 'the reviews are in the ledger');
  assert.equal(imported.open, 2);

  let listed = await listRequests(database, 'acme', 'FY2025', {}, now);
  const byRef = new Map(listed.requests.map((r) => [r.ref, r]));
  const pbc1 = byRef.get('PBC-01')!;
  assert.equal(pbc1.status, 'fulfilled');
  assert.equal(pbc1.fulfilment, 'automatic');
  assert.deepEqual(pbc1.controls, ['AC-05']);
  assert.ok(pbc1.evidenceIds.some((id) => seeded.reviewEvidenceIds.includes(id)));
  const pbc2 = byRef.get('PBC-02')!;
  assert.deepEqual(pbc2.controls, [bare], 'control references are matched regardless of case');
  assert.equal(pbc2.overdue, true, 'due 2025-12-01 and still open');
  const pbc3 = byRef.get('PBC-03')!;
  assert.ok(pbc3.controls.includes(bare), 'a criterion maps to the controls covering it');
  assert.equal(pbc3.criterionRefs[0], bareCriterion);
  assert.equal(pbc3.dueOn, null);
  assert.deepEqual(
    (await listRequests(database, 'acme', 'FY2025', { status: 'open' }, now)).requests.map((r) => r.ref),
    ['PBC-02', 'PBC-03'],
  );

  // Nothing proves PBC-02 yet; citing evidence fulfils it by hand.
  assert.deepEqual((await fulfilRequests(database, actor, 'acme', 'FY2025', {}, now)).fulfilled, []);
  const manual = await fulfilRequests(
    database,
    actor,
    'acme',
    'FY2025',
    { ref: 'PBC-02', evidenceIds: [seeded.fileEvidenceId], note: 'see the Q3 report' },
    now,
  );
  assert.deepEqual(manual.fulfilled, ['PBC-02']);
  assert.equal(manual.requests[0]!.fulfilment, 'manual');
  await assert.rejects(
    fulfilRequests(database, actor, 'acme', 'FY2025', {
      ref: 'PBC-03',
      evidenceIds: ['00000000-0000-4000-8000-000000000000'],
    }),
    (e: unknown) => isAssayError(e) && e.code === 'evidence_not_found',
  );
  await assert.rejects(
    fulfilRequests(database, actor, 'acme', 'FY2025', {
      ref: 'PBC-99',
      evidenceIds: [seeded.fileEvidenceId],
    }),
    (e: unknown) => isAssayError(e) && e.code === 'audit_request_not_found',
  );

  // Malformed lists are rejected whole, naming line and field; nothing of them is kept.
  const reject = async (text: string, pattern: RegExp) => {
    await assert.rejects(
      importRequestList(database, actor, 'acme', 'FY2025', csv(text), now),
      (e: unknown) => {
        assert.ok(isAssayError(e) && e.code === 'request_list_rejected', String(e));
        assert.match(e.message, pattern);
        return true;
      },
    );
  };
  await reject(
    [
      'request_id,description,controls,due_date',
      'PBC-10,New request,AC-05,2026-01-31',
      'PBC-11,Bad date,AC-05,31/01/2026',
    ].join('\n'),
    /line 3, field due_date: "31\/01\/2026" is not a date/,
  );
  await reject(
    ['request_id,description,controls', 'PBC-10,New request,AC-05', 'PBC-12,Unknown control,ZZ-99'].join(
      '\n',
    ),
    /line 3, field controls: "ZZ-99" is not a control in the scope of FY2025/,
  );
  await reject(
    ['request_id,description,controls', 'PBC-10,New request,AC-05', 'PBC-10,Twice,AC-05'].join('\n'),
    /line 3, field request_id: "PBC-10" is also on line 2/,
  );
  await reject(
    ['request_id,description,controls', 'PBC-13,,AC-05'].join('\n'),
    /line 2, field description: is empty/,
  );
  await reject(
    ['request_id,description,criteria', 'PBC-14,Nothing named,'].join('\n'),
    /line 2, field criteria/,
  );
  await reject(
    ['id,controls', 'PBC-15,AC-05'].join('\n'),
    /line 1, field description: the header has no such column/,
  );
  await reject(
    ['request_id,description,controls', 'PBC-16,"unterminated,AC-05'].join('\n'),
    /line \d+.*not valid CSV/,
  );
  listed = await listRequests(database, 'acme', 'FY2025', {}, now);
  assert.deepEqual(
    listed.requests.map((r) => r.ref),
    ['PBC-01', 'PBC-02', 'PBC-03'],
    'no rejected row was kept',
  );

  // XLSX: the same columns in a workbook; re-importing a known request updates it in place.
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('PBC');
  sheet.addRow(['Request ID', 'Description', 'Controls', 'Criteria', 'Due date']);
  sheet.addRow([
    'PBC-01',
    'Quarterly user access reviews, all four quarters',
    'AC-05',
    '',
    new Date(Date.UTC(2026, 0, 20)),
  ]);
  sheet.addRow(['PBC-20', 'Access review sign-offs', 'AC-05', '', '']);
  const xlsx = Buffer.from(await workbook.xlsx.writeBuffer());
  const again = await importRequestList(
    database,
    actor,
    'acme',
    'FY2025',
    { format: 'xlsx', content: xlsx },
    now,
  );
  assert.equal(again.created, 1);
  assert.equal(again.updated, 1);
  assert.deepEqual(again.fulfilled, ['PBC-20']);
  const updated = (await listRequests(database, 'acme', 'FY2025', {}, now)).requests.find(
    (r) => r.ref === 'PBC-01',
  )!;
  assert.equal(updated.description, 'Quarterly user access reviews, all four quarters');
  assert.equal(updated.dueOn, '2026-01-20');
  assert.equal(updated.status, 'fulfilled', 'an update keeps the fulfilment');
  await assert.rejects(
    importRequestList(
      database,
      actor,
      'acme',
      'FY2025',
      { format: 'xlsx', content: Buffer.from('not a workbook') },
      now,
    ),
    /line 1.*not a readable XLSX/,
  );
  await assert.rejects(
    importRequestList(database, actor, 'acme', 'FY2024', csv(list), now),
    (e: unknown) => isAssayError(e) && e.code === 'audit_period_not_found',
  );
});
