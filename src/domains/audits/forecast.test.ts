import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  defaultConvention,
  probabilityAnyDeviation,
  probabilityOfDetectingDeviation,
  sampleSize,
} from './forecast.ts';

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);

test('hypergeometric probabilities match hand-computed values', () => {
  // 4 quarterly reviews, 1 missed, sample 2: 1 − C(3,2)/C(4,2) = 1 − 3/6.
  close(probabilityOfDetectingDeviation(4, 1, 2), 0.5);
  // 12 monthly, 2 late, sample 5: 1 − C(10,5)/C(12,5) = 1 − 252/792.
  close(probabilityOfDetectingDeviation(12, 2, 5), 1 - 252 / 792);
  // 365 days, 3 missing, sample 40: 1 − Π_{i<40} (362−i)/(365−i) = 1 − (325·324·323)/(365·364·363).
  close(probabilityOfDetectingDeviation(365, 3, 40), 1 - (325 * 324 * 323) / (365 * 364 * 363));
  close(probabilityOfDetectingDeviation(10, 0, 5), 0);
  close(probabilityOfDetectingDeviation(10, 6, 5), 1); // more deviations than clean items left
  close(probabilityOfDetectingDeviation(10, 3, 0), 0);
});

test('probabilities are monotone and bounded', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 400 }),
      fc.integer({ min: 0, max: 400 }),
      fc.integer({ min: 0, max: 60 }),
      (N, K, n) => {
        const p = probabilityOfDetectingDeviation(N, K, n);
        assert.ok(p >= 0 && p <= 1);
        assert.ok(probabilityOfDetectingDeviation(N, K + 1, n) >= p - 1e-12);
        assert.ok(probabilityOfDetectingDeviation(N, K, n + 1) >= p - 1e-12);
      },
    ),
  );
});

test('sample sizes follow the convention and never exceed the population', () => {
  assert.equal(sampleSize('annual', 1), 1);
  assert.equal(sampleSize('quarterly', 4), 2);
  assert.equal(sampleSize('monthly', 12), 5);
  assert.equal(sampleSize('monthly', 12, { ...defaultConvention, point: 'min' }), 2);
  assert.equal(sampleSize('daily', 365), 40);
  assert.equal(sampleSize('continuous', 365), 60);
  assert.equal(sampleSize('event_driven', 3), 2);
  assert.equal(sampleSize('event_driven', 30), 15);
  assert.equal(sampleSize('event_driven', 1000), 60);
  assert.equal(sampleSize('weekly', 3), 3);
  assert.equal(sampleSize('event_driven', 0), 0);
});

test('independent controls combine', () => {
  close(probabilityAnyDeviation([0.5, 0.5]), 0.75);
  close(probabilityAnyDeviation([]), 0);
});
