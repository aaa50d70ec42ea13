/** Which parts of an entry were erased: the `erased` bit set of evidence_items. */
export const erasureBits = { content: 1, blob: 2, envelope: 4 } as const;

export type ErasedPart = keyof typeof erasureBits;

export function erasedPartNames(bits: number): ErasedPart[] {
  return (Object.keys(erasureBits) as ErasedPart[]).filter((part) => (bits & erasureBits[part]) !== 0);
}

export function erasureBitsOf(parts: Iterable<ErasedPart>): number {
  let bits = 0;
  for (const part of parts) bits |= erasureBits[part];
  return bits;
}

/** The content of a redaction or disposal record: what was erased from which entry, and why. */
export interface ErasureRecordContent {
  evidenceId: string;
  leafIndex: number;
  /** Hex leaf hash of the entry: it stays in the ledger, so every proof still verifies. */
  leafHash: string;
  /** The entry's recorded envelope and content hashes, kept for reference. */
  envelopeSha256: string | null;
  contentSha256: string;
  blobSha256: string | null;
  erased: ErasedPart[];
  reason: string;
  requestedBy: { type: string; id: string; name: string | null };
  /** Disposal only: the retention that elapsed. */
  retention?: { days: number; until: string };
}
