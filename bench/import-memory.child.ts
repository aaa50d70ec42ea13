/**
 * The large import of the bulk import benchmark, in a process of its own so that its peak
 * resident set size is the import's alone: `node --import tsx import-memory.child.ts
 * (--data DIR | --database-url URL) FILE`. Prints `{seconds, maxRssBytes, eventsStored}`.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { systemActor } from '../src/domains/audit/actor.ts';
import { importFile } from '../src/domains/ingest/import.service.ts';
import { createWorkspace } from '../src/domains/workspaces/workspaces.service.ts';
import { moderateHeapGrowth } from '../src/heap.ts';

// Memory as the product's processes run (bin/assay.js does the same).
moderateHeapGrowth();

const [flag, target, file] = process.argv.slice(2);
if ((flag !== '--data' && flag !== '--database-url') || !target || !file) {
  throw new Error('usage: import-memory.child.ts (--data DIR | --database-url URL) FILE');
}
const config = loadConfig(flag === '--data' ? { dataDir: target } : { databaseUrl: target });
const database = await openDatabase(config);
try {
  await migrate(database);
  await createWorkspace(database, systemActor, { slug: 'memory' });
  const started = performance.now();
  const summary = await importFile(
    database,
    systemActor,
    'memory',
    'okta-system-log',
    createReadStream(file),
    {
      fileName: basename(file),
    },
  );
  const seconds = (performance.now() - started) / 1000;
  // ru_maxrss: the operating system's peak resident set size of this process, in kilobytes.
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify({ seconds, maxRssBytes, eventsStored: summary.eventsStored })}\n`);
} finally {
  await database.close();
}
