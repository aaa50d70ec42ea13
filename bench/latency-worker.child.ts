/**
 * The worker process of the latency benchmark on PostgreSQL: a worker role of its own beside the
 * process that imports (the API's role), as Assay is deployed at scale. `node --import tsx
 * latency-worker.child.ts URL CONCURRENCY POLL_MS LEASE_SECONDS`. Prints `ready` once it
 * listens for jobs; on SIGTERM it finishes the jobs in hand and exits.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { openSecretBox } from '../src/domains/secrets/secrets.ts';
import { moderateHeapGrowth } from '../src/heap.ts';
import { jobHandlers } from '../src/jobs/handlers.ts';
import { Worker } from '../src/jobs/worker.ts';

// Memory as the product's processes run (bin/assay.js does the same).
moderateHeapGrowth();

const [url, concurrency, pollMs, leaseSeconds] = process.argv.slice(2);
if (!url || !concurrency || !pollMs || !leaseSeconds) {
  throw new Error('usage: latency-worker.child.ts URL CONCURRENCY POLL_MS LEASE_SECONDS');
}
const config = loadConfig({ databaseUrl: url });
const database = await openDatabase(config);
const secrets = openSecretBox({ ...config, secretKey: randomBytes(32).toString('hex') });
const worker = new Worker(database, jobHandlers({ database, config, secrets }), {
  pollMs: Number(pollMs),
  concurrency: Number(concurrency),
  leaseSeconds: Number(leaseSeconds),
});
worker.start();
process.once('SIGTERM', () => {
  void (async () => {
    await worker.stop();
    await database.close();
    process.exit(0);
  })();
});
process.stdout.write('ready\n');
