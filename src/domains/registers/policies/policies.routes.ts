import { Type } from 'typebox';
import type { App, AppContext } from '../../../http/app.ts';
import { requestActor } from '../../../http/request-actor.ts';
import { PolicyStatementSchema, presentStatement } from '../../monitoring/monitoring.presenter.ts';
import { WorkspaceParams } from '../../workspaces/workspaces.routes.ts';
import { Body, ControlList, DateTime, errors, Id, Nullable, Str, Text, When } from '../shared/http.ts';
import {
  AcknowledgementSchema,
  CampaignSchema,
  PolicyReviewSchema,
  PolicySchema,
  PolicyVersionSchema,
  presentAcknowledgement,
  presentCampaign,
  presentPolicy,
  presentPolicyReview,
  presentVersion,
} from './policies.presenter.ts';
import {
  acknowledgePolicy,
  addPolicyStatement,
  approvePolicyVersion,
  createPolicy,
  getPolicy,
  launchCampaign,
  listPolicies,
  policyStatements,
  publishPolicyVersion,
  reviewPolicy,
  savePolicyDraft,
  updatePolicy,
  versionAcknowledgements,
} from './policies.service.ts';

const PolicyParams = Type.Object({ workspace: Id, policy: Id });
const VersionParams = Type.Object({ workspace: Id, policy: Id, version: Type.Integer({ minimum: 1 }) });
const Markdown = Type.String({ maxLength: 500_000, description: 'markdown' });
const Emails = Type.Array(Type.String({ maxLength: 254 }), { maxItems: 100_000 });

const policyFields = {
  title: Str(),
  kind: Type.Union([
    Type.Literal('policy'),
    Type.Literal('standard'),
    Type.Literal('procedure'),
    Type.Literal('plan'),
  ]),
  owner: Nullable(Str()),
  reviewCadenceDays: Type.Integer(),
  acknowledgementRequired: Type.Boolean(),
  controls: ControlList,
};

const PolicyDetailSchema = Type.Object({
  policy: PolicySchema,
  versions: Type.Array(PolicyVersionSchema),
  reviews: Type.Array(PolicyReviewSchema),
  campaigns: Type.Array(CampaignSchema),
});

const AcknowledgementsSchema = Type.Object({
  policy: Type.String(),
  version: Type.Integer(),
  campaign: Nullable(CampaignSchema),
  acknowledgements: Type.Array(AcknowledgementSchema),
  status: Nullable(
    Type.Object({
      asOf: DateTime,
      deadline: DateTime,
      audience: Type.String({ description: 'listed, or workforce (every active person in HR)' }),
      members: Type.Integer(),
      acknowledged: Type.Integer(),
      overdue: Type.Array(Type.Object({ email: Type.String(), deadline: DateTime })),
      pending: Type.Array(Type.Object({ email: Type.String(), deadline: DateTime })),
    }),
  ),
});

