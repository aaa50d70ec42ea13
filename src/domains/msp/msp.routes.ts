import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { type Caller, hasPlatformAuthority, visibleWorkspaces } from '../accounts/caller.ts';
import { evidenceBlobStore } from '../evidence/evidence-blobs.ts';
import { exportWorkspace } from '../portability/portability.service.ts';
import { presentWorkspace, WorkspaceSchema } from '../workspaces/workspaces.presenter.ts';
import { WorkspaceParams } from '../workspaces/workspaces.routes.ts';
import { clientReport } from './client-report.service.ts';
import { mspPortfolio, type Reach } from './portfolio.service.ts';
import {
  createClientFromTemplate,
  createTemplate,
  listTemplates,
  setOverride,
  showTemplate,
  updateTemplate,
} from './templates.service.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error'), 409: Type.Ref('Error') };
const TemplateParams = Type.Object({
  workspace: Type.String({ minLength: 1, maxLength: 100 }),
  template: Type.String({ minLength: 1, maxLength: 63 }),
});
const Definition = Type.Record(Type.String(), Type.Unknown());
const TemplateSchema = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  definition: Type.Unknown(),
  items: Type.Record(Type.String(), Type.Unknown()),
  clients: Type.Array(Type.String()),
  updatedAt: Type.String({ format: 'date-time' }),
});
const ItemChange = Type.Object({
  item: Type.String(),
  change: Type.Union([Type.Literal('added'), Type.Literal('removed'), Type.Literal('changed')]),
  before: Type.Unknown(),
  after: Type.Unknown(),
});
const TemplateUpdateSchema = Type.Object({
  template: Type.String(),
  fromVersion: Type.Integer(),
  toVersion: Type.Integer(),
  applied: Type.Boolean(),
  templateChanges: Type.Array(ItemChange),
  clients: Type.Array(
    Type.Object({
      client: Type.String(),
      changes: Type.Array(ItemChange),
      keptOverrides: Type.Array(Type.String()),
    }),
  ),
  unchangedClients: Type.Array(Type.String()),
  otherClients: Type.Integer(),
});

/** The workspaces a caller reaches (null: all of them). */
export async function callerReach(database: AppContext['database'], caller: Caller | null): Promise<Reach> {
  if (!caller || hasPlatformAuthority(caller)) return null;
  return new Set((await visibleWorkspaces(database, caller)).map((w) => w.id));
}

