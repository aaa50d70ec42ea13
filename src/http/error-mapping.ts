/**
 * The one place that maps error kinds to HTTP statuses and CLI exit codes. Adding a kind to
 * `src/errors.ts` without a status here fails the typecheck.
 */
import type { ErrorKind } from '../errors.ts';

export const httpStatusByKind: Record<ErrorKind, number> = {
  bad_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  rate_limited: 429,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  integrity: 409,
  unavailable: 503,
  internal: 500,
};

/** CLI contract: 0 ok, 1 failure, 2 bad usage or bad input. */
export const exitCodeByKind: Record<ErrorKind, 1 | 2> = {
  bad_input: 2,
  not_found: 2,
  conflict: 2,
  too_large: 2,
  unsupported_media_type: 2,
  unauthenticated: 1,
  forbidden: 1,
  rate_limited: 1,
  integrity: 1,
  unavailable: 1,
  internal: 1,
};
