/**
 * The SOC 2 catalog: Trust Services Criteria, framework crosswalks and control templates.
 * The data lives in `catalog/<version>/` as JSON; these types describe it once loaded and
 * validated. A loaded catalog is cached and shared, so it is frozen: copy before changing anything.
 */

export const trustServicesCategories = [
  'security',
  'availability',
  'confidentiality',
  'processing_integrity',
  'privacy',
] as const;

export type TrustServicesCategory = (typeof trustServicesCategories)[number];

export const controlFrequencies = [
  'continuous',
  'event_driven',
  'daily',
  'weekly',
  'monthly',
  'quarterly',
  'annual',
] as const;

export type ControlFrequency = (typeof controlFrequencies)[number];

export const controlOwnerRoles = [
  'security_lead',
  'it_admin',
  'engineering_lead',
  'hr_lead',
  'compliance_manager',
  'executive',
  'privacy_officer',
  'operations_lead',
  'legal',
] as const;

export type ControlOwnerRole = (typeof controlOwnerRoles)[number];

export const automationModes = ['automated', 'hybrid', 'manual'] as const;

export type AutomationMode = (typeof automationModes)[number];

/** One Trust Services Criterion, e.g. CC6.1. Title and description are our own paraphrase. */
export interface Criterion {
  readonly id: string;
  readonly category: TrustServicesCategory;
  /** The criterion's series, e.g. "CC6" or "P6". */
  readonly series: string;
  readonly seriesTitle: string;
  readonly title: string;
  readonly description: string;
}

export interface ControlAutomation {
  readonly mode: AutomationMode;
  /** Ids of the checks that automate the control, e.g. "identity.mfa_enabled" (may be planned). */
  readonly checks: string[];
  readonly note: string;
}

/** A reusable control a workspace adopts; its id stays stable across catalog versions. */
export interface ControlTemplate {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly frequency: ControlFrequency;
  readonly ownerRole: ControlOwnerRole;
  /** Criterion ids the control helps satisfy. */
  readonly criteria: string[];
  /** What each operation of the control must leave behind as evidence. */
  readonly evidence: string[];
  readonly automation: ControlAutomation;
}

export interface FrameworkEntry {
  readonly id: string;
  readonly title: string;
}

/** Assay's own mapping from criteria to another framework's ids (not an official crosswalk). */
export interface FrameworkCrosswalk {
  /** Key of the framework, equal to its file name, e.g. "nist-csf-2.0". */
  readonly framework: string;
  readonly name: string;
  readonly version: string;
  readonly note: string;
  readonly ids: FrameworkEntry[];
  /** Criterion id → framework ids. */
  readonly mappings: Record<string, string[]>;
}

export interface Catalog {
  readonly version: string;
  /** In official order. */
  readonly criteria: Criterion[];
  readonly templates: ControlTemplate[];
  /** Keyed by framework key, e.g. "nist-csf-2.0", "iso27001-2022". */
  readonly frameworks: Record<string, FrameworkCrosswalk>;
}
