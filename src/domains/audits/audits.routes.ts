import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { WorkspaceParams } from '../workspaces/workspaces.routes.ts';
import { parsePeriod, readinessReport } from './readiness.service.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error') };
const Probability = Type.Number({ minimum: 0, maximum: 1 });

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

export async function auditRoutes(app: App, { database, config }: AppContext) {
  app.get(
    '/workspaces/:workspace/readiness',
    {
      config: { access: { permission: 'audits:read' } },
      schema: {
        tags: ['audits'],
        summary: 'Type II operating effectiveness and the auditor-sample forecast for a period (FROM..TO)',
        params: WorkspaceParams,
        querystring: Type.Object(
          { period: Type.String({ minLength: 1, maxLength: 40 }) },
          { additionalProperties: false },
        ),
        response: { 200: ReadinessSchema, ...errors },
      },
    },
    async (request) => {
      const { populations: _p, ...report } = await readinessReport(
        database,
        request.params.workspace,
        parsePeriod(request.query.period),
        { deprovisioningSlaHours: config.deprovisioningSlaHours },
      );
      return report;
    },
  );
}
