import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ImportRecord, PersonFact } from '../../domains/events/event.model.ts';
import { isAssayError } from '../../errors.ts';
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
  NORTHWIND,
  OBSERVED_AT,
  readText,
  rejectionOf,
  rejections,
  streamingFootprint,
} from '../shared/testing.ts';
import { DEFAULT_ROSTER_HEADER, parseHrRoster } from './hr-roster.parser.ts';

function persons(records: ImportRecord[]): PersonFact[] {
  return records.flatMap((record) => (record.type === 'person' ? [record.person] : []));
}

describe('hr-roster importer: Northwind roster', () => {
  it('reads 40 people with 40 hires and 3 terminations', async () => {
    const records = await collectFile(parseHrRoster, `${NORTHWIND}/hr_roster.csv`);
    assertValidRecords(records);
    assert.deepEqual(countByType(records), { person: 40, event: 43 });
    const all = events(records);
    assert.equal(all.filter((event) => event.employment?.change === 'hire').length, 40);
    const leavers = all.filter((event) => event.employment?.change === 'termination');
    assert.deepEqual(
      leavers.map((event) => [event.target?.email, event.time, event.classUid, event.activityName]),
      [
        ['farid.fischer@northwind.example', '2026-10-06T00:00:00.000Z', 990001, 'Termination'],
        ['olga.duarte@northwind.example', '2026-10-26T00:00:00.000Z', 990001, 'Termination'],
        ['esme.quispe@northwind.example', '2026-08-12T00:00:00.000Z', 990001, 'Termination'],
      ],
    );
    const olga = persons(records).find((person) => person.email === 'olga.duarte@northwind.example');
    assert.deepEqual(olga, {
      source: 'hr-roster',
      employeeId: 'E1017',
      name: 'Olga Duarte',
      email: 'olga.duarte@northwind.example',
      title: 'Software Engineer',
      department: 'Engineering',
      managerEmail: 'ravi.larsen@northwind.example',
      employmentType: 'full_time',
      startDate: '2025-04-10',
      endDate: '2026-10-26',
      status: 'terminated',
      observedAt: OBSERVED_AT,
    });
    const ravi = persons(records).find((person) => person.employeeId === 'E1007');
    assert.equal(ravi?.managerEmail, undefined);
    assert.equal(DEFAULT_ROSTER_HEADER, readText(`${NORTHWIND}/hr_roster.csv`).split(/\r?\n/)[0]);
  });

  it('gives a hire the same key on every import, whatever else changed on the row', async () => {
    const text = readText(`${NORTHWIND}/hr_roster.csv`);
    const before = events(await collect(parseHrRoster, chunks(text, 512)));
    const after = events(await collect(parseHrRoster, chunks(text.replace('Head of Security', 'CISO'), 512)));
    assert.deepEqual(
      after.map((event) => event.sourceKey),
      before.map((event) => event.sourceKey),
    );
  });
});

const ROW = 'E1,Ann Lee,Ann.Lee@Example.com,Engineer,Eng,boss@example.com,Full-Time,2024-01-02,,active';

describe('hr-roster importer: rows', () => {
  it('derives the status when it is empty, and dates a termination HR gives no date for', async () => {
    const text = [
      DEFAULT_ROSTER_HEADER,
      'E1,Ann Lee,ann@example.com,,,,,2024-01-02,2026-01-31,',
      'E2,Bo Chen,bo@example.com,,,,,2024-01-02,2027-03-31,',
      'E3,Cy Diaz,cy@example.com,,,,contractor,,,terminated',
      'E4,Di Eze,di@example.com,,,,,,,On Leave',
    ].join('\n');
    const records = await collect(parseHrRoster, chunks(text));
    assertValidRecords(records);
    assert.deepEqual(
      persons(records).map((person) => [person.employeeId, person.status]),
      [
        ['E1', 'terminated'],
        ['E2', 'active'],
        ['E3', 'terminated'],
        ['E4', 'on_leave'],
      ],
    );
    const terminations = events(records).filter((event) => event.employment?.change === 'termination');
    // E2's termination is scheduled; E3's has no date, so it is dated by observedAt
    assert.deepEqual(
      terminations.map((event) => [
        event.employment?.employeeId,
        event.time,
        event.employment?.effectiveDate,
      ]),
      [
        ['E1', '2026-01-31T00:00:00.000Z', '2026-01-31'],
        ['E2', '2027-03-31T00:00:00.000Z', '2027-03-31'],
        ['E3', OBSERVED_AT, undefined],
      ],
    );
  });

  it('lower-cases emails and snake-cases the employment type', async () => {
    const [person] = persons(await collect(parseHrRoster, chunks(`${DEFAULT_ROSTER_HEADER}\n${ROW}\n`)));
    assert.equal(person?.email, 'ann.lee@example.com');
    assert.equal(person?.employmentType, 'full_time');
  });

  it('reads another HR export through the columns mapping', async () => {
    const text = [
      'Employee #,First Name,Last Name,Work Email,Job Title,Dept,Reports To Email,Type,Hire Date,Termination Date,Employment Status,Location',
      '77,Mia,Wong,mia@corp.example,Analyst,Finance,lead@corp.example,Part-Time,2023-03-01,2026-06-30,Terminated,Berlin',
    ].join('\r\n');
    const columns = {
      employee_id: 'Employee #',
      first_name: 'First Name',
      last_name: 'Last Name',
      email: 'Work Email',
      title: 'Job Title',
      department: 'Dept',
      manager_email: 'Reports To Email',
      employment_type: 'Type',
      start_date: 'Hire Date',
      end_date: 'Termination Date',
      status: 'Employment Status',
    };
    const records = await collect(parseHrRoster, chunks(text), { columns });
    assert.deepEqual(persons(records), [
      {
        source: 'hr-roster',
        employeeId: '77',
        name: 'Mia Wong',
        email: 'mia@corp.example',
        title: 'Analyst',
        department: 'Finance',
        managerEmail: 'lead@corp.example',
        employmentType: 'part_time',
        startDate: '2023-03-01',
        endDate: '2026-06-30',
        status: 'terminated',
        observedAt: OBSERVED_AT,
      },
    ]);
    assert.equal(events(records).length, 2);
  });

  it('refuses an unknown field in the columns mapping before reading', () => {
    assert.throws(
      () => parseHrRoster(chunks(''), { columns: { surname: 'Last Name' } }),
      (error: unknown) =>
        isAssayError(error) && error.code === 'validation_failed' && /surname/.test(error.message),
    );
  });
});

