/**
 * BambooHR importer (`bamboohr`).
 *
 * Accepts the JSON a BambooHR custom report returns (`POST /v1/reports/custom?format=JSON`:
 * `{"title", "fields": [...], "employees": [...]}`) or a plain JSON array of employee objects.
 * Each employee becomes a person fact plus hire/termination events, exactly as an HR roster row
 * (see hr-roster.parser.ts). Field use:
 *
 * - employee id: `employeeNumber` ("Employee #"), else `id` (EEID) — `supervisorId` refers to
 *   employee numbers, so the manager link holds;
 * - name: `displayName`, else `firstName` + `lastName`; email: `workEmail`, else `bestEmail`;
 * - title `jobTitle`, `department`, manager `supervisorEmail` / `supervisorId`;
 * - employment type and status: `employmentHistoryStatus` ("Full-Time", "Terminated", …) and
 *   `status` ("Active"/"Inactive"); start `hireDate`; end `terminationDate` when the report has it.
 *   Reports without a termination date state terminations by status only; the termination event
 *   is then dated `observedAt` with no effective date.
 */
import type { ImportRecord, RecordPosition } from '../../domains/events/event.model.ts';
import { employmentStatusOf, personRecords } from '../hr-roster/hr-roster.parser.ts';
import { FieldError, type ImportContext } from '../shared/import-context.ts';
import { jsonImporter } from '../shared/importer.ts';
import type { JsonItem } from '../shared/json-records.ts';
import { type JsonObject, optionalString, requireObject } from '../shared/values.ts';

/** BambooHR writes unset dates as 0000-00-00. */
function date(record: JsonObject, key: string): string | undefined {
  const value = optionalString(record, key);
  return value === undefined || value.startsWith('0000-00-00') ? undefined : value;
}

function normalize(
  item: JsonItem & { ok: true },
  position: RecordPosition,
  ctx: ImportContext,
): ImportRecord[] {
  const container = item.container;
  const fromReport =
    container !== undefined && (container.length === 0 || container.join('.') === 'employees');
  if (!fromReport) {
    throw new FieldError(
      'employees',
      'not a BambooHR custom report: expected {"fields": [...], "employees": [...]} or an array of employees',
    );
  }
  const employee = requireObject(item.value, 'a BambooHR employee');
  const historyStatus = optionalString(employee, 'employmentHistoryStatus');
  const accountStatus = optionalString(employee, 'status');
  let status = employmentStatusOf(
    historyStatus === 'Terminated' ? historyStatus : undefined,
    'employmentHistoryStatus',
  );
  if (!status && accountStatus) status = employmentStatusOf(accountStatus, 'status');
  if (!status && historyStatus && /leave/i.test(historyStatus)) status = 'on_leave';
  const first = optionalString(employee, 'firstName');
  const last = optionalString(employee, 'lastName');
  const name =
    optionalString(employee, 'displayName') ?? ([first, last].filter(Boolean).join(' ') || undefined);
  const hasNumber = optionalString(employee, 'employeeNumber') !== undefined;
  return personRecords(
    'bamboohr',
    {
      employeeId: optionalString(employee, 'employeeNumber') ?? optionalString(employee, 'id'),
      name,
      email: optionalString(employee, 'workEmail') ?? optionalString(employee, 'bestEmail'),
      title: optionalString(employee, 'jobTitle'),
      department: optionalString(employee, 'department'),
      managerEmail: optionalString(employee, 'supervisorEmail'),
      managerEmployeeId: optionalString(employee, 'supervisorId'),
      employmentType:
        historyStatus && historyStatus !== 'Terminated' && !/leave/i.test(historyStatus)
          ? historyStatus
          : undefined,
      startDate: date(employee, 'hireDate'),
      endDate: date(employee, 'terminationDate'),
      status,
      fields: {
        employeeId: hasNumber ? 'employeeNumber' : 'id',
        name: 'firstName',
        email: optionalString(employee, 'workEmail') !== undefined ? 'workEmail' : 'bestEmail',
        managerEmail: 'supervisorEmail',
        startDate: 'hireDate',
        endDate: 'terminationDate',
      },
    },
    employee,
    position,
    ctx,
  );
}

export const parseBambooHr = jsonImporter({
  kind: 'bamboohr',
  envelopes: [['employees']],
  normalize,
});
