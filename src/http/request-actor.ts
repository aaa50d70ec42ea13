import type { FastifyRequest } from 'fastify';
import type { Actor } from '../domains/audit/actor.ts';

/**
 * The actor behind a request. Until sign-in lands, API calls are attributed to the local API
 * client; the authentication layer replaces this with the signed-in person or token.
 */
export function requestActor(request: FastifyRequest): Actor {
  return { type: 'user', id: 'api', name: request.headers['user-agent']?.slice(0, 100) ?? 'api' };
}
