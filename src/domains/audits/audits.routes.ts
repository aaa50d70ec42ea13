import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { AssayError } from '../../errors.ts';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { EvidenceItemSchema } from '../evidence/evidence.presenter.ts';
import { evidenceBlobStore } from '../evidence/evidence.service.ts';
import { WorkspaceParams } from '../workspaces/workspaces.routes.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { assertWithinAuditorPeriod, auditorPeriod, logAuditorAccess } from './audit-access.ts';
import { type PreparedPackage, prepareAuditPackage } from './package/export.service.ts';
import { listPeriodEvidence } from './period-evidence.ts';
import { createPeriod, getPeriod, listPeriods, resolvePeriod, scopeTemplateIds } from './periods.service.ts';
import { readinessReport } from './readiness.service.ts';
import { fulfilRequests, importRequestList, listRequests } from './requests.service.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error') };
const Probability = Type.Number({ minimum: 0, maximum: 1 });
const PeriodQuery = Type.String({ minLength: 1, maxLength: 200 });

const ReadinessSchema = Type.Object({
  workspace: Type.String(),
  period: Type.Object({ from: Type.String(), to: Type.String() }),
  judgedAt: Type.String(),
  score: Type.Number(),
  probabilityAnyDeviation: Probability,
  controls: Type.Array(
    Type.Object({
      controlId: Type.String(),
      templateId: Type.String(),
      title: Type.String(),
      frequency: Type.String(),
      criteria: Type.Array(Type.String()),
      kind: Type.String(),
      unit: Type.String(),
      population: Type.Integer(),
      deviations: Type.Object({
        late: Type.Integer(),
        missing: Type.Integer(),
        failed: Type.Integer(),
        total: Type.Integer(),
      }),
      exceptions: Type.Integer(),
      sampleSize: Type.Integer(),
      probabilityOfDeviationInSample: Probability,
    }),
  ),
  criteria: Type.Array(
    Type.Object({
      criterion: Type.String(),
      controls: Type.Array(Type.String()),
      probabilityOfDeviationInSample: Probability,
    }),
  ),
  gaps: Type.Array(
    Type.Object({
      templateId: Type.String(),
      title: Type.String(),
      probabilityOfDeviationInSample: Probability,
      deviations: Type.Integer(),
      unit: Type.String(),
      first: Type.Union([Type.String(), Type.Null()]),
      advice: Type.String(),
    }),
  ),
});

const PeriodSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  reportType: Type.String(),
  startsOn: Type.String(),
  endsOn: Type.String(),
  categories: Type.Array(Type.String()),
  scope: Type.Object({
    catalogVersion: Type.String(),
    categories: Type.Array(Type.String()),
    criteria: Type.Array(Type.String()),
    controls: Type.Array(
      Type.Object({
        id: Type.String(),
        templateId: Type.String(),
        title: Type.String(),
        frequency: Type.String(),
        owner: Type.Union([Type.String(), Type.Null()]),
        ownerRole: Type.String(),
        criteria: Type.Array(Type.String()),
      }),
    ),
    frozenAt: Type.String(),
  }),
  createdBy: Type.String(),
  createdAt: Type.String(),
});

const OccurrenceSchema = Type.Object({
  id: Type.String(),
  label: Type.String(),
  start: Type.String(),
  due: Type.String(),
  status: Type.String(),
  detail: Type.String(),
  evidenceIds: Type.Array(Type.String()),
  eventIds: Type.Array(Type.Integer()),
});

const RequestSchema = Type.Object({
  id: Type.String(),
  ref: Type.String(),
  description: Type.String(),
  controlRefs: Type.Array(Type.String()),
  criterionRefs: Type.Array(Type.String()),
  controls: Type.Array(Type.String()),
  dueOn: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  fulfilment: Type.Union([Type.String(), Type.Null()]),
  fulfilledAt: Type.Union([Type.String(), Type.Null()]),
  fulfilledBy: Type.Union([Type.String(), Type.Null()]),
  evidenceIds: Type.Array(Type.String()),
  note: Type.Union([Type.String(), Type.Null()]),
  overdue: Type.Boolean(),
  line: Type.Integer(),
});

