/**
 * Security headers on every response, and request logging that never carries secrets: headers
 * (cookies, bearer tokens) are not logged at all, and the query strings of sign-in URLs (OIDC
 * codes and state) are cut off.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

const contentSecurityPolicy = [
  "default-src 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

interface Hookable {
  addHook(
    name: 'onSend',
    fn: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>,
  ): unknown;
}

/** True when the client reached us over https (directly, or through a TLS-terminating proxy). */
function overHttps(request: FastifyRequest): boolean {
  if (request.protocol === 'https') return true;
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

export function installSecurityHeaders(app: Hookable): void {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('content-security-policy', contentSecurityPolicy);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-origin');
    // Answers about people, sessions and evidence are not for shared caches.
    if (request.url.startsWith('/api/') && !reply.hasHeader('cache-control'))
      reply.header('cache-control', 'no-store');
    if (overHttps(request)) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    return payload;
  });
}

const sensitiveQueryKeys =
  /^(code|state|token|access_token|id_token|secret|client_secret|password|key|sig|signature)$/i;

/** A URL fit for a log line: sign-in URLs lose their query; elsewhere, credential-like values are masked. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const path = url.slice(0, q);
  if (path.startsWith('/api/v1/auth/')) return path;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) if (sensitiveQueryKeys.test(key)) params.set(key, 'redacted');
  return `${path}?${params.toString()}`;
}

/** Pino serializers for Fastify's request log lines (no headers: cookies and tokens stay out). */
export const logSerializers = {
  req(request: { method?: string; url?: string; ip?: string; hostname?: string }) {
    return {
      method: request.method,
      url: redactUrl(request.url ?? ''),
      host: request.hostname,
      remoteAddress: request.ip,
    };
  },
};
