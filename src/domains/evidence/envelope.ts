/**
 * The evidence envelope: what one ledger leaf says about one piece of evidence.
 *
 * The envelope carries everything an auditor needs to judge the evidence — what it proves, about
 * whom or what, when it happened and was collected, who collected it, when it goes stale — and
 * the SHA-256 of its content and of its file, but never the content itself. Its RFC 8785
 * canonical JSON is the Merkle leaf, so erasing a payload for privacy leaves the leaf (and every
 * proof) intact.
 *
 * Canonical envelope (keys sorted, no whitespace; `blob` and `subject` may be null):
 *
 *   {"blob":{"fileName":…,"mediaType":…,"sha256":…,"size":…},"collectedAt":…,
 *    "collector":{"id":…,"name":…,"type":…},"contentSha256":…,"effectiveAt":…,"id":…,
 *    "kind":…,"proves":{"controls":[…],"criteria":[…]},"staleAfter":…,
 *    "subject":{"id":…,"name":…,"type":…},"type":"assay.evidence/v1","workspace":…}
 *
 * The shape is fixed: the verifier relies on `"contentSha256":"` and `"sha256":"` each
 * occurring exactly once at a known place (see verify-ledger.ts).
 */
import { randomUUID } from 'node:crypto';
import { AssayError } from '../../errors.ts';
import { canonicalize, sha256Hex } from './core/canonical-json.ts';

export const envelopeType = 'assay.evidence/v1';

export const collectorTypes = ['connector', 'check', 'user', 'system'] as const;
export type CollectorType = (typeof collectorTypes)[number];

/** Kinds the ledger writes about itself (redaction and disposal records); callers cannot use them. */
export const ledgerRecordKinds = { redaction: 'evidence.redaction', disposal: 'evidence.disposal' } as const;

/** What a caller gives to record one piece of evidence. */
export interface EvidenceInput {
  /** What sort of evidence, e.g. `access_review.decision`, `check.result`, `vendor.soc2_report`. */
  kind: string;
  /** Control ids (template ids such as `AC-01`, or control uuids) the evidence proves. */
  controls?: string[] | undefined;
  /** Trust Services Criteria ids, e.g. `CC6.2`. */
  criteria?: string[] | undefined;
  /** Who or what the evidence is about: a person, account, system, vendor… */
  subject?: { type: string; id: string; name?: string | null | undefined } | null | undefined;
  /** When the fact happened (ISO 8601 with a time zone, or a Date). */
  effectiveAt: string | Date;
  /** When Assay collected it; defaults to now. */
  collectedAt?: string | Date | undefined;
  collector: { type: CollectorType; id: string; name?: string | null | undefined };
  /** Stale this many seconds after the effective time (give this or staleAfter, or neither). */
  ttlSeconds?: number | null | undefined;
  staleAfter?: string | Date | null | undefined;
  /** The evidence payload: any JSON value (default `{}`), or one already made canonical. */
  content?: unknown;
  /** A file uploaded beforehand (see storeEvidenceBlob), referenced by its SHA-256. */
  blob?:
    | { sha256: string; size?: number | undefined; mediaType: string; fileName?: string | null | undefined }
    | null
    | undefined;
}

export interface EnvelopeBlob {
  fileName: string | null;
  mediaType: string;
  sha256: string;
  size: number;
}

export interface EvidenceEnvelope {
  blob: EnvelopeBlob | null;
  collectedAt: string;
  collector: { id: string; name: string | null; type: CollectorType };
  contentSha256: string;
  effectiveAt: string;
  id: string;
  kind: string;
  proves: { controls: string[]; criteria: string[] };
  staleAfter: string | null;
  subject: { id: string; name: string | null; type: string } | null;
  type: typeof envelopeType;
  workspace: string;
}

/** An input checked and normalised, with its envelope built and serialised. */
export interface PreparedEvidence {
  envelope: EvidenceEnvelope;
  /** Canonical envelope JSON: the leaf bytes. */
  envelopeText: string;
  /** Canonical content JSON. */
  contentText: string;
}