const PeriodParams = Type.Object({
  workspace: Type.String({ minLength: 1, maxLength: 100 }),
  period: Type.String({ minLength: 1, maxLength: 200 }),
});

const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Streams a prepared package as the response; a failure after the headers ends the response. */
function streamPackage(reply: FastifyReply, prepared: PreparedPackage, log: (error: unknown) => void) {
  const body = new PassThrough();
  prepared.write(body).catch((error) => {
    log(error);
    body.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  return reply
    .type('application/zip')
    .header('content-disposition', `attachment; filename="${prepared.fileName}"`)
    .header('cache-control', 'no-store')
    .send(body);
}

export async function auditRoutes(app: App, { database, config }: AppContext) {
  const blobStore = evidenceBlobStore(config);

  app.get(
    '/workspaces/:workspace/readiness',
    {
      config: { access: { permission: 'audits:read' } },
      schema: {
        tags: ['audits'],
        summary:
          'Type II operating effectiveness and the auditor-sample forecast for a period (FROM..TO, or an audit period’s name)',
        params: WorkspaceParams,
        querystring: Type.Object({ period: PeriodQuery }, { additionalProperties: false }),
        response: { 200: ReadinessSchema, ...errors },
      },
    },
    async (request) => {
      const period = await resolvePeriod(database, request.params.workspace, request.query.period);
      assertWithinAuditorPeriod(request, period);
      const { populations: _p, ...report } = await readinessReport(
        database,
        request.params.workspace,
        period.window,
        {
          deprovisioningSlaHours: config.deprovisioningSlaHours,
          controls: scopeTemplateIds(period),
        },
      );
      await logAuditorAccess(database, request, 'readiness_read', { period: period.label });
      return report;
    },
  );

  app.get(
    '/workspaces/:workspace/populations',
    {
      config: { access: { permission: 'audits:read' } },
      schema: {
        tags: ['audits'],
        summary:
          'Every occurrence of each control’s population in a period, with its status and evidence ids',
        params: WorkspaceParams,
        querystring: Type.Object(
          { period: PeriodQuery, control: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            period: Type.String(),
            populations: Type.Array(
              Type.Object({
                templateId: Type.String(),
                title: Type.String(),
                frequency: Type.String(),
                criteria: Type.Array(Type.String()),
                kind: Type.String(),
                unit: Type.String(),
                occurrences: Type.Array(OccurrenceSchema),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const period = await resolvePeriod(database, request.params.workspace, request.query.period);
      assertWithinAuditorPeriod(request, period);
      const { populations } = await readinessReport(database, request.params.workspace, period.window, {
        deprovisioningSlaHours: config.deprovisioningSlaHours,
        controls: scopeTemplateIds(period),
      });
      const control = request.query.control;
      const selected = populations.filter((p) => control === undefined || p.templateId === control);
      if (control !== undefined && selected.length === 0) {
        throw new AssayError(
          'control_not_found',
          `control ${control} is not in the scope of ${period.label}`,
        );
      }
      await logAuditorAccess(database, request, 'populations_read', {
        period: period.label,
        control: control ?? null,
      });
      return { period: period.label, populations: selected };
    },
  );

  app.get(
    '/workspaces/:workspace/periods',
    {
      config: { access: { permission: 'audits:read' } },
      schema: {
        tags: ['audits'],
        summary: 'Audit periods (an auditor sees those within their own period)',
        params: WorkspaceParams,
        response: { 200: Type.Object({ periods: Type.Array(PeriodSchema) }), ...errors },
      },
    },
    async (request) => {
      const allowed = auditorPeriod(request);
      const periods = (await listPeriods(database, request.params.workspace)).filter(
        (p) => allowed === null || (p.startsOn >= allowed.start && p.endsOn <= allowed.end),
      );
      await logAuditorAccess(database, request, 'periods_read', {});
      return { periods };
    },
  );

  app.post(
    '/workspaces/:workspace/periods',
    {
      config: { access: { permission: 'audits:manage' } },
      schema: {
        tags: ['audits'],
        summary: 'Declare an audit period; its scope (controls, criteria, owners) is frozen now',
        params: WorkspaceParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            type: Type.Union([Type.Literal('type1'), Type.Literal('type2')]),
            from: Type.String({ minLength: 1, maxLength: 20 }),
            to: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
            categories: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 10 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: PeriodSchema, ...errors, 409: Type.Ref('Error') },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const period = await createPeriod(database, requestActor(request), request.params.workspace, {
        name: body.name,
        reportType: body.type,
        from: body.from,
        to: body.to,
        categories: body.categories,
      });
      return reply.status(201).send(period);
    },
  );

  app.get(
    '/workspaces/:workspace/periods/:period',
    {
      config: { access: { permission: 'audits:read' } },
      schema: {
        tags: ['audits'],
        summary: 'One audit period with its frozen scope',
        params: PeriodParams,
        response: { 200: PeriodSchema, ...errors },
      },
    },
    async (request) => {
      const period = await getPeriod(database, request.params.workspace, request.params.period);
      assertWithinAuditorPeriod(request, {
        window: { from: new Date(0), to: new Date(0) },
        period,
        label: period.name,
        firstDay: period.startsOn,
        lastDay: period.endsOn,
      });
      await logAuditorAccess(database, request, 'period_read', { period: period.name });
      return period;
    },
  );

  app.get(
    '/workspaces/:workspace/periods/:period/evidence',
    {
      config: { access: { permission: 'audits:read' } },
      schema: {
        tags: ['audits'],
        summary: 'The evidence of a period: items effective within it that prove its controls, newest first',
        params: PeriodParams,
        querystring: Type.Object(
          {
            control: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            before: Type.Optional(Type.Integer({ minimum: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            period: Type.String(),
            items: Type.Array(EvidenceItemSchema),
            next: Type.Union([Type.Integer(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const period = await resolvePeriod(database, request.params.workspace, request.params.period);
      assertWithinAuditorPeriod(request, period);
      const workspaceId = (await getWorkspace(database, request.params.workspace)).id;
      const result = await listPeriodEvidence(database, workspaceId, period, request.query);
      await logAuditorAccess(database, request, 'evidence_read', {
        period: period.label,
        control: request.query.control ?? null,
        items: result.items.length,
      });
      return result;
    },
  );

  app.post(
    '/workspaces/:workspace/exports',
    {
      config: { access: { permission: 'exports:create' } },
      schema: {
        tags: ['audits'],
        summary:
          'The auditor package for a period as a zip stream (a checkpoint is signed first if the ledger grew)',
        params: WorkspaceParams,
        body: Type.Object({ period: PeriodQuery }, { additionalProperties: false }),
        response: { 200: Type.Unknown(), ...errors },
      },
    },
    async (request, reply) => {
      assertWithinAuditorPeriod(
        request,
        await resolvePeriod(database, request.params.workspace, request.body.period),
      );
      const prepared = await prepareAuditPackage(database, request.params.workspace, request.body.period, {
        actor: requestActor(request),
        blobStore,
        deprovisioningSlaHours: config.deprovisioningSlaHours,
        checkpoint: true,
      });
      return streamPackage(reply, prepared, (error) => request.log.error({ err: error }, 'export failed'));
    },
  );

  app.get(
    '/workspaces/:workspace/exports/package',
    {
      config: { access: { permission: 'audits:read' } },
      schema: {
        tags: ['audits'],
        summary:
          'The auditor package for a period as a zip stream, against the latest signed checkpoint (what an auditor downloads)',
        params: WorkspaceParams,
        querystring: Type.Object({ period: PeriodQuery }, { additionalProperties: false }),
        response: { 200: Type.Unknown(), ...errors },
      },
    },
    async (request, reply) => {
      const period = await resolvePeriod(database, request.params.workspace, request.query.period);
      assertWithinAuditorPeriod(request, period);
      const prepared = await prepareAuditPackage(database, request.params.workspace, request.query.period, {
        actor: requestActor(request),
        blobStore,
        deprovisioningSlaHours: config.deprovisioningSlaHours,
        checkpoint: false,
      });
      await logAuditorAccess(database, request, 'package_downloaded', { period: period.label });
      return streamPackage(reply, prepared, (error) => request.log.error({ err: error }, 'export failed'));
    },
  );

  app.get(
    '/workspaces/:workspace/periods/:period/requests',
    {
      config: { access: { permission: 'audits:read' } },
      schema: {
        tags: ['audits'],
        summary: 'The period’s request list (PBC): mapped controls, due dates, status, fulfilling evidence',
        params: PeriodParams,
        querystring: Type.Object(
          { status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('fulfilled')])) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ period: Type.String(), requests: Type.Array(RequestSchema) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const period = await resolvePeriod(database, request.params.workspace, request.params.period);
      assertWithinAuditorPeriod(request, period);
      const result = await listRequests(
        database,
        request.params.workspace,
        request.params.period,
        request.query,
      );
      await logAuditorAccess(database, request, 'requests_read', { period: period.label });
      return result;
    },
  );

  app.post(
    '/workspaces/:workspace/periods/:period/requests/fulfil',
    {
      config: { access: { permission: 'audits:manage' } },
      schema: {
        tags: ['audits'],
        summary:
          'Fulfil one request by hand citing evidence, or (no request) every open request that evidence now proves',
        params: PeriodParams,
        body: Type.Object(
          {
            request: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            evidence: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 200 })),
            note: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            period: Type.String(),
            fulfilled: Type.Array(Type.String()),
            requests: Type.Array(RequestSchema),
          }),
          ...errors,
        },
      },
    },
    async (request) =>
      fulfilRequests(database, requestActor(request), request.params.workspace, request.params.period, {
        ref: request.body.request,
        evidenceIds: request.body.evidence,
        note: request.body.note,
      }),
  );

  await app.register(async (instance) => {
    const raw = instance as unknown as App;
    // Request lists arrive as the auditor sent them: CSV text or an XLSX workbook.
    raw.addContentTypeParser(
      'text/csv',
      { parseAs: 'buffer', bodyLimit: 16 * 1024 * 1024 },
      (_r, body, done) => done(null, body),
    );
    raw.addContentTypeParser(xlsxType, { parseAs: 'buffer', bodyLimit: 16 * 1024 * 1024 }, (_r, body, done) =>
      done(null, body),
    );
    raw.post(
      '/workspaces/:workspace/periods/:period/requests',
      {
        bodyLimit: 16 * 1024 * 1024,
        config: { access: { permission: 'audits:manage' } },
        schema: {
          tags: ['audits'],
          summary:
            'Import a request list (text/csv or XLSX body; columns request_id, description, controls, criteria, due_date): all rows or none',
          params: PeriodParams,
          querystring: Type.Object(
            { fileName: Type.Optional(Type.String({ maxLength: 255 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              period: Type.String(),
              imported: Type.Integer(),
              created: Type.Integer(),
              updated: Type.Integer(),
              fulfilled: Type.Array(Type.String()),
              open: Type.Integer(),
            }),
            ...errors,
            409: Type.Ref('Error'),
          },
        },
      },
      async (request) => {
        const type = String(request.headers['content-type'] ?? '')
          .split(';')[0]!
          .trim()
          .toLowerCase();
        if (!Buffer.isBuffer(request.body) || (type !== 'text/csv' && type !== xlsxType)) {
          throw new AssayError(
            'unsupported_media_type',
            `send the request list as text/csv or ${xlsxType}, not ${type || 'nothing'}`,
          );
        }
        return importRequestList(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.period,
          {
            format: type === 'text/csv' ? 'csv' : 'xlsx',
            content: request.body,
            fileName: (request.query as { fileName?: string }).fileName,
          },
        );
      },
    );
  });
}
