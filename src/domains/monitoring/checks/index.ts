import type { CheckDefinition } from '../check.types.ts';
import { changeChecks } from './change.checks.ts';
import { cloudChecks } from './cloud.checks.ts';
import { directoryChecks } from './directory.checks.ts';
import { githubChecks } from './github.checks.ts';
import { identityChecks } from './identity.checks.ts';
import { registerChecks } from './registers.checks.ts';

/** Every built-in check, by id. */
export const builtInChecks: readonly CheckDefinition[] = [
  ...identityChecks,
  ...directoryChecks,
  ...changeChecks,
  ...cloudChecks,
  ...githubChecks,
  ...registerChecks,
];

export const builtInCheckById = new Map(builtInChecks.map((c) => [c.id, c]));
