/** Helpers shared by the checks over more than one register. */
import type { Subject } from '../../check.types.ts';
import type { Facts } from '../../facts.ts';

export const ids = (values: (string | null | undefined)[]) =>
  values.filter((v): v is string => typeof v === 'string');

export function workspaceSubject(facts: Facts, name: string): Subject {
  return { type: 'workspace', id: facts.workspaceId, name };
}
