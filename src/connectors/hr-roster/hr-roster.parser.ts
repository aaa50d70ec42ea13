/**
 * HR roster CSV importer (`hr-roster`).
 *
 * Default header (Assay's own roster format):
 *
 *   employee_id,name,email,title,department,manager_email,employment_type,start_date,end_date,status
 *
 * Other HR exports are read with the `columns` option, mapping our field to their header, e.g.
 * `{ employee_id: 'Employee #', email: 'Work Email', first_name: 'First Name', last_name: 'Last Name' }`.
 * Each row becomes a person fact observed at `observedAt`, plus Employment Change events: a hire
 * (when the row has a start date) and a termination (when it has an end date or status
 * terminated; dated by the end date, or by `observedAt` when HR gives none).
 *
 * The row → person/event logic is shared with the BambooHR importer (`personRecords`).
 */
import {
  classify,
  type EmploymentStatus,
  type ImportKind,
  type ImportRecord,
  type NormalizedEvent,
  type PersonFact,
  type RecordPosition,
} from '../../domains/events/event.model.ts';
import { AssayError } from '../../errors.ts';
import { FieldError, type ImportContext } from '../shared/import-context.ts';
import { compact, csvImporter, eventRecord, type ImportParser } from '../shared/importer.ts';
import { dateToTime, dateValue, emailOrUndefined, hashKey } from '../shared/values.ts';

/** Our roster fields, in the default header's order, then the optional name parts. */
export const rosterFields = [
  'employee_id',
  'name',
  'email',
  'title',
  'department',
  'manager_email',
  'employment_type',
  'start_date',
  'end_date',
  'status',
  'first_name',
  'last_name',
] as const;
export type RosterField = (typeof rosterFields)[number];

export const DEFAULT_ROSTER_HEADER = rosterFields.slice(0, 10).join(',');

/** `Full-Time` → `full_time`. */
export function employmentTypeOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const slug = text
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (slug === '') return undefined;
  if (slug === 'fulltime' || slug === 'ft') return 'full_time';
  if (slug === 'parttime' || slug === 'pt') return 'part_time';
  if (slug === 'contract' || slug === 'contingent' || slug === 'contractor') return 'contractor';
  if (slug === 'temp') return 'temporary';
  return slug;
}

const STATUS_WORDS: Record<string, EmploymentStatus> = {
  active: 'active',
  employed: 'active',
  current: 'active',
  terminated: 'terminated',
  inactive: 'terminated',
  former: 'terminated',
  separated: 'terminated',
  on_leave: 'on_leave',
  leave: 'on_leave',
  leave_of_absence: 'on_leave',
  loa: 'on_leave',
};

/** HR's status word → ours; undefined for an empty value; FieldError for an unknown word. */
export function employmentStatusOf(text: string | undefined, field: string): EmploymentStatus | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const key = text
    .trim()
    .toLowerCase()
    .replace(/[^a-z]+/g, '_');
  const status = STATUS_WORDS[key];
  if (!status) {
    throw new FieldError(field, `unknown status "${text}" (expected active, terminated or on_leave)`);
  }
  return status;
}

export interface PersonInput {
  employeeId: string | undefined;
  name: string | undefined;
  email: string | undefined;
  title?: string | undefined;
  department?: string | undefined;
  managerEmail?: string | undefined;
  managerEmployeeId?: string | undefined;
  employmentType?: string | undefined;
  startDate?: string | undefined;
  endDate?: string | undefined;
  status?: EmploymentStatus | undefined;
  /** Field names as the source calls them, for messages. */
  fields: {
    employeeId: string;
    name: string;
    email: string;
    managerEmail?: string;
    startDate?: string;
    endDate?: string;
  };
}

/**
 * Validates one HR row and returns the person fact plus its hire/termination events. An empty
 * status is derived: terminated when the end date has passed by `observedAt`, else active.
 */
export function personRecords(
  source: ImportKind,
  input: PersonInput,
  raw: unknown,
  position: RecordPosition,
  ctx: ImportContext,
): ImportRecord[] {
  const { fields } = input;
  if (!input.employeeId) throw new FieldError(fields.employeeId, 'required but missing');
  if (!input.name) throw new FieldError(fields.name, 'required but missing');
  if (!input.email) throw new FieldError(fields.email, 'required but missing');
  const email = emailOrUndefined(input.email);
  if (!email) throw new FieldError(fields.email, `not an email address: "${input.email}"`);
  let managerEmail: string | undefined;
  if (input.managerEmail) {
    managerEmail = emailOrUndefined(input.managerEmail);
    if (!managerEmail) {
      throw new FieldError(
        fields.managerEmail ?? 'manager_email',
        `not an email address: "${input.managerEmail}"`,
      );
    }
  }
  const startDate = input.startDate
    ? dateValue(input.startDate, fields.startDate ?? 'start_date')
    : undefined;
  const endDate = input.endDate ? dateValue(input.endDate, fields.endDate ?? 'end_date') : undefined;
  if (startDate && endDate && endDate < startDate) {
    throw new FieldError(
      fields.endDate ?? 'end_date',
      `end date ${endDate} is before start date ${startDate}`,
    );
  }
  const status: EmploymentStatus =
    input.status ??
    (endDate !== undefined && endDate <= ctx.observedAt.slice(0, 10) ? 'terminated' : 'active');

  const person: PersonFact = compact({
    source,
    employeeId: input.employeeId,
    name: input.name,
    email,
    title: input.title,
    department: input.department,
    managerEmail,
    managerEmployeeId: input.managerEmployeeId,
    employmentType: employmentTypeOf(input.employmentType),
    startDate,
    endDate,
    status,
    observedAt: ctx.observedAt,
  } satisfies PersonFact);
  const records: ImportRecord[] = [{ type: 'person', position, person }];

  const change = (kind: 'hire' | 'termination', date: string | undefined): NormalizedEvent => ({
    source,
    // One key per person and change, whatever else the row says: re-importing next week's
    // roster does not repeat the hire.
    sourceKey: hashKey({ source, employeeId: input.employeeId, change: kind, date: date ?? null }),
    system: 'hr',
    time: date ? dateToTime(date) : ctx.observedAt,
    ...classify('employmentChange', kind === 'hire' ? 1 : 3),
    action: kind,
    outcome: 'success',
    target: {
      type: 'user',
      system: 'hr',
      externalId: input.employeeId,
      email,
      displayName: input.name,
    },
    employment: {
      change: kind,
      employeeId: input.employeeId ?? '',
      email,
      effectiveDate: date,
      title: input.title,
      department: input.department,
    },
    raw,
  });
  if (startDate) records.push(eventRecord(change('hire', startDate), position));
  if (endDate || status === 'terminated') records.push(eventRecord(change('termination', endDate), position));
  return records;
}

