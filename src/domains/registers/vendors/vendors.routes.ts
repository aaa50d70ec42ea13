import { Type } from 'typebox';
import type { App, AppContext } from '../../../http/app.ts';
import { requestActor } from '../../../http/request-actor.ts';
import { WorkspaceParams } from '../../workspaces/workspaces.routes.ts';
import { Body, errors, Id, Nullable, Str, StrList, Text, When } from '../shared/http.ts';
import {
  presentDocument,
  presentReview,
  presentVendor,
  VendorDocumentSchema,
  VendorReviewSchema,
  VendorSchema,
} from './vendors.presenter.ts';
import {
  addVendorDocument,
  createVendor,
  getVendor,
  listVendors,
  mapCuec,
  recordVendorReview,
  updateVendor,
} from './vendors.service.ts';

const VendorParams = Type.Object({ workspace: Id, vendor: Id });
const CuecParams = Type.Object({ workspace: Id, vendor: Id, document: Id, reference: Id });

const VendorBody = Body({
  name: Str(),
  service: Str(2000),
  dataAccessed: StrList,
  criticality: Type.Union([
    Type.Literal('low'),
    Type.Literal('medium'),
    Type.Literal('high'),
    Type.Literal('critical'),
  ]),
  inScope: Type.Boolean(),
  owner: Nullable(Str()),
  contractStart: Nullable(When),
  contractEnd: Nullable(When),
  status: Type.Union([Type.Literal('active'), Type.Literal('offboarded')]),
  reviewCadenceDays: Type.Integer(),
});

const DocumentBody = Body({
  kind: Type.Union([
    Type.Literal('soc2_type1'),
    Type.Literal('soc2_type2'),
    Type.Literal('iso27001'),
    Type.Literal('bridging_letter'),
  ]),
  periodStart: Nullable(When),
  periodEnd: When,
  auditor: Str(),
  opinion: Nullable(Str(20)),
  exceptionsNoted: Type.Boolean(),
  exceptionsSummary: Text,
  categories: StrList,
  services: StrList,
  subserviceOrganizations: Type.Array(
    Type.Object({ name: Str(), method: Type.Union([Type.Literal('carve_out'), Type.Literal('inclusive')]) }),
    { maxItems: 200 },
  ),
  receivedAt: When,
  reviewedBy: Nullable(Str()),
  reviewedAt: Nullable(When),
  notes: Text,
  reportSha256: Nullable(Str(64)),
  cuecs: Type.Array(
    Type.Object({ reference: Str(60), description: Str(4000), control: Type.Optional(Nullable(Str(40))) }),
    {
      maxItems: 500,
    },
  ),
});

const VendorDetailSchema = Type.Object({
  vendor: VendorSchema,
  documents: Type.Array(VendorDocumentSchema),
  reviews: Type.Array(VendorReviewSchema),
  reviewTask: Nullable(
    Type.Object({ id: Type.String(), dueAt: Nullable(Type.String()), assignee: Nullable(Type.String()) }),
  ),
});

export async function vendorRoutes(app: App, { database }: AppContext) {
  const detail = async (workspace: string, vendor: string) => {
    const d = await getVendor(database, workspace, vendor);
    const task = d.tasks.find((t) => t.status === 'open');
    return {
      vendor: presentVendor(d.vendor, d.documents, d.asOf),
      documents: d.documents.map((doc) => presentDocument(doc, d.cuecs)),
      reviews: d.reviews.map(presentReview),
      reviewTask: task
        ? { id: task.id, dueAt: task.due_at?.toISOString() ?? null, assignee: task.assignee }
        : null,
    };
  };

  app.get(
    '/workspaces/:workspace/vendors',
    {
      config: { access: { permission: 'evidence:read' } },
      schema: {
        tags: ['registers'],
        summary: 'The vendor inventory, with the state of each vendor’s assurance',
        params: WorkspaceParams,
        response: { 200: Type.Object({ vendors: Type.Array(VendorSchema) }), ...errors },
      },
    },
    async (request) => {
      const { vendors, documents, asOf } = await listVendors(database, request.params.workspace);
      return { vendors: vendors.map((v) => presentVendor(v, documents, asOf)) };
    },
  );

  app.post(
    '/workspaces/:workspace/vendors',
    {
      config: { access: { permission: 'evidence:write' } },
      schema: {
        tags: ['registers'],
        summary:
          'Add a vendor to the inventory (opens its first review task; a new in-scope vendor is a significant change)',
        params: WorkspaceParams,
        body: VendorBody,
        response: { 201: VendorDetailSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await createVendor(database, requestActor(request), request.params.workspace, request.body);
      return reply.status(201).send(await detail(request.params.workspace, row.id));
    },
  );

  app.get(
    '/workspaces/:workspace/vendors/:vendor',
    {
      config: { access: { permission: 'evidence:read' } },
      schema: {
        tags: ['registers'],
        summary: 'One vendor (by id or name): its assurance documents, CUECs, reviews and review task',
        params: VendorParams,
        response: { 200: VendorDetailSchema, ...errors },
      },
    },
    async (request) => detail(request.params.workspace, request.params.vendor),
  );

  app.patch(
    '/workspaces/:workspace/vendors/:vendor',
    {
      config: { access: { permission: 'evidence:write' } },
      schema: {
        tags: ['registers'],
        summary: 'Update a vendor',
        params: VendorParams,
        body: VendorBody,
        response: { 200: VendorDetailSchema, ...errors },
      },
    },
    async (request) => {
      const row = await updateVendor(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.vendor,
        request.body,
      );
      return detail(request.params.workspace, row.id);
    },
  );

  app.post(
    '/workspaces/:workspace/vendors/:vendor/documents',
    {
      config: { access: { permission: 'evidence:write' } },
      schema: {
        tags: ['registers'],
        summary:
          'Record a SOC 2 report (with its CUECs), an ISO 27001 certificate or a bridging letter; the same kind and period end corrects the one on file',
        params: VendorParams,
        body: DocumentBody,
        response: { 201: VendorDocumentSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { document, cuecs } = await addVendorDocument(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.vendor,
        request.body,
      );
      return reply.status(201).send(presentDocument(document, cuecs));
    },
  );

  app.put(
    '/workspaces/:workspace/vendors/:vendor/documents/:document/cuecs/:reference',
    {
      config: { access: { permission: 'evidence:write' } },
      schema: {
        tags: ['registers'],
        summary: 'Map a complementary user entity control to one of our controls (null unmaps it)',
        params: CuecParams,
        body: Type.Object({ control: Nullable(Str(40)) }, { additionalProperties: false }),
        response: { 200: VendorDocumentSchema, ...errors },
      },
    },
    async (request) => {
      const { document, cuecs } = await mapCuec(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.vendor,
        request.params.document,
        request.params.reference,
        request.body.control,
      );
      return presentDocument(document, cuecs);
    },
  );

  app.post(
    '/workspaces/:workspace/vendors/:vendor/reviews',
    {
      config: { access: { permission: 'evidence:write' } },
      schema: {
        tags: ['registers'],
        summary: 'Record a vendor review (closes the review task and schedules the next one)',
        params: VendorParams,
        body: Body({
          reviewer: Str(),
          outcome: Type.Union([
            Type.Literal('approved'),
            Type.Literal('approved_with_conditions'),
            Type.Literal('rejected'),
          ]),
          notes: Text,
          reviewedAt: When,
        }),
        response: { 201: VendorReviewSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await recordVendorReview(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.vendor,
        request.body,
      );
      return reply.status(201).send(presentReview(row));
    },
  );
}
