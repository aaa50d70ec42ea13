/**
 * A check: a function over the facts (events, identity graph, registers, evidence) that judges
 * subjects pass or fail. Each check declares what triggers it, so that a change re-evaluates only
 * the checks it touches, and which criteria it tests; the controls it serves come from the catalog
 * (templates list their checks).
 */
import type { Facts } from './facts.ts';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type ResultStatus = 'pass' | 'fail' | 'not_applicable' | 'no_data';

/** What a finding is about. `name`/`email` are for people; `aliases` are other names it goes by. */
export interface Subject {
  type: 'person' | 'identity' | 'repository' | 'organization' | 'workspace' | 'vendor' | 'policy' | 'system';
  id: string;
  name: string;
  email?: string;
  system?: string;
  aliases?: string[];
}

export function subjectKey(subject: Subject): string {
  return `${subject.type}:${subject.id}`;
}

export interface CheckOutcome {
  subject: Subject;
  status: ResultStatus;
  /** One sentence a person can act on. */
  detail: string;
  /** The facts behind the judgement (event ids, observation times, values) — invariant 6. */
  facts?: Record<string, unknown>;
  /**
   * When the deviation began (e.g. the deprovisioning deadline passed, the grant happened); a
   * finding's deadline counts from here. Defaults to the evaluation time.
   */
  since?: Date;
}

export interface CheckTriggers {
  /** OCSF / Assay event classes whose arrival re-evaluates the check. */
  eventClasses?: number[];
  /** Fact tables whose change re-evaluates it. */
  facts?: ('people' | 'identities' | 'observations' | 'entitlements' | 'identity_settings' | 'registers')[];
  /** Re-evaluated on this schedule too (time alone can make it fail: ages, deadlines). */
  schedule?: 'hourly' | 'daily';
}

export interface CheckDefinition<
  S extends Record<string, number | boolean | string> = Record<string, number | boolean | string>,
> {
  id: string;
  title: string;
  description: string;
  severity: Severity;
  criteria: string[];
  /**
   * Control templates this check serves beyond those whose catalog entry lists it (templates name
   * the checks planned when the catalog was published; later checks declare their controls here).
   */
  controls?: string[];
  triggers: CheckTriggers;
  /**
   * `identity` when the check judges each account by that account's own facts alone (its events,
   * snapshots, entitlements and person); `person` when it judges each person by the facts of
   * their own accounts. A change confined to a few accounts then re-evaluates just those accounts
   * (and their people), which keeps event-to-finding latency flat as the workspace grows.
   */
  scope?: 'identity' | 'person';
  /** Tunable settings and their defaults (per-workspace overrides in check_settings). */
  defaults: S;
  /** Hours a failure may last before it opens a finding ("at risk" meanwhile); 0 = at once. */
  graceHours: number;
  /** Days the owner has to fix a finding. */
  remediationDays: number;
  evaluate(facts: Facts, settings: S): Promise<CheckOutcome[]>;
}

export function defineCheck<S extends Record<string, number | boolean | string>>(
  definition: CheckDefinition<S>,
) {
  return definition as unknown as CheckDefinition;
}
