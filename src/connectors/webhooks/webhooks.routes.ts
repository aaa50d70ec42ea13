/**
 * Webhook receivers as a Fastify plugin, mounted at `/webhooks`:
 *
 *   POST /webhooks/github/:workspace            GitHub (X-Hub-Signature-256)
 *   POST /webhooks/generic/:workspace/:source   signed JSON carrying OCSF events (X-Assay-Signature)
 *
 * Access: `public` to the session/API-token layer (src/http/access.ts), because senders hold
 * no Assay session or token — each delivery is authenticated by its HMAC signature instead,
 * which this plugin checks (over the raw bytes, hence its own body parser) before anything is
 * read or stored. Answers use Assay's usual `{code, message}` error body.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { openSecretBox } from '../../domains/secrets/secrets.ts';
import type { AppContext } from '../../http/app.ts';
import { wakeWorkers } from '../../jobs/queue.ts';
import { type Delivery, type DeliveryResult, receiveGeneric, receiveGitHub } from './webhooks.service.ts';

/** GitHub caps payloads at 25 MB. */
const githubBodyLimit = 25 * 1024 * 1024;
const genericBodyLimit = 10 * 1024 * 1024;

function delivery(request: FastifyRequest): Delivery {
  const { workspace } = request.params as { workspace: string };
  const contentType = request.headers['content-type'];
  return {
    workspaceRef: workspace,
    headers: request.headers,
    body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    contentType: typeof contentType === 'string' ? contentType : undefined,
    remoteAddress: request.ip,
  };
}

function answer({ storedEventIds, ...result }: DeliveryResult) {
  // Committed: the checks the delivery queued can run now.
  if (storedEventIds.length > 0) wakeWorkers();
  return result;
}

export function webhookRoutes(context: AppContext) {
  const box = context.secrets ?? openSecretBox(context.config);
  const { database } = context;
  return async function webhooksPlugin(app: FastifyInstance) {
    app.removeAllContentTypeParsers();
    // The signature covers the exact bytes sent, so the body is kept raw and parsed after checking.
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: githubBodyLimit }, (_request, body, done) =>
      done(null, body),
    );
    const options = { config: { access: 'public' as const }, schema: { hide: true }, exposeHeadRoute: false };
    app.post('/github/:workspace', { ...options, bodyLimit: githubBodyLimit }, async (request) =>
      answer(await receiveGitHub(database, box, delivery(request))),
    );
    app.post('/generic/:workspace/:source', { ...options, bodyLimit: genericBodyLimit }, async (request) =>
      answer(
        await receiveGeneric(database, box, (request.params as { source: string }).source, delivery(request)),
      ),
    );
  };
}
