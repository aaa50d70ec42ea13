/**
 * What every importer shares: its options, how a bad record is reported (thrown or collected),
 * and the safety net that turns anything unexpected into an `AssayError` (invariant 5: bad input
 * gets a clear error saying where and why, and never crashes the process).
 */
import type {
  ImportKind,
  ImportRecord,
  RecordPosition,
  RejectedRecord,
} from '../../domains/events/event.model.ts';
import { AssayError, isAssayError } from '../../errors.ts';

/** Raw file bytes, as a Node `Readable` or any async iterable of chunks. */
export type ImportInput = AsyncIterable<Uint8Array | string>;

export interface ParseOptions {
  /** Name used in positions and messages (the CLI passes the file's base name). */
  fileName?: string;
  /**
   * `fail` (default): throw `import_rejected` at the first bad record — the caller rolls back the
   * batch. `collect`: yield a `rejected` record for each bad record and go on. Input that cannot be
   * read past some point (truncated JSON, broken CSV quoting, corrupt gzip) yields one last
   * `rejected` record saying so, then ends.
   */
  onError?: 'fail' | 'collect';
  /**
   * When snapshot facts were true (IAM credential report identities, HR persons, and the date of
   * a termination HR states without one). Default: the time the import started. The CLI passes the
   * import time.
   */
  observedAt?: string;
  /** HR roster CSV only: our field → the header in their export (see docs/importers.md). */
  columns?: Record<string, string>;
  /** Largest single record accepted, in bytes (default 16 MiB); larger ones are rejected. */
  maxRecordBytes?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** A field-level problem inside one record; caught per record and turned into a rejection. */
export class FieldError extends Error {
  readonly field: string | undefined;
  readonly reason: string;
  constructor(field: string | undefined, reason: string) {
    super(field ? `field "${field}": ${reason}` : reason);
    this.field = field;
    this.reason = reason;
  }
}

export class ImportContext {
  readonly kind: ImportKind;
  readonly file: string;
  readonly mode: 'fail' | 'collect';
  readonly observedAt: string;
  readonly maxRecordBytes: number;
  readonly options: ParseOptions;

  constructor(kind: ImportKind, options: ParseOptions = {}) {
    this.kind = kind;
    this.options = options;
    this.file = options.fileName ?? `${kind} input`;
    this.mode = options.onError ?? 'fail';
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    const observed = options.observedAt ?? new Date().toISOString();
    const ms = Date.parse(observed);
    if (Number.isNaN(ms)) {
      throw new AssayError('validation_failed', `observedAt "${observed}" is not an ISO date-time`, {
        field: 'observedAt',
      });
    }
    this.observedAt = new Date(ms).toISOString();
  }

  position(line?: number, byteOffset?: number): RecordPosition {
    const position: RecordPosition = { file: this.file };
    if (line !== undefined) position.line = line;
    if (byteOffset !== undefined) position.byteOffset = byteOffset;
    return position;
  }

  /** `okta_system_log.jsonl line 12: field "published": not an ISO date-time` */
  message(position: RecordPosition, reason: string, field?: string): string {
    let where = this.file;
    if (position.line !== undefined) where += ` line ${position.line}`;
    else if (position.byteOffset !== undefined) where += ` byte ${position.byteOffset}`;
    return field ? `${where}: field "${field}": ${reason}` : `${where}: ${reason}`;
  }

  /**
   * Reports a bad record: throws `import_rejected` in `fail` mode, returns a `rejected` record in
   * `collect` mode (the caller yields it).
   */
  reject(position: RecordPosition, reason: string, field?: string): RejectedRecord {
    const message = this.message(position, reason, field);
    if (this.mode === 'fail') {
      const details: Record<string, unknown> = { file: this.file, reason };
      if (position.line !== undefined) details.line = position.line;
      if (position.byteOffset !== undefined) details.byteOffset = position.byteOffset;
      if (field !== undefined) details.field = field;
      throw new AssayError('import_rejected', message, details);
    }
    const record: RejectedRecord = { type: 'rejected', position, reason, message };
    if (field !== undefined) record.field = field;
    return record;
  }

  /** Runs `normalize` on one record, turning a `FieldError` into a rejection. */
  guard(position: RecordPosition, normalize: () => ImportRecord[]): ImportRecord[] {
    try {
      return normalize();
    } catch (error) {
      if (error instanceof FieldError) return [this.reject(position, error.reason, error.field)];
      throw error;
    }
  }
}

/**
 * Wraps an importer's generator so that only `AssayError`s ever escape: a defect in our own code
 * surfaces as `internal` (so tests notice it), never as a raw TypeError.
 */
export async function* safely(
  ctx: ImportContext,
  records: AsyncIterable<ImportRecord>,
): AsyncGenerator<ImportRecord> {
  try {
    yield* records;
  } catch (error) {
    if (isAssayError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new AssayError('internal', `${ctx.file}: the ${ctx.kind} importer failed: ${reason}`, {
      file: ctx.file,
      reason,
    });
  }
}
