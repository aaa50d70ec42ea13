/**
 * Helpers for the importer tests: run an importer over bytes or a file, count what it yields,
 * check every record against the model's schema, and measure heap growth while streaming.
 * Test support only; nothing in the product imports it.
 */
import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { Value } from 'typebox/value';
import { type ImportRecord, ImportRecordSchema } from '../../domains/events/event.model.ts';
import { isAssayError } from '../../errors.ts';
import type { ParseOptions } from './import-context.ts';
import type { ImportParser } from './importer.ts';

export const MiB = 1024 * 1024;
// The shared fixtures sit beside the project checkout (`../shared`).
const shared = new URL('../../../../shared/', import.meta.url).pathname;
export const SAMPLES = `${shared}samples`;
export const NORTHWIND = `${shared}scenarios/northwind`;

/** Fixed so that snapshot facts are deterministic. */
export const OBSERVED_AT = '2026-11-15T00:00:00.000Z';

/** Bytes as a stream of chunks of `size` (small sizes exercise records split across chunks). */
export async function* chunks(data: Uint8Array | string, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

export async function collect(
  parser: ImportParser,
  input: AsyncIterable<Uint8Array | string>,
  options: ParseOptions = {},
): Promise<ImportRecord[]> {
  const out: ImportRecord[] = [];
  for await (const record of parser(input, { observedAt: OBSERVED_AT, ...options })) out.push(record);
  return out;
}

/** Parses a file in `collect` mode, streaming it from disk. */
export function collectFile(
  parser: ImportParser,
  path: string,
  options: ParseOptions = {},
): Promise<ImportRecord[]> {
  return collect(parser, createReadStream(path), {
    fileName: basename(path),
    onError: 'collect',
    ...options,
  });
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

export function gzip(data: string | Uint8Array): Buffer {
  return gzipSync(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
}

export function countByType(records: ImportRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of records) counts[record.type] = (counts[record.type] ?? 0) + 1;
  return counts;
}

export function events(records: ImportRecord[]) {
  return records.flatMap((record) => (record.type === 'event' ? [record.event] : []));
}

export function rejections(records: ImportRecord[]) {
  return records.flatMap((record) => (record.type === 'rejected' ? [record] : []));
}

/** Every record validates against `ImportRecordSchema`. */
export function assertValidRecords(records: ImportRecord[]): void {
  for (const record of records) {
    if (!Value.Check(ImportRecordSchema, record)) {
      const errors = [...Value.Errors(ImportRecordSchema, record)].slice(0, 3);
      assert.fail(
        `record does not match the schema: ${JSON.stringify(errors)}\n${JSON.stringify(record).slice(0, 500)}`,
      );
    }
  }
}

/** Runs the importer in `fail` mode and returns the `import_rejected` error it must throw. */
export async function rejectionOf(
  parser: ImportParser,
  input: AsyncIterable<Uint8Array | string>,
  options: ParseOptions = {},
): Promise<{ message: string; details: Record<string, unknown> }> {
  try {
    for await (const _ of parser(input, { observedAt: OBSERVED_AT, fileName: 'input', ...options })) {
      // drain
    }
  } catch (error) {
    assert.ok(isAssayError(error), `expected an AssayError, got ${String(error)}`);
    assert.equal(error.code, 'import_rejected', error.message);
    return { message: error.message, details: error.details ?? {} };
  }
  assert.fail('expected the import to be rejected');
}

/**
 * Property for fuzzing: in both modes the importer either finishes or throws
 * `import_rejected` — never anything else (no TypeError, no `internal`).
 */
export async function assertOnlyImportRejected(parser: ImportParser, data: Uint8Array): Promise<void> {
  for (const onError of ['fail', 'collect'] as const) {
    try {
      for await (const record of parser(chunks(data, 97), {
        observedAt: OBSERVED_AT,
        onError,
        fileName: 'fuzz',
      })) {
        if (record.type === 'rejected') assert.ok(record.message.startsWith('fuzz'), record.message);
      }
    } catch (error) {
      if (!isAssayError(error) || error.code !== 'import_rejected') {
        throw new Error(
          `unexpected ${onError}-mode error: ${error instanceof Error ? error.stack : String(error)}`,
        );
      }
    }
  }
}

/** Small deterministic mutations of a text for fuzzing: cut, insert, overwrite, truncate. */
export function mutate(text: string, at: number, length: number, insert: string, how: number): string {
  const position = text.length === 0 ? 0 : at % text.length;
  switch (how % 4) {
    case 0:
      return text.slice(0, position) + text.slice(position + (length % 40));
    case 1:
      return text.slice(0, position) + insert + text.slice(position);
    case 2:
      return text.slice(0, position) + insert + text.slice(position + insert.length);
    default:
      return text.slice(0, position);
  }
}

let collectGarbage: (() => void) | undefined;
function gc(): void {
  if (!collectGarbage) {
    setFlagsFromString('--expose-gc');
    collectGarbage = runInNewContext('gc') as () => void;
  }
  collectGarbage();
}

function retained(): number {
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Streams `input` through the importer, discarding records, and returns the largest growth of
 * retained memory (heap + array buffers, measured after a full GC) seen along the way, plus the
 * record counts and the number of bytes fed.
 */
export async function streamingFootprint(
  parser: ImportParser,
  input: () => AsyncGenerator<Uint8Array>,
  options: ParseOptions = {},
): Promise<{ growth: number; counts: Record<string, number>; bytes: number }> {
  let bytes = 0;
  let peak = 0;
  let nextSample = 2 * MiB;
  const baseline = retained();
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of input()) {
      bytes += chunk.length;
      // Sample every 2 MiB of input: often enough to see growth, rarely enough to stay fast.
      if (bytes >= nextSample) {
        nextSample += 2 * MiB;
        peak = Math.max(peak, retained() - baseline);
      }
      yield chunk;
    }
  }
  const counts: Record<string, number> = {};
  for await (const record of parser(counted(), { observedAt: OBSERVED_AT, ...options })) {
    counts[record.type] = (counts[record.type] ?? 0) + 1;
  }
  peak = Math.max(peak, retained() - baseline);
  return { growth: peak, counts, bytes };
}

/** ~`totalBytes` of input built by repeating `record(i)`, in 64 KiB chunks, generated lazily. */
export async function* generated(
  totalBytes: number,
  record: (index: number) => string,
  prefix = '',
  separator = '\n',
  suffix = '',
): AsyncGenerator<Uint8Array> {
  let produced = 0;
  let index = 0;
  let pending = prefix;
  while (produced < totalBytes) {
    while (pending.length < 65536 && produced + pending.length < totalBytes) {
      pending += (index > 0 ? separator : '') + record(index);
      index++;
    }
    const chunk = Buffer.from(pending, 'utf8');
    produced += chunk.length;
    pending = '';
    yield chunk;
  }
  if (suffix) yield Buffer.from(suffix, 'utf8');
}
