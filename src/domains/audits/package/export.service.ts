/**
 * The auditor package: everything an auditor needs to sample a period's populations and to
 * verify the evidence behind them offline, streamed into one zip (layout in package-format.ts).
 *
 * `prepareAuditPackage` does everything that can fail with a clear error (the period, the
 * checkpoint, readiness) before a byte is written, so the API can still answer with a JSON error;
 * `write` then streams the zip, reading evidence in pages in short transactions of their own.
 */
import { PassThrough, Readable, type Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { sql } from 'kysely';
import type { Database, Trx } from '../../../db/database.ts';
import { AssayError } from '../../../errors.ts';
import type { Actor } from '../../audit/actor.ts';
import { recordAudit } from '../../audit/record-audit.ts';
import { sealAuditTrail } from '../../audit/seal-audit-trail.ts';
import { type Checkpoint, presentCheckpoint } from '../../evidence/checkpoints.ts';
import type { BlobStore } from '../../evidence/core/blob-store.ts';
import { canonicalize, sha256Hex } from '../../evidence/core/canonical-json.ts';
import { signCheckpoint } from '../../evidence/core/checkpoint.ts';
import { MerkleTree } from '../../evidence/core/merkle.ts';
import { erasureBits } from '../../evidence/erasure-record.ts';
import {
  latestCheckpointRow,
  listCheckpointRows,
  readLeafHashes,
} from '../../evidence/evidence.repository.ts';
import { checkpointNow } from '../../evidence/evidence.service.ts';
import { currentSigningKey, type LedgerKey, listLedgerKeys } from '../../evidence/ledger-keys.ts';
import { getWorkspace } from '../../workspaces/workspaces.service.ts';
import { type ResolvedPeriod, resolvePeriod, scopeTemplateIds } from '../periods.service.ts';
import type { Population } from '../populations.ts';
import { type ReadinessReport, readinessReport } from '../readiness.service.ts';
import { buildOscal, type OscalFinding } from './oscal.ts';
import {
  manifestPath,
  type PackageManifest,
  type PackageProof,
  type PackageSummary,
  packageFormat,
  signingContext,
} from './package-format.ts';
import { renderReportHtml } from './report-html.ts';
import { writeSummaryXlsx } from './summary-xlsx.ts';
import { PackageZipWriter } from './zip-writer.ts';

/** Evidence rows read per transaction while streaming. */
const pageSize = 1000;
/** Deviations listed per control in the OSCAL observations (all are in population.csv). */
const oscalDeviations = 50;

export interface ExportOptions {
  actor: Actor;
  blobStore: BlobStore;
  deprovisioningSlaHours: number;
  /**
   * Sign a checkpoint first if the ledger grew since the last one (exports:create), so every
   * evidence item of the period gets a proof. Readers (auditors) export against the latest
   * checkpoint as it is; items appended after it are counted, not included.
   */
  checkpoint: boolean;
  now?: Date;
}

export interface ExportResult {
  file: string;
  summary: PackageSummary;
  manifestSha256: string;
  files: number;
  bytes: number;
}

export interface PreparedPackage {
  /** A file name for the download. */
  fileName: string;
  workspace: { id: string; slug: string; name: string };
  period: ResolvedPeriod;
  write(output: Writable): Promise<ExportResult>;
}

interface EvidenceRow {
  leaf_index: number;
  id: string;
  control_ids: string[];
  envelope_text: string | null;
  content_text: string | null;
  blob_sha256: string | null;
  erased: number;
}

function selectEvidence(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('evidence_items')
    .select([
      'leaf_index',
      'id',
      'control_ids',
      'blob_sha256',
      'erased',
      sql<string | null>`convert_from(envelope, 'UTF8')`.as('envelope_text'),
      sql<string | null>`convert_from(content, 'UTF8')`.as('content_text'),
    ])
    .where('workspace_id', '=', workspaceId);
}

async function findingsOverlapping(
  trx: Trx,
  workspaceId: string,
  period: ResolvedPeriod,
  templates: ReadonlySet<string>,
): Promise<OscalFinding[]> {
  const rows = await trx
    .selectFrom('findings')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('opened_at', '<', period.window.to)
    .where((eb) => eb.or([eb('closed_at', 'is', null), eb('closed_at', '>=', period.window.from)]))
    .orderBy('opened_at')
    .orderBy('id')
    .execute();
  return rows
    .filter((f) => f.control_ids.length === 0 || f.control_ids.some((c) => templates.has(c)))
    .map((f) => ({
      id: f.id,
      checkId: f.check_id,
      controlIds: f.control_ids,
      criteria: f.criteria,
      severity: f.severity,
      status: f.status,
      detail: f.detail,
      subjectKey: f.subject_key,
      openedAt: new Date(f.opened_at).toISOString(),
      closedAt: f.closed_at ? new Date(f.closed_at).toISOString() : null,
      deadline: new Date(f.deadline).toISOString(),
      exceptionId: f.exception_id,
    }));
}

const populationColumns = [
  'occurrence_id',
  'label',
  'status',
  'start',
  'due',
  'detail',
  'evidence_ids',
  'event_ids',
];
/** Occurrences turned into CSV at a time: a population of a million rows is never one string. */
const csvRowsPerChunk = 2000;

/** A population as CSV, produced a chunk of rows at a time as the zip reads it. */
function populationCsv(population: Population): Readable {
  const { occurrences } = population;
  return Readable.from(
    (function* () {
      for (let i = 0; i === 0 || i < occurrences.length; i += csvRowsPerChunk) {
        yield Buffer.from(
          stringify(
            occurrences
              .slice(i, i + csvRowsPerChunk)
              .map((o) => [
                o.id,
                o.label,
                o.status,
                o.start,
                o.due,
                o.detail,
                o.evidenceIds.join(' '),
                o.eventIds.join(' '),
              ]),
            i === 0 ? { header: true, columns: populationColumns } : {},
          ),
        );
      }
    })(),
  );
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export async function prepareAuditPackage(
  database: Database,
  workspaceRef: string,
  periodArg: string,
  options: ExportOptions,
): Promise<PreparedPackage> {
  const now = options.now ?? new Date();
  const workspace = await getWorkspace(database, workspaceRef);
  const period = await resolvePeriod(database, workspace.id, periodArg);
  if (options.checkpoint) {
    // The trail of who did what goes into the ledger first, so the checkpoint covers it too.
    await sealAuditTrail(database, workspace.id);
    await checkpointNow(database, options.actor, workspace.id);
  }

  const ledger = await database.inWorkspace(workspace.id, async (trx) => {
    const latest = await latestCheckpointRow(trx, workspace.id);
    if (!latest) {
      throw new AssayError(
        'checkpoint_not_found',
        `the ledger of "${workspace.slug}" has no signed checkpoint yet: an owner or compliance manager exports ` +
          'first (assay export, or POST …/exports), or runs assay evidence checkpoint',
      );
    }
    const checkpoint = presentCheckpoint(latest);
    const checkpoints = (await listCheckpointRows(trx, workspace.id))
      .map(presentCheckpoint)
      .filter((c) => c.treeSize <= checkpoint.treeSize);
    const keys = await listLedgerKeys(trx, workspace.id);
    const signer = await currentSigningKey(trx, workspace.id, now);
    return { checkpoint, checkpoints, keys, signer };
  });

  const { populations, ...report } = await readinessReport(database, workspace.id, period.window, {
    deprovisioningSlaHours: options.deprovisioningSlaHours,
    now,
    controls: scopeTemplateIds(period),
  });
  const templates = new Set(populations.map((p) => p.templateId));
  const findings = await database.inWorkspace(workspace.id, (trx) =>
    findingsOverlapping(trx, workspace.id, period, templates),
  );
  const ws = { id: workspace.id, slug: workspace.slug, name: workspace.name };
  return {
    fileName: `assay-${workspace.slug}-${period.label.replace(/[^A-Za-z0-9._-]+/g, '_')}.zip`,
    workspace: ws,
    period,
    write: (output) =>
      writePackage(database, output, {
        ...options,
        now,
        workspace: ws,
        period,
        ledger,
        report,
        populations,
        templates,
        findings,
      }),
  };
}

interface WriteInput extends ExportOptions {
  now: Date;
  workspace: { id: string; slug: string; name: string };
  period: ResolvedPeriod;
  ledger: {
    checkpoint: Checkpoint;
    checkpoints: Checkpoint[];
    keys: LedgerKey[];
    signer: LedgerKey & { privateKeyPem: string };
  };
  report: ReadinessReport;
  populations: Population[];
  templates: ReadonlySet<string>;
  findings: OscalFinding[];
}

async function writePackage(database: Database, output: Writable, input: WriteInput): Promise<ExportResult> {
  const writer = await new PackageZipWriter(output).open();
  try {
    return await writeEntries(database, writer, input);
  } catch (error) {
    await writer.abort(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

async function writeEntries(
  database: Database,
  writer: PackageZipWriter,
  input: WriteInput,
): Promise<ExportResult> {
  const { workspace, period, ledger, report, populations, templates } = input;
  const { checkpoint } = ledger;

  for (const population of populations) {
    await writer.addStream(`controls/${population.templateId}/population.csv`, populationCsv(population));
  }

  // Evidence: each envelope under every in-scope control it proves, its payload, its file and
  // its inclusion proof against the checkpoint.
  const leaves = await database.inWorkspace(workspace.id, (trx) =>
    readLeafHashes(trx, workspace.id, checkpoint.treeSize),
  );
  const tree = MerkleTree.fromLeafHashes(leaves);
  const templateList = [...templates];
  const lateIds = [
    ...new Set(
      populations.flatMap((p) =>
        p.occurrences.filter((o) => o.status === 'late').flatMap((o) => o.evidenceIds),
      ),
    ),
  ];
  const blobsWritten = new Set<string>();
  let items = 0;
  const writeItem = async (row: EvidenceRow) => {
    const controls = row.control_ids.filter((c) => templates.has(c));
    const envelopes: string[] = [];
    if (row.envelope_text !== null) {
      for (const control of controls) {
        const path = `controls/${control}/evidence/${row.id}.json`;
        await writer.addBuffer(path, row.envelope_text);
        envelopes.push(path);
      }
    }
    if (row.content_text !== null && (row.erased & erasureBits.content) === 0) {
      for (const control of controls) {
        await writer.addBuffer(`controls/${control}/evidence/${row.id}.content.json`, row.content_text);
      }
    }
    if (
      row.blob_sha256 !== null &&
      (row.erased & erasureBits.blob) === 0 &&
      !blobsWritten.has(row.blob_sha256) &&
      (await input.blobStore.has(row.blob_sha256))
    ) {
      blobsWritten.add(row.blob_sha256);
      await writer.addStream(`blobs/${row.blob_sha256}`, input.blobStore.open(row.blob_sha256));
    }
    const leafIndex = Number(row.leaf_index);
    const proofHex = tree.inclusionProof(leafIndex, checkpoint.treeSize).map((h) => h.toString('hex'));
    const proof: PackageProof = {
      evidenceId: row.id,
      leafIndex,
      treeSize: checkpoint.treeSize,
      leafHash: tree.leafHash(leafIndex).toString('hex'),
      envelopeSha256: row.envelope_text === null ? null : sha256Hex(row.envelope_text),
      proof: proofHex,
      files: {
        'inclusion-proof.txt': proofHex.map((h) => `${h}\n`).join(''),
        'leaf-index.txt': `${leafIndex}\n`,
      },
      envelopes,
    };
    await writer.addBuffer(`ledger/proofs/${row.id}.json`, json(proof));
    items += 1;
  };

  let after = -1;
  for (;;) {
    const rows = (await database.inWorkspace(workspace.id, (trx) =>
      selectEvidence(trx, workspace.id)
        .where('leaf_index', '>', after)
        .where('leaf_index', '<', checkpoint.treeSize)
        .where('effective_at', '>=', period.window.from)
        .where('effective_at', '<', period.window.to)
        .where(sql<boolean>`control_ids && ${sql.val(templateList)}::text[]`)
        .orderBy('leaf_index')
        .limit(pageSize)
        .execute(),
    )) as EvidenceRow[];
    for (const row of rows) await writeItem(row);
    if (rows.length < pageSize) break;
    after = Number(rows.at(-1)!.leaf_index);
  }
  // Evidence that arrived late (after its window, possibly after the period) but that an
  // occurrence relies on.
  for (let i = 0; i < lateIds.length; i += pageSize) {
    const rows = (await database.inWorkspace(workspace.id, (trx) =>
      selectEvidence(trx, workspace.id)
        .where('id', 'in', lateIds.slice(i, i + pageSize))
        .where('leaf_index', '<', checkpoint.treeSize)
        .where((eb) =>
          eb.or([eb('effective_at', '<', period.window.from), eb('effective_at', '>=', period.window.to)]),
        )
        .orderBy('leaf_index')
        .execute(),
    )) as EvidenceRow[];
    for (const row of rows) await writeItem(row);
  }
  const notCheckpointed = await database.inWorkspace(workspace.id, async (trx) => {
    const row = await trx
      .selectFrom('evidence_items')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('workspace_id', '=', workspace.id)
      .where('leaf_index', '>=', checkpoint.treeSize)
      .where('effective_at', '>=', period.window.from)
      .where('effective_at', '<', period.window.to)
      .where(sql<boolean>`control_ids && ${sql.val(templateList)}::text[]`)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  });

  // The ledger: checkpoints, keys, and the recipe's checkpoint files.
  const signingKey = ledger.keys.find((k) => k.keyId === checkpoint.keyId);
  await writer.addBuffer('ledger/checkpoints.json', json(ledger.checkpoints));
  await writer.addBuffer(
    'ledger/public-keys.json',
    json(
      ledger.keys.map((k) => ({
        keyId: k.keyId,
        publicKeyPem: k.publicKeyPem,
        createdAt: k.createdAt,
        retiredAt: k.retiredAt,
      })),
    ),
  );
  await writer.addBuffer('ledger/checkpoint.txt', checkpoint.body);
  await writer.addBuffer('ledger/checkpoint.sig', `${checkpoint.signature}\n`);
  if (signingKey) await writer.addBuffer('ledger/ledger-key.pem', signingKey.publicKeyPem);

  const createdAt = input.now.toISOString();
  const summaryBase: Omit<PackageSummary, 'files'> = {
    format: packageFormat,
    workspace,
    period: {
      label: period.label,
      reportType: period.period?.reportType ?? 'type2',
      firstDay: period.firstDay,
      lastDay: period.lastDay,
      from: period.window.from.toISOString(),
      to: period.window.to.toISOString(),
    },
    checkpoint: {
      treeSize: checkpoint.treeSize,
      rootHash: checkpoint.rootHash,
      issuedAt: checkpoint.issuedAt,
      keyId: checkpoint.keyId,
    },
    createdAt,
    createdBy: input.actor.name
      ? `${input.actor.type}:${input.actor.name}`
      : `${input.actor.type}:${input.actor.id}`,
    evidence: { items, notCheckpointed },
  };

  // Readiness, OSCAL, the spreadsheet and the readable report.
  await writer.addBuffer('readiness.json', json({ ...report, populations: undefined }));
  const deviations = new Map(
    populations.map((p) => [
      p.templateId,
      p.occurrences
        .filter((o) => o.status === 'late' || o.status === 'missing' || o.status === 'failed')
        .slice(0, oscalDeviations)
        .map((o) => ({ label: o.label, status: o.status, detail: o.detail })),
    ]),
  );
  const oscal = buildOscal({
    workspace,
    period: {
      label: period.label,
      reportType: summaryBase.period.reportType,
      from: summaryBase.period.from,
      to: summaryBase.period.to,
    },
    report,
    deviations,
    findings: input.findings,
    generatedAt: createdAt,
  });
  await writer.addBuffer('oscal/assessment-results.json', json(oscal.assessmentResults));
  await writer.addBuffer('oscal/poam.json', json(oscal.poam));
  // The spreadsheet streams straight into the zip: let the zip catch up first so it reads at once.
  await writer.settle();
  const xlsx = new PassThrough();
  await writer.addStream('summary.xlsx', xlsx);
  await writeSummaryXlsx(xlsx, {
    title: `${workspace.name} — ${period.label}`,
    report,
    populations,
    findings: input.findings,
  });
  await writer.settle();
  const scopeNote = period.period
    ? `Scope frozen when the period was declared (${period.period.scope.frozenAt}): categories ${period.period.categories.join(', ')}; ${period.period.scope.controls.length} controls.`
    : 'Scope: the workspace’s active controls when the package was created.';
  await writer.addBuffer(
    'report.html',
    renderReportHtml({ summary: summaryBase, report, populations, findings: input.findings, scopeNote }),
  );
  await writer.settle();

  const summary: PackageSummary = {
    ...summaryBase,
    files: { count: writer.fileCount, listingSha256: writer.listingDigest() },
  };
  const signature: PackageManifest['signature'] = {
    algorithm: 'Ed25519',
    keyId: ledger.signer.keyId,
    value: signCheckpoint(`${signingContext}${canonicalize(summary)}`, ledger.signer.privateKeyPem),
  };
  const head = `{\n  "summary": ${JSON.stringify(summary)},\n  "signature": ${JSON.stringify(signature)},\n  "files": [`;
  const manifest = await writer.finish(manifestPath, head, '\n  ]\n}\n');
  await database.inWorkspace(workspace.id, (trx) =>
    recordAudit(trx, {
      workspaceId: workspace.id,
      actor: input.actor,
      action: 'audit_package.exported',
      targetType: 'audit_period',
      targetId: period.period?.id ?? period.label,
      details: {
        period: period.label,
        files: summary.files.count + 1,
        evidence: items,
        checkpoint: checkpoint.treeSize,
        manifestSha256: manifest.sha256,
      },
    }),
  );
  return {
    file: manifestPath,
    summary,
    manifestSha256: manifest.sha256,
    files: summary.files.count + 1,
    bytes: writer.bytes + manifest.size,
  };
}
