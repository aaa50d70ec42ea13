import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isAssayError } from '../../../errors.ts';
import { FileBlobStore } from './blob-store.ts';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every file under a directory, relative paths. */
function filesUnder(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

function isCode(code: string) {
  return (err: unknown) => isAssayError(err) && err.code === code;
}

describe('FileBlobStore', () => {
  let root: string;
  let store: FileBlobStore;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'assay-blobs-'));
    store = new FileBlobStore(root);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores content under its SHA-256 and reads it back', async () => {
    const content = 'access review export, Q2\n';
    const result = await store.put(Readable.from([Buffer.from(content)]));
    assert.deepEqual(result, { sha256: sha(content), size: Buffer.byteLength(content), created: true });
    const expectedPath = join(root, result.sha256.slice(0, 2), result.sha256.slice(2, 4), result.sha256);
    assert.equal(store.pathFor(result.sha256), expectedPath);
    assert.equal(await readFile(expectedPath, 'utf8'), content);
    assert.equal(await store.has(result.sha256), true);
    assert.equal((await store.stat(result.sha256)).size, Buffer.byteLength(content));
    assert.equal((await readAll(store.open(result.sha256))).toString(), content);
    assert.equal(await store.verify(result.sha256), true);
    assert.deepEqual(filesUnder(join(root, '.tmp')), [], 'no temp files left');
  });

  it('accepts async iterables of strings and empty content', async () => {
    async function* parts() {
      yield 'é';
      yield Buffer.from('-');
      yield 'ü';
    }
    const result = await store.put(parts());
    assert.equal(result.sha256, sha('é-ü'));
    assert.equal(result.size, Buffer.byteLength('é-ü'));
    const empty = await store.put(Readable.from([]));
    assert.deepEqual(empty, { sha256: sha(''), size: 0, created: true });
  });

  it('stores identical content once', async () => {
    const first = await store.put(Readable.from([Buffer.from('same bytes')]));
    const second = await store.put(Readable.from([Buffer.from('same '), Buffer.from('bytes')]));
    assert.equal(first.created, true);
    assert.deepEqual(second, { ...first, created: false });
    const dir = join(root, first.sha256.slice(0, 2), first.sha256.slice(2, 4));
    assert.deepEqual(readdirSync(dir), [first.sha256]);
    assert.deepEqual(filesUnder(join(root, '.tmp')), []);
  });

  it('reports exactly one creation for concurrent uploads of the same content', async () => {
    const content = Buffer.from('concurrent evidence');
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        store.put(Readable.from([content.subarray(0, 5), content.subarray(5)])),
      ),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.ok(results.every((r) => r.sha256 === sha(content)));
    assert.deepEqual(filesUnder(join(root, '.tmp')), []);
  });

  it('detects tampering with verify', async () => {
    const { sha256 } = await store.put(Readable.from([Buffer.from('original evidence payload')]));
    const path = store.pathFor(sha256);
    await writeFile(path, 'original evidence paylo4d');
    assert.equal(await store.verify(sha256), false);
    await truncate(path, 3);
    assert.equal(await store.verify(sha256), false);
  });

  it('rejects an upload whose hash differs from the expected one and keeps nothing', async () => {
    const content = 'uploaded bytes';
    const wrong = sha('something else');
    const before = filesUnder(root);
    await assert.rejects(
      store.put(Readable.from([Buffer.from(content)]), { expectedSha256: wrong }),
      (err: unknown) => {
        assert.ok(isAssayError(err));
        assert.equal(err.code, 'blob_hash_mismatch');
        assert.equal(err.details?.['actualSha256'], sha(content));
        return true;
      },
    );
    assert.deepEqual(filesUnder(root), before);
    assert.equal(await store.has(sha(content)), false);
    const ok = await store.put(Readable.from([Buffer.from(content)]), { expectedSha256: sha(content) });
    assert.equal(ok.created, true);
    await assert.rejects(
      store.put(Readable.from([]), { expectedSha256: 'ABC' }),
      isCode('validation_failed'),
    );
  });

  it('leaves nothing behind when the source stream fails', async () => {
    const before = filesUnder(root);
    async function* failing() {
      yield Buffer.from('partial ');
      throw new Error('connection reset');
    }
    await assert.rejects(store.put(failing()), /connection reset/);
    assert.deepEqual(filesUnder(root), before);
  });

  it('reports missing blobs and refuses malformed hashes', async () => {
    const missing = sha('never stored');
    assert.equal(await store.has(missing), false);
    assert.throws(() => store.open(missing), isCode('blob_not_found'));
    await assert.rejects(store.stat(missing), isCode('blob_not_found'));
    await assert.rejects(store.verify(missing), isCode('blob_not_found'));
    assert.equal(await store.delete(missing), false);
    for (const bad of ['../../etc/passwd', missing.toUpperCase(), missing.slice(1), '']) {
      assert.throws(() => store.open(bad), isCode('validation_failed'), bad);
      await assert.rejects(store.has(bad), isCode('validation_failed'), bad);
    }
  });

  it('deletes blobs', async () => {
    const { sha256 } = await store.put(Readable.from([Buffer.from('to be erased')]));
    assert.equal(await store.delete(sha256), true);
    assert.equal(await store.has(sha256), false);
    assert.throws(() => store.open(sha256), isCode('blob_not_found'));
    const again = await store.put(Readable.from([Buffer.from('to be erased')]));
    assert.equal(again.created, true);
  });

  it('streams a 100 MB upload without holding it in memory', async () => {
    // Measure retained memory (not time): force full collections so only live data counts.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const live = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const chunkSize = 64 * 1024;
    const chunks = 1600; // 100 MiB
    const expected = createHash('sha256');
    const baseline = live();
    let growthNearEnd = Number.NaN;
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced === chunks) {
          this.push(null);
          return;
        }
        const chunk = Buffer.alloc(chunkSize, produced % 251);
        chunk.writeUInt32BE(produced, 0);
        expected.update(chunk);
        produced++;
        // Near the end a buffering implementation would hold ~95 MB; a streaming one a few chunks.
        if (produced === chunks - 10) growthNearEnd = live() - baseline;
        this.push(chunk);
      },
    });
    const result = await store.put(source);
    const growthAfter = live() - baseline;
    assert.equal(result.size, chunkSize * chunks);
    assert.equal(result.sha256, expected.digest('hex'));
    assert.ok(
      growthNearEnd < 50 * 1024 * 1024,
      `live memory grew by ${growthNearEnd} bytes during the upload`,
    );
    assert.ok(growthAfter < 50 * 1024 * 1024, `live memory grew by ${growthAfter} bytes after the upload`);
    assert.equal(await store.verify(result.sha256), true);
    await store.delete(result.sha256);
  });
});