export async function policyRoutes(app: App, { database }: AppContext) {
  const read = { access: { permission: 'evidence:read' as const } };
  const write = { access: { permission: 'evidence:write' as const } };
  const decide = { access: { permission: 'controls:write' as const } };
  const detail = async (workspace: string, policy: string) => {
    const d = await getPolicy(database, workspace, policy);
    const number = new Map(d.versions.map((v) => [v.id, v.version]));
    return {
      policy: presentPolicy(d.policy, d.versions),
      versions: d.versions.map(presentVersion),
      reviews: d.reviews.map(presentPolicyReview),
      campaigns: d.campaigns.map((c) => presentCampaign(c, number.get(c.version_id) ?? 0)),
    };
  };
  const acknowledgements = async (workspace: string, policy: string, version: number) => {
    const d = await versionAcknowledgements(database, workspace, policy, version);
    const s = d.status;
    return {
      policy: d.policy.title,
      version: d.version.version,
      campaign: d.campaign ? presentCampaign(d.campaign, d.version.version) : null,
      acknowledgements: d.acknowledgements.map((a) => presentAcknowledgement(a, d.version.version)),
      status: s
        ? {
            asOf: d.asOf.toISOString(),
            deadline: s.deadline.toISOString(),
            audience: s.audience,
            members: s.members.length,
            acknowledged: s.acknowledged,
            overdue: s.overdue.map((m) => ({ email: m.email, deadline: m.deadline.toISOString() })),
            pending: s.members
              .filter((m) => !m.acknowledgedAt && !m.overdue)
              .map((m) => ({ email: m.email, deadline: m.deadline.toISOString() })),
          }
        : null,
    };
  };

  app.get(
    '/workspaces/:workspace/policies',
    {
      config: read,
      schema: {
        tags: ['registers'],
        summary: 'Policies with their current version and review dates',
        params: WorkspaceParams,
        response: { 200: Type.Object({ policies: Type.Array(PolicySchema) }), ...errors },
      },
    },
    async (request) => {
      const { policies, versions } = await listPolicies(database, request.params.workspace);
      return { policies: policies.map((p) => presentPolicy(p, versions)) };
    },
  );

  app.post(
    '/workspaces/:workspace/policies',
    {
      config: write,
      schema: {
        tags: ['registers'],
        summary: 'Add a policy, with the text of its first draft',
        params: WorkspaceParams,
        body: Body({ ...policyFields, body: Markdown, changeSummary: Text }),
        response: { 201: PolicyDetailSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { policy } = await createPolicy(
        database,
        requestActor(request),
        request.params.workspace,
        request.body,
      );
      return reply.status(201).send(await detail(request.params.workspace, policy.id));
    },
  );

  app.get(
    '/workspaces/:workspace/policies/:policy',
    {
      config: read,
      schema: {
        tags: ['registers'],
        summary: 'One policy (by id or title): every version, reviews and acknowledgement campaigns',
        params: PolicyParams,
        response: { 200: PolicyDetailSchema, ...errors },
      },
    },
    async (request) => detail(request.params.workspace, request.params.policy),
  );

  app.patch(
    '/workspaces/:workspace/policies/:policy',
    {
      config: write,
      schema: {
        tags: ['registers'],
        summary: "Update a policy's owner, cadence, controls or status (retired)",
        params: PolicyParams,
        body: Body({
          ...policyFields,
          status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
        }),
        response: { 200: PolicyDetailSchema, ...errors },
      },
    },
    async (request) => {
      const row = await updatePolicy(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.policy,
        request.body,
      );
      return detail(request.params.workspace, row.id);
    },
  );

  app.post(
    '/workspaces/:workspace/policies/:policy/versions',
    {
      config: write,
      schema: {
        tags: ['registers'],
        summary: 'Save the text of the next version (an unapproved draft is revised in place)',
        params: PolicyParams,
        body: Type.Object(
          { body: Markdown, changeSummary: Type.Optional(Text) },
          { additionalProperties: false },
        ),
        response: { 201: PolicyVersionSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentVersion(
            await savePolicyDraft(
              database,
              requestActor(request),
              request.params.workspace,
              request.params.policy,
              request.body,
            ),
          ),
        ),
  );

  app.post(
    '/workspaces/:workspace/policies/:policy/versions/:version/approval',
    {
      config: decide,
      schema: {
        tags: ['registers'],
        summary: 'Approve a version (approver and time are evidence)',
        params: VersionParams,
        body: Body({ approver: Str(), approvedAt: When }),
        response: { 200: PolicyVersionSchema, ...errors },
      },
    },
    async (request) =>
      presentVersion(
        await approvePolicyVersion(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.policy,
          request.params.version,
          request.body,
        ),
      ),
  );

  app.post(
    '/workspaces/:workspace/policies/:policy/versions/:version/publication',
    {
      config: decide,
      schema: {
        tags: ['registers'],
        summary:
          'Publish an approved version; with acknowledgement required it launches the version’s campaign',
        params: VersionParams,
        body: Body({ publishedAt: When, campaign: Type.Boolean(), dueAt: When, audience: Emails }),
        response: { 200: PolicyDetailSchema, ...errors },
      },
    },
    async (request) => {
      const { policy } = await publishPolicyVersion(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.policy,
        request.params.version,
        request.body,
      );
      return detail(request.params.workspace, policy.id);
    },
  );

  app.post(
    '/workspaces/:workspace/policies/:policy/versions/:version/campaign',
    {
      config: decide,
      schema: {
        tags: ['registers'],
        summary: 'Launch the acknowledgement campaign of a published version (one per version)',
        params: VersionParams,
        body: Body({ dueAt: When, audience: Emails, launchedAt: When }),
        response: { 201: CampaignSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await launchCampaign(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.policy,
        request.params.version,
        request.body,
      );
      return reply.status(201).send(presentCampaign(row, request.params.version));
    },
  );

  app.get(
    '/workspaces/:workspace/policies/:policy/versions/:version/acknowledgements',
    {
      config: read,
      schema: {
        tags: ['registers'],
        summary: "One version's acknowledgements (per person, timestamped) and its campaign's status",
        params: VersionParams,
        response: { 200: AcknowledgementsSchema, ...errors },
      },
    },
    async (request) =>
      acknowledgements(request.params.workspace, request.params.policy, request.params.version),
  );

  app.post(
    '/workspaces/:workspace/policies/:policy/versions/:version/acknowledgements',
    {
      config: write,
      schema: {
        tags: ['registers'],
        summary: "Record someone's acknowledgement of a version (from a signature tool, say)",
        params: VersionParams,
        body: Type.Object(
          {
            email: Str(254),
            acknowledgedAt: Type.Optional(When),
            source: Type.Optional(Type.Union([Type.Literal('recorded'), Type.Literal('imported')])),
          },
          { additionalProperties: false },
        ),
        response: { 201: AcknowledgementSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { row, version } = await acknowledgePolicy(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.policy,
        {
          ...request.body,
          version: request.params.version,
        },
      );
      return reply.status(201).send(presentAcknowledgement(row, version.version));
    },
  );

  app.post(
    '/workspaces/:workspace/policies/:policy/acknowledge',
    {
      config: { access: { permission: 'policies:acknowledge' } },
      schema: {
        tags: ['registers'],
        summary: 'Acknowledge the current version yourself (an API token names the person)',
        params: PolicyParams,
        body: Body({ email: Str(254) }),
        response: { 201: AcknowledgementSchema, ...errors },
      },
    },
    async (request, reply) => {
      const caller = request.caller;
      // A person acknowledges for themselves only; an integration token says whom it records.
      const email = caller?.kind === 'user' ? caller.email : request.body.email;
      const { row, version } = await acknowledgePolicy(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.policy,
        {
          email,
          source: caller?.kind === 'user' ? 'self' : 'recorded',
        },
      );
      return reply.status(201).send(presentAcknowledgement(row, version.version));
    },
  );

  app.post(
    '/workspaces/:workspace/policies/:policy/reviews',
    {
      config: write,
      schema: {
        tags: ['registers'],
        summary: 'Record the periodic review of a policy',
        params: PolicyParams,
        body: Body({
          reviewer: Str(),
          outcome: Type.Union([Type.Literal('no_change'), Type.Literal('revision_needed')]),
          notes: Text,
          reviewedAt: When,
        }),
        response: { 201: PolicyReviewSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentPolicyReview(
            await reviewPolicy(
              database,
              requestActor(request),
              request.params.workspace,
              request.params.policy,
              request.body,
            ),
          ),
        ),
  );

  app.get(
    '/workspaces/:workspace/policies/:policy/statements',
    {
      config: read,
      schema: {
        tags: ['registers'],
        summary:
          'The statements the policy makes and whether practice matches them (the checks linked to each)',
        params: PolicyParams,
        response: { 200: Type.Object({ statements: Type.Array(PolicyStatementSchema) }), ...errors },
      },
    },
    async (request) => ({
      statements: (
        await policyStatements(database, request.params.workspace, request.params.policy)
      ).statements.map(presentStatement),
    }),
  );

  app.post(
    '/workspaces/:workspace/policies/:policy/statements',
    {
      config: decide,
      schema: {
        tags: ['registers'],
        summary: 'Add a statement to the policy, linked to the checks that prove it',
        params: PolicyParams,
        body: Type.Object(
          { statement: Str(2000), checks: Type.Optional(Type.Array(Str(100), { maxItems: 50 })) },
          { additionalProperties: false },
        ),
        response: { 201: PolicyStatementSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentStatement(
            await addPolicyStatement(
              database,
              requestActor(request),
              request.params.workspace,
              request.params.policy,
              request.body,
            ),
          ),
        ),
  );
}
