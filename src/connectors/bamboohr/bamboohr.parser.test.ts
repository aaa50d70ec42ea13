import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ImportRecord, PersonFact } from '../../domains/events/event.model.ts';
import {
  assertOnlyImportRejected,
  assertValidRecords,
  chunks,
  collect,
  collectFile,
  countByType,
  events,
  generated,
  gzip,
  MiB,
  mutate,
  OBSERVED_AT,
  readText,
  rejectionOf,
  rejections,
  SAMPLES,
  streamingFootprint,
} from '../shared/testing.ts';
import { parseBambooHr } from './bamboohr.parser.ts';

const DIR = `${SAMPLES}/hris_roster`;
const REPORT = `${DIR}/nango_bamboohr_custom_report_current_employees.json`;

function persons(records: ImportRecord[]): PersonFact[] {
  return records.flatMap((record) => (record.type === 'person' ? [record.person] : []));
}

describe('bamboohr importer: samples', () => {
  it('reads the custom report: 106 people, 16 terminated, every one hired', async () => {
    const records = await collectFile(parseBambooHr, REPORT);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { person: 106, event: 122 });
    const people = persons(records);
    const byStatus: Record<string, number> = {};
    for (const person of people) byStatus[person.status] = (byStatus[person.status] ?? 0) + 1;
    assert.deepEqual(byStatus, { active: 90, terminated: 16 });
    const types: Record<string, number> = {};
    for (const person of people)
      if (person.employmentType) types[person.employmentType] = (types[person.employmentType] ?? 0) + 1;
    assert.deepEqual(types, { full_time: 80, part_time: 6, contractor: 2, intern: 2 });

    assert.deepEqual(people[0], {
      source: 'bamboohr',
      employeeId: '1',
      name: 'Charlotte Abbott',
      email: 'cabbott@efficientoffice.com',
      title: 'Sr. HR Administrator',
      department: 'Human Resources',
      managerEmployeeId: '6',
      employmentType: 'full_time',
      startDate: '2023-12-28',
      status: 'active',
      observedAt: OBSERVED_AT,
    });
    // supervisorId refers to employee numbers: every manager is in the report
    const ids = new Set(people.map((person) => person.employeeId));
    assert.ok(
      people.every((person) => person.managerEmployeeId === undefined || ids.has(person.managerEmployeeId)),
    );

    // The report states terminations by status only: dated by observedAt, no effective date.
    const terminations = events(records).filter((event) => event.employment?.change === 'termination');
    assert.equal(terminations.length, 16);
    assert.ok(
      terminations.every(
        (event) => event.time === OBSERVED_AT && event.employment?.effectiveDate === undefined,
      ),
    );
    assert.equal(records[0]?.position.line, 146);
  });

  it('rejects the Gusto termination response as not a BambooHR report', async () => {
    const records = await collectFile(parseBambooHr, `${DIR}/nango_gusto_employee_termination_response.json`);
    assert.deepEqual(countByType(records), { rejected: 1 });
    assert.match(rejections(records)[0]?.reason ?? '', /^not a BambooHR custom report/);
  });
});

const EMPLOYEE = {
  id: '40',
  employeeNumber: '7',
  firstName: 'Rae',
  lastName: 'Sun',
  workEmail: 'Rae.Sun@Example.com',
  jobTitle: 'Engineer',
  department: 'R&D',
  hireDate: '2022-02-01',
  terminationDate: '2026-03-31',
  employmentHistoryStatus: 'Terminated',
  supervisorEmail: 'boss@example.com',
};

