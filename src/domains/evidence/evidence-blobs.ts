/**
 * Evidence files (screenshots, exports, reports) live in the content-addressed blob store under
 * `config.blobDir`, streamed in and deduplicated by SHA-256 across the installation. Each
 * workspace registers the blobs it uploaded; evidence may reference only those, so knowing a
 * hash is never enough to reach another workspace's file.
 */
import type { Readable } from 'node:stream';
import type { Config } from '../../config.ts';
import type { Trx } from '../../db/database.ts';
import { FileBlobStore, type PutResult } from './core/blob-store.ts';
import { registerBlob } from './evidence.repository.ts';

const stores = new Map<string, FileBlobStore>();

/** The installation's evidence blob store (`config.blobDir`, by default `<dataDir>/blobs`). */
export function evidenceBlobStore(config: Pick<Config, 'blobDir'>): FileBlobStore {
  let store = stores.get(config.blobDir);
  if (!store) {
    store = new FileBlobStore(config.blobDir);
    stores.set(config.blobDir, store);
  }
  return store;
}

/**
 * Streams a file into the blob store (durable once this resolves), then registers it for the
 * workspace within `trx`. Pass `expectedSha256` to refuse content that does not hash to it
 * (`blob_hash_mismatch`, nothing kept). Reference the returned sha256 in `EvidenceInput.blob`.
 */
export async function storeEvidenceBlob(
  store: FileBlobStore,
  trx: Trx,
  workspaceId: string,
  source: Readable | AsyncIterable<Uint8Array | string>,
  options: { expectedSha256?: string | undefined } = {},
): Promise<PutResult> {
  const result = await store.put(
    source,
    options.expectedSha256 === undefined ? {} : { expectedSha256: options.expectedSha256 },
  );
  await registerBlob(trx, workspaceId, result.sha256, result.size);
  return result;
}

/**
 * Registers an already stored blob (`store.put` result) for the workspace. Streaming first and
 * registering in a short transaction afterwards keeps a large upload from holding a transaction
 * (and, on the embedded database, the only connection) open.
 */
export async function registerEvidenceBlob(trx: Trx, workspaceId: string, blob: PutResult): Promise<void> {
  await registerBlob(trx, workspaceId, blob.sha256, blob.size);
}
