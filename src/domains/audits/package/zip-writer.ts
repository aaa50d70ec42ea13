/**
 * Writes an auditor package as a zip, streaming: entries go out one after another as they are
 * added, the caller waits whenever the output is behind, and every entry's SHA-256 and size are
 * recorded as it is written — spooled to a temporary file, not kept in memory — so that the
 * manifest can list them all at the end. Memory stays flat however many entries there are,
 * except for yazl's central directory record per entry, which a zip needs at its end.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PassThrough, Readable, Transform, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ZipFile } from 'yazl';

/** Small files are stored, larger ones deflated: starting a deflate stream costs more than it saves on a few hundred bytes. */
const storeBelowBytes = 16 * 1024;
/** Entries handed to yazl that it has not finished writing, before `add*` waits. */
const maxQueuedEntries = 256;
/** yazl's entry state once an entry's data is written (index.js: Entry.FILE_DATA_DONE). */
const entryDone = 3;
/** A fixed timestamp: the same package content gives the same zip bytes. */
const mtime = new Date(Date.UTC(2020, 0, 1));

interface YazlEntry {
  state: number;
}

export interface WrittenFile {
  path: string;
  sha256: string;
  size: number;
}

const sleep = () => new Promise<void>((resolve) => setImmediate(resolve));

export class PackageZipWriter {
  readonly #zip = new ZipFile();
  readonly #output: Writable;
  readonly #done: Promise<void>;
  #spoolDir = '';
  #spool: WriteStream | null = null;
  /** Finished entries moved out of yazl's list (see #compact); restored before the end. */
  readonly #archived: YazlEntry[] = [];
  /** Stream entries whose hash is known only once they have been read through. */
  #pendingStreams = 0;
  readonly #listing = createHash('sha256');
  #count = 0;
  #bytes = 0;
  readonly #paths = new Set<string>();
  #failure: Error | null = null;

  constructor(output: Writable) {
    this.#output = output;
    this.#zip.outputStream.pipe(output);
    this.#zip.on('error', (error: Error) => {
      this.#failure ??= error;
      output.destroy(error);
    });
    this.#done = finished(output).catch((error: Error) => {
      this.#failure ??= error;
      throw error;
    });
    this.#done.catch(() => {});
  }

  async open(): Promise<this> {
    this.#spoolDir = await mkdtemp(join(tmpdir(), 'assay-package-'));
    this.#spool = createWriteStream(join(this.#spoolDir, 'files.jsonl'));
    return this;
  }

  get fileCount(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** SHA-256 (hex) of the listing `<sha256>  <path>\n` of every file so far, in package order. */
  listingDigest(): string {
    return this.#listing.copy().digest('hex');
  }

  #claim(path: string): void {
    if (this.#failure) throw this.#failure;
    if (this.#paths.has(path)) throw new Error(`package entry ${path} written twice`);
    this.#paths.add(path);
  }

  #record(file: WrittenFile): void {
    this.#count += 1;
    this.#bytes += file.size;
    this.#listing.update(`${file.sha256}  ${file.path}\n`);
    this.#spool!.write(`${JSON.stringify(file)}\n`);
  }

  async addBuffer(path: string, data: Buffer | string): Promise<WrittenFile> {
    this.#claim(path);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const file = { path, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    this.#record(file);
    if (bytes.length < storeBelowBytes) {
      this.#zip.addBuffer(bytes, path, { mtime, compress: false });
    } else {
      this.#zip.addReadStreamLazy(path, { mtime, size: bytes.length }, (cb) =>
        cb(null, Readable.from([bytes])),
      );
    }
    await this.#backpressure();
    return file;
  }

  /**
   * Adds a stream (a blob, a spreadsheet being written). Its hash is recorded when it has been
   * read through; `finish` waits for every such stream.
   */
  async addStream(path: string, source: Readable): Promise<void> {
    this.#claim(path);
    const hash = createHash('sha256');
    let size = 0;
    this.#pendingStreams += 1;
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
      flush: (callback) => {
        this.#pendingStreams -= 1;
        this.#record({ path, sha256: hash.digest('hex'), size });
        callback();
      },
    });
    source.on('error', (error) => hashing.destroy(error));
    hashing.on('error', (error) => {
      this.#failure ??= error;
      this.#output.destroy(error);
    });
    this.#zip.addReadStreamLazy(path, { mtime }, (cb) => cb(null, source.pipe(hashing)));
    await this.#backpressure();
  }

  /** Waits until yazl and the output have caught up enough to take more. */
  async #backpressure(): Promise<void> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      this.#compact();
      const queued = (this.#zip as unknown as { entries: YazlEntry[] }).entries.length;
      const zipOut = this.#zip.outputStream as PassThrough;
      if (queued < maxQueuedEntries && !zipOut.writableNeedDrain && !this.#output.writableNeedDrain) return;
      if (zipOut.writableNeedDrain || this.#output.writableNeedDrain) {
        await Promise.race([
          new Promise<void>((resolve) => this.#output.once('drain', resolve)),
          new Promise<void>((resolve) => zipOut.once('drain', resolve)),
          this.#done.then(
            () => {},
            () => {},
          ),
        ]);
      } else {
        await sleep();
      }
    }
  }

  /**
   * yazl looks for the next entry to write by scanning its list from the start, which makes a
   * package of many entries quadratic; finished entries are moved aside (they are needed again
   * only for the central directory, written at the end).
   */
  #compact(): void {
    const zip = this.#zip as unknown as { entries: YazlEntry[] };
    let done = 0;
    while (done < zip.entries.length && zip.entries[done]!.state === entryDone) done += 1;
    if (done === 0) return;
    for (let i = 0; i < done; i++) this.#archived.push(zip.entries[i]!);
    zip.entries = zip.entries.slice(done);
  }

  /** Waits for every entry so far to be written (and every stream entry's hash to be known). */
  async settle(): Promise<void> {
    const zip = this.#zip as unknown as { entries: YazlEntry[] };
    for (;;) {
      if (this.#failure) throw this.#failure;
      this.#compact();
      if (zip.entries.length === 0 && this.#pendingStreams === 0) return;
      await sleep();
    }
  }

  /**
   * Writes the manifest as the last entry — `head`, then every file written so far (one JSON
   * object each, in package order), then `tail` — and finishes the zip.
   */
  async finish(manifestPath: string, head: string, tail: string): Promise<WrittenFile> {
    await this.settle();
    await new Promise<void>((resolve, reject) =>
      this.#spool!.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
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
    const source = Readable.from(parts()).pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          manifestHash.update(chunk);
          manifestSize += chunk.length;
          callback(null, chunk);
        },
      }),
    );
    this.#claim(manifestPath);
    const zip = this.#zip as unknown as { entries: YazlEntry[] };
    // Every earlier entry is written: give yazl its whole list back for the central directory.
    zip.entries = [...this.#archived, ...zip.entries];
    this.#archived.length = 0;
    this.#zip.addReadStream(source, manifestPath, { mtime });
    this.#zip.end();
    await this.#done;
    await rm(this.#spoolDir, { recursive: true, force: true });
    return { path: manifestPath, sha256: manifestHash.digest('hex'), size: manifestSize };
  }

  /** Stops writing (on an error); the output is destroyed and the spool removed. */
  async abort(error: Error): Promise<void> {
    this.#failure ??= error;
    this.#output.destroy(error);
    this.#spool?.destroy();
    if (this.#spoolDir !== '') await rm(this.#spoolDir, { recursive: true, force: true });
  }
}

/** A random suffix for temporary names. */
export function tempSuffix(): string {
  return randomBytes(6).toString('hex');
}
