/**
 * The one function through which every change and every sign-in (success or failure) is
 * recorded, attributed to a person, an API token, the CLI operator or the system. It writes the
 * audit trail in the caller's transaction, so the record commits with the change or not at all;
 * the evidence ledger will append here too.
 */
import type { Kysely } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { DB } from '../../db/schema.ts';
import { type AuditEntry, insertAuditEntry } from './audit.repository.ts';

export type { AuditEntry } from './audit.repository.ts';

export async function recordAudit(executor: Trx | Kysely<DB>, entry: AuditEntry): Promise<void> {
  await insertAuditEntry(executor, entry);
}