const KIND = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;
const SHA256 = /^[0-9a-f]{64}$/;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}(\s*;.{1,200})?$/i;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
/** Largest canonical content kept in the ledger itself; bigger payloads belong in a blob. */
export const maxContentBytes = 1024 * 1024;
const maxTtlSeconds = 100 * 366 * 86_400;

/**
 * Content already serialised to canonical JSON and hashed, so that a caller can do that work
 * ahead of preparing the envelope (an import does it while its previous chunk is written). It is
 * never made from request input: JSON parsing yields no class instances.
 */
export class CanonicalContent {
  readonly text: string;
  readonly sha256: string;
  constructor(where: string, content: unknown) {
    this.text = canonicalContent(where, content);
    this.sha256 = sha256Hex(this.text);
  }
}

function fail(where: string, message: string): never {
  throw new AssayError('validation_failed', `${where}: ${message}`, { field: where });
}

function text(where: string, value: unknown, max: number, pattern?: RegExp): string {
  if (typeof value !== 'string') fail(where, 'must be a string');
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) fail(where, `must be 1–${max} characters`);
  if (pattern && !pattern.test(trimmed)) fail(where, `"${trimmed.slice(0, 60)}" is not valid`);
  return trimmed;
}

function optionalText(where: string, value: unknown, max: number): string | null {
  if (value === undefined || value === null) return null;
  return text(where, value, max);
}

/** ISO 8601 instant with an explicit zone (or a Date), normalised to UTC milliseconds. */
export function instant(where: string, value: unknown): string {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string' && ISO_WITH_ZONE.test(value)) ms = Date.parse(value);
  else fail(where, 'must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T09:30:00Z');
  if (!Number.isFinite(ms)) fail(where, `${String(value)} is not a real date-time`);
  const iso = new Date(ms).toISOString();
  if (!/^\d{4}-/.test(iso)) fail(where, 'must fall between the years 0000 and 9999');
  return iso;
}

function idList(where: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(where, 'must be an array of ids');
  if (value.length > 200) fail(where, 'lists at most 200 ids');
  return value.map((v, i) => text(`${where}[${i}]`, v, 100));
}

/**
 * Checks one input's shape and builds its envelope. Control and criterion ids are checked
 * against the workspace by the caller (they need the database); `resolveControl` maps a given
 * control id to the template id the envelope records.
 */
