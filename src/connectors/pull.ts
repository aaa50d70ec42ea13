/**
 * Pull connectors: sources Assay reads on its own initiative (`assay connector run`, or on a
 * schedule) rather than receiving files or pushes. Each kind reads its source in two steps:
 *
 * 1. `prepare` talks to the source (an LDAP server, a git repository) *outside* any database
 *    transaction, so a slow directory never holds a transaction open;
 * 2. `records` turns what was read into normalised import records *inside* the workspace
 *    transaction, where it may read the identity graph to find what changed since the last pull.
 *
 * The caller (src/domains/connectors/pull.service.ts) stores the records through the ingest
 * writer, then saves the cursor the connector returns, all in one transaction: a pull is stored
 * whole or not at all, and the next pull resumes from the last one that committed.
 */
import type { Trx } from '../db/database.ts';
import type { ImportRecord } from '../domains/events/event.model.ts';
import { AssayError } from '../errors.ts';

export type PullKind = 'ldap' | 'git';
export const pullKinds: readonly PullKind[] = ['ldap', 'git'];

export function isPullKind(value: string): value is PullKind {
  return (pullKinds as readonly string[]).includes(value);
}

export interface PullContext<S> {
  workspaceId: string;
  connectorId: string;
  /** The connector's name: LDAP accounts live in system `ldap:<name>`. */
  name: string;
  settings: S;
  /** Opened credentials (only kinds that declare `credentialFields` get any). */
  credentials: Record<string, string>;
  /** What the last committed pull left (null before the first). */
  cursor: Record<string, unknown> | null;
  /** When the last committed pull read its source (null before the first). */
  lastPulledAt: string | null;
  /** When this pull reads its source: the time of every snapshot it takes (ISO 8601). */
  observedAt: string;
}

export interface PreparedPull {
  /** The records to store; called once, inside the workspace transaction. */
  records(trx: Trx): AsyncIterable<ImportRecord>;
  /** Where the next pull resumes; read after `records` was consumed. */
  cursor(): Record<string, unknown>;
  /** What was read and what changed, for the CLI, the API and the connector's last summary. */
  summary(): Record<string, number | string | null>;
}

export interface PullConnector<S extends object = object> {
  kind: PullKind;
  description: string;
  /** Secret fields the connector needs (sealed at rest, never returned). */
  credentialFields: readonly string[];
  /** Validates settings given by a person (CLI flags, API body); throws `validation_failed`. */
  parseSettings(input: Record<string, unknown>): S;
  /** Checks settings against the source when the connector is added (e.g. the repository exists). */
  validateSource?(settings: S): Promise<S>;
  prepare(context: PullContext<S>): Promise<PreparedPull>;
}

// ---------------------------------------------------------------------------------------------
// Settings helpers: strict, with the field named in every message.

export function settingString(
  input: Record<string, unknown>,
  field: string,
  options: { required?: boolean; pattern?: RegExp; patternHint?: string; maxLength?: number } = {},
): string | undefined {
  const value = input[field];
  if (value === undefined || value === null || value === '') {
    if (options.required) {
      throw new AssayError('validation_failed', `connector setting "${field}" is required`, { field });
    }
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new AssayError('validation_failed', `connector setting "${field}" must be a string`, { field });
  }
  const text = value.trim();
  if (text.length > (options.maxLength ?? 1000)) {
    throw new AssayError('validation_failed', `connector setting "${field}" is too long`, { field });
  }
  if (options.pattern && !options.pattern.test(text)) {
    throw new AssayError(
      'validation_failed',
      `connector setting "${field}" ("${text}") ${options.patternHint ?? 'is not valid'}`,
      { field },
    );
  }
  return text;
}

export function settingInteger(
  input: Record<string, unknown>,
  field: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const value = input[field];
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < range.min || n > range.max) {
    throw new AssayError(
      'validation_failed',
      `connector setting "${field}" must be a whole number from ${range.min} to ${range.max}`,
      { field },
    );
  }
  return n;
}

/** Refuses settings the connector does not know, so a typo is not silently ignored. */
export function rejectUnknownSettings(input: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) {
      throw new AssayError(
        'validation_failed',
        `unknown connector setting "${key}" (expected one of ${known.join(', ')})`,
        { field: key },
      );
    }
  }
}
