/**
 * Shared set-up for the evidence ledger tests: a migrated database (PGlite or PostgreSQL, see
 * test/helpers/database.ts), a scoped workspace, and a blob directory of the test's own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import type { Actor } from '../../src/domains/audit/actor.ts';
import { FileBlobStore } from '../../src/domains/evidence/core/blob-store.ts';
import type { EvidenceInput } from '../../src/domains/evidence/envelope.ts';
import { appendEvidence, type EvidenceRecord } from '../../src/domains/evidence/evidence.service.ts';
import { setScope } from '../../src/domains/scope/scope.service.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

export const operator: Actor = { type: 'cli', id: 'ledger-test' };

export function tempDir(t: { after: (fn: () => void) => void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface LedgerFixture extends TestDatabase {
  workspaceId: string;
  slug: string;
  store: FileBlobStore;
  blobDir: string;
}

/** A fresh database with workspace `slug` scoped for security + availability. */
export async function ledgerFixture(t: TestContext, slug = 'acme'): Promise<LedgerFixture> {
  const testDb = await createTestDatabase(t);
  const workspaceId = await addWorkspace(testDb.database, slug);
  const blobDir = tempDir(t, 'assay-blobs-');
  return { ...testDb, workspaceId, slug, store: new FileBlobStore(blobDir), blobDir };
}

export async function addWorkspace(database: Database, slug: string): Promise<string> {
  const row = await createWorkspace(database, operator, { slug });
  await setScope(database, operator, slug, ['security', 'availability']);
  return row.id;
}

/** A realistic evidence item; `i` varies its subject, time and payload. */
export function sampleEvidence(i: number, overrides: Partial<EvidenceInput> = {}): EvidenceInput {
  const day = String((i % 28) + 1).padStart(2, '0');
  return {
    kind: 'access_review.decision',
    controls: ['AC-03'],
    criteria: ['CC6.2'],
    subject: { type: 'account', id: `okta:00u${i}`, name: `Person ${i} Müller` },
    effectiveAt: `2026-03-${day}T09:30:00Z`,
    collectedAt: `2026-03-${day}T10:00:00Z`,
    collector: { type: 'connector', id: 'okta' },
    ttlSeconds: 90 * 86_400,
    content: { decision: i % 3 === 0 ? 'revoke' : 'keep', reviewer: 'manager@acme.example', item: i },
    ...overrides,
  };
}

/** Appends `count` sample items in batches, each batch its own transaction. */
export async function appendSamples(
  fixture: { database: Database; workspaceId: string },
  count: number,
  options: { batch?: number; start?: number; make?: (i: number) => EvidenceInput } = {},
): Promise<EvidenceRecord[]> {
  const batch = options.batch ?? 5_000;
  const make = options.make ?? ((i: number) => sampleEvidence(i));
  const start = options.start ?? 0;
  const out: EvidenceRecord[] = [];
  for (let from = start; from < start + count; from += batch) {
    const inputs = Array.from({ length: Math.min(batch, start + count - from) }, (_, k) => make(from + k));
    out.push(
      ...(await fixture.database.inWorkspace(fixture.workspaceId, (trx) =>
        appendEvidence(trx, fixture.workspaceId, inputs),
      )),
    );
  }
  return out;
}

/**
 * Runs SQL as the table owner with the ledger's guard triggers bypassed: what someone with
 * direct database access would do to tamper with stored evidence.
 */
export async function tamper(database: Database, statement: ReturnType<typeof sql>): Promise<void> {
  await database.inSystem(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    await statement.execute(trx);
  });
}
