import { Type } from 'typebox';
import { FindingSchema, presentFinding } from '../findings/findings.presenter.ts';
import type { WorkspaceCheck } from './checks.service.ts';
import type { StatementWithPractice } from './policy-statements.service.ts';

const Setting = Type.Union([Type.Number(), Type.Boolean(), Type.String()]);

export const CheckSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  title: Type.String(),
  description: Type.String(),
  severity: Type.String(),
  criteria: Type.Array(Type.String()),
  controls: Type.Array(Type.String()),
  triggers: Type.Object({
    eventClasses: Type.Optional(Type.Array(Type.Integer())),
    facts: Type.Optional(Type.Array(Type.String())),
    schedule: Type.Optional(Type.String()),
  }),
  enabled: Type.Boolean(),
  defaults: Type.Record(Type.String(), Setting),
  settings: Type.Record(Type.String(), Setting),
  graceHours: Type.Number(),
  remediationDays: Type.Number(),
  subjectKind: Type.Optional(Type.String()),
  expression: Type.Optional(Type.String()),
});

export function presentCheck(check: WorkspaceCheck) {
  return { ...check, triggers: { ...check.triggers } };
}

export const RunSummarySchema = Type.Object({
  runId: Type.String(),
  workspace: Type.String(),
  asOf: Type.String({ format: 'date-time' }),
  checks: Type.Integer(),
  results: Type.Integer(),
  failures: Type.Integer(),
  findingsOpened: Type.Integer(),
  findingsClosed: Type.Integer(),
  findingsOpen: Type.Integer(),
  drift: Type.Array(Type.Object({ control: Type.String(), from: Type.String(), to: Type.String() })),
});

export const TimelineSchema = Type.Object({
  control: Type.Object({
    id: Type.String(),
    templateId: Type.String(),
    title: Type.String(),
    status: Type.String(),
  }),
  intervals: Type.Array(
    Type.Object({
      status: Type.String(),
      from: Type.String({ format: 'date-time' }),
      to: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      reason: Type.String(),
      runId: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

export const PolicyStatementSchema = Type.Object({
  id: Type.String(),
  statement: Type.String(),
  policyId: Type.Union([Type.String(), Type.Null()]),
  checks: Type.Array(Type.String()),
  practice: Type.Object({
    status: Type.String(),
    matches: Type.Boolean(),
    checks: Type.Array(
      Type.Object({ id: Type.String(), evaluated: Type.Boolean(), openFindings: Type.Integer() }),
    ),
    openFindings: Type.Array(FindingSchema),
  }),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export function presentStatement({ statement, practice }: StatementWithPractice) {
  return {
    id: statement.id,
    statement: statement.statement,
    policyId: statement.policy_id,
    checks: statement.check_ids,
    practice: { ...practice, openFindings: practice.openFindings.map(presentFinding) },
    createdBy: statement.created_by,
    createdAt: statement.created_at.toISOString(),
    updatedAt: statement.updated_at.toISOString(),
  };
}