export async function mspRoutes(app: App, { database, config }: AppContext) {
  app.get(
    '/workspaces/:workspace/portfolio',
    {
      config: { access: { permission: 'workspace:read' } },
      schema: {
        tags: ['msp'],
        summary:
          "An MSP's clients at a glance: readiness, failing controls, overdue reviews and tasks, stale vendor reports, upcoming audits, drift — only the clients the caller reaches",
        params: WorkspaceParams,
        querystring: Type.Object(
          {
            driftDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })),
            readiness: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Unknown(), ...errors },
      },
    },
    async (request) =>
      mspPortfolio(database, request.params.workspace, await callerReach(database, request.caller), {
        deprovisioningSlaHours: config.deprovisioningSlaHours,
        driftDays: request.query.driftDays,
        readiness: request.query.readiness,
      }),
  );

  app.get(
    '/workspaces/:workspace/templates',
    {
      config: { access: { permission: 'controls:read' } },
      schema: {
        tags: ['msp'],
        summary: "An MSP's templates",
        params: WorkspaceParams,
        response: { 200: Type.Object({ templates: Type.Array(TemplateSchema) }), ...errors },
      },
    },
    async (request) =>
      listTemplates(database, request.params.workspace, await callerReach(database, request.caller)),
  );

  app.post(
    '/workspaces/:workspace/templates',
    {
      config: { access: { permission: 'controls:write' } },
      schema: {
        tags: ['msp'],
        summary:
          'Create a template: control set, owners by role, check settings, policy templates, review cadences',
        params: WorkspaceParams,
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 63 }), definition: Definition },
          { additionalProperties: false },
        ),
        response: { 201: TemplateSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await createTemplate(
        database,
        requestActor(request),
        request.params.workspace,
        request.body.name,
        request.body.definition,
      );
      return reply.status(201).send(row);
    },
  );

  app.get(
    '/workspaces/:workspace/templates/:template',
    {
      config: { access: { permission: 'controls:read' } },
      schema: {
        tags: ['msp'],
        summary: 'One template with its items and the clients that follow it',
        params: TemplateParams,
        response: { 200: TemplateSchema, ...errors },
      },
    },
    async (request) =>
      showTemplate(
        database,
        request.params.workspace,
        request.params.template,
        await callerReach(database, request.caller),
      ),
  );

  app.put(
    '/workspaces/:workspace/templates/:template',
    {
      config: { access: { permission: 'controls:write' } },
      schema: {
        tags: ['msp'],
        summary:
          'Update a template: without apply, a preview of the clients and items it changes; with apply: true, applied and audited',
        params: TemplateParams,
        body: Type.Object(
          { definition: Definition, apply: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: TemplateUpdateSchema, ...errors },
      },
    },
    async (request) =>
      updateTemplate(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.template,
        request.body.definition,
        { apply: request.body.apply === true, reach: await callerReach(database, request.caller) },
      ),
  );

  app.post(
    '/msp-clients',
    {
      config: { access: { permission: 'workspaces:create' } },
      schema: {
        tags: ['msp'],
        summary: "Onboard a client of an MSP from one of the MSP's templates in one step",
        body: Type.Object(
          {
            parent: Type.String({ minLength: 1, maxLength: 100 }),
            template: Type.String({ minLength: 1, maxLength: 63 }),
            slug: Type.String({ minLength: 1, maxLength: 63 }),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            overrides: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          },
          { additionalProperties: false },
        ),
        response: { 201: WorkspaceSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { parent, template, ...client } = request.body;
      const row = await createClientFromTemplate(database, requestActor(request), parent, template, client);
      return reply.status(201).send(presentWorkspace(row));
    },
  );

  app.put(
    '/workspaces/:workspace/template-overrides/:item',
    {
      config: { access: { permission: 'controls:write' } },
      schema: {
        tags: ['msp'],
        summary: "A client's own value for one template item (null: the item does not apply here)",
        params: Type.Object({
          workspace: Type.String({ minLength: 1, maxLength: 100 }),
          item: Type.String({ minLength: 1, maxLength: 300 }),
        }),
        body: Type.Object(
          { value: Type.Unknown(), reason: Type.Optional(Type.String({ maxLength: 1000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Unknown(), ...errors },
      },
    },
    async (request) =>
      setOverride(database, requestActor(request), request.params.workspace, request.params.item, {
        value: request.body.value,
        reason: request.body.reason,
      }),
  );

  app.delete(
    '/workspaces/:workspace/template-overrides/:item',
    {
      config: { access: { permission: 'controls:write' } },
      schema: {
        tags: ['msp'],
        summary: "Remove a client's override: the item follows the template again",
        params: Type.Object({
          workspace: Type.String({ minLength: 1, maxLength: 100 }),
          item: Type.String({ minLength: 1, maxLength: 300 }),
        }),
        response: { 200: Type.Unknown(), ...errors },
      },
    },
    async (request) =>
      setOverride(database, requestActor(request), request.params.workspace, request.params.item, {
        clear: true,
      }),
  );

  app.post(
    '/workspaces/:workspace/client-report',
    {
      config: { access: { permission: 'findings:read' } },
      schema: {
        tags: ['msp'],
        summary:
          "The client's compliance status report (HTML) with the MSP's branding; each report records what the next one compares with",
        params: WorkspaceParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            colour: Type.Optional(Type.String({ pattern: '^#[0-9a-fA-F]{6}$' })),
            logo: Type.Optional(Type.String({ maxLength: 800_000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Unknown(), ...errors },
      },
    },
    async (request, reply) => {
      const report = await clientReport(
        database,
        requestActor(request),
        request.params.workspace,
        await callerReach(database, request.caller),
        { branding: request.body, deprovisioningSlaHours: config.deprovisioningSlaHours },
      );
      return reply.type('text/html; charset=utf-8').send(report.html);
    },
  );

  app.get(
    '/workspaces/:workspace/portability/export',
    {
      config: { access: { permission: 'exports:create' } },
      schema: {
        tags: ['msp'],
        summary:
          'The whole workspace as a zip (data, evidence envelopes and blobs, checkpoints, public signing keys) to import into another Assay',
        params: WorkspaceParams,
        response: { 200: Type.Unknown(), ...errors },
      },
    },
    async (request, reply) => {
      const { zip, manifest } = await exportWorkspace(
        database,
        evidenceBlobStore(config),
        requestActor(request),
        request.params.workspace,
        await callerReach(database, request.caller),
      );
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="${manifest.workspace.slug}-export.zip"`)
        .send(zip);
    },
  );
}
