/**
 * The HTTP API as a Fastify application. Request and response schemas (TypeBox, i.e. JSON Schema)
 * validate input and also produce the OpenAPI document at `GET /openapi.json`.
 */
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../config.ts';
import { scimRoutes } from '../connectors/scim/scim.routes.ts';
import { webhookRoutes } from '../connectors/webhooks/webhooks.routes.ts';
import type { Database } from '../db/database.ts';
import { openSecretBox, type SecretBox } from '../domains/secrets/secrets.ts';
import { AssayError, isAssayError } from '../errors.ts';
import { installAccessControl, openApiSecuritySchemes } from './access.ts';
import { httpStatusByKind } from './error-mapping.ts';
import { installSecurityHeaders, logSerializers } from './hardening.ts';
import { registerRoutes } from './routes.ts';
import { registerWebApp } from './web-app.ts';

export interface AppContext {
  config: Config;
  database: Database;
  /** Seals and opens stored secrets; opened from the config when not given. */
  secrets?: SecretBox;
}

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  import('fastify').FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export const ErrorBody = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'Error' },
);

/**
 * Bodies are validated strictly (no type coercion: "security" is not ["security"]; unknown
 * properties are refused, never silently dropped); path and query strings are text by nature, so
 * they are coerced to the schema's types.
 */
function buildStrictValidator(externalSchemas?: unknown) {
  const strict = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, strict: false });
  const lenient = new Ajv({
    coerceTypes: 'array',
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  });
  addFormats.default(strict);
  addFormats.default(lenient);
  for (const schema of Object.values((externalSchemas ?? {}) as Record<string, object>)) {
    strict.addSchema(schema);
    lenient.addSchema(schema);
  }
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? strict : lenient).compile(schema);
}

export async function buildApp(
  given: AppContext,
  options: { logger?: boolean; logStream?: NodeJS.WritableStream } = {},
): Promise<App> {
  const context: AppContext = { ...given, secrets: given.secrets ?? openSecretBox(given.config) };
  const app = Fastify({
    logger: options.logger
      ? {
          level: context.config.logLevel,
          serializers: logSerializers,
          ...(options.logStream ? { stream: options.logStream } : {}),
        }
      : false,
    bodyLimit: 10 * 1024 * 1024,
    // Given as a factory (not setValidatorCompiler) so that plugins which add shared schemas get
    // the same strict validators: Fastify rebuilds a plugin's validator from the factory then.
    schemaController: { compilersFactory: { buildValidator: buildStrictValidator as never } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isAssayError(error)) {
      const status = httpStatusByKind[error.kind];
      if (typeof error.details?.retryAfterSeconds === 'number') {
        reply.header('retry-after', String(error.details.retryAfterSeconds));
      }
      if (status >= 500) {
        request.log.error({ err: error }, 'request failed');
        return reply.status(status).send({ code: error.code, message: 'internal error' });
      }
      return reply.status(status).send({ code: error.code, message: error.message, details: error.details });
    }
    if (error.validation) {
      const first = error.validation[0];
      const where = `${error.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
      return reply.status(400).send({
        code: 'validation_failed',
        message: `${where}: ${first?.message ?? 'is invalid'}`,
        details: { field: where },
      });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
      return reply
        .status(400)
        .send({ code: 'invalid_json', message: `request body is not valid JSON: ${error.message}` });
    }
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply
        .status(400)
        .send({ code: 'invalid_json', message: 'request body is empty; expected JSON' });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({ code: 'payload_too_large', message: 'request body is too large' });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send({
        code: 'unsupported_media_type',
        message: `unsupported content type ${request.headers['content-type']}`,
      });
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ code: 'bad_request', message: error.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ code: 'internal', message: 'internal error' });
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new AssayError(
      'route_not_found',
      `no route ${request.method} ${request.url.split('?')[0]}`,
    );
    return reply.status(404).send({ code: error.code, message: error.message });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Assay API',
        version: '0.1.0',
        description: 'Continuous SOC 2 compliance: workspaces, scope, controls, evidence, checks and audits.',
      },
      components: { securitySchemes: openApiSecuritySchemes },
    },
  });
  app.addSchema(ErrorBody);
  installSecurityHeaders(app);
  installAccessControl(app, context.database);

  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['platform'],
        summary: 'Liveness and database reachability',
        response: { 200: Type.Object({ status: Type.Literal('ok'), database: Type.String() }) },
      },
    },
    async () => {
      await context.database.db.selectFrom('workspaces').select('id').limit(1).execute();
      return { status: 'ok' as const, database: context.database.kind };
    },
  );

  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  await app.register(async (api) => registerRoutes(api as unknown as App, context), { prefix: '/api/v1' });
  // Push connectors: their own content types, error formats and credentials (see each plugin).
  await app.register(scimRoutes(context), { prefix: '/scim/v2' });
  await app.register(webhookRoutes(context), { prefix: '/webhooks' });
  registerWebApp(app);
  return app;
}
