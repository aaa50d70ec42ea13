import type { FastifyRequest } from 'fastify';
import { callerActor } from '../domains/accounts/caller.ts';
import type { Actor } from '../domains/audit/actor.ts';
import { AssayError } from '../errors.ts';

/**
 * The actor behind a request: the signed-in person or the API token that the access hook
 * (src/http/access.ts) authenticated. Public routes have none, so a change there cannot be
 * attributed and is refused.
 */
export function requestActor(request: FastifyRequest): Actor {
  if (!request.caller)
    throw new AssayError('unauthenticated', 'this action needs a signed-in person or an API token');
  return callerActor(request.caller);
}
