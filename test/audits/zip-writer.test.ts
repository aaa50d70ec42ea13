import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PackageZipWriter } from '../../src/domains/audits/package/zip-writer.ts';
import { readZip } from './zip-files.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A sink that counts bytes and keeps none of them. */
function discard(): Writable & { written: number } {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      sink.written += chunk.length;
      callback();
    },
  }) as Writable & { written: number };
  sink.written = 0;
  return sink;
}

test('the zip writer keeps no entry data once an entry is written', async () => {
  const writer = await new PackageZipWriter(discard()).open();
  const released: WeakRef<Buffer>[] = [];
  // The data is made and handed over in functions of their own, so that only the writer could
  // still refer to it afterwards.
  const addOne = async (i: number) => {
    // Both kinds of entry: stored (small) and deflated (large).
    const data = Buffer.alloc(i % 2 === 0 ? 1000 : 64 * 1024, i);
    released.push(new WeakRef(data));
    await writer.addBuffer(`controls/C/evidence/${i}.json`, data);
  };
  const addBlob = async () => {
    const chunks = [Buffer.alloc(100_000, 7), Buffer.alloc(100_000, 8)];
    for (const chunk of chunks) released.push(new WeakRef(chunk));
    await writer.addStream('blobs/one', Readable.from(chunks));
  };
  for (let i = 0; i < 50; i++) await addOne(i);
  await addBlob();
  await writer.settle();
  await writer.addBuffer('last.json', '{}');
  assert.equal(writer.retainedEntries, 0);
  // Let the stream machinery's last ticks run, then collect: no written buffer may survive.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const alive = released.flatMap((ref, i) => (ref.deref() === undefined ? [] : [i]));
  assert.deepEqual(alive, [], `entries ${alive.join(', ')} are still held in memory`);
  assert.equal(writer.fileCount, 52);
  await writer.finish('manifest.json', '{"files": [', '\n]}\n');
});

test('a package of more than 65,535 entries is a ZIP64 zip that readers open, with every byte in place', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-zip-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'big.zip');
  const out = createWriteStream(path);
  const writer = await new PackageZipWriter(out).open();
  const entries = 70_000;
  for (let i = 0; i < entries; i++) await writer.addBuffer(`e/${i}.json`, `{"n":${i}}\n`);
  const large = Buffer.from('é'.repeat(40_000));
  await writer.addBuffer('large.txt', large);
  // A stream written into after it was added, as the spreadsheet is.
  const later = new PassThrough();
  await writer.addStream('later.txt', later);
  later.end('written after the entry started\n');
  await writer.settle();
  const listing = writer.listingDigest();
  const manifest = await writer.finish('manifest.json', '{"files": [', '\n]}\n');

  const files = await readZip(path);
  assert.equal(files.size, entries + 3);
  assert.equal(files.get('e/0.json')!.toString(), '{"n":0}\n');
  assert.equal(files.get(`e/${entries - 1}.json`)!.toString(), `{"n":${entries - 1}}\n`);
  assert.deepEqual(files.get('large.txt'), large);
  assert.equal(files.get('later.txt')!.toString(), 'written after the entry started\n');
  // The manifest lists every other file in order, with the hash the listing digest covers.
  const manifestBytes = files.get('manifest.json')!;
  assert.equal(sha256(manifestBytes), manifest.sha256);
  const listed = (JSON.parse(manifestBytes.toString()) as { files: { path: string; sha256: string }[] })
    .files;
  assert.equal(listed.length, entries + 2);
  assert.equal(listed.at(-1)!.path, 'later.txt');
  assert.equal(sha256(listed.map((f) => `${f.sha256}  ${f.path}\n`).join('')), listing);
  for (const f of [listed[0]!, listed.at(-2)!]) assert.equal(f.sha256, sha256(files.get(f.path)!));
  // The end of the file carries the ZIP64 end records (the entry count does not fit 16 bits).
  const tail = readFileSync(path).subarray(-22 - 20 - 56);
  assert.equal(tail.readUInt32LE(0), 0x06064b50);
  assert.equal(tail.readBigUInt64LE(24), BigInt(entries + 3));
});

test('the same content gives the same zip bytes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-zip-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = async (name: string) => {
    const path = join(dir, name);
    const writer = await new PackageZipWriter(createWriteStream(path)).open();
    await writer.addBuffer('a.json', '{"a":1}\n');
    await writer.addBuffer('b.txt', 'b'.repeat(20_000));
    await writer.addStream('c.bin', Readable.from([Buffer.from('stream')]));
    await writer.finish('manifest.json', '[', ']');
    return readFileSync(path);
  };
  const first = await write('1.zip');
  assert.deepEqual(await write('2.zip'), first);
  assert.equal((await readZip(join(dir, '1.zip'))).get('b.txt')!.toString(), 'b'.repeat(20_000));
});

test('an entry written twice is refused', async () => {
  const writer = await new PackageZipWriter(discard()).open();
  await writer.addBuffer('a.json', '{}');
  await assert.rejects(writer.addBuffer('a.json', '{}'), /written twice/);
  await writer.abort(new Error('stopped'));
});
