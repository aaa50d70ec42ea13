import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import type { Actor } from '../audit/actor.ts';
import { collectorTypes, type EvidenceInput } from './envelope.ts';
import { EvidenceDetailSchema, EvidenceItemSchema } from './evidence.presenter.ts';
import {
  addEvidence,
  checkpointNow,
  evidenceFreshness,
  evidenceProof,
  getEvidence,
  ledgerConsistency,
  ledgerStatus,
  listCheckpoints,
  listEvidence,
  openEvidenceBlob,
  rotateKey,
  uploadEvidenceBlob,
  verifyLedger,
} from './evidence.service.ts';
import { evidenceBlobStore } from './evidence-blobs.ts';
import {
  disposeEvidence,
  listLegalHolds,
  listRetentionPolicies,
  placeLegalHold,
  redactEvidence,
  releaseLegalHold,
  setRetentionPolicy,
} from './retention.service.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error'), 409: Type.Ref('Error') };
const read = { access: { permission: 'evidence:read' as const } };
const write = { access: { permission: 'evidence:write' as const } };
// Holds, retention and erasure are programme governance; key rotation is security.
const govern = { access: { permission: 'audits:manage' as const } };
const security = { access: { permission: 'security:manage' as const } };

const Workspace = Type.Object({ workspace: Type.String({ minLength: 1, maxLength: 100 }) });
const Item = Type.Object({
  workspace: Type.String({ minLength: 1, maxLength: 100 }),
  evidence: Type.String({ minLength: 1, maxLength: 100 }),
});
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Reason = Type.String({ minLength: 1, maxLength: 1000 });