/** Our field → the header to look for: the defaults, overridden by the `columns` option. */
function wantedHeaders(columns: Record<string, string> | undefined): Map<RosterField, string> {
  const wanted = new Map<RosterField, string>();
  for (const field of rosterFields) wanted.set(field, field);
  for (const [ours, theirs] of Object.entries(columns ?? {})) {
    if (!(rosterFields as readonly string[]).includes(ours)) {
      throw new AssayError(
        'validation_failed',
        `columns: unknown roster field "${ours}" (known: ${rosterFields.join(', ')})`,
        { field: 'columns' },
      );
    }
    if (typeof theirs !== 'string' || theirs.trim() === '') {
      throw new AssayError(
        'validation_failed',
        `columns: the header for "${ours}" must be a non-empty string`,
        {
          field: 'columns',
        },
      );
    }
    wanted.set(ours as RosterField, theirs);
  }
  return wanted;
}

/** Finds each wanted header in the header row (case-insensitively). */
function columnIndex(header: string[], wanted: Map<RosterField, string>): Map<RosterField, number> {
  const positions = new Map<string, number>();
  header.forEach((name, at) => {
    const key = name.trim().toLowerCase();
    if (!positions.has(key)) positions.set(key, at);
  });
  const index = new Map<RosterField, number>();
  for (const [field, heading] of wanted) {
    const at = positions.get(heading.trim().toLowerCase());
    if (at !== undefined) index.set(field, at);
  }
  const require = (field: RosterField) => {
    if (!index.has(field)) {
      throw new FieldError(
        wanted.get(field),
        `column missing from the header (expected ${DEFAULT_ROSTER_HEADER}, or map columns with the "columns" option)`,
      );
    }
  };
  require('employee_id');
  require('email');
  if (!index.has('name') && !(index.has('first_name') && index.has('last_name'))) require('name');
  return index;
}

export const parseHrRoster: ImportParser = (input, options) => {
  // A bad mapping is the caller's mistake, reported before any byte is read.
  const wanted = wantedHeaders(options?.columns);
  return csvImporter({
    kind: 'hr-roster',
    header: (header, _position, ctx) => {
      const index = columnIndex(header, wanted);
      const heading = (field: RosterField) => header[index.get(field) ?? -1]?.trim() ?? field;
      const seen = new Map<string, number>();
      return (fields, position) => {
        if (fields.length !== header.length) {
          throw new FieldError(
            undefined,
            `expected ${header.length} columns as in the header, found ${fields.length}`,
          );
        }
        const employeeId = fields[index.get('employee_id') ?? -1]?.trim();
        if (employeeId) {
          const first = seen.get(employeeId);
          if (first !== undefined) {
            throw new FieldError(
              heading('employee_id'),
              `"${employeeId}" appears twice (first on line ${first})`,
            );
          }
          seen.set(employeeId, position.line ?? 0);
        }
        const cell = (field: RosterField): string | undefined => {
          const at = index.get(field);
          const value = at === undefined ? undefined : fields[at]?.trim();
          return value === '' ? undefined : value;
        };
        const name =
          cell('name') ?? ([cell('first_name'), cell('last_name')].filter(Boolean).join(' ') || undefined);
        const raw: Record<string, string> = {};
        header.forEach((column, at) => {
          raw[column] = fields[at] ?? '';
        });
        return personRecords(
          'hr-roster',
          {
            employeeId: cell('employee_id'),
            name,
            email: cell('email'),
            title: cell('title'),
            department: cell('department'),
            managerEmail: cell('manager_email'),
            employmentType: cell('employment_type'),
            startDate: cell('start_date'),
            endDate: cell('end_date'),
            status: employmentStatusOf(cell('status'), heading('status')),
            fields: {
              employeeId: heading('employee_id'),
              name: index.has('name') ? heading('name') : heading('first_name'),
              email: heading('email'),
              managerEmail: heading('manager_email'),
              startDate: heading('start_date'),
              endDate: heading('end_date'),
            },
          },
          raw,
          position,
          ctx,
        );
      };
    },
  })(input, options);
};
