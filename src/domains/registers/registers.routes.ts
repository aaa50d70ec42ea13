/** Every register's API, and CSV import/export of each register kind. */
import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { changeRoutes } from './changes/changes.routes.ts';
import { continuityRoutes } from './continuity/continuity.routes.ts';
import { incidentRoutes } from './incidents/incidents.routes.ts';
import { policyRoutes } from './policies/policies.routes.ts';
import { csvKindNames } from './registers.csv.ts';
import { exportRegister, importRegister } from './registers.service.ts';
import { riskRoutes } from './risks/risks.routes.ts';
import { errors, Id } from './shared/http.ts';
import { trainingRoutes } from './training/training.routes.ts';
import { vendorRoutes } from './vendors/vendors.routes.ts';

const KindParams = Type.Object({ workspace: Id, kind: Type.String({ minLength: 1, maxLength: 60 }) });

export async function programmeRegisterRoutes(app: App, context: AppContext) {
  for (const register of [
    vendorRoutes,
    riskRoutes,
    policyRoutes,
    incidentRoutes,
    trainingRoutes,
    changeRoutes,
    continuityRoutes,
  ]) {
    await register(app, context);
  }
  const { database } = context;

  app.get(
    '/workspaces/:workspace/registers/:kind/export',
    {
      config: { access: { permission: 'evidence:read' } },
      schema: {
        tags: ['registers'],
        summary: `A register as CSV (kinds: ${csvKindNames.join(', ')}; columns in docs/registers.md)`,
        params: KindParams,
        response: { 200: Type.String({ description: 'text/csv' }), ...errors },
      },
    },
    async (request, reply) => {
      const csv = await exportRegister(database, request.params.workspace, request.params.kind);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${request.params.kind}.csv"`)
        .send(csv);
    },
  );

  await app.register(async (instance) => {
    const csvApp = instance as unknown as App;
    // CSV bodies arrive as text; JSON bodies may carry the text in `csv`.
    csvApp.addContentTypeParser(
      'text/csv',
      { parseAs: 'string', bodyLimit: 64 * 1024 * 1024 },
      (_r, body, done) => done(null, body),
    );
    csvApp.post(
      '/workspaces/:workspace/registers/:kind/import',
      {
        bodyLimit: 64 * 1024 * 1024,
        config: { access: { permission: 'evidence:write' } },
        schema: {
          tags: ['registers'],
          summary: 'Import a register from CSV (text/csv body): every row checked first, all or nothing',
          params: KindParams,
          querystring: Type.Object(
            { fileName: Type.Optional(Type.String({ maxLength: 255 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              kind: Type.String(),
              workspace: Type.String(),
              rows: Type.Integer(),
              created: Type.Integer(),
              updated: Type.Integer(),
              unchanged: Type.Integer(),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        const body = request.body as unknown;
        const text =
          typeof body === 'string'
            ? body
            : body && typeof body === 'object' && typeof (body as { csv?: unknown }).csv === 'string'
              ? (body as { csv: string }).csv
              : '';
        return importRegister(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.kind,
          text,
          {
            fileName: request.query.fileName,
          },
        );
      },
    );
  });
}
