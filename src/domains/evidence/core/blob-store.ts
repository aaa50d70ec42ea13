/**
 * Content-addressed storage for evidence payloads (screenshots, exports, raw files).
 *
 * A blob's name is the lowercase hex SHA-256 of its bytes, so the ledger can reference it by
 * hash and anyone can re-check it with `sha256sum`. `FileBlobStore` lays blobs out as
 * `<root>/<aa>/<bb>/<sha256>` (first two byte pairs of the hash) to keep directories small.
 *
 * Writes are crash-safe and never buffer a whole upload: bytes stream into a temporary file
 * under `<root>/.tmp` (same filesystem, so the final move is atomic) while being hashed; the
 * file is fsynced, then hard-linked into place, and the directory fsynced. Once `put` resolves
 * the blob survives a crash. Identical content is stored once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, openSync } from 'node:fs';
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AssayError } from '../../../errors.ts';

export interface PutOptions {
  /** If given, the upload is rejected (and nothing kept) unless its SHA-256 matches. */
  expectedSha256?: string;
}

export interface PutResult {
  sha256: string;
  size: number;
  /** False when identical content was already stored. */
  created: boolean;
}

export interface BlobStat {
  sha256: string;
  size: number;
  storedAt: Date;
}

export interface BlobStore {
  put(stream: Readable | AsyncIterable<Uint8Array | string>, opts?: PutOptions): Promise<PutResult>;
  has(sha256: string): Promise<boolean>;
  /** A stream of the blob's bytes; throws `blob_not_found` at once if it does not exist. */
  open(sha256: string): Readable;
  /** Throws `blob_not_found` if it does not exist. */
  stat(sha256: string): Promise<BlobStat>;
  /** Removes the blob (privacy erasure, retention); true if something was removed. */
  delete(sha256: string): Promise<boolean>;
  /** Re-hashes the stored bytes: false means the blob was altered. Throws `blob_not_found`. */
  verify(sha256: string): Promise<boolean>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function checkHash(sha256: unknown, what = 'sha256'): string {
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
    throw new AssayError('validation_failed', `${what} must be 64 lowercase hex characters`, { field: what });
  }
  return sha256;
}

function notFound(sha256: string): AssayError {
  return new AssayError('blob_not_found', `No blob with SHA-256 ${sha256}`, { sha256 });
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}

/** fsync a directory so a rename/link into it survives a crash (a no-op where unsupported). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!isErrno(err, 'EISDIR', 'EPERM', 'EINVAL', 'EBADF')) throw err;
  } finally {
    await handle?.close();
  }
}

export class FileBlobStore implements BlobStore {
  readonly rootDir: string;
  readonly #tmpDir: string;

  constructor(rootDir: string) {
    this.rootDir = rootDir;
    this.#tmpDir = join(rootDir, '.tmp');
  }

  /** Where a blob lives: `<root>/<aa>/<bb>/<sha256>`. */
  pathFor(sha256: string): string {
    checkHash(sha256);
    return join(this.rootDir, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(
    source: Readable | AsyncIterable<Uint8Array | string>,
    opts: PutOptions = {},
  ): Promise<PutResult> {
    const expected =
      opts.expectedSha256 === undefined ? undefined : checkHash(opts.expectedSha256, 'expectedSha256');
    await mkdir(this.#tmpDir, { recursive: true });
    const tmpPath = join(this.#tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
    const file = await open(tmpPath, 'wx', 0o644);
    try {
      const hash = createHash('sha256');
      let size = 0;
      try {
        // One chunk in flight at a time: memory stays flat whatever the upload size.
        for await (const chunk of source) {
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
          hash.update(bytes);
          size += bytes.length;
          let offset = 0;
          while (offset < bytes.length) {
            const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset);
            offset += bytesWritten;
          }
        }
        await file.sync();
      } finally {
        await file.close();
      }
      const sha256 = hash.digest('hex');
      if (expected !== undefined && sha256 !== expected) {
        throw new AssayError(
          'blob_hash_mismatch',
          `Uploaded content has SHA-256 ${sha256}, expected ${expected}; nothing was stored`,
          { expectedSha256: expected, actualSha256: sha256, size },
        );
      }
      const finalPath = this.pathFor(sha256);
      const outer = join(this.rootDir, sha256.slice(0, 2));
      const dir = join(outer, sha256.slice(2, 4));
      if ((await mkdir(dir, { recursive: true })) !== undefined) {
        // New fan-out directories must be durable too, or the blob's path could vanish.
        await syncDirectory(this.rootDir);
        await syncDirectory(outer);
      }
      const created = await this.#place(tmpPath, finalPath, size);
      if (created) await syncDirectory(dir);
      return { sha256, size, created };
    } finally {
      // After a link the blob lives on under its final name; after a rename this is a no-op.
      await unlink(tmpPath).catch(() => undefined);
    }
  }

  /**
   * Moves the finished temp file into place; false if identical content was already there.
   * `link` fails atomically with EEXIST, so concurrent uploads of the same content agree on
   * exactly one `created: true`. A stored file of the wrong size (damaged) is replaced.
   */
  async #place(tmpPath: string, finalPath: string, size: number): Promise<boolean> {
    try {
      await link(tmpPath, finalPath);
      return true;
    } catch (err) {
      if (isErrno(err, 'EEXIST')) {
        const existing = await stat(finalPath);
        if (existing.size === size) return false;
        await rename(tmpPath, finalPath);
        return true;
      }
      // Filesystems without hard links: rename (replaces any existing copy with identical bytes).
      if (isErrno(err, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV')) {
        const existed = await stat(finalPath).then(
          (s) => s.size === size,
          () => false,
        );
        if (existed) return false;
        await rename(tmpPath, finalPath);
        return true;
      }
      throw err;
    }
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathFor(sha256))).isFile();
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false;
      throw err;
    }
  }

  open(sha256: string): Readable {
    const path = this.pathFor(sha256);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw notFound(sha256);
      throw err;
    }
    return createReadStream('', { fd, autoClose: true });
  }

  async stat(sha256: string): Promise<BlobStat> {
    try {
      const info = await stat(this.pathFor(sha256));
      return { sha256, size: info.size, storedAt: info.mtime };
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw notFound(sha256);
      throw err;
    }
  }

  async delete(sha256: string): Promise<boolean> {
    try {
      await unlink(this.pathFor(sha256));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false;
      throw err;
    }
  }

  async verify(sha256: string): Promise<boolean> {
    const hash = createHash('sha256');
    for await (const chunk of this.open(sha256)) hash.update(chunk as Buffer);
    return hash.digest('hex') === sha256;
  }
}
