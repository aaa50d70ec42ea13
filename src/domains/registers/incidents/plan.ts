/** When the incident-response plan was last tested: a recorded test, or a tabletop exercise of it. */
import type { ExerciseRow } from './incidents.repository.ts';

export function lastPlanTest(
  plan: { last_tested_at: Date | null } | null,
  exercises: ExerciseRow[],
  asOf?: Date,
) {
  let latest = plan?.last_tested_at && (!asOf || plan.last_tested_at <= asOf) ? plan.last_tested_at : null;
  for (const e of exercises) {
    if (!e.tests_plan || (asOf && e.held_at > asOf)) continue;
    if (!latest || e.held_at > latest) latest = e.held_at;
  }
  return latest;
}
