// Preloaded into every test process: property tests draw from one fixed seed so a run is
// reproducible and CI cannot fail by chance. Set ASSAY_PROPERTY_SEED to explore other inputs
// (a number, or "random" for a fresh seed each run; fast-check prints the seed on failure).
import fc from 'fast-check';

const requested = process.env.ASSAY_PROPERTY_SEED;
if (requested !== 'random') {
  const seed = requested === undefined ? 20261123 : Number(requested);
  if (!Number.isInteger(seed)) {
    throw new Error(`ASSAY_PROPERTY_SEED must be an integer or "random", got ${JSON.stringify(requested)}`);
  }
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
}
