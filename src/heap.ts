/**
 * How far V8 lets its heap grow between full collections. By default it may grow to several times
 * what is live, which suits short bursts; Assay's long runs (a 1 GB import, an export, the worker)
 * keep little alive but churn through a great deal, and the heap would sit at three times its
 * live size in garbage. Growing by at most half the live size between full collections keeps a
 * process's memory close to what it holds (a 64 MB import: 490 MB peak resident → about 380 MB),
 * for somewhat more collection work. Set once, at the start of every Assay process.
 */
import { setFlagsFromString } from 'node:v8';

export const heapGrowingPercent = 50;

export function moderateHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent}`);
}
