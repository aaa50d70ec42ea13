import { Type } from 'typebox';
import { AssayError } from '../../errors.ts';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { WorkspaceParams } from '../workspaces/workspaces.routes.ts';
import { addCustomCheck, configureCheck, listWorkspaceChecks } from './checks.service.ts';
import {
  CheckSchema,
  PolicyStatementSchema,
  presentCheck,
  presentStatement,
  RunSummarySchema,
  TimelineSchema,
} from './monitoring.presenter.ts';
import {
  createPolicyStatement,
  getStatement,
  linkPolicyStatement,
  listStatements,
} from './policy-statements.service.ts';
import { runChecks } from './run-checks.service.ts';
import { controlTimeline, workspaceDrift } from './timeline.service.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error') };
const Id = Type.String({ minLength: 1, maxLength: 100 });
const CheckIds = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 200 });

export async function monitoringRoutes(app: App, { database }: AppContext) {
  app.get(
    '/workspaces/:workspace/checks',
    {
      config: { access: { permission: 'controls:read' } },
      schema: {
        tags: ['monitoring'],
        summary: "The workspace's checks (built-in and custom) with their settings, criteria and controls",
        params: WorkspaceParams,
        response: { 200: Type.Object({ checks: Type.Array(CheckSchema) }), ...errors },
      },
    },
    async (request) => ({
      checks: (await listWorkspaceChecks(database, request.params.workspace)).map(presentCheck),
    }),
  );

  app.post(
    '/workspaces/:workspace/checks/run',
    {
      config: { access: { permission: 'checks:run' } },
      schema: {
        tags: ['monitoring'],
        summary:
          'Evaluate checks now, or as at a past instant (asOf); all enabled checks unless some are named',
        params: WorkspaceParams,
        body: Type.Optional(
          Type.Object(
            { asOf: Type.Optional(Type.String({ format: 'date-time' })), checks: Type.Optional(CheckIds) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: RunSummarySchema, ...errors },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      const asOf = body.asOf === undefined ? undefined : new Date(body.asOf);
      if (asOf && Number.isNaN(asOf.getTime())) {
        throw new AssayError('validation_failed', 'asOf: not a valid date-time', { field: 'asOf' });
      }
      return runChecks(database, requestActor(request), request.params.workspace, {
        asOf,
        checkIds: body.checks,
        trigger: 'api',
      });
    },
  );

  app.put(
    '/workspaces/:workspace/checks/:check/settings',
    {
      config: { access: { permission: 'controls:write' } },
      schema: {
        tags: ['monitoring'],
        summary:
          "Enable, disable or tune a check for this workspace (settings are validated against the check's own)",
        params: Type.Object({ workspace: Id, check: Id }),
        body: Type.Object(
          {
            enabled: Type.Optional(Type.Boolean()),
            settings: Type.Optional(
              Type.Record(
                Type.String({ maxLength: 60 }),
                Type.Union([Type.Number(), Type.Boolean(), Type.String()]),
              ),
            ),
            reset: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: CheckSchema, ...errors },
      },
    },
    async (request) =>
      presentCheck(
        await configureCheck(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.check,
          {
            enabled: request.body.enabled,
            set: request.body.settings,
            reset: request.body.reset,
          },
        ),
      ),
  );

  app.post(
    '/workspaces/:workspace/checks/custom',
    {
      config: { access: { permission: 'controls:write' } },
      schema: {
        tags: ['monitoring'],
        summary:
          'Add a custom check: a CEL expression over each identity, person or event that must hold (parse and type errors name the column)',
        params: WorkspaceParams,
        body: Type.Object(
          {
            id: Type.String({ minLength: 1, maxLength: 90 }),
            title: Type.String({ minLength: 1, maxLength: 200 }),
            description: Type.Optional(Type.String({ maxLength: 2000 })),
            subjectKind: Type.String({ minLength: 1, maxLength: 20 }),
            expression: Type.String({ minLength: 1, maxLength: 4000 }),
            severity: Type.String({ minLength: 1, maxLength: 20 }),
            criteria: Type.Array(Type.String({ minLength: 1, maxLength: 20 }), { minItems: 1, maxItems: 61 }),
            controls: Type.Optional(
              Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 100 }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: CheckSchema, 409: Type.Ref('Error'), ...errors },
      },
    },
    async (request, reply) => {
      const check = await addCustomCheck(
        database,
        requestActor(request),
        request.params.workspace,
        request.body,
      );
      reply.status(201);
      return presentCheck(check);
    },
  );

  app.get(
    '/workspaces/:workspace/controls/:control/timeline',
    {
      config: { access: { permission: 'controls:read' } },
      schema: {
        tags: ['monitoring'],
        summary:
          "A control's status timeline: intervals of passing, failing, at risk or no data (optionally within from..to)",
        params: Type.Object({ workspace: Id, control: Id }),
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ maxLength: 40 })),
            to: Type.Optional(Type.String({ maxLength: 40 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: TimelineSchema, ...errors },
      },
    },
    async (request) =>
      controlTimeline(database, request.params.workspace, request.params.control, {
        from: request.query.from,
        to: request.query.to,
      }),
  );

  app.get(
    '/workspaces/:workspace/drift',
    {
      config: { access: { permission: 'controls:read' } },
      schema: {
        tags: ['monitoring'],
        summary:
          "Drift: every change of a control's status since an instant (default the last 30 days), newest first",
        params: WorkspaceParams,
        querystring: Type.Object(
          { since: Type.Optional(Type.String({ maxLength: 40 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            since: Type.String({ format: 'date-time' }),
            changes: Type.Array(
              Type.Object({
                control: Type.String(),
                title: Type.String(),
                status: Type.String(),
                at: Type.String({ format: 'date-time' }),
                reason: Type.String(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => workspaceDrift(database, request.params.workspace, request.query.since),
  );

  app.get(
    '/workspaces/:workspace/policy-statements',
    {
      config: { access: { permission: 'controls:read' } },
      schema: {
        tags: ['monitoring'],
        summary:
          'Policy statements with whether practice matches them (their linked checks have no open finding)',
        params: WorkspaceParams,
        response: { 200: Type.Object({ statements: Type.Array(PolicyStatementSchema) }), ...errors },
      },
    },
    async (request) => ({
      statements: (await listStatements(database, request.params.workspace)).map(presentStatement),
    }),
  );

  app.get(
    '/workspaces/:workspace/policy-statements/:statement',
    {
      config: { access: { permission: 'controls:read' } },
      schema: {
        tags: ['monitoring'],
        summary: 'One policy statement, with the open findings that contradict it',
        params: Type.Object({ workspace: Id, statement: Id }),
        response: { 200: PolicyStatementSchema, ...errors },
      },
    },
    async (request) =>
      presentStatement(await getStatement(database, request.params.workspace, request.params.statement)),
  );

  app.post(
    '/workspaces/:workspace/policy-statements',
    {
      config: { access: { permission: 'controls:write' } },
      schema: {
        tags: ['monitoring'],
        summary: 'Record a policy statement and link it to the checks that prove it',
        params: WorkspaceParams,
        body: Type.Object(
          {
            statement: Type.String({ minLength: 1, maxLength: 2000 }),
            checks: Type.Optional(CheckIds),
            policyId: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
          },
          { additionalProperties: false },
        ),
        response: { 201: PolicyStatementSchema, ...errors },
      },
    },
    async (request, reply) => {
      const created = await createPolicyStatement(
        database,
        requestActor(request),
        request.params.workspace,
        request.body,
      );
      reply.status(201);
      return presentStatement(created);
    },
  );

  app.put(
    '/workspaces/:workspace/policy-statements/:statement/checks',
    {
      config: { access: { permission: 'controls:write' } },
      schema: {
        tags: ['monitoring'],
        summary: 'Set the checks a policy statement is linked to',
        params: Type.Object({ workspace: Id, statement: Id }),
        body: Type.Object({ checks: CheckIds }, { additionalProperties: false }),
        response: { 200: PolicyStatementSchema, ...errors },
      },
    },
    async (request) =>
      presentStatement(
        await linkPolicyStatement(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.statement,
          {
            checks: request.body.checks,
            replace: true,
          },
        ),
      ),
  );
}