describe('bamboohr importer: malformed input', () => {
  it('uses a termination date when the report has one, and accepts a plain array', async () => {
    const records = await collect(parseBambooHr, chunks(JSON.stringify([EMPLOYEE])));
    assertValidRecords(records);
    const [person] = persons(records);
    assert.deepEqual(
      [person?.email, person?.endDate, person?.status, person?.managerEmail],
      ['rae.sun@example.com', '2026-03-31', 'terminated', 'boss@example.com'],
    );
    const termination = events(records).find((event) => event.employment?.change === 'termination');
    assert.equal(termination?.time, '2026-03-31T00:00:00.000Z');
  });

  it('treats 0000-00-00 as no date and rejects a bad one', async () => {
    const unset = await collect(
      parseBambooHr,
      chunks(JSON.stringify({ employees: [{ ...EMPLOYEE, hireDate: '0000-00-00' }] })),
    );
    assert.equal(persons(unset)[0]?.startDate, undefined);
    const { details } = await rejectionOf(
      parseBambooHr,
      chunks(JSON.stringify({ employees: [{ ...EMPLOYEE, hireDate: '31.12.2020' }] })),
    );
    assert.equal(details.field, 'hireDate');
  });

  it('rejects an employee without an email and goes on in collect mode', async () => {
    const text = JSON.stringify(
      { fields: [], employees: [{ ...EMPLOYEE, workEmail: null }, EMPLOYEE] },
      null,
      2,
    );
    const records = await collect(parseBambooHr, chunks(text), {
      onError: 'collect',
      fileName: 'report.json',
    });
    assert.deepEqual(countByType(records), { rejected: 1, person: 1, event: 2 });
    assert.match(
      rejections(records)[0]?.message ?? '',
      /^report\.json line 4: field "bestEmail": required but missing/,
    );
  });

  it('rejects a truncated report after the employees before the cut', async () => {
    const text = readText(REPORT);
    const cut = text.slice(0, Math.floor(text.length / 3));
    const records = await collect(parseBambooHr, chunks(cut, 4096), { onError: 'collect' });
    assert.ok(persons(records).length > 20);
    assert.match(rejections(records).at(-1)?.reason ?? '', /unexpected end of input/);
  });

  it('rejects binary garbage; reads gzip; rejects a corrupt gzip', async () => {
    assert.match(
      (await rejectionOf(parseBambooHr, chunks(Buffer.from([0x50, 0x4b, 0x03, 0x04])))).message,
      /^input line 1/,
    );
    const text = readText(REPORT);
    assert.deepEqual(
      await collect(parseBambooHr, chunks(gzip(text), 4096)),
      await collect(parseBambooHr, chunks(text, 4096)),
    );
    const corrupt = gzip(text);
    corrupt.fill(0x13, 50, 120);
    assert.match((await rejectionOf(parseBambooHr, chunks(corrupt, 4096))).message, /gzip data is corrupt/);
  });
});

describe('bamboohr importer: fuzzing', () => {
  it('arbitrary bytes never raise anything but import_rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), (bytes) =>
        assertOnlyImportRejected(parseBambooHr, bytes),
      ),
      { numRuns: 150 },
    );
  });

  it('mutated reports never raise anything but import_rejected', async () => {
    const text = JSON.stringify({
      title: 'x',
      fields: [],
      employees: [EMPLOYEE, { ...EMPLOYEE, employeeNumber: '8' }],
    });
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 12 }),
        fc.nat(),
        async (at, length, insert, how) => {
          await assertOnlyImportRejected(parseBambooHr, Buffer.from(mutate(text, at, length, insert, how)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('bamboohr importer: streaming', () => {
  it('parses a ~50 MB report with flat memory', async () => {
    const template = JSON.stringify(EMPLOYEE);
    const { growth, counts, bytes } = await streamingFootprint(parseBambooHr, () =>
      generated(
        50 * MiB,
        (index) => template.replace('"7"', `"${index}"`),
        '{"title":"All","fields":[],"employees":[\n',
        ',\n',
        ']}',
      ),
    );
    assert.ok(bytes >= 50 * MiB);
    assert.ok((counts.person ?? 0) > 100_000, JSON.stringify(counts));
    assert.equal(counts.rejected, undefined);
    assert.ok(growth < 100 * MiB, `retained memory grew by ${Math.round(growth / MiB)} MiB`);
  });
});
