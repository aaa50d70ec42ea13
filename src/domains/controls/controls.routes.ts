import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { WorkspaceParams } from '../workspaces/workspaces.routes.ts';
import { ControlSchema, presentControl } from './controls.presenter.ts';
import { assignControlOwner, coverageReport, getControl, listControls } from './controls.service.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error') };
const ControlParams = Type.Object({
  workspace: Type.String({ minLength: 1, maxLength: 100 }),
  control: Type.String({ minLength: 1, maxLength: 100 }),
});
const Owner = Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]);

const CoverageSchema = Type.Object({
  workspace: Type.String(),
  catalogVersion: Type.String(),
  categories: Type.Array(Type.String()),
  criteria: Type.Array(
    Type.Object({
      criterion: Type.String(),
      category: Type.String(),
      title: Type.String(),
      covered: Type.Boolean(),
      owned: Type.Boolean(),
      controls: Type.Array(
        Type.Object({
          id: Type.String(),
          templateId: Type.String(),
          title: Type.String(),
          owner: Type.Union([Type.String(), Type.Null()]),
          ownerRole: Type.String(),
        }),
      ),
    }),
  ),
  gaps: Type.Object({
    uncovered: Type.Array(Type.String()),
    withoutOwner: Type.Array(Type.String()),
    controlsWithoutOwner: Type.Array(Type.String()),
  }),
});

export async function controlRoutes(app: App, { database }: AppContext) {
  app.get(
    '/workspaces/:workspace/controls',
    {
      config: { access: { permission: 'controls:read' } },
      schema: {
        tags: ['controls'],
        summary: "The workspace's active controls with owner, criteria and status",
        params: WorkspaceParams,
        response: { 200: Type.Object({ controls: Type.Array(ControlSchema) }), ...errors },
      },
    },
    async (request) => ({
      controls: (await listControls(database, request.params.workspace)).map(presentControl),
    }),
  );

  app.get(
    '/workspaces/:workspace/controls/:control',
    {
      config: { access: { permission: 'controls:read' } },
      schema: {
        tags: ['controls'],
        summary: 'One control, by id or template id',
        params: ControlParams,
        response: { 200: ControlSchema, ...errors },
      },
    },
    async (request) =>
      presentControl(await getControl(database, request.params.workspace, request.params.control)),
  );

  app.patch(
    '/workspaces/:workspace/controls/:control',
    {
      config: { access: { permission: 'controls:write' } },
      schema: {
        tags: ['controls'],
        summary: "Assign (or clear, with null) a control's owner",
        params: ControlParams,
        body: Type.Object({ owner: Owner }, { additionalProperties: false }),
        response: { 200: ControlSchema, ...errors },
      },
    },
    async (request) => {
      const [row] = await assignControlOwner(database, requestActor(request), request.params.workspace, {
        control: request.params.control,
        owner: request.body.owner,
      });
      return presentControl(row!);
    },
  );

  app.post(
    '/workspaces/:workspace/controls/assign-owner',
    {
      config: { access: { permission: 'controls:write' } },
      schema: {
        tags: ['controls'],
        summary: 'Assign one owner to every active control with the given owner role',
        params: WorkspaceParams,
        body: Type.Object(
          { ownerRole: Type.String({ minLength: 1, maxLength: 60 }), owner: Owner },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ controls: Type.Array(ControlSchema) }), ...errors },
      },
    },
    async (request) => {
      const rows = await assignControlOwner(
        database,
        requestActor(request),
        request.params.workspace,
        request.body,
      );
      return { controls: rows.map(presentControl) };
    },
  );

  app.get(
    '/workspaces/:workspace/coverage',
    {
      config: { access: { permission: 'controls:read' } },
      schema: {
        tags: ['controls'],
        summary: 'Per in-scope criterion: the controls covering it, their owners, and the gaps',
        params: WorkspaceParams,
        response: { 200: CoverageSchema, ...errors },
      },
    },
    async (request) => coverageReport(database, request.params.workspace),
  );
}
