import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { WorkspaceParams } from '../workspaces/workspaces.routes.ts';
import {
  campaignReport,
  decideItem,
  delegateItems,
  getCampaign,
  launchCampaign,
  listCampaigns,
  setRecurrence,
  signOffCampaign,
} from './campaigns.service.ts';
import {
  CampaignSchema,
  ChangeSchema,
  ItemSchema,
  OnboardingSchema,
  presentCampaign,
  presentChange,
  presentItem,
  presentOnboarding,
  presentTask,
  SettingsSchema,
  TaskSchema,
} from './governance.presenter.ts';
import { getGovernanceSettings, updateGovernanceSettings } from './governance-settings.ts';
import { listGovernanceTasks, reconcileGovernance } from './jml.service.ts';
import { approveAccessRequest, listOnboarding } from './joiners.service.ts';
import { listMovers } from './movers.service.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error'), 409: Type.Ref('Error') };
const Email = Type.String({ minLength: 3, maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' });
const Names = Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 1000 });
const CampaignParams = Type.Object({
  workspace: Type.String({ minLength: 1, maxLength: 100 }),
  campaign: Type.String({ minLength: 1, maxLength: 100 }),
});
const Recurrence = Type.Union([Type.Literal('monthly'), Type.Literal('quarterly'), Type.Literal('annually')]);
const TaskParams = Type.Object({
  workspace: Type.String({ minLength: 1, maxLength: 100 }),
  task: Type.String({ minLength: 1, maxLength: 100 }),
});
const CampaignDetail = Type.Object({
  campaign: CampaignSchema,
  items: Type.Array(ItemSchema),
  changesSinceLaunch: Type.Array(ChangeSchema),
});

