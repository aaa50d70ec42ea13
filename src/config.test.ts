import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { loadConfig } from './config.ts';

test('a worker runs as many jobs at once as the machine has cores (2 to 8) unless told otherwise', () => {
  const byDefault = loadConfig({}, {}).workerConcurrency;
  assert.ok(byDefault >= 2 && byDefault <= 8, `default ${byDefault}`);
  assert.ok(byDefault <= Math.max(2, availableParallelism()));
  assert.equal(loadConfig({}, { ASSAY_WORKER_CONCURRENCY: '12' }).workerConcurrency, 12);
  assert.throws(() => loadConfig({}, { ASSAY_WORKER_CONCURRENCY: '0' }), /ASSAY_WORKER_CONCURRENCY/);
});
