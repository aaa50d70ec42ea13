import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { importKinds } from '../events/event.model.ts';
import { importFile } from './import.service.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error'), 413: Type.Ref('Error') };

const ImportSummarySchema = Type.Object({
  batchId: Type.String(),
  workspace: Type.String(),
  kind: Type.String(),
  fileName: Type.String(),
  recordsRead: Type.Integer(),
  eventsStored: Type.Integer(),
  duplicates: Type.Integer(),
  people: Type.Integer(),
  identities: Type.Integer(),
  entitlementChanges: Type.Integer(),
  rejected: Type.Integer(),
});

/** Uploads are streamed straight into the importer: the body is never buffered whole. */
const uploadTypes = [
  'application/octet-stream',
  'application/gzip',
  'application/x-gzip',
  'application/json',
  'application/x-ndjson',
  'application/jsonl',
  'text/csv',
  'text/plain',
];

export async function ingestRoutes(app: App, { database }: AppContext) {
  await app.register(async (instance) => {
    const uploads = instance as unknown as App;
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser(uploadTypes, (_request, payload, done) => done(null, payload));
    uploads.post(
      '/workspaces/:workspace/imports/:kind',
      {
        config: { access: { permission: 'events:ingest' } },
        bodyLimit: 4 * 1024 ** 3,
        schema: {
          tags: ['ingest'],
          summary: `Upload a vendor file to import (kinds: ${importKinds.join(', ')}); gzip accepted`,
          params: Type.Object({
            workspace: Type.String({ minLength: 1, maxLength: 100 }),
            kind: Type.String({ minLength: 1, maxLength: 60 }),
          }),
          querystring: Type.Object(
            {
              fileName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
              observedAt: Type.Optional(Type.String({ format: 'date-time' })),
            },
            { additionalProperties: false },
          ),
          response: { 200: ImportSummarySchema, ...errors },
        },
      },
      async (request) => {
        const { params, query } = request;
        const summary = await importFile(
          database,
          requestActor(request),
          params.workspace,
          params.kind,
          request.body as Readable,
          { fileName: query.fileName ?? `${params.kind} upload`, observedAt: query.observedAt },
        );
        const { storedEventIds: _ids, ...result } = summary;
        return result;
      },
    );
  });
}
