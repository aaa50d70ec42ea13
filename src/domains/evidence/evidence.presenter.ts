/**
 * What the API and CLI show of an evidence item. Facts come from the stored envelope (the bytes
 * the ledger protects), not from the index columns beside it; only an entry whose envelope was
 * disposed of falls back to those columns.
 */
import { Type } from 'typebox';
import { sha256Hex } from './core/canonical-json.ts';
import { type EvidenceEnvelope, parseEnvelope } from './envelope.ts';
import { erasedPartNames } from './erasure-record.ts';
import type { ItemRow, ItemRowWithContent } from './evidence.repository.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const EvidenceSubjectSchema = Type.Object({
  type: Type.String(),
  id: Type.String(),
  name: Nullable(Type.String()),
});

export const EvidenceBlobSchema = Type.Object({
  sha256: Type.String(),
  size: Type.Integer(),
  mediaType: Type.String(),
  fileName: Nullable(Type.String()),
});

export const EvidenceItemSchema = Type.Object(
  {
    id: Type.String(),
    leafIndex: Type.Integer(),
    kind: Type.String(),
    controls: Type.Array(Type.String()),
    criteria: Type.Array(Type.String()),
    subject: Nullable(EvidenceSubjectSchema),
    effectiveAt: Type.String({ format: 'date-time' }),
    collectedAt: Type.String({ format: 'date-time' }),
    collector: Type.Object({ type: Type.String(), id: Type.String(), name: Nullable(Type.String()) }),
    staleAfter: Nullable(Type.String({ format: 'date-time' })),
    stale: Type.Boolean(),
    contentSha256: Type.String(),
    blob: Nullable(EvidenceBlobSchema),
    leafHash: Type.String(),
    /** SHA-256 of the canonical envelope; null once the envelope was disposed of. */
    envelopeSha256: Nullable(Type.String()),
    erased: Type.Array(Type.String()),
    erasedBy: Nullable(Type.Integer()),
    appendedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'EvidenceItem' },
);

export const EvidenceDetailSchema = Type.Object(
  {
    item: Type.Ref('EvidenceItem'),
    /** The canonical envelope text, byte for byte as recorded (envelope.json). */
    envelope: Nullable(Type.String()),
    /** The payload; null once erased. */
    content: Type.Unknown(),
    retainedUntil: Type.String({ format: 'date-time' }),
    legalHolds: Type.Array(Type.String()),
  },
  { $id: 'EvidenceDetail' },
);

export type EvidenceItemView = {
  id: string;
  leafIndex: number;
  kind: string;
  controls: string[];
  criteria: string[];
  subject: EvidenceEnvelope['subject'];
  effectiveAt: string;
  collectedAt: string;
  collector: EvidenceEnvelope['collector'] | { type: string; id: string; name: string | null };
  staleAfter: string | null;
  stale: boolean;
  contentSha256: string;
  blob: { sha256: string; size: number; mediaType: string; fileName: string | null } | null;
  leafHash: string;
  envelopeSha256: string | null;
  erased: string[];
  erasedBy: number | null;
  appendedAt: string;
};

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

export function presentItem(row: ItemRow, now: Date): EvidenceItemView {
  const envelope = row.envelope_text === null ? null : parseEnvelope(row.envelope_text);
  const staleAfter = envelope ? envelope.staleAfter : iso(row.stale_after);
  const common = {
    id: row.id,
    leafIndex: Number(row.leaf_index),
    stale: staleAfter !== null && Date.parse(staleAfter) <= now.getTime(),
    leafHash: row.leaf_hash_hex,
    envelopeSha256: row.envelope_text === null ? null : sha256Hex(row.envelope_text),
    erased: erasedPartNames(row.erased),
    erasedBy: row.erased_by === null ? null : Number(row.erased_by),
    appendedAt: new Date(row.appended_at).toISOString(),
  };
  if (envelope) {
    return {
      ...common,
      kind: envelope.kind,
      controls: envelope.proves.controls,
      criteria: envelope.proves.criteria,
      subject: envelope.subject,
      effectiveAt: envelope.effectiveAt,
      collectedAt: envelope.collectedAt,
      collector: envelope.collector,
      staleAfter,
      contentSha256: envelope.contentSha256,
      blob: envelope.blob
        ? {
            sha256: envelope.blob.sha256,
            size: envelope.blob.size,
            mediaType: envelope.blob.mediaType,
            fileName: envelope.blob.fileName,
          }
        : null,
    };
  }
  return {
    ...common,
    kind: row.kind,
    controls: row.control_ids,
    criteria: row.criterion_ids,
    subject:
      row.subject_type === null || row.subject_id === null
        ? null
        : { type: row.subject_type, id: row.subject_id, name: row.subject_name },
    effectiveAt: new Date(row.effective_at).toISOString(),
    collectedAt: new Date(row.collected_at).toISOString(),
    collector: { type: row.collector_type, id: row.collector_id, name: null },
    staleAfter,
    contentSha256: row.content_sha256,
    blob:
      row.blob_sha256 === null
        ? null
        : {
            sha256: row.blob_sha256,
            size: Number(row.blob_size),
            mediaType: row.blob_media_type ?? 'application/octet-stream',
            fileName: row.blob_file_name,
          },
  };
}

export function presentDetail(
  row: ItemRowWithContent,
  now: Date,
  extra: { retainedUntil: string; legalHolds: string[] },
) {
  return {
    item: presentItem(row, now),
    envelope: row.envelope_text,
    content: row.content_text === null ? null : JSON.parse(row.content_text),
    retainedUntil: extra.retainedUntil,
    legalHolds: extra.legalHolds,
  };
}
