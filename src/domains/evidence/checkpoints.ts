/**
 * Signed checkpoints of a workspace's ledger: on demand, and every
 * `config.checkpointIntervalSeconds` for ledgers that grew (the scheduler calls
 * `checkpointDueWorkspaces` then `createCheckpoint` for each).
 */
import { sql } from 'kysely';
import type { Database, Trx } from '../../db/database.ts';
import { checkpointBody, signCheckpoint } from './core/checkpoint.ts';
import { MerkleTreeBuilder } from './core/merkle.ts';
import {
  type CheckpointRow,
  insertCheckpointRow,
  latestCheckpointRow,
  lockLedgerHead,
} from './evidence.repository.ts';
import { currentSigningKey } from './ledger-keys.ts';

export interface Checkpoint {
  treeSize: number;
  /** Hex Merkle root of the first treeSize leaves. */
  rootHash: string;
  issuedAt: string;
  keyId: string;
  /** The exact signed text (checkpoint.txt in the verification recipe). */
  body: string;
  /** Base64 Ed25519 signature over body (checkpoint.sig). */
  signature: string;
}

export function presentCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    issuedAt: new Date(row.issued_at).toISOString(),
    keyId: row.key_id,
    body: row.body,
    signature: row.signature,
  };
}

/**
 * Signs the ledger's current state within `trx`. If the latest checkpoint already covers the
 * whole tree, that one is returned (`created: false`): one checkpoint per tree size is enough.
 */
export async function createCheckpointIn(
  trx: Trx,
  workspaceId: string,
  now: Date = new Date(),
): Promise<{ checkpoint: Checkpoint; created: boolean }> {
  // The head lock orders this checkpoint with appends and key rotations.
  const head = await lockLedgerHead(trx, workspaceId);
  const latest = await latestCheckpointRow(trx, workspaceId);
  if (latest && Number(latest.tree_size) === head.treeSize) {
    return { checkpoint: presentCheckpoint(latest), created: false };
  }
  // Issue times never go backwards, even across processes with skewed clocks: a verifier
  // checks each checkpoint against its key's lifetime and against the one before it.
  let issued = now.getTime();
  if (latest) issued = Math.max(issued, new Date(latest.issued_at).getTime());
  const key = await currentSigningKey(trx, workspaceId, new Date(issued));
  issued = Math.max(issued, Date.parse(key.createdAt));
  const issuedAt = new Date(issued).toISOString();
  const rootHash = MerkleTreeBuilder.fromFrontier({ size: head.treeSize, hashes: head.frontier })
    .root()
    .toString('hex');
  const body = checkpointBody({ workspaceId, treeSize: head.treeSize, rootHash, issuedAt, keyId: key.keyId });
  const row: CheckpointRow = {
    tree_size: head.treeSize,
    root_hash: rootHash,
    issued_at: new Date(issued),
    key_id: key.keyId,
    body,
    signature: signCheckpoint(body, key.privateKeyPem),
  };
  await insertCheckpointRow(trx, workspaceId, row);
  return { checkpoint: presentCheckpoint(row), created: true };
}

/** Checkpoints the workspace's ledger now (on demand, or for the scheduler). */
export async function createCheckpoint(
  database: Database,
  workspaceId: string,
  now: Date = new Date(),
): Promise<{ checkpoint: Checkpoint; created: boolean }> {
  return database.inWorkspace(workspaceId, (trx) => createCheckpointIn(trx, workspaceId, now));
}

/**
 * Workspaces whose ledger grew since its latest checkpoint and whose latest checkpoint (if any)
 * is at least `intervalSeconds` old. Runs with platform privileges: it reads every workspace.
 */
export async function checkpointDueWorkspaces(
  database: Database,
  options: { intervalSeconds: number; now?: Date },
): Promise<string[]> {
  const now = options.now ?? new Date();
  const threshold = new Date(now.getTime() - options.intervalSeconds * 1000);
  const { rows } = await sql<{ workspace_id: string }>`
    select h.workspace_id
    from evidence_ledger_heads h
    left join lateral (
      select c.tree_size, c.issued_at from evidence_checkpoints c
      where c.workspace_id = h.workspace_id order by c.tree_size desc limit 1
    ) last on true
    where h.tree_size > coalesce(last.tree_size, 0)
      and (last.issued_at is null or last.issued_at <= ${threshold})
    order by h.workspace_id`.execute(database.db);
  return rows.map((r) => r.workspace_id);
}

/** One scheduler tick: checkpoints every due workspace; returns what it signed. */
export async function runDueCheckpoints(
  database: Database,
  options: { intervalSeconds: number; now?: Date },
): Promise<{ workspaceId: string; checkpoint: Checkpoint }[]> {
  const done: { workspaceId: string; checkpoint: Checkpoint }[] = [];
  for (const workspaceId of await checkpointDueWorkspaces(database, options)) {
    const { checkpoint, created } = await createCheckpoint(database, workspaceId, options.now);
    if (created) done.push({ workspaceId, checkpoint });
  }
  return done;
}
