/**
 * The auditor package's format, shared by the writer (export.service.ts) and the offline
 * verifier (verify-package.ts).
 *
 *   manifest.json                               written last: the signed summary and every file
 *   report.html                                 the readable report (self-contained)
 *   readiness.json                              the readiness report the package was built from
 *   summary.xlsx                                readiness per control, criteria, findings, populations
 *   oscal/assessment-results.json               OSCAL 1.0.6 assessment results
 *   oscal/poam.json                             OSCAL 1.0.6 plan of action and milestones
 *   controls/<template>/population.csv          every occurrence: status, dates, evidence and event ids
 *   controls/<template>/evidence/<id>.json      the evidence envelope, byte for byte as in the ledger
 *   controls/<template>/evidence/<id>.content.json  its payload (unless erased)
 *   blobs/<sha256>                              files the envelopes reference
 *   ledger/checkpoints.json                     the ledger's signed checkpoints up to the one used
 *   ledger/public-keys.json                     the workspace's ledger public keys and lifetimes
 *   ledger/checkpoint.txt, checkpoint.sig, ledger-key.pem   the checkpoint used, for the recipe
 *   ledger/proofs/<id>.json                     inclusion proof of each evidence item
 *
 * The manifest's summary (workspace, period, checkpoint, and the SHA-256 of the file listing) is
 * signed with the workspace's ledger key over `signingContext + canonical JSON of the summary`;
 * the context line keeps a package signature from ever being mistaken for a checkpoint.
 */
export const packageFormat = 'assay.audit-package/v1';
export const signingContext = 'assay-audit-package/v1\n';
export const manifestPath = 'manifest.json';

export interface PackageSummary {
  format: typeof packageFormat;
  workspace: { id: string; slug: string; name: string };
  period: {
    /** The period's name, or FROM..TO. */
    label: string;
    reportType: 'type1' | 'type2';
    /** First and last day, inclusive. */
    firstDay: string;
    lastDay: string;
    /** The window [from, to) in UTC. */
    from: string;
    to: string;
  };
  checkpoint: { treeSize: number; rootHash: string; issuedAt: string; keyId: string };
  createdAt: string;
  createdBy: string;
  evidence: { items: number; notCheckpointed: number };
  files: {
    count: number;
    /** SHA-256 of the lines `<sha256>  <path>\n` of every other file, in manifest order. */
    listingSha256: string;
  };
}

export interface PackageManifest {
  summary: PackageSummary;
  signature: { algorithm: 'Ed25519'; keyId: string; value: string };
  files: { path: string; sha256: string; size: number }[];
}

export interface PackageProof {
  evidenceId: string;
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  /** SHA-256 of the envelope bytes (null when the envelope was erased). */
  envelopeSha256: string | null;
  /** Hex sibling hashes from the leaf upwards (RFC 9162 §2.1.3.1). */
  proof: string[];
  /** The recipe's per-item files (docs/evidence-verification.md), by file name. */
  files: { 'inclusion-proof.txt': string; 'leaf-index.txt': string };
  /** Where the envelope sits in the package (one path per control it proves). */
  envelopes: string[];
}

export const evidencePathPattern =
  /^controls\/([A-Za-z0-9._-]+)\/evidence\/([0-9a-f-]{36})(\.content)?\.json$/;
export const proofPathPattern = /^ledger\/proofs\/([0-9a-f-]{36})\.json$/;
export const blobPathPattern = /^blobs\/([0-9a-f]{64})$/;
