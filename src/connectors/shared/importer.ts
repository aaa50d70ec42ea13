/**
 * The skeleton every file importer is built on: read records from the (possibly gzipped) input,
 * normalise each, and report bad ones with their position — thrown or collected.
 */
import type {
  EntitlementFact,
  EntitlementKind,
  IdentityRef,
  ImportKind,
  ImportRecord,
  NormalizedEvent,
  RecordPosition,
} from '../../domains/events/event.model.ts';
import { isAssayError } from '../../errors.ts';
import { inputBytes, READ_FAILURE } from './byte-source.ts';
import { readCsvRows } from './csv-rows.ts';
import { FieldError, ImportContext, type ImportInput, type ParseOptions, safely } from './import-context.ts';
import { type JsonItem, readJsonRecords } from './json-records.ts';

/** An importer: raw bytes in, normalised records out, pulled one at a time. */
export type ImportParser = (input: ImportInput, options?: ParseOptions) => AsyncIterable<ImportRecord>;

const UNREADABLE_REST = 'nothing after this point could be read';

export interface JsonImporterSpec {
  kind: ImportKind;
  /** Envelope arrays holding the records, e.g. `[['Records']]`. */
  envelopes?: readonly (readonly string[])[];
  normalize: (item: JsonItem & { ok: true }, position: RecordPosition, ctx: ImportContext) => ImportRecord[];
}

/** An importer for JSON files (JSON lines, arrays, envelopes; see json-records.ts). */
export function jsonImporter(spec: JsonImporterSpec): ImportParser {
  return (input, options = {}) => {
    const ctx = new ImportContext(spec.kind, options);
    async function* run(): AsyncGenerator<ImportRecord> {
      const items = readJsonRecords(inputBytes(ctx, input), {
        envelopes: spec.envelopes ?? [],
        maxRecordBytes: ctx.maxRecordBytes,
      });
      try {
        for await (const item of items) {
          const position = ctx.position(item.line, item.byteOffset);
          if (!item.ok) {
            const reason = item.fatal
              ? `${item.error}; ${UNREADABLE_REST}`
              : (item.error ?? 'unreadable record');
            yield ctx.reject(position, reason);
            continue;
          }
          yield* ctx.guard(position, () => spec.normalize(item as JsonItem & { ok: true }, position, ctx));
        }
      } catch (error) {
        yield readRejection(ctx, error);
      }
    }
    return safely(ctx, run());
  };
}

export interface CsvImporterSpec {
  kind: ImportKind;
  /**
   * Called once with the header row; returns the row normaliser. Throwing `FieldError` rejects
   * the whole file (a header we cannot read means no row can be read).
   */
  header: (
    fields: string[],
    position: RecordPosition,
    ctx: ImportContext,
  ) => (fields: string[], position: RecordPosition) => ImportRecord[];
}

/** An importer for CSV files with a header row. */
export function csvImporter(spec: CsvImporterSpec): ImportParser {
  return (input, options = {}) => {
    const ctx = new ImportContext(spec.kind, options);
    async function* run(): AsyncGenerator<ImportRecord> {
      try {
        yield* rows();
      } catch (error) {
        yield readRejection(ctx, error);
      }
    }
    async function* rows(): AsyncGenerator<ImportRecord> {
      let rowNormalizer: ((fields: string[], position: RecordPosition) => ImportRecord[]) | undefined;
      for await (const row of readCsvRows(inputBytes(ctx, input), { maxRecordBytes: ctx.maxRecordBytes })) {
        if (!row.ok) {
          yield ctx.reject(ctx.position(row.line), `${row.error}; ${UNREADABLE_REST}`);
          return;
        }
        const position = ctx.position(row.line);
        if (!rowNormalizer) {
          try {
            rowNormalizer = spec.header(row.fields, position, ctx);
          } catch (error) {
            if (!(error instanceof FieldError)) throw error;
            // Without a header no row can be read: report once and stop.
            yield ctx.reject(position, `${error.reason}; ${UNREADABLE_REST}`, error.field);
            return;
          }
          continue;
        }
        const normalize = rowNormalizer;
        yield* ctx.guard(position, () => normalize(row.fields, position));
      }
    }
    return safely(ctx, run());
  };
}

/**
 * A failure to read the bytes themselves (unreadable file, corrupt gzip) ends the import: thrown
 * in `fail` mode, a last `rejected` record in `collect` mode. Anything else is rethrown.
 */
function readRejection(ctx: ImportContext, error: unknown): ImportRecord {
  if (isAssayError(error) && error.details?.stage === READ_FAILURE) {
    const reason = typeof error.details.reason === 'string' ? error.details.reason : error.message;
    return ctx.reject(ctx.position(), `${reason}; ${UNREADABLE_REST}`);
  }
  throw error;
}

// ---------------------------------------------------------------------------------------------
// Building records

/** Drops properties whose value is undefined, so records serialise and validate cleanly. */
export function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}

export function ref(value: IdentityRef): IdentityRef {
  return compact(value);
}

export function eventRecord(event: NormalizedEvent, position: RecordPosition): ImportRecord {
  if (event.actor) compact(event.actor);
  if (event.target) compact(event.target);
  if (event.code) compact(event.code);
  if (event.employment) compact(event.employment);
  if (event.securitySetting) compact(event.securitySetting);
  if (event.resources) {
    for (const resource of event.resources) compact(resource);
    if (event.resources.length === 0) delete event.resources;
  }
  return { type: 'event', position, event: compact(event) };
}

/**
 * Entitlement facts for a successful grant or removal: one per entitlement name, for the account
 * in `identity` (no facts when the event names no account, or did not succeed).
 */
export function entitlementRecords(
  event: NormalizedEvent,
  position: RecordPosition,
  identity: IdentityRef | undefined,
  entitlements: { name: string; privileged: boolean }[],
  kind: EntitlementKind,
  granted: boolean,
): ImportRecord[] {
  if (!identity || event.outcome !== 'success') return [];
  return entitlements.map(({ name, privileged }) => {
    const entitlement: EntitlementFact = {
      source: event.source,
      system: event.system,
      identity: ref({ ...identity }),
      name,
      kind,
      privileged,
      granted,
      at: event.time,
      eventSourceKey: event.sourceKey,
    };
    return { type: 'entitlement', position, entitlement };
  });
}
