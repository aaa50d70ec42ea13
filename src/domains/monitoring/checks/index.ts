import type { CheckDefinition } from '../check.types.ts';
import { changeChecks } from './change.checks.ts';
import { identityChecks } from './identity.checks.ts';

/** Every built-in check, by id. */
export const builtInChecks: readonly CheckDefinition[] = [...identityChecks, ...changeChecks];

export const builtInCheckById = new Map(builtInChecks.map((c) => [c.id, c]));
