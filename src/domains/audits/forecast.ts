/**
 * What an auditor's sample would likely find. Sample sizes follow the practitioner convention for
 * tests of controls (not an AICPA rule; configurable), and the chance that a random sample drawn
 * without replacement contains at least one deviation is hypergeometric.
 */

export type ControlFrequency =
  | 'annual'
  | 'quarterly'
  | 'monthly'
  | 'weekly'
  | 'daily'
  | 'continuous'
  | 'event_driven';

export interface SampleSizeRange {
  min: number;
  max: number;
}

/** Sample sizes by frequency of operation. Continuous controls operate "many times a day". */
export const defaultSampleSizes: Record<Exclude<ControlFrequency, 'event_driven'>, SampleSizeRange> = {
  annual: { min: 1, max: 1 },
  quarterly: { min: 2, max: 2 },
  monthly: { min: 2, max: 5 },
  weekly: { min: 5, max: 15 },
  daily: { min: 20, max: 40 },
  continuous: { min: 25, max: 60 },
};

/** Event-driven populations (terminations, changes, hires…) by population size: [up to N, range]. */
export const defaultPopulationSampleSizes: [number, SampleSizeRange][] = [
  [1, { min: 1, max: 1 }],
  [4, { min: 2, max: 2 }],
  [12, { min: 2, max: 5 }],
  [52, { min: 5, max: 15 }],
  [365, { min: 20, max: 40 }],
  [Number.POSITIVE_INFINITY, { min: 25, max: 60 }],
];

export type SamplePoint = 'min' | 'max';

export interface SampleConvention {
  byFrequency: typeof defaultSampleSizes;
  byPopulation: typeof defaultPopulationSampleSizes;
  /** Which end of each range to forecast with; `max` is the conservative choice. */
  point: SamplePoint;
}

export const defaultConvention: SampleConvention = {
  byFrequency: defaultSampleSizes,
  byPopulation: defaultPopulationSampleSizes,
  point: 'max',
};

/** The sample an auditor would likely test: never more than the population. */
export function sampleSize(
  frequency: ControlFrequency,
  populationSize: number,
  convention: SampleConvention = defaultConvention,
): number {
  if (populationSize <= 0) return 0;
  let range: SampleSizeRange;
  if (frequency === 'event_driven') {
    range = convention.byPopulation.find(([upTo]) => populationSize <= upTo)?.[1] ?? { min: 25, max: 60 };
  } else {
    range = convention.byFrequency[frequency];
  }
  return Math.min(populationSize, range[convention.point]);
}

/**
 * P(a random sample of n from a population of N with K deviations contains at least one).
 * 1 − C(N−K, n) / C(N, n), computed as a running product to stay exact for large N.
 */
export function probabilityOfDetectingDeviation(
  populationSize: number,
  deviations: number,
  sample: number,
): number {
  const N = populationSize;
  const K = Math.max(0, Math.min(deviations, N));
  const n = Math.max(0, Math.min(sample, N));
  if (K === 0 || n === 0) return 0;
  if (n > N - K) return 1;
  let none = 1;
  for (let i = 0; i < n; i++) none *= (N - K - i) / (N - i);
  return 1 - none;
}

/** Combines independent per-control probabilities: P(at least one control's sample finds a deviation). */
export function probabilityAnyDeviation(probabilities: number[]): number {
  return 1 - probabilities.reduce((acc, p) => acc * (1 - p), 1);
}
