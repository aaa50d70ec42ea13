import { Type } from 'typebox';
import type { App, AppContext } from '../../../http/app.ts';
import { requestActor } from '../../../http/request-actor.ts';
import { WorkspaceParams } from '../../workspaces/workspaces.routes.ts';
import { Body, ControlList, errors, Id, Nullable, Str, Text, When } from '../shared/http.ts';
import {
  MatrixSchema,
  presentRisk,
  presentRiskReview,
  presentSignificantChange,
  RiskReviewSchema,
  RiskSchema,
  SignificantChangeSchema,
} from './risks.presenter.ts';
import {
  createRisk,
  getMatrix,
  getRisk,
  listRisks,
  reviewRisk,
  setMatrix,
  updateRisk,
} from './risks.service.ts';
import {
  addSignificantChange,
  assessSignificantChange,
  listSignificantChanges,
  scanSignificantChanges,
} from './significant-changes.ts';

const RiskParams = Type.Object({ workspace: Id, risk: Id });
const ChangeParams = Type.Object({ workspace: Id, change: Id });
const Level = Type.Integer({ minimum: 1, maximum: 10 });

const riskFields = {
  reference: Str(60),
  title: Str(300),
  description: Text,
  category: Str(100),
  owner: Nullable(Str()),
  fraudRisk: Type.Boolean(),
  inherentLikelihood: Level,
  inherentImpact: Level,
  residualLikelihood: Nullable(Level),
  residualImpact: Nullable(Level),
  treatment: Type.Union([
    Type.Literal('mitigate'),
    Type.Literal('accept'),
    Type.Literal('transfer'),
    Type.Literal('avoid'),
  ]),
  treatmentPlan: Text,
  controls: ControlList,
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  reviewCadenceDays: Type.Integer(),
};

const RiskDetailSchema = Type.Object({ risk: RiskSchema, reviews: Type.Array(RiskReviewSchema) });