describe('hr-roster importer: malformed input', () => {
  it('rejects a file without an email column once, at its header', async () => {
    const records = await collect(parseHrRoster, chunks('employee_id,name\n1,A\n'), {
      onError: 'collect',
      fileName: 'hr.csv',
    });
    assert.equal(records.length, 1);
    assert.match(
      rejections(records)[0]?.message ?? '',
      /^hr\.csv line 1: field "email": column missing from the header/,
    );
  });

  it('rejects a row with the wrong column count and reads on', async () => {
    const text = `${DEFAULT_ROSTER_HEADER}\nE9,Too Short,x@example.com\n${ROW}\n`;
    const records = await collect(parseHrRoster, chunks(text), { onError: 'collect', fileName: 'hr.csv' });
    assert.deepEqual(countByType(records), { rejected: 1, person: 1, event: 1 });
    assert.equal(
      rejections(records)[0]?.message,
      'hr.csv line 2: expected 10 columns as in the header, found 3',
    );
  });

  it('rejects a bad date, a bad email, an unknown status, a duplicate id — naming line and column', async () => {
    const cases: [string, string, number][] = [
      [ROW.replace('2024-01-02', '02/01/2024'), 'start_date', 2],
      [ROW.replace('Ann.Lee@Example.com', 'ann at example'), 'email', 2],
      [ROW.replace(',active', ',retired'), 'status', 2],
      [ROW.replace('Ann Lee', ''), 'name', 2],
      [`${ROW}\n${ROW.replace('Ann', 'Other')}`, 'employee_id', 3],
    ];
    for (const [row, field, line] of cases) {
      const { details, message } = await rejectionOf(
        parseHrRoster,
        chunks(`${DEFAULT_ROSTER_HEADER}\n${row}`),
        {
          fileName: 'hr.csv',
        },
      );
      assert.equal(details.field, field, message);
      assert.equal(details.line, line, message);
      assert.ok(message.startsWith(`hr.csv line ${line}: field "${field}": `), message);
    }
  });

  it('rejects an end date before the start date', async () => {
    const row = ROW.replace('2024-01-02,,active', '2024-01-02,2023-01-01,terminated');
    const { message } = await rejectionOf(parseHrRoster, chunks(`${DEFAULT_ROSTER_HEADER}\n${row}`));
    assert.match(message, /field "end_date": end date 2023-01-01 is before start date 2024-01-02/);
  });

  it('rejects binary garbage; reads gzip; rejects a corrupt gzip', async () => {
    assert.match(
      (await rejectionOf(parseHrRoster, chunks(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x22])))).message,
      /^input line/,
    );
    const text = readText(`${NORTHWIND}/hr_roster.csv`);
    assert.deepEqual(
      await collect(parseHrRoster, chunks(gzip(text), 99)),
      await collect(parseHrRoster, chunks(text, 99)),
    );
    const corrupt = gzip(text);
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] ?? 0) ^ 0x01;
    assert.match((await rejectionOf(parseHrRoster, chunks(corrupt, 99))).message, /gzip data is corrupt/);
  });
});

describe('hr-roster importer: fuzzing', () => {
  it('arbitrary bytes never raise anything but import_rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), (bytes) =>
        assertOnlyImportRejected(parseHrRoster, bytes),
      ),
      { numRuns: 150 },
    );
  });

  it('mutated rosters never raise anything but import_rejected', async () => {
    const text = readText(`${NORTHWIND}/hr_roster.csv`).split('\n').slice(0, 12).join('\n');
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 12 }),
        fc.nat(),
        async (at, length, insert, how) => {
          await assertOnlyImportRejected(parseHrRoster, Buffer.from(mutate(text, at, length, insert, how)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('hr-roster importer: streaming', () => {
  it('parses a ~50 MB roster with flat memory', async () => {
    const { growth, counts, bytes } = await streamingFootprint(parseHrRoster, () =>
      generated(50 * MiB, (index) => ROW.replace('E1,', `E${index},`), `${DEFAULT_ROSTER_HEADER}\n`),
    );
    assert.ok(bytes >= 50 * MiB);
    assert.ok((counts.person ?? 0) > 400_000, JSON.stringify(counts));
    assert.equal(counts.rejected, undefined);
    assert.ok(growth < 100 * MiB, `retained memory grew by ${Math.round(growth / MiB)} MiB`);
  });
});
