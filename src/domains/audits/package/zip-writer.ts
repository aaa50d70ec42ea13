/**
 * Writes an auditor package as a zip, streaming with flat memory: entries go out one after
 * another straight into the output (the caller waits whenever the output is behind), and nothing
 * of an entry is kept once it is written. What a zip needs at its end — one central-directory
 * record per entry — and what the manifest needs — every entry's path, SHA-256 and size — are
 * spooled to temporary files as each entry finishes, and streamed back at the end. What stays in
 * memory per entry is its path (to refuse writing one twice).
 *
 * The format is plain PKZIP (APPNOTE 6.3): small entries are stored with their CRC and sizes in
 * the local header; larger buffers and streams are deflated. Stream entries carry a data
 * descriptor since their size is known only at the end; ZIP64 records are used when a package
 * has 65,535 entries or more, or an offset or size passes 4 GiB.
 *
 * Why not yazl (used for workspace exports): it holds each added buffer until the zip ends, and
 * it rescans its entry list from the start before every entry, so a 300,000-entry package (an
 * export of 100,000 evidence items) takes minutes in that scan alone. The fix is proposed
 * upstream (yazl pull request #91) but not released; until it is, this writer stays.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable, Transform, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';

/** Small files are stored, larger ones deflated: starting a deflate stream costs more than it saves on a few hundred bytes. */
const storeBelowBytes = 16 * 1024;
/** Spool writes are gathered into chunks of this size. */
const spoolChunkBytes = 64 * 1024;
/** A fixed timestamp: the same package content gives the same zip bytes. */
const mtime = new Date(Date.UTC(2020, 0, 1));
const dosTime = (mtime.getUTCHours() << 11) | (mtime.getUTCMinutes() << 5) | (mtime.getUTCSeconds() >> 1);
const dosDate =
  ((mtime.getUTCFullYear() - 1980) << 9) | ((mtime.getUTCMonth() + 1) << 5) | mtime.getUTCDate();
const unixSeconds = Math.floor(mtime.getTime() / 1000);

const utf8Flag = 1 << 11;
const dataDescriptorFlag = 1 << 3;
const versionUtf8 = 20;
const versionZip64 = 45;
/** Made by: Unix, spec 6.3 (so the external attributes below are read as a Unix mode). */
const versionMadeBy = (3 << 8) | 63;
const fileMode = 0o100644;
const max32 = 0xfffffffe;

export interface WrittenFile {
  path: string;
  sha256: string;
  size: number;
}

/** What the central directory needs of one written entry. */
interface EntryRecord {
  name: Buffer;
  offset: number;
  crc: number;
  compressedSize: number;
  size: number;
  deflated: boolean;
  descriptor: boolean;
}

/** Appends small records to a temporary file in chunks, waiting for the file when it is behind. */
class Spool {
  readonly #file: WriteStream;
  #chunks: Buffer[] = [];
  #pending = 0;
  #closed = false;

  constructor(path: string) {
    this.#file = createWriteStream(path);
    this.#file.on('error', () => {});
  }

  async write(data: Buffer): Promise<void> {
    this.#chunks.push(data);
    this.#pending += data.length;
    if (this.#pending >= spoolChunkBytes) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#pending === 0) return;
    const chunk = Buffer.concat(this.#chunks, this.#pending);
    this.#chunks = [];
    this.#pending = 0;
    if (!this.#file.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const done = (error?: Error) => {
          this.#file.off('drain', done);
          this.#file.off('error', done);
          error ? reject(error) : resolve();
        };
        this.#file.on('drain', done);
        this.#file.on('error', done);
      });
    }
  }

  async close(): Promise<void> {
    await this.#flush();
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve, reject) =>
      this.#file.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }

  destroy(): void {
    this.#closed = true;
    this.#chunks = [];
    this.#file.destroy();
  }
}

export class PackageZipWriter {
  readonly #output: Writable;
  #spoolDir = '';
  /** Every written file as a JSON line, in package order: the manifest's listing. */
  #files: Spool | null = null;
  /** Every entry's central-directory record, in package order. */
  #central: Spool | null = null;
  /** The stream entry being written, if any: the next entry waits for it. */
  #current: Promise<void> | null = null;
  readonly #listing = createHash('sha256');
  /** Zip bytes written so far: the next entry's offset. */
  #offset = 0;
  #entries = 0;
  #count = 0;
  #bytes = 0;
  readonly #paths = new Set<string>();
  #failure: Error | null = null;
  #finished = false;

