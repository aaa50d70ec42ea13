import { Type } from 'typebox';
import type { App, AppContext } from '../../../http/app.ts';
import { requestActor } from '../../../http/request-actor.ts';
import { WorkspaceParams } from '../../workspaces/workspaces.routes.ts';
import { Body, DateTime, errors, Id, Nullable, Str, Text, When } from '../shared/http.ts';
import type { ContinuityTestRow } from './continuity.repository.ts';
import {
  continuityContent,
  listContinuityTests,
  recordContinuityTest,
  updateContinuityTest,
} from './continuity.service.ts';

const Measure = Type.Object({
  targetMinutes: Nullable(Type.Integer()),
  actualMinutes: Nullable(Type.Integer()),
  met: Nullable(Type.Boolean()),
});
const TestSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    target: Type.String(),
    performedAt: DateTime,
    performedBy: Type.String(),
    result: Type.String(),
    rto: Measure,
    rpo: Measure,
    notes: Type.String(),
    evidenceId: Nullable(Type.String()),
  },
  { $id: 'ContinuityTest' },
);
const Minutes = Nullable(Type.Integer({ minimum: 0 }));
const fields = {
  kind: Type.Union([Type.Literal('backup_restore'), Type.Literal('dr_exercise')]),
  target: Str(),
  performedAt: When,
  performedBy: Str(),
  result: Type.Union([Type.Literal('success'), Type.Literal('partial'), Type.Literal('failed')]),
  rtoTargetMinutes: Minutes,
  rtoActualMinutes: Minutes,
  rpoTargetMinutes: Minutes,
  rpoActualMinutes: Minutes,
  notes: Text,
};

const present = (row: ContinuityTestRow) => ({
  id: row.id,
  ...continuityContent(row),
  evidenceId: row.evidence_id,
});

export async function continuityRoutes(app: App, { database }: AppContext) {
  const tags = ['registers'];
  app.get(
    '/workspaces/:workspace/continuity-tests',
    {
      config: { access: { permission: 'evidence:read' } },
      schema: {
        tags,
        summary: 'Backup restore tests and disaster-recovery exercises',
        params: WorkspaceParams,
        response: { 200: Type.Object({ tests: Type.Array(TestSchema) }), ...errors },
      },
    },
    async (request) => ({
      tests: (await listContinuityTests(database, request.params.workspace)).map(present),
    }),
  );
  app.post(
    '/workspaces/:workspace/continuity-tests',
    {
      config: { access: { permission: 'evidence:write' } },
      schema: {
        tags,
        summary: 'Record a restore test or disaster-recovery exercise (evidence for A1.2, A1.3)',
        params: WorkspaceParams,
        body: Body(fields),
        response: { 201: TestSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          present(
            await recordContinuityTest(
              database,
              requestActor(request),
              request.params.workspace,
              request.body,
            ),
          ),
        ),
  );
  app.patch(
    '/workspaces/:workspace/continuity-tests/:test',
    {
      config: { access: { permission: 'evidence:write' } },
      schema: {
        tags,
        summary: 'Correct a test record (its kind, target and time stay)',
        params: Type.Object({ workspace: Id, test: Id }),
        body: Body(fields),
        response: { 200: TestSchema, ...errors },
      },
    },
    async (request) =>
      present(
        await updateContinuityTest(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.test,
          request.body,
        ),
      ),
  );
}
