import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importKinds } from '../domains/events/event.model.ts';
import { isAssayError } from '../errors.ts';
import { getImporter, importers, parseImportFile } from './registry.ts';
import { countByType, NORTHWIND, OBSERVED_AT } from './shared/testing.ts';

describe('importer registry', () => {
  it('has an importer for every kind', () => {
    assert.deepEqual(Object.keys(importers).sort(), [...importKinds].sort());
    for (const kind of importKinds) assert.equal(getImporter(kind).kind, kind);
  });

  it('refuses an unknown kind, naming the supported ones', () => {
    assert.throws(
      () => getImporter('okta'),
      (error: unknown) =>
        isAssayError(error) &&
        error.code === 'unsupported_import_kind' &&
        /okta-system-log/.test(error.message),
    );
  });

  it('imports every Northwind file by its kind, positions naming the file', async () => {
    const files: [string, string, Record<string, number>][] = [
      ['hr-roster', 'hr_roster.csv', { person: 40, event: 43 }],
      ['okta-system-log', 'okta_system_log.jsonl', { event: 298, entitlement: 1 }],
      ['aws-iam-credential-report', 'iam_credential_report.csv', { identity: 21 }],
      ['aws-cloudtrail', 'cloudtrail.json', { event: 20, entitlement: 1 }],
      ['github-audit-log', 'github_audit_log.jsonl', { event: 28 }],
    ];
    for (const [kind, file, expected] of files) {
      const counts: Record<string, number> = {};
      const records = [];
      for await (const record of parseImportFile(kind, `${NORTHWIND}/${file}`, { observedAt: OBSERVED_AT })) {
        records.push(record);
        assert.equal(record.position.file, file);
      }
      Object.assign(counts, countByType(records));
      assert.deepEqual(counts, expected, file);
    }
  });

  it('rejects a file that cannot be read', async () => {
    await assert.rejects(
      async () => {
        for await (const _ of parseImportFile('ocsf', `${NORTHWIND}/missing.jsonl`)) {
          // drain
        }
      },
      (error: unknown) =>
        isAssayError(error) && error.code === 'import_rejected' && /^missing\.jsonl: /.test(error.message),
    );
  });
});