const EvidenceInputBody = Type.Object(
  {
    kind: Type.String({ minLength: 1, maxLength: 100 }),
    controls: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 200 })),
    criteria: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 200 })),
    subject: Type.Optional(
      Nullable(
        Type.Object(
          {
            type: Type.String({ minLength: 1, maxLength: 60 }),
            id: Type.String({ minLength: 1, maxLength: 200 }),
            name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    effectiveAt: Type.String({ format: 'date-time' }),
    collectedAt: Type.Optional(Type.String({ format: 'date-time' })),
    collector: Type.Optional(
      Type.Object(
        {
          type: Type.Union(collectorTypes.map((t) => Type.Literal(t))),
          id: Type.String({ minLength: 1, maxLength: 200 }),
          name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
        },
        { additionalProperties: false },
      ),
    ),
    ttlSeconds: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))),
    staleAfter: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
    content: Type.Optional(Type.Unknown()),
    blob: Type.Optional(
      Nullable(
        Type.Object(
          {
            sha256: Sha256,
            size: Type.Optional(Type.Integer({ minimum: 0 })),
            mediaType: Type.String({ minLength: 3, maxLength: 255 }),
            fileName: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 255 }))),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

const RecordSchema = Type.Object({
  id: Type.String(),
  leafIndex: Type.Integer(),
  leafHash: Type.String(),
  envelopeSha256: Type.String(),
  envelope: Type.Unknown(),
});

const CheckpointSchema = Type.Object(
  {
    treeSize: Type.Integer(),
    rootHash: Type.String(),
    issuedAt: Type.String({ format: 'date-time' }),
    keyId: Type.String(),
    body: Type.String(),
    signature: Type.String(),
  },
  { $id: 'EvidenceCheckpoint' },
);

const LedgerKeySchema = Type.Object({
  keyId: Type.String(),
  publicKeyPem: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  retiredAt: Nullable(Type.String({ format: 'date-time' })),
});

const FailureSchema = Type.Object({
  problem: Type.String(),
  leafIndex: Nullable(Type.Integer()),
  evidenceId: Nullable(Type.String()),
  checkpointTreeSize: Type.Optional(Type.Integer()),
  blobSha256: Type.Optional(Type.String()),
  message: Type.String(),
});

const VerificationSchema = Type.Object({
  ok: Type.Boolean(),
  workspaceId: Type.String(),
  treeSize: Type.Integer(),
  rootHash: Type.String(),
  checkpoints: Type.Integer(),
  blobs: Type.Integer(),
  erased: Type.Integer(),
  bytesHashed: Type.Integer(),
  keys: Type.Array(
    Type.Object({ keyId: Type.String(), createdAt: Type.String(), retiredAt: Nullable(Type.String()) }),
  ),
  latestCheckpoint: Nullable(
    Type.Object({
      treeSize: Type.Integer(),
      rootHash: Type.String(),
      issuedAt: Type.String(),
      keyId: Type.String(),
    }),
  ),
  firstFailure: Nullable(FailureSchema),
  failures: Type.Array(FailureSchema),
  failureCount: Type.Integer(),
  timings: Type.Object({
    readMs: Type.Number(),
    checkMs: Type.Number(),
    blobMs: Type.Number(),
    totalMs: Type.Number(),
  }),
});

const HoldSchema = Type.Object({
  id: Type.String(),
  evidenceId: Nullable(Type.String()),
  kind: Nullable(Type.String()),
  control: Nullable(Type.String()),
  subject: Nullable(Type.Object({ type: Type.String(), id: Type.String() })),
  reason: Type.String(),
  placedBy: Type.String(),
  placedAt: Type.String({ format: 'date-time' }),
  releasedBy: Nullable(Type.String()),
  releasedAt: Nullable(Type.String({ format: 'date-time' })),
  releaseReason: Nullable(Type.String()),
});

const RetentionSchema = Type.Object({
  defaultDays: Type.Integer(),
  policies: Type.Array(Type.Object({ kind: Type.String(), days: Type.Integer(), updatedAt: Type.String() })),
});

const ErasureSchema = Type.Object({
  evidenceId: Type.String(),
  leafIndex: Type.Integer(),
  erased: Type.Array(Type.String()),
  record: Type.Object({ id: Type.String(), leafIndex: Type.Integer(), kind: Type.String() }),
});

/** Evidence without a collector is attributed to whoever sent it. */
function withCollector(items: EvidenceInput[], actor: Actor): EvidenceInput[] {
  const type = actor.type === 'connector' || actor.type === 'system' ? actor.type : 'user';
  return items.map((item) =>
    item.collector ? item : { ...item, collector: { type, id: actor.id, name: actor.name ?? null } },
  );
}

export async function evidenceRoutes(app: App, { config, database }: AppContext) {
  const blobs = evidenceBlobStore(config);
  app.addSchema(EvidenceItemSchema);
  app.addSchema(EvidenceDetailSchema);
  app.addSchema(CheckpointSchema);

  app.post(
    '/workspaces/:workspace/evidence',
    {
      config: write,
      schema: {
        tags: ['evidence'],
        summary:
          'Append evidence to the workspace ledger (files are uploaded first, then referenced by sha256)',
        params: Workspace,
        body: Type.Object(
          { items: Type.Array(EvidenceInputBody, { minItems: 1, maxItems: 10_000 }) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ items: Type.Array(RecordSchema) }), ...errors },
      },
    },
    async (request, reply) => {
      const actor = requestActor(request);
      const items = withCollector(request.body.items as EvidenceInput[], actor);
      const records = await addEvidence(database, actor, request.params.workspace, items);
      return reply.status(201).send({ items: records });
    },
  );

  // Uploads stream straight into the blob store; the body is never buffered.
  await app.register(async (instance) => {
    const uploads = instance as unknown as App;
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('application/octet-stream', (_request, payload, done) =>
      done(null, payload),
    );
    uploads.put(
      '/workspaces/:workspace/evidence/blobs',
      {
        config: write,
        bodyLimit: 64 * 1024 ** 3,
        schema: {
          tags: ['evidence'],
          summary:
            'Upload a file (application/octet-stream) for evidence to reference; stored once per SHA-256',
          params: Workspace,
          querystring: Type.Object({ sha256: Type.Optional(Sha256) }, { additionalProperties: false }),
          response: {
            201: Type.Object({ sha256: Type.String(), size: Type.Integer(), created: Type.Boolean() }),
            ...errors,
          },
        },
      },
      async (request, reply) => {
        requestActor(request);
        const result = await uploadEvidenceBlob(
          database,
          blobs,
          request.params.workspace,
          request.body as Readable,
          {
            expectedSha256: request.query.sha256,
          },
        );
        return reply.status(201).send(result);
      },
    );
  });

  app.get(
    '/workspaces/:workspace/evidence',
    {
      config: read,
      schema: {
        tags: ['evidence'],
        summary: 'Evidence items, newest first (page with ?before=<next>)',
        params: Workspace,
        querystring: Type.Object(
          {
            kind: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            control: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            subjectType: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
            subjectId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            stale: Type.Optional(Type.Boolean()),
            before: Type.Optional(Type.Integer({ minimum: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Type.Ref('EvidenceItem')), next: Nullable(Type.Integer()) }),
          ...errors,
        },
      },
    },
    async (request) => listEvidence(database, request.params.workspace, request.query),
  );

  app.get(
    '/workspaces/:workspace/evidence/freshness',
    {
      config: read,
      schema: {
        tags: ['evidence'],
        summary: "Per control: its newest evidence, that evidence's age, and whether it is stale",
        params: Workspace,
        response: {
          200: Type.Object({
            workspace: Type.String(),
            at: Type.String(),
            controls: Type.Array(
              Type.Object({
                control: Type.String(),
                title: Type.String(),
                frequency: Type.String(),
                evidenceCount: Type.Integer(),
                status: Type.String(),
                newest: Nullable(
                  Type.Object({
                    id: Type.String(),
                    kind: Type.String(),
                    effectiveAt: Type.String(),
                    ageSeconds: Type.Integer(),
                    staleAfter: Nullable(Type.String()),
                    stale: Type.Boolean(),
                  }),
                ),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => evidenceFreshness(database, request.params.workspace),
  );

  app.get(
    '/workspaces/:workspace/evidence/:evidence',
    {
      config: read,
      schema: {
        tags: ['evidence'],
        summary: 'One evidence item: its envelope as recorded, its payload, retention and holds',
        params: Item,
        response: { 200: Type.Ref('EvidenceDetail'), ...errors },
      },
    },
    async (request) => getEvidence(database, request.params.workspace, request.params.evidence),
  );

  app.get(
    '/workspaces/:workspace/evidence/:evidence/blob',
    {
      config: read,
      schema: {
        tags: ['evidence'],
        summary: "Download the item's file",
        params: Item,
        response: { ...errors },
      },
    },
    async (request, reply) => {
      const { stream, blob } = await openEvidenceBlob(
        database,
        blobs,
        request.params.workspace,
        request.params.evidence,
      );
      reply.header('content-type', blob.mediaType);
      reply.header('content-length', String(blob.size));
      reply.header('x-content-sha256', blob.sha256);
      if (blob.fileName) {
        reply.header(
          'content-disposition',
          `attachment; filename*=UTF-8''${encodeURIComponent(blob.fileName)}`,
        );
      }
      return reply.send(stream);
    },
  );

  app.get(
    '/workspaces/:workspace/evidence/:evidence/proof',
    {
      config: read,
      schema: {
        tags: ['evidence'],
        summary:
          "Inclusion proof of the item in a signed checkpoint (default the latest), with the auditor recipe's files",
        params: Item,
        querystring: Type.Object(
          { treeSize: Type.Optional(Type.Integer({ minimum: 1 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            evidenceId: Type.String(),
            leafIndex: Type.Integer(),
            treeSize: Type.Integer(),
            leafHash: Type.String(),
            envelopeSha256: Nullable(Type.String()),
            proof: Type.Array(Type.String()),
            checkpoint: Type.Ref('EvidenceCheckpoint'),
            ledgerKey: LedgerKeySchema,
            files: Type.Record(Type.String(), Type.String()),
          }),
          ...errors,
        },
      },
    },
    async (request) =>
      evidenceProof(database, request.params.workspace, request.params.evidence, {
        treeSize: request.query.treeSize,
      }),
  );

  app.post(
    '/workspaces/:workspace/evidence/:evidence/redaction',
    {
      config: govern,
      schema: {
        tags: ['evidence'],
        summary:
          'Privacy erasure: remove the payload and file (and with parts [envelope], the envelope); the leaf hash stays',
        params: Item,
        body: Type.Object(
          {
            reason: Reason,
            parts: Type.Optional(
              Type.Array(
                Type.Union([Type.Literal('content'), Type.Literal('blob'), Type.Literal('envelope')]),
                {
                  minItems: 1,
                  maxItems: 3,
                },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: ErasureSchema, ...errors },
      },
    },
    async (request) =>
      redactEvidence(
        database,
        blobs,
        requestActor(request),
        request.params.workspace,
        request.params.evidence,
        request.body,
      ),
  );

  app.delete(
    '/workspaces/:workspace/evidence/:evidence',
    {
      config: govern,
      schema: {
        tags: ['evidence'],
        summary:
          'Dispose of an item whose retention has elapsed (refused under legal hold); recorded in the ledger',
        params: Item,
        querystring: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: { 200: ErasureSchema, ...errors },
      },
    },
    async (request) =>
      disposeEvidence(
        database,
        blobs,
        requestActor(request),
        request.params.workspace,
        request.params.evidence,
        {
          reason: request.query.reason,
        },
      ),
  );

  // ---- the ledger as a whole

  app.get(
    '/workspaces/:workspace/evidence-ledger',
    {
      config: read,
      schema: {
        tags: ['evidence'],
        summary: "The ledger's size and root, its latest checkpoint and its keys",
        params: Workspace,
        response: {
          200: Type.Object({
            workspaceId: Type.String(),
            treeSize: Type.Integer(),
            rootHash: Type.String(),
            latestCheckpoint: Nullable(Type.Ref('EvidenceCheckpoint')),
            keys: Type.Array(LedgerKeySchema),
          }),
          ...errors,
        },
      },
    },
    async (request) => ledgerStatus(database, request.params.workspace),
  );

  app.post(
    '/workspaces/:workspace/evidence-ledger/verify',
    {
      config: read,
      schema: {
        tags: ['evidence'],
        summary:
          'Recompute every envelope, payload and file hash, the tree and every checkpoint; names the first bad entry',
        params: Workspace,
        response: { 200: VerificationSchema, ...errors },
      },
    },
    async (request) => verifyLedger(database, blobs, request.params.workspace),
  );

  app.get(
    '/workspaces/:workspace/evidence-ledger/checkpoints',
    {
      config: read,
      schema: {
        tags: ['evidence'],
        summary: 'Signed checkpoints, oldest first',
        params: Workspace,
        response: {
          200: Type.Object({ checkpoints: Type.Array(Type.Ref('EvidenceCheckpoint')) }),
          ...errors,
        },
      },
    },
    async (request) => ({ checkpoints: await listCheckpoints(database, request.params.workspace) }),
  );

  app.post(
    '/workspaces/:workspace/evidence-ledger/checkpoints',
    {
      config: write,
      schema: {
        tags: ['evidence'],
        summary: 'Sign a checkpoint of the ledger now (returns the latest one if the ledger has not grown)',
        params: Workspace,
        response: {
          200: Type.Object({ created: Type.Boolean(), checkpoint: Type.Ref('EvidenceCheckpoint') }),
          ...errors,
        },
      },
    },
    async (request) => checkpointNow(database, requestActor(request), request.params.workspace),
  );

  app.get(
    '/workspaces/:workspace/evidence-ledger/consistency',
    {
      config: read,
      schema: {
        tags: ['evidence'],
        summary: 'RFC 9162 consistency proof between two tree sizes (to defaults to the latest checkpoint)',
        params: Workspace,
        querystring: Type.Object(
          { from: Type.Integer({ minimum: 0 }), to: Type.Optional(Type.Integer({ minimum: 0 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            fromTreeSize: Type.Integer(),
            toTreeSize: Type.Integer(),
            fromRootHash: Type.String(),
            toRootHash: Type.String(),
            proof: Type.Array(Type.String()),
            fromCheckpoint: Nullable(Type.Ref('EvidenceCheckpoint')),
            toCheckpoint: Nullable(Type.Ref('EvidenceCheckpoint')),
          }),
          ...errors,
        },
      },
    },
    async (request) => ledgerConsistency(database, request.params.workspace, request.query),
  );

  app.post(
    '/workspaces/:workspace/evidence-ledger/keys/rotate',
    {
      config: security,
      schema: {
        tags: ['evidence'],
        summary: 'Retire the current ledger key and make a new one current',
        params: Workspace,
        response: {
          200: Type.Object({ retired: Nullable(LedgerKeySchema), current: LedgerKeySchema }),
          ...errors,
        },
      },
    },
    async (request) => rotateKey(database, requestActor(request), request.params.workspace),
  );

  app.get(
    '/workspaces/:workspace/evidence-ledger/retention',
    {
      config: read,
      schema: {
        tags: ['evidence'],
        summary: 'Minimum retention per evidence kind (default 730 days)',
        params: Workspace,
        response: { 200: RetentionSchema, ...errors },
      },
    },
    async (request) => listRetentionPolicies(database, request.params.workspace),
  );

  app.put(
    '/workspaces/:workspace/evidence-ledger/retention',
    {
      config: govern,
      schema: {
        tags: ['evidence'],
        summary: 'Set the minimum retention of one kind (kind "*" sets the workspace default)',
        params: Workspace,
        body: Type.Object(
          {
            kind: Type.String({ minLength: 1, maxLength: 100 }),
            days: Type.Integer({ minimum: 1, maximum: 36_500 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: RetentionSchema, ...errors },
      },
    },
    async (request) =>
      setRetentionPolicy(database, requestActor(request), request.params.workspace, request.body),
  );

  app.get(
    '/workspaces/:workspace/evidence-ledger/holds',
    {
      config: read,
      schema: {
        tags: ['evidence'],
        summary: 'Legal holds (active ones unless ?all=true)',
        params: Workspace,
        querystring: Type.Object({ all: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: Type.Object({ holds: Type.Array(HoldSchema) }), ...errors },
      },
    },
    async (request) => ({
      holds: await listLegalHolds(database, request.params.workspace, { includeReleased: request.query.all }),
    }),
  );

  app.post(
    '/workspaces/:workspace/evidence-ledger/holds',
    {
      config: govern,
      schema: {
        tags: ['evidence'],
        summary:
          'Place a legal hold on matching evidence (every given criterion must match; none: all evidence)',
        params: Workspace,
        body: Type.Object(
          {
            reason: Reason,
            evidenceId: Type.Optional(Type.String({ format: 'uuid' })),
            kind: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            control: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            subject: Type.Optional(
              Type.Object(
                {
                  type: Type.String({ minLength: 1, maxLength: 60 }),
                  id: Type.String({ minLength: 1, maxLength: 200 }),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: HoldSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await placeLegalHold(database, requestActor(request), request.params.workspace, request.body)),
  );

  app.post(
    '/workspaces/:workspace/evidence-ledger/holds/:hold/release',
    {
      config: govern,
      schema: {
        tags: ['evidence'],
        summary: 'Release a legal hold',
        params: Type.Object({
          workspace: Type.String({ minLength: 1, maxLength: 100 }),
          hold: Type.String({ minLength: 1, maxLength: 100 }),
        }),
        body: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: { 200: HoldSchema, ...errors },
      },
    },
    async (request) =>
      releaseLegalHold(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.hold,
        request.body,
      ),
  );
}
