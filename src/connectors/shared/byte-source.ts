/**
 * Turns an import input into a stream of byte chunks: strings become UTF-8, gzip is detected by
 * its magic bytes (1f 8b) and inflated on the fly with node:zlib, and read failures become
 * `import_rejected` errors naming the file. Nothing here holds more than a chunk or two.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { AssayError, isAssayError } from '../../errors.ts';
import type { ImportContext, ImportInput } from './import-context.ts';

function toBytes(chunk: Uint8Array | string): Uint8Array {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

/** Marks errors raised while reading bytes, so importers can report them as a last rejection. */
export const READ_FAILURE = 'read';

function readFailure(ctx: ImportContext, reason: string, byteOffset?: number): AssayError {
  const details: Record<string, unknown> = { file: ctx.file, reason, stage: READ_FAILURE };
  if (byteOffset !== undefined) details.byteOffset = byteOffset;
  return new AssayError('import_rejected', `${ctx.file}: ${reason}`, details);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The input's chunks as bytes, with read errors turned into `import_rejected`. */
async function* plainBytes(ctx: ImportContext, input: ImportInput): AsyncGenerator<Uint8Array> {
  let read = 0;
  try {
    for await (const chunk of input) {
      const bytes = toBytes(chunk);
      read += bytes.length;
      yield bytes;
    }
  } catch (error) {
    if (isAssayError(error)) throw error;
    throw readFailure(ctx, `could not read the input: ${errorText(error)}`, read);
  }
}

/**
 * The decoded bytes of the input: inflated when it starts with the gzip magic bytes, as-is
 * otherwise. A corrupt or truncated gzip stream fails with `import_rejected`.
 */
export async function* inputBytes(ctx: ImportContext, input: ImportInput): AsyncGenerator<Uint8Array> {
  const source = plainBytes(ctx, input);
  let head: Uint8Array = new Uint8Array(0);
  let ended = false;
  try {
    while (head.length < 2) {
      const next = await source.next();
      if (next.done) {
        ended = true;
        break;
      }
      head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
    }
    const isGzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    async function* rest(): AsyncGenerator<Uint8Array> {
      if (head.length > 0) yield head;
      if (ended) return;
      for (;;) {
        const next = await source.next();
        if (next.done) return;
        yield next.value;
      }
    }
    if (!isGzip) {
      yield* rest();
      return;
    }
    yield* gunzip(ctx, rest());
  } finally {
    await source.return(undefined);
  }
}

async function* gunzip(
  ctx: ImportContext,
  compressed: AsyncGenerator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const inflater = createGunzip();
  const feeder = Readable.from(compressed, { objectMode: false });
  let sourceError: unknown;
  feeder.on('error', (error) => {
    sourceError = error;
    inflater.destroy(error);
  });
  feeder.pipe(inflater);
  let produced = 0;
  try {
    for await (const chunk of inflater) {
      produced += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  } catch (error) {
    if (sourceError !== undefined && isAssayError(sourceError)) throw sourceError;
    throw readFailure(
      ctx,
      `gzip data is corrupt or truncated after ${produced} decompressed bytes: ${errorText(error)}`,
      produced,
    );
  } finally {
    feeder.destroy();
    inflater.destroy();
  }
}

/** Opens a file for import as a byte stream (never read whole). */
export function openImportFile(path: string): ImportInput {
  return createReadStream(path, { highWaterMark: 256 * 1024 });
}