export async function governanceRoutes(app: App, { database }: AppContext) {
  app.post(
    '/workspaces/:workspace/access-reviews',
    {
      config: { access: { permission: 'identities:write' } },
      schema: {
        tags: ['governance'],
        summary: 'Launch an access review campaign: the entitlements in scope are snapshotted now',
        params: WorkspaceParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            fallbackReviewer: Email,
            dueInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })),
            recurrence: Type.Optional(Recurrence),
            scope: Type.Optional(
              Type.Object(
                {
                  systems: Type.Optional(Names),
                  groups: Type.Optional(Names),
                  people: Type.Optional(Type.Array(Email, { maxItems: 1000 })),
                  privilegedOnly: Type.Optional(Type.Boolean()),
                  includeNonHuman: Type.Optional(Type.Boolean()),
                  includeDelegated: Type.Optional(Type.Boolean()),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: CampaignSchema, ...errors },
      },
    },
    async (request, reply) => {
      const campaign = await launchCampaign(
        database,
        requestActor(request),
        request.params.workspace,
        request.body,
      );
      return reply.code(201).send(presentCampaign(campaign));
    },
  );

  app.get(
    '/workspaces/:workspace/access-reviews',
    {
      config: { access: { permission: 'identities:read' } },
      schema: {
        tags: ['governance'],
        summary: 'Access review campaigns with their progress',
        params: WorkspaceParams,
        response: {
          200: Type.Object({
            campaigns: Type.Array(
              Type.Object({ campaign: CampaignSchema, items: Type.Integer(), decided: Type.Integer() }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => ({
      campaigns: (await listCampaigns(database, request.params.workspace)).map((c) => ({
        campaign: presentCampaign(c.campaign),
        items: c.items,
        decided: c.decided,
      })),
    }),
  );

  app.get(
    '/workspaces/:workspace/access-reviews/:campaign',
    {
      config: { access: { permission: 'identities:read' } },
      schema: {
        tags: ['governance'],
        summary: 'A campaign: its snapshot with decisions, and entitlement changes since launch',
        params: CampaignParams,
        response: { 200: CampaignDetail, ...errors },
      },
    },
    async (request) => {
      const detail = await getCampaign(database, request.params.workspace, request.params.campaign);
      return {
        campaign: presentCampaign(detail.campaign),
        items: detail.items.map(presentItem),
        changesSinceLaunch: detail.changesSinceLaunch.map(presentChange),
      };
    },
  );

  app.post(
    '/workspaces/:workspace/access-reviews/:campaign/decisions',
    {
      config: { access: { permission: 'reviews:sign' } },
      schema: {
        tags: ['governance'],
        summary:
          "A reviewer's decision on one item: keep, revoke (a tracked task) or modify, with a justification",
        params: CampaignParams,
        body: Type.Object(
          {
            item: Type.String({ minLength: 1, maxLength: 100 }),
            decision: Type.Union([Type.Literal('keep'), Type.Literal('revoke'), Type.Literal('modify')]),
            justification: Type.String({ minLength: 3, maxLength: 2000 }),
            reviewer: Email,
          },
          { additionalProperties: false },
        ),
        response: { 200: ItemSchema, ...errors },
      },
    },
    async (request) =>
      presentItem(
        await decideItem(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.campaign,
          request.body,
        ),
      ),
  );

  app.post(
    '/workspaces/:workspace/access-reviews/:campaign/delegations',
    {
      config: { access: { permission: 'reviews:sign' } },
      schema: {
        tags: ['governance'],
        summary: "Hand a reviewer's undecided items to another reviewer",
        params: CampaignParams,
        body: Type.Object({ from: Email, to: Email }, { additionalProperties: false }),
        response: { 200: Type.Object({ delegated: Type.Integer() }), ...errors },
      },
    },
    async (request) =>
      delegateItems(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.campaign,
        request.body,
      ),
  );

  app.post(
    '/workspaces/:workspace/access-reviews/:campaign/sign-off',
    {
      config: { access: { permission: 'reviews:sign' } },
      schema: {
        tags: ['governance'],
        summary:
          'Sign the campaign off: signer, time and SHA-256 of every decision go into the evidence ledger',
        params: CampaignParams,
        body: Type.Object({ signer: Email }, { additionalProperties: false }),
        response: { 200: CampaignSchema, ...errors },
      },
    },
    async (request) =>
      presentCampaign(
        await signOffCampaign(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.campaign,
          request.body,
        ),
      ),
  );

  app.get(
    '/workspaces/:workspace/access-reviews/:campaign/report.csv',
    {
      config: { access: { permission: 'identities:read' } },
      schema: {
        tags: ['governance'],
        summary: 'Reviewer-by-reviewer report: every entitlement, decision, reviewer and confirmation',
        params: CampaignParams,
        response: { 200: Type.String({ description: 'text/csv' }), ...errors },
      },
    },
    async (request, reply) => {
      const report = await campaignReport(database, request.params.workspace, request.params.campaign);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="access-review-${request.params.campaign}.csv"`)
        .send(report.csv);
    },
  );

  app.get(
    '/workspaces/:workspace/governance/tasks',
    {
      config: { access: { permission: 'identities:read' } },
      schema: {
        tags: ['governance'],
        summary: 'Deprovisioning and revocation tasks with their confirmations',
        params: WorkspaceParams,
        querystring: Type.Object(
          {
            kind: Type.Optional(
              Type.Union([
                Type.Literal('deprovision_account'),
                Type.Literal('revoke_entitlement'),
                Type.Literal('access_review_overdue'),
                Type.Literal('revoke_delegated_access'),
                Type.Literal('onboarding_policy_ack'),
                Type.Literal('onboarding_training'),
                Type.Literal('onboarding_access_request'),
              ]),
            ),
            status: Type.Optional(
              Type.Union([Type.Literal('open'), Type.Literal('done'), Type.Literal('cancelled')]),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ tasks: Type.Array(TaskSchema) }), ...errors },
      },
    },
    async (request) => ({
      tasks: (await listGovernanceTasks(database, request.params.workspace, request.query)).map(presentTask),
    }),
  );

  app.post(
    '/workspaces/:workspace/governance/evaluate',
    {
      config: { access: { permission: 'checks:run' } },
      schema: {
        tags: ['governance'],
        summary: 'Reconcile leavers and revocations with the facts now (what each change does automatically)',
        params: WorkspaceParams,
        response: {
          200: Type.Object({
            asOf: Type.String(),
            tasksOpened: Type.Integer(),
            tasksConfirmed: Type.Integer(),
            overdue: Type.Integer(),
            revocationsConfirmed: Type.Integer(),
            reviewRemindersOpened: Type.Integer(),
            onboardingOpened: Type.Integer(),
            onboardingCompleted: Type.Integer(),
            onboardingOverdue: Type.Integer(),
            moversDetected: Type.Integer(),
            moverReviewsLaunched: Type.Integer(),
            recurringCampaignsLaunched: Type.Integer(),
            delegatedRevocationsConfirmed: Type.Integer(),
          }),
          ...errors,
        },
      },
    },
    async (request) => reconcileGovernance(database, request.params.workspace, requestActor(request)),
  );

  app.put(
    '/workspaces/:workspace/access-reviews/:campaign/recurrence',
    {
      config: { access: { permission: 'identities:write' } },
      schema: {
        tags: ['governance'],
        summary:
          "Start, change or stop a campaign's recurrence (the scheduler launches the next one when due)",
        params: CampaignParams,
        body: Type.Object(
          { recurrence: Type.Union([Recurrence, Type.Literal('none')]) },
          { additionalProperties: false },
        ),
        response: { 200: CampaignSchema, ...errors },
      },
    },
    async (request) =>
      presentCampaign(
        await setRecurrence(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.campaign,
          request.body.recurrence,
        ),
      ),
  );

  app.get(
    '/workspaces/:workspace/governance/onboarding',
    {
      config: { access: { permission: 'identities:read' } },
      schema: {
        tags: ['governance'],
        summary:
          "Joiners' onboarding sets: acknowledgements, training and the access request, with deadlines",
        params: WorkspaceParams,
        querystring: Type.Object(
          {
            person: Type.Optional(Email),
            status: Type.Optional(
              Type.Union([
                Type.Literal('open'),
                Type.Literal('overdue'),
                Type.Literal('complete'),
                Type.Literal('cancelled'),
              ]),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ joiners: Type.Array(OnboardingSchema) }), ...errors },
      },
    },
    async (request) => ({
      joiners: (await listOnboarding(database, request.params.workspace, request.query)).map(
        presentOnboarding,
      ),
    }),
  );

  app.post(
    '/workspaces/:workspace/governance/tasks/:task/approval',
    {
      config: { access: { permission: 'reviews:sign' } },
      schema: {
        tags: ['governance'],
        summary: "Approve a joiner's initial access request (the approval goes into the evidence ledger)",
        params: TaskParams,
        body: Type.Object(
          {
            approver: Email,
            justification: Type.String({ minLength: 3, maxLength: 2000 }),
            entitlements: Type.Optional(Names),
          },
          { additionalProperties: false },
        ),
        response: { 200: TaskSchema, ...errors },
      },
    },
    async (request) =>
      presentTask(
        await approveAccessRequest(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.task,
          request.body,
        ),
      ),
  );

  app.get(
    '/workspaces/:workspace/governance/movers',
    {
      config: { access: { permission: 'identities:read' } },
      schema: {
        tags: ['governance'],
        summary: 'Mover reviews: one person, the change that triggered it, progress and flagged entitlements',
        params: WorkspaceParams,
        response: {
          200: Type.Object({
            movers: Type.Array(
              Type.Object({
                campaign: CampaignSchema,
                items: Type.Integer(),
                decided: Type.Integer(),
                flagged: Type.Integer(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => ({
      movers: (await listMovers(database, request.params.workspace)).map((m) => ({
        campaign: presentCampaign(m.campaign),
        items: m.items,
        decided: m.decided,
        flagged: m.flagged,
      })),
    }),
  );

  app.get(
    '/workspaces/:workspace/governance/settings',
    {
      config: { access: { permission: 'identities:read' } },
      schema: {
        tags: ['governance'],
        summary: 'Joiner and mover deadlines of the workspace',
        params: WorkspaceParams,
        response: { 200: SettingsSchema, ...errors },
      },
    },
    async (request) => getGovernanceSettings(database, request.params.workspace),
  );

  app.patch(
    '/workspaces/:workspace/governance/settings',
    {
      config: { access: { permission: 'identities:write' } },
      schema: {
        tags: ['governance'],
        summary: 'Change joiner and mover deadlines (days) and the mover fallback reviewer',
        params: WorkspaceParams,
        body: Type.Object(
          {
            joinerLookbackDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
            acknowledgementDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
            trainingDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
            accessRequestDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
            moverReviewDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
            moverFallbackReviewer: Type.Optional(Type.Union([Email, Type.Null()])),
          },
          { additionalProperties: false },
        ),
        response: { 200: SettingsSchema, ...errors },
      },
    },
    async (request) =>
      updateGovernanceSettings(database, requestActor(request), request.params.workspace, request.body),
  );
}