  constructor(output: Writable) {
    this.#output = output;
    output.on('error', (error: Error) => {
      this.#failure ??= error;
    });
  }

  async open(): Promise<this> {
    this.#spoolDir = await mkdtemp(join(tmpdir(), 'assay-package-'));
    this.#files = new Spool(join(this.#spoolDir, 'files.jsonl'));
    this.#central = new Spool(join(this.#spoolDir, 'central.bin'));
    return this;
  }

  /** Files written (the manifest not included). */
  get fileCount(): number {
    return this.#count;
  }

  /** Bytes of content written (uncompressed, the manifest not included). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * What the writer holds of finished entries besides their paths: nothing but the stream entry
   * in progress, if any. For tests: the writer's memory does not grow with the package.
   */
  get retainedEntries(): number {
    return this.#current === null ? 0 : 1;
  }

  /** SHA-256 (hex) of the listing `<sha256>  <path>\n` of every file so far, in package order. */
  listingDigest(): string {
    return this.#listing.copy().digest('hex');
  }

  async #claim(path: string): Promise<void> {
    this.#check();
    if (this.#paths.has(path)) throw new Error(`package entry ${path} written twice`);
    this.#paths.add(path);
    if (this.#current) await this.#current;
    this.#check();
  }

  #check(): void {
    if (this.#failure) throw this.#failure;
    if (this.#finished) throw new Error('the package is finished');
    if (this.#output.destroyed) throw new Error('the package output was closed');
  }

  /** Writes to the output, waiting for it to drain when it is behind. */
  async #write(data: Buffer): Promise<void> {
    this.#offset += data.length;
    if (this.#output.write(data)) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        this.#output.off('drain', done);
        this.#output.off('close', done);
        this.#output.off('error', done);
        if (this.#failure) reject(this.#failure);
        else if (this.#output.destroyed && !this.#output.writableFinished)
          reject(new Error('the package output was closed'));
        else resolve();
      };
      this.#output.on('drain', done);
      this.#output.on('close', done);
      this.#output.on('error', done);
    });
  }

  async #record(file: WrittenFile, entry: EntryRecord): Promise<void> {
    this.#count += 1;
    this.#bytes += file.size;
    this.#listing.update(`${file.sha256}  ${file.path}\n`);
    await this.#files!.write(Buffer.from(`${JSON.stringify(file)}\n`));
    await this.#central!.write(centralRecord(entry));
  }

  async addBuffer(path: string, data: Buffer | string): Promise<WrittenFile> {
    await this.#claim(path);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const file = { path, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    const deflated = bytes.length >= storeBelowBytes;
    const body = deflated ? deflateRawSync(bytes) : bytes;
    const entry: EntryRecord = {
      name: Buffer.from(path, 'utf8'),
      offset: this.#offset,
      crc: crc32(bytes),
      compressedSize: body.length,
      size: bytes.length,
      deflated,
      descriptor: false,
    };
    await this.#write(localHeader(entry));
    await this.#write(body);
    await this.#record(file, entry);
    this.#entries += 1;
    return file;
  }

  /**
   * Adds a stream (a blob, a spreadsheet being written): its header is written now and its data
   * as it arrives; the next entry (and `settle`, `finish`) waits until it has been read through.
   * Returns once the entry has started, so the caller may then write into `source`.
   */
  async addStream(path: string, source: Readable): Promise<void> {
    await this.#claim(path);
    await this.#startStream(path, source, true);
  }

  /** Writes a stream entry's header and starts its data; `listed` entries go into the manifest. */
  async #startStream(path: string, source: Readable, listed: boolean): Promise<void> {
    const entry: EntryRecord = {
      name: Buffer.from(path, 'utf8'),
      offset: this.#offset,
      crc: 0,
      compressedSize: 0,
      size: 0,
      deflated: true,
      descriptor: true,
    };
    await this.#write(localHeader(entry));
    const hash = createHash('sha256');
    const counting = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        entry.crc = crc32(chunk, entry.crc);
        entry.size += chunk.length;
        callback(null, chunk);
      },
    });
    const writing = pipeline(
      source,
      counting,
      createDeflateRaw(),
      async (compressed: AsyncIterable<Buffer>) => {
        for await (const chunk of compressed) {
          entry.compressedSize += chunk.length;
          await this.#write(chunk);
        }
      },
    )
      .then(async () => {
        await this.#write(dataDescriptor(entry));
        const file = { path, sha256: hash.digest('hex'), size: entry.size };
        if (listed) await this.#record(file, entry);
        else await this.#central!.write(centralRecord(entry));
        this.#entries += 1;
      })
      .catch((error: Error) => {
        this.#failure ??= error;
        throw error;
      })
      .finally(() => {
        if (this.#current === writing) this.#current = null;
      });
    writing.catch(() => {});
    this.#current = writing;
  }

  /** Waits for the entry in progress (a stream) to be written and recorded. */
  async settle(): Promise<void> {
    if (this.#current) await this.#current;
    if (this.#failure) throw this.#failure;
  }

  /**
   * Writes the manifest as the last entry — `head`, then every file written so far (one JSON
   * object each, in package order), then `tail` — then the central directory, and ends the output.
   */
  async finish(manifestPath: string, head: string, tail: string): Promise<WrittenFile> {
    await this.settle();
    await this.#files!.close();
    const spoolPath = join(this.#spoolDir, 'files.jsonl');
    const manifestHash = createHash('sha256');
    let manifestSize = 0;
    const parts = async function* () {
      yield Buffer.from(head);
      let first = true;
      let rest = '';
      for await (const chunk of createReadStream(spoolPath, { encoding: 'utf8' })) {
        rest += chunk;
        let newline = rest.indexOf('\n');
        let out = '';
        while (newline >= 0) {
          out += `${first ? '' : ','}\n    ${rest.slice(0, newline)}`;
          first = false;
          rest = rest.slice(newline + 1);
          newline = rest.indexOf('\n');
        }
        if (out !== '') yield Buffer.from(out);
      }
      yield Buffer.from(tail);
    };
    const source = new PassThrough();
    const manifestCounting = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        manifestHash.update(chunk);
        manifestSize += chunk.length;
        callback(null, chunk);
      },
    });
    // The manifest is in the zip but lists itself nowhere.
    await this.#claim(manifestPath);
    await this.#startStream(manifestPath, source, false);
    await pipeline(parts(), manifestCounting, source);
    await this.settle();

    await this.#central!.close();
    const centralStart = this.#offset;
    for await (const chunk of createReadStream(join(this.#spoolDir, 'central.bin'))) {
      await this.#write(chunk as Buffer);
    }
    await this.#write(endOfCentralDirectory(this.#entries, centralStart, this.#offset - centralStart));
    this.#finished = true;
    this.#output.end();
    await finished(this.#output);
    await rm(this.#spoolDir, { recursive: true, force: true });
    return { path: manifestPath, sha256: manifestHash.digest('hex'), size: manifestSize };
  }

  /** Stops writing (on an error); the output is destroyed and the spools removed. */
  async abort(error: Error): Promise<void> {
    this.#failure ??= error;
    this.#finished = true;
    this.#output.destroy(error);
    this.#files?.destroy();
    this.#central?.destroy();
    if (this.#spoolDir !== '') await rm(this.#spoolDir, { recursive: true, force: true });
  }
}

function localHeader(entry: EntryRecord): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(versionUtf8, 4);
  header.writeUInt16LE(utf8Flag | (entry.descriptor ? dataDescriptorFlag : 0), 6);
  header.writeUInt16LE(entry.deflated ? 8 : 0, 8);
  header.writeUInt16LE(dosTime, 10);
  header.writeUInt16LE(dosDate, 12);
  // With a data descriptor, CRC and sizes follow the data (and are zero here).
  if (!entry.descriptor) {
    header.writeUInt32LE(entry.crc, 14);
    header.writeUInt32LE(entry.compressedSize, 18);
    header.writeUInt32LE(entry.size, 22);
  }
  header.writeUInt16LE(entry.name.length, 26);
  header.writeUInt16LE(0, 28);
  return Buffer.concat([header, entry.name]);
}

const needsZip64 = (entry: EntryRecord) =>
  entry.size > max32 || entry.compressedSize > max32 || entry.offset > max32;

function dataDescriptor(entry: EntryRecord): Buffer {
  if (entry.size > max32 || entry.compressedSize > max32) {
    const out = Buffer.alloc(24);
    out.writeUInt32LE(0x08074b50, 0);
    out.writeUInt32LE(entry.crc, 4);
    out.writeBigUInt64LE(BigInt(entry.compressedSize), 8);
    out.writeBigUInt64LE(BigInt(entry.size), 16);
    return out;
  }
  const out = Buffer.alloc(16);
  out.writeUInt32LE(0x08074b50, 0);
  out.writeUInt32LE(entry.crc, 4);
  out.writeUInt32LE(entry.compressedSize, 8);
  out.writeUInt32LE(entry.size, 12);
  return out;
}

function centralRecord(entry: EntryRecord): Buffer {
  const zip64 = needsZip64(entry);
  // Info-ZIP's extended timestamp ("UT"): the modification time in Unix seconds.
  const timestamp = Buffer.alloc(9);
  timestamp.writeUInt16LE(0x5455, 0);
  timestamp.writeUInt16LE(5, 2);
  timestamp.writeUInt8(0b11, 4);
  timestamp.writeUInt32LE(unixSeconds, 5);
  let extra = timestamp;
  if (zip64) {
    const field = Buffer.alloc(28);
    field.writeUInt16LE(0x0001, 0);
    field.writeUInt16LE(24, 2);
    field.writeBigUInt64LE(BigInt(entry.size), 4);
    field.writeBigUInt64LE(BigInt(entry.compressedSize), 12);
    field.writeBigUInt64LE(BigInt(entry.offset), 20);
    extra = Buffer.concat([timestamp, field]);
  }
  const fixed = Buffer.alloc(46);
  fixed.writeUInt32LE(0x02014b50, 0);
  fixed.writeUInt16LE(versionMadeBy, 4);
  fixed.writeUInt16LE(zip64 ? versionZip64 : versionUtf8, 6);
  fixed.writeUInt16LE(utf8Flag | (entry.descriptor ? dataDescriptorFlag : 0), 8);
  fixed.writeUInt16LE(entry.deflated ? 8 : 0, 10);
  fixed.writeUInt16LE(dosTime, 12);
  fixed.writeUInt16LE(dosDate, 14);
  fixed.writeUInt32LE(entry.crc, 16);
  fixed.writeUInt32LE(zip64 ? 0xffffffff : entry.compressedSize, 20);
  fixed.writeUInt32LE(zip64 ? 0xffffffff : entry.size, 24);
  fixed.writeUInt16LE(entry.name.length, 28);
  fixed.writeUInt16LE(extra.length, 30);
  fixed.writeUInt16LE(0, 32);
  fixed.writeUInt16LE(0, 34);
  fixed.writeUInt16LE(0, 36);
  fixed.writeUInt32LE((fileMode << 16) >>> 0, 38);
  fixed.writeUInt32LE(zip64 ? 0xffffffff : entry.offset, 42);
  return Buffer.concat([fixed, entry.name, extra]);
}

/** The end of central directory record, preceded by the ZIP64 ones when the counts or offsets need them. */
function endOfCentralDirectory(entries: number, start: number, size: number): Buffer {
  const zip64 = entries >= 0xffff || start > max32 || size > max32;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(zip64 ? 0xffff : entries, 8);
  end.writeUInt16LE(zip64 ? 0xffff : entries, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : size, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : start, 16);
  end.writeUInt16LE(0, 20);
  if (!zip64) return end;
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(versionMadeBy, 12);
  record.writeUInt16LE(versionZip64, 14);
  record.writeUInt32LE(0, 16);
  record.writeUInt32LE(0, 20);
  record.writeBigUInt64LE(BigInt(entries), 24);
  record.writeBigUInt64LE(BigInt(entries), 32);
  record.writeBigUInt64LE(BigInt(size), 40);
  record.writeBigUInt64LE(BigInt(start), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeUInt32LE(0, 4);
  locator.writeBigUInt64LE(BigInt(start + size), 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([record, locator, end]);
}

/** A random suffix for temporary names. */
export function tempSuffix(): string {
  return randomBytes(6).toString('hex');
}