export async function riskRoutes(app: App, { database }: AppContext) {
  const detail = async (workspace: string, risk: string) => {
    const d = await getRisk(database, workspace, risk);
    return { risk: presentRisk(d.matrix, d.risk), reviews: d.reviews.map(presentRiskReview) };
  };
  const read = { access: { permission: 'evidence:read' as const } };
  const write = { access: { permission: 'evidence:write' as const } };

  app.get(
    '/workspaces/:workspace/risks',
    {
      config: read,
      schema: {
        tags: ['registers'],
        summary: 'The risk register, rated on the workspace’s scale',
        params: WorkspaceParams,
        response: { 200: Type.Object({ matrix: MatrixSchema, risks: Type.Array(RiskSchema) }), ...errors },
      },
    },
    async (request) => {
      const { matrix, risks } = await listRisks(database, request.params.workspace);
      return { matrix, risks: risks.map((r) => presentRisk(matrix, r)) };
    },
  );

  app.post(
    '/workspaces/:workspace/risks',
    {
      config: write,
      schema: {
        tags: ['registers'],
        summary: 'Add a risk (its assessment is evidence)',
        params: WorkspaceParams,
        body: Body({ ...riskFields, lastReviewedAt: When }),
        response: { 201: RiskDetailSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await createRisk(database, requestActor(request), request.params.workspace, request.body);
      return reply.status(201).send(await detail(request.params.workspace, row.id));
    },
  );

  app.get(
    '/workspaces/:workspace/risks/:risk',
    {
      config: read,
      schema: {
        tags: ['registers'],
        summary: 'One risk (by id or reference) and its reviews',
        params: RiskParams,
        response: { 200: RiskDetailSchema, ...errors },
      },
    },
    async (request) => detail(request.params.workspace, request.params.risk),
  );

  app.patch(
    '/workspaces/:workspace/risks/:risk',
    {
      config: write,
      schema: {
        tags: ['registers'],
        summary: 'Update a risk',
        params: RiskParams,
        body: Body(riskFields),
        response: { 200: RiskDetailSchema, ...errors },
      },
    },
    async (request) => {
      const row = await updateRisk(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.risk,
        request.body,
      );
      return detail(request.params.workspace, row.id);
    },
  );

  app.post(
    '/workspaces/:workspace/risks/:risk/reviews',
    {
      config: write,
      schema: {
        tags: ['registers'],
        summary: 'Record a periodic review of a risk (scores may change with it)',
        params: RiskParams,
        body: Body({ ...riskFields, reviewer: Str(), notes: Text, reviewedAt: When }),
        response: { 201: RiskDetailSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { risk } = await reviewRisk(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.risk,
        request.body,
      );
      return reply.status(201).send(await detail(request.params.workspace, risk.id));
    },
  );

  app.get(
    '/workspaces/:workspace/risk-matrix',
    {
      config: read,
      schema: {
        tags: ['registers'],
        summary: 'The likelihood × impact scale and rating thresholds (5×5 by default)',
        params: WorkspaceParams,
        response: { 200: MatrixSchema, ...errors },
      },
    },
    async (request) => getMatrix(database, request.params.workspace),
  );

  app.put(
    '/workspaces/:workspace/risk-matrix',
    {
      config: { access: { permission: 'controls:write' } },
      schema: {
        tags: ['registers'],
        summary:
          'Configure the scale: levels of likelihood and impact and the scores from which a risk is medium, high or critical',
        params: WorkspaceParams,
        body: Body({
          likelihoodLevels: Type.Integer(),
          impactLevels: Type.Integer(),
          mediumFrom: Type.Integer(),
          highFrom: Type.Integer(),
          criticalFrom: Type.Integer(),
        }),
        response: { 200: MatrixSchema, ...errors },
      },
    },
    async (request) => setMatrix(database, requestActor(request), request.params.workspace, request.body),
  );

  app.get(
    '/workspaces/:workspace/significant-changes',
    {
      config: read,
      schema: {
        tags: ['registers'],
        summary:
          'Significant changes (new systems, vendors, organisation changes) and their risk reassessment (CC3.4)',
        params: WorkspaceParams,
        response: { 200: Type.Object({ changes: Type.Array(SignificantChangeSchema) }), ...errors },
      },
    },
    async (request) => ({
      changes: (await listSignificantChanges(database, request.params.workspace)).map(
        presentSignificantChange,
      ),
    }),
  );

  app.post(
    '/workspaces/:workspace/significant-changes',
    {
      config: write,
      schema: {
        tags: ['registers'],
        summary: 'Record a significant change (an organisation change, say): opens a reassessment task',
        params: WorkspaceParams,
        body: Body({
          kind: Type.Union([
            Type.Literal('new_system'),
            Type.Literal('new_vendor'),
            Type.Literal('org_change'),
            Type.Literal('other'),
          ]),
          description: Str(2000),
          detectedAt: When,
          reference: Str(100),
        }),
        response: { 201: SignificantChangeSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentSignificantChange(
            await addSignificantChange(
              database,
              requestActor(request),
              request.params.workspace,
              request.body,
            ),
          ),
        ),
  );

  app.post(
    '/workspaces/:workspace/significant-changes/scan',
    {
      config: write,
      schema: {
        tags: ['registers'],
        summary:
          'Detect systems added to scope since the risk register began that no reassessment covers yet',
        params: WorkspaceParams,
        response: { 200: Type.Object({ detected: Type.Array(SignificantChangeSchema) }), ...errors },
      },
    },
    async (request) => ({
      detected: (await scanSignificantChanges(database, requestActor(request), request.params.workspace)).map(
        presentSignificantChange,
      ),
    }),
  );

  app.post(
    '/workspaces/:workspace/significant-changes/:change/assessment',
    {
      config: write,
      schema: {
        tags: ['registers'],
        summary: 'Record the risk reassessment of a significant change (closes its task)',
        params: ChangeParams,
        body: Body({
          assessedBy: Str(),
          assessment: Text,
          risks: Type.Array(Str(60), { maxItems: 200 }),
          assessedAt: When,
        }),
        response: { 200: SignificantChangeSchema, ...errors },
      },
    },
    async (request) =>
      presentSignificantChange(
        await assessSignificantChange(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.change,
          request.body,
        ),
      ),
  );
}
