import type { Selectable } from 'kysely';
import { Type } from 'typebox';
import type { IdentitiesTable, PeopleTable } from './identity.tables.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const PersonSchema = Type.Object({
  id: Type.String(),
  employeeId: Type.String(),
  name: Type.String(),
  email: Type.String(),
  title: Nullable(Type.String()),
  department: Nullable(Type.String()),
  managerEmail: Nullable(Type.String()),
  employmentType: Nullable(Type.String()),
  startDate: Nullable(Type.String()),
  endDate: Nullable(Type.String()),
  status: Type.String(),
});

export const IdentitySchema = Type.Object({
  id: Type.String(),
  system: Type.String(),
  externalId: Type.String(),
  userName: Nullable(Type.String()),
  email: Nullable(Type.String()),
  displayName: Nullable(Type.String()),
  principalType: Type.String(),
  status: Type.String(),
  personId: Nullable(Type.String()),
  linkMethod: Nullable(Type.String()),
  nonHuman: Type.Boolean(),
  owner: Nullable(Type.String()),
  purpose: Nullable(Type.String()),
  firstSeenAt: Type.String(),
  lastSeenAt: Type.String(),
});

const day = (d: Date | null) => (d === null ? null : d.toISOString().slice(0, 10));

export function presentPerson(row: Selectable<PeopleTable>) {
  return {
    id: row.id,
    employeeId: row.employee_id,
    name: row.name,
    email: row.email,
    title: row.title,
    department: row.department,
    managerEmail: row.manager_email,
    employmentType: row.employment_type,
    startDate: day(row.start_date),
    endDate: day(row.end_date),
    status: row.status,
  };
}

export function presentIdentity(row: Selectable<IdentitiesTable>) {
  return {
    id: row.id,
    system: row.system,
    externalId: row.external_id,
    userName: row.user_name,
    email: row.email,
    displayName: row.display_name,
    principalType: row.principal_type,
    status: row.status,
    personId: row.person_id,
    linkMethod: row.link_method,
    nonHuman: row.non_human,
    owner: row.owner,
    purpose: row.purpose,
    firstSeenAt: row.first_seen_at.toISOString(),
    lastSeenAt: row.last_seen_at.toISOString(),
  };
}
