/**
 * The auditor package over a year of history: its layout, populations and proofs; both OSCAL
 * documents validate against the official NIST 1.0.6 schemas; `assay verify` accepts it offline
 * and, for any file rewritten in the zip, fails naming that file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import ExcelJS from 'exceljs';
import { cliActor } from '../../src/cli/runtime.ts';
import { prepareAuditPackage } from '../../src/domains/audits/package/export.service.ts';
import { verifyPackage } from '../../src/domains/audits/package/verify-package.ts';
import { leafHash, verifyInclusion } from '../../src/domains/evidence/core/merkle.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { sharedPath } from '../helpers/shared.ts';
import { seedYear } from './fixtures.ts';
import { readZip, writeZip } from './zip-files.ts';

const now = new Date('2026-03-01T00:00:00Z');

function validator(schemaFile: string) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const validate = ajv.compile(
    JSON.parse(readFileSync(sharedPath(`standards/oscal-1.0.6/${schemaFile}`), 'utf8')),
  );
  /** The schema errors, or null when the document is valid. */
  return (document: unknown): string | null =>
    validate(document) ? null : JSON.stringify(validate.errors?.slice(0, 5), null, 2);
}

test('the auditor package: layout, OSCAL valid against the NIST schemas, verified offline, tampering named', async (t) => {
  const { database, config } = await createTestDatabase(t);
  const seeded = await seedYear(database);
  const dir = mkdtempSync(join(tmpdir(), 'assay-package-'));
  const file = join(dir, 'fy2025.zip');
  const prepared = await prepareAuditPackage(database, 'acme', 'FY2025', {
    actor: cliActor(),
    blobStore: seeded.blobStore,
    deprovisioningSlaHours: config.deprovisioningSlaHours,
    checkpoint: true,
    now,
  });
  const result = await prepared.write(createWriteStream(file));
  assert.equal(result.summary.period.label, 'FY2025');
  // The review sign-offs, the review report, and the check results of the year-end run.
  assert.ok(result.summary.evidence.items >= 4);
  assert.equal(result.summary.evidence.notCheckpointed, 0);

  const files = await readZip(file);
  const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
  assert.equal([...files.keys()].at(-1), 'manifest.json', 'the manifest comes last');
  // Every other file is listed with its real hash and size.
  assert.equal(manifest.files.length, files.size - 1);
  for (const entry of manifest.files) {
    const bytes = files.get(entry.path);
    assert.ok(bytes, `${entry.path} is in the zip`);
    assert.equal(entry.sha256, createHash('sha256').update(bytes).digest('hex'), entry.path);
    assert.equal(entry.size, bytes.length);
  }
  for (const name of [
    'report.html',
    'summary.xlsx',
    'readiness.json',
    'oscal/assessment-results.json',
    'oscal/poam.json',
    'ledger/checkpoints.json',
    'ledger/public-keys.json',
    'ledger/checkpoint.txt',
    'ledger/checkpoint.sig',
    'ledger/ledger-key.pem',
    'controls/AC-05/population.csv',
    'controls/AC-04/population.csv',
    'controls/CHG-01/population.csv',
  ]) {
    assert.ok(files.has(name), `${name} is in the package`);
  }

  // Populations: the missed Q2 review, with the evidence behind the others.
  const reviews = files.get('controls/AC-05/population.csv')!.toString('utf8').trim().split('\n');
  assert.equal(reviews[0], 'occurrence_id,label,status,start,due,detail,evidence_ids,event_ids');
  assert.equal(reviews.length, 5);
  assert.match(reviews[2]!, /^2025-Q2,2025-Q2,missing,/);
  assert.ok(reviews[1]!.includes(seeded.reviewEvidenceIds[0]!));
  const merges = files.get('controls/CHG-01/population.csv')!.toString('utf8').trim().split('\n').slice(1);
  assert.equal(merges.length, 10);
  assert.equal(merges.filter((l) => l.includes(',failed,')).length, 3);
  assert.ok(
    merges.every((l) => /,\d+$/.test(l)),
    'each merge names its event id',
  );

  // Evidence: the envelope byte for byte, its payload, its file, and a proof to the checkpoint.
  const id = seeded.fileEvidenceId;
  const envelope = files.get(`controls/AC-05/evidence/${id}.json`)!;
  const parsed = JSON.parse(envelope.toString('utf8'));
  assert.equal(parsed.id, id);
  assert.equal(
    createHash('sha256')
      .update(files.get(`controls/AC-05/evidence/${id}.content.json`)!)
      .digest('hex'),
    parsed.contentSha256,
  );
  assert.equal(
    files.get(`blobs/${parsed.blob.sha256}`)!.toString('utf8'),
    '%PDF-1.4 signed access review, Q3 2025\n',
  );
  const proof = JSON.parse(files.get(`ledger/proofs/${id}.json`)!.toString('utf8'));
  const checkpoints = JSON.parse(files.get('ledger/checkpoints.json')!.toString('utf8'));
  const used = checkpoints.find((c: { treeSize: number }) => c.treeSize === proof.treeSize);
  assert.equal(used.rootHash, manifest.summary.checkpoint.rootHash);
  assert.ok(
    verifyInclusion(
      proof.leafIndex,
      proof.treeSize,
      leafHash(envelope),
      proof.proof.map((h: string) => Buffer.from(h, 'hex')),
      Buffer.from(used.rootHash, 'hex'),
    ),
  );
  assert.equal(proof.files['leaf-index.txt'], `${proof.leafIndex}\n`);
  assert.equal(files.get('ledger/checkpoint.txt')!.toString('utf8'), used.body);

  // OSCAL: both documents validate against the official schemas, and say what the period found.
  const ar = JSON.parse(files.get('oscal/assessment-results.json')!.toString('utf8'));
  const poam = JSON.parse(files.get('oscal/poam.json')!.toString('utf8'));
  const validateAr = validator('oscal_assessment-results_schema.json');
  const validatePoam = validator('oscal_poam_schema.json');
  assert.equal(validateAr(ar), null);
  assert.equal(validatePoam(poam), null);
  // The validators do reject what breaks the schema.
  assert.notEqual(
    validateAr({ 'assessment-results': { ...ar['assessment-results'], uuid: 'not-a-uuid' } }),
    null,
  );
  assert.notEqual(
    validatePoam({ 'plan-of-action-and-milestones': { uuid: poam['plan-of-action-and-milestones'].uuid } }),
    null,
  );
  const resultDoc = ar['assessment-results'].results[0];
  assert.equal(resultDoc.start, '2025-01-01T00:00:00.000Z');
  assert.equal(resultDoc.end, '2026-01-01T00:00:00.000Z');
  const reviewed = resultDoc['reviewed-controls']['control-selections'][0]['include-controls'].map(
    (c: { 'control-id': string }) => c['control-id'],
  );
  assert.ok(reviewed.includes('CC6.2') && reviewed.includes('CC8.1'), 'criteria are the control references');
  const cc8 = resultDoc.findings.find(
    (f: { target: { 'target-id': string } }) => f.target['target-id'] === 'CC8.1',
  );
  assert.equal(cc8.target.status.state, 'not-satisfied');
  const changeRisk = resultDoc.risks.find((r: { title: string }) => r.title.startsWith('CHG-01'));
  assert.ok(changeRisk, 'unapproved merges are a risk');
  assert.ok(
    poam['plan-of-action-and-milestones']['poam-items'].some((i: { title: string }) =>
      i.title.includes('CHG-01'),
    ),
  );
  assert.ok(
    resultDoc.risks.some((r: { props: { name: string }[] }) => r.props.some((p) => p.name === 'finding')),
    'findings of the period are risks too',
  );
  const again = await prepareAuditPackage(database, 'acme', 'FY2025', {
    actor: cliActor(),
    blobStore: seeded.blobStore,
    deprovisioningSlaHours: config.deprovisioningSlaHours,
    checkpoint: true,
    now,
  });
  const second = join(dir, 'again.zip');
  await again.write(createWriteStream(second));
  const againAr = JSON.parse((await readZip(second)).get('oscal/assessment-results.json')!.toString('utf8'));
  assert.equal(againAr['assessment-results'].uuid, ar['assessment-results'].uuid, 'UUIDs are stable');

  // The spreadsheet and the report.
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(files.get('summary.xlsx')! as unknown as ArrayBuffer);
  assert.deepEqual(
    workbook.worksheets.map((w) => w.name),
    ['Readiness', 'Criteria', 'Findings', 'Populations', 'Deviations'],
  );
  const readinessRows = workbook.getWorksheet('Readiness')!.getSheetValues();
  assert.ok(readinessRows.some((r) => Array.isArray(r) && r[1] === 'AC-05' && r[9] === 1));
  const html = files.get('report.html')!.toString('utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /FY2025/);
  assert.doesNotMatch(html, /<script|<link|src="http|href="http/, 'self-contained: no external assets');

  // Offline verification.
  const ok = await verifyPackage(file);
  assert.equal(ok.ok, true, JSON.stringify(ok.failure));
  assert.equal(ok.proofs, result.summary.evidence.items);
  assert.ok(ok.evidence >= ok.proofs);
  assert.equal(ok.blobs, 1);
  assert.equal(ok.filesChecked, files.size);

  // Rewriting any one file makes verify fail, naming that file: one file of every kind.
  const tampered = join(dir, 'tampered.zip');
  const kinds = new Map<string, string>();
  for (const name of files.keys()) {
    const kind = name
      .replace(/^controls\/[^/]+\//, 'controls/*/')
      .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, '*')
      .replace(/^blobs\/.*/, 'blobs/*');
    if (!kinds.has(kind)) kinds.set(kind, name);
  }
  assert.ok(kinds.size >= 15, [...kinds.keys()].join(' '));
  for (const name of kinds.values()) {
    const copy = new Map(files);
    const bytes = Buffer.from(copy.get(name)!);
    if (bytes.length === 0) continue;
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
    copy.set(name, bytes);
    await writeZip(tampered, copy);
    const verdict = await verifyPackage(tampered);
    assert.equal(verdict.ok, false, `${name} changed, yet the package verified`);
    assert.equal(verdict.failure?.file, name, `${name}: ${verdict.failure?.reason}`);
  }

  // Changing a file and its manifest line breaks the manifest's signature.
  const resigned = new Map(files);
  const csv = Buffer.from(
    files.get('controls/AC-05/population.csv')!.toString('utf8').replace(',missing,', ',operated,'),
  );
  resigned.set('controls/AC-05/population.csv', csv);
  const fixedManifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
  const line = fixedManifest.files.find((f: { path: string }) => f.path === 'controls/AC-05/population.csv');
  line.sha256 = createHash('sha256').update(csv).digest('hex');
  line.size = csv.length;
  resigned.set('manifest.json', Buffer.from(JSON.stringify(fixedManifest)));
  await writeZip(tampered, resigned);
  const forged = await verifyPackage(tampered);
  assert.equal(forged.failure?.file, 'manifest.json');

  // A file slipped in, or one taken out.
  const extra = new Map(files);
  extra.set('controls/AC-05/evidence/notes.txt', Buffer.from('trust me'));
  await writeZip(tampered, extra);
  assert.equal((await verifyPackage(tampered)).failure?.file, 'controls/AC-05/evidence/notes.txt');
  const fewer = new Map(files);
  fewer.delete(`ledger/proofs/${id}.json`);
  await writeZip(tampered, fewer);
  const missing = await verifyPackage(tampered);
  assert.equal(missing.ok, false);
  assert.match(missing.failure!.file, new RegExp(`${id}`));
});