export function prepareEvidence(
  where: string,
  workspaceId: string,
  input: EvidenceInput,
  context: {
    now: string;
    resolveControl: (id: string, where: string) => string;
    checkCriterion: (id: string, where: string) => void;
    blobSize: (sha256: string, where: string) => number;
    allowLedgerKinds?: boolean;
  },
): PreparedEvidence {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) fail(where, 'must be an object');
  const kind = text(`${where}.kind`, input.kind, 100, KIND);
  if (!context.allowLedgerKinds && kind.startsWith('evidence.')) {
    fail(`${where}.kind`, 'kinds starting with "evidence." are reserved for the ledger itself');
  }
  const controls = [
    ...new Set(
      idList(`${where}.controls`, input.controls).map((id, i) =>
        context.resolveControl(id, `${where}.controls[${i}]`),
      ),
    ),
  ].sort();
  const criteria = [...new Set(idList(`${where}.criteria`, input.criteria))].sort();
  for (const id of criteria) context.checkCriterion(id, `${where}.criteria`);

  let subject: EvidenceEnvelope['subject'] = null;
  if (input.subject !== undefined && input.subject !== null) {
    if (typeof input.subject !== 'object') fail(`${where}.subject`, 'must be an object with type and id');
    subject = {
      id: text(`${where}.subject.id`, input.subject.id, 200),
      name: optionalText(`${where}.subject.name`, input.subject.name, 200),
      type: text(`${where}.subject.type`, input.subject.type, 60, KIND),
    };
  }

  const effectiveAt = instant(`${where}.effectiveAt`, input.effectiveAt);
  const collectedAt =
    input.collectedAt === undefined ? context.now : instant(`${where}.collectedAt`, input.collectedAt);

  if (input.collector === null || typeof input.collector !== 'object') {
    fail(`${where}.collector`, 'must be an object with type and id');
  }
  const collectorType = input.collector.type;
  if (!(collectorTypes as readonly unknown[]).includes(collectorType)) {
    fail(`${where}.collector.type`, `must be one of ${collectorTypes.join(', ')}`);
  }
  const collector = {
    id: text(`${where}.collector.id`, input.collector.id, 200),
    name: optionalText(`${where}.collector.name`, input.collector.name, 200),
    type: collectorType,
  };

  let staleAfter: string | null = null;
  const hasTtl = input.ttlSeconds !== undefined && input.ttlSeconds !== null;
  const hasStaleAfter = input.staleAfter !== undefined && input.staleAfter !== null;
  if (hasTtl && hasStaleAfter) fail(`${where}.ttlSeconds`, 'give ttlSeconds or staleAfter, not both');
  if (hasTtl) {
    const ttl = input.ttlSeconds;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > maxTtlSeconds) {
      fail(`${where}.ttlSeconds`, `must be a whole number of seconds from 1 to ${maxTtlSeconds}`);
    }
    staleAfter = new Date(Date.parse(effectiveAt) + ttl * 1000).toISOString();
  } else if (hasStaleAfter) {
    staleAfter = instant(`${where}.staleAfter`, input.staleAfter);
    if (staleAfter < effectiveAt) fail(`${where}.staleAfter`, 'must not be before effectiveAt');
  }

  let blob: EnvelopeBlob | null = null;
  if (input.blob !== undefined && input.blob !== null) {
    if (typeof input.blob !== 'object') fail(`${where}.blob`, 'must be an object with sha256 and mediaType');
    const sha256 = text(`${where}.blob.sha256`, input.blob.sha256, 64);
    if (!SHA256.test(sha256)) fail(`${where}.blob.sha256`, 'must be 64 lowercase hex characters');
    const size = context.blobSize(sha256, `${where}.blob.sha256`);
    if (input.blob.size !== undefined && input.blob.size !== size) {
      fail(`${where}.blob.size`, `is ${input.blob.size} but the uploaded file ${sha256} has ${size} bytes`);
    }
    const fileName = optionalText(`${where}.blob.fileName`, input.blob.fileName, 255);
    if (fileName !== null && /[/\\\u0000-\u001f]/.test(fileName)) {
      fail(`${where}.blob.fileName`, 'must be a plain file name (no path separators or control characters)');
    }
    blob = {
      fileName,
      mediaType: text(`${where}.blob.mediaType`, input.blob.mediaType, 255, MEDIA_TYPE).toLowerCase(),
      sha256,
      size,
    };
  }

  const content =
    input.content instanceof CanonicalContent
      ? input.content
      : new CanonicalContent(`${where}.content`, input.content === undefined ? {} : input.content);
  const contentText = content.text;
  const envelope: EvidenceEnvelope = {
    blob,
    collectedAt,
    collector,
    contentSha256: content.sha256,
    effectiveAt,
    id: randomUUID(),
    kind,
    proves: { controls, criteria },
    staleAfter,
    subject,
    type: envelopeType,
    workspace: workspaceId,
  };
  return { envelope, envelopeText: canonicalize(envelope), contentText };
}

function canonicalContent(where: string, content: unknown): string {
  let canonical: string;
  try {
    canonical = canonicalize(content);
  } catch (error) {
    if (error instanceof AssayError) {
      fail(where, error.message.replace(/^Cannot canonicalize \$/, 'cannot be stored: $'));
    }
    throw error;
  }
  if (Buffer.byteLength(canonical, 'utf8') > maxContentBytes) {
    fail(where, `is larger than ${maxContentBytes} bytes as JSON; upload it as a file (blob) instead`);
  }
  return canonical;
}

/** Parses stored canonical envelope bytes. */
export function parseEnvelope(bytes: Uint8Array | string): EvidenceEnvelope {
  return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
}
