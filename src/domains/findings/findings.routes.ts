import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { WorkspaceParams } from '../workspaces/workspaces.routes.ts';
import { createException, listExceptions, revokeException } from './exceptions.service.ts';
import {
  ExceptionSchema,
  FindingDetailSchema,
  FindingSchema,
  presentException,
  presentFinding,
  presentResult,
  presentTask,
  TaskSchema,
} from './findings.presenter.ts';
import {
  getFindingDetail,
  listWorkspaceFindings,
  listWorkspaceTasks,
  parseFindingFilter,
  parseTaskFilter,
} from './findings.service.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error') };
const Id = Type.String({ minLength: 1, maxLength: 100 });
const FindingParams = Type.Object({ workspace: Id, finding: Id });
const ExceptionParams = Type.Object({ workspace: Id, exception: Id });

export async function findingRoutes(app: App, { database }: AppContext) {
  app.get(
    '/workspaces/:workspace/findings',
    {
      config: { access: { permission: 'findings:read' } },
      schema: {
        tags: ['findings'],
        summary: 'Findings, newest first; filter by status, check and severity',
        params: WorkspaceParams,
        querystring: Type.Object(
          {
            status: Type.Optional(Type.String({ maxLength: 20 })),
            check: Type.Optional(Type.String({ maxLength: 100 })),
            severity: Type.Optional(Type.String({ maxLength: 20 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ findings: Type.Array(FindingSchema) }), ...errors },
      },
    },
    async (request) => {
      const filter = parseFindingFilter({
        status: request.query.status,
        checkId: request.query.check,
        severity: request.query.severity,
      });
      const rows = await listWorkspaceFindings(database, request.params.workspace, filter);
      return { findings: rows.map(presentFinding) };
    },
  );

  app.get(
    '/workspaces/:workspace/findings/:finding',
    {
      config: { access: { permission: 'findings:read' } },
      schema: {
        tags: ['findings'],
        summary: "One finding with its check's result history for the subject, its tasks and its exception",
        params: FindingParams,
        response: { 200: FindingDetailSchema, ...errors },
      },
    },
    async (request) => {
      const detail = await getFindingDetail(database, request.params.workspace, request.params.finding);
      return {
        finding: presentFinding(detail.finding),
        results: detail.results.map(presentResult),
        tasks: detail.tasks.map(presentTask),
        exception: detail.exception ? presentException(detail.exception) : null,
      };
    },
  );

  app.get(
    '/workspaces/:workspace/tasks',
    {
      config: { access: { permission: 'findings:read' } },
      schema: {
        tags: ['findings'],
        summary: 'Tasks (remediation of findings), soonest due first',
        params: WorkspaceParams,
        querystring: Type.Object(
          {
            status: Type.Optional(Type.String({ maxLength: 20 })),
            assignee: Type.Optional(Type.String({ maxLength: 320 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ tasks: Type.Array(TaskSchema) }), ...errors },
      },
    },
    async (request) => ({
      tasks: (
        await listWorkspaceTasks(
          database,
          request.params.workspace,
          parseTaskFilter({ status: request.query.status, assignee: request.query.assignee }),
        )
      ).map(presentTask),
    }),
  );

  app.get(
    '/workspaces/:workspace/exceptions',
    {
      config: { access: { permission: 'findings:read' } },
      schema: {
        tags: ['findings'],
        summary: 'Exceptions: active, expired or revoked',
        params: WorkspaceParams,
        querystring: Type.Object(
          {
            status: Type.Optional(Type.String({ maxLength: 20 })),
            check: Type.Optional(Type.String({ maxLength: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ exceptions: Type.Array(ExceptionSchema) }), ...errors },
      },
    },
    async (request) => {
      const now = new Date();
      const rows = await listExceptions(
        database,
        request.params.workspace,
        { status: request.query.status, checkId: request.query.check },
        { now },
      );
      return { exceptions: rows.map((e) => presentException(e.row, now)) };
    },
  );

  app.post(
    '/workspaces/:workspace/exceptions',
    {
      config: { access: { permission: 'exceptions:decide' } },
      schema: {
        tags: ['findings'],
        summary:
          'Record an approved, time-limited exception for one check and subject (or a finding); it suppresses the finding until it expires',
        params: WorkspaceParams,
        body: Type.Object(
          {
            check: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            subject: Type.Optional(Type.String({ minLength: 3, maxLength: 500 })),
            finding: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            justification: Type.String({ minLength: 1, maxLength: 4000 }),
            approver: Type.String({ minLength: 1, maxLength: 200 }),
            expiresAt: Type.String({ minLength: 10, maxLength: 40 }),
            requestedBy: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            exception: ExceptionSchema,
            suppressedFinding: Type.Union([FindingSchema, Type.Null()]),
          }),
          409: Type.Ref('Error'),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { check, ...rest } = request.body;
      const created = await createException(database, requestActor(request), request.params.workspace, {
        ...rest,
        checkId: check,
      });
      reply.status(201);
      return {
        exception: presentException(created.exception),
        suppressedFinding: created.finding ? presentFinding(created.finding) : null,
      };
    },
  );

  app.post(
    '/workspaces/:workspace/exceptions/:exception/revoke',
    {
      config: { access: { permission: 'exceptions:decide' } },
      schema: {
        tags: ['findings'],
        summary: 'Revoke an exception before it expires; the finding it suppressed reopens',
        params: ExceptionParams,
        body: Type.Object(
          { reason: Type.Optional(Type.String({ maxLength: 2000 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            exception: ExceptionSchema,
            reopenedFinding: Type.Union([FindingSchema, Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const revoked = await revokeException(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.exception,
        { reason: request.body?.reason },
      );
      return {
        exception: presentException(revoked.exception),
        reopenedFinding: revoked.finding ? presentFinding(revoked.finding) : null,
      };
    },
  );
}
