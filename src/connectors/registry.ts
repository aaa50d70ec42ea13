/**
 * The file importers by kind (`assay import KIND FILE`). Parsing only: the caller stores what the
 * importer yields (events deduplicated by `source` + `sourceKey`, facts upserted) and commits or
 * rolls back the batch.
 */
import { basename } from 'node:path';
import {
  type ImportKind,
  type ImportRecord,
  importKinds,
  isImportKind,
} from '../domains/events/event.model.ts';
import { AssayError } from '../errors.ts';
import { parseAwsCloudTrail } from './aws-cloudtrail/aws-cloudtrail.parser.ts';
import { parseAwsIamCredentialReport } from './aws-iam-credential-report/aws-iam-credential-report.parser.ts';
import { parseBambooHr } from './bamboohr/bamboohr.parser.ts';
import { parseGitHubAuditLog } from './github-audit-log/github-audit-log.parser.ts';
import { parseGoogleWorkspaceReports } from './google-workspace-reports/google-workspace-reports.parser.ts';
import { parseHrRoster } from './hr-roster/hr-roster.parser.ts';
import { parseOcsf } from './ocsf/ocsf.parser.ts';
import { parseOktaSystemLog } from './okta-system-log/okta-system-log.parser.ts';
import { openImportFile } from './shared/byte-source.ts';
import type { ImportInput, ParseOptions } from './shared/import-context.ts';
import type { ImportParser } from './shared/importer.ts';

export type { ImportInput, ParseOptions } from './shared/import-context.ts';
export type { ImportParser } from './shared/importer.ts';

export interface Importer {
  kind: ImportKind;
  /** One line for `assay import --help`. */
  description: string;
  parse: ImportParser;
}

export const importers: Readonly<Record<ImportKind, Importer>> = {
  'okta-system-log': {
    kind: 'okta-system-log',
    description: 'Okta System Log events (JSON lines, JSON array or event hook envelope)',
    parse: parseOktaSystemLog,
  },
  'aws-iam-credential-report': {
    kind: 'aws-iam-credential-report',
    description: 'AWS IAM credential report (CSV)',
    parse: parseAwsIamCredentialReport,
  },
  'aws-cloudtrail': {
    kind: 'aws-cloudtrail',
    description: 'AWS CloudTrail log file ({"Records": [...]}, gzipped or not) or JSON lines',
    parse: parseAwsCloudTrail,
  },
  'github-audit-log': {
    kind: 'github-audit-log',
    description: 'GitHub organisation/enterprise audit log (JSON lines or JSON array)',
    parse: parseGitHubAuditLog,
  },
  'google-workspace-reports': {
    kind: 'google-workspace-reports',
    description: 'Google Workspace Admin SDK Reports activities (JSON array, {"items": [...]} or JSON lines)',
    parse: parseGoogleWorkspaceReports,
  },
  'hr-roster': {
    kind: 'hr-roster',
    description: 'HR roster CSV (Assay default header, or any header via the columns mapping)',
    parse: parseHrRoster,
  },
  bamboohr: {
    kind: 'bamboohr',
    description: 'BambooHR custom report (JSON)',
    parse: parseBambooHr,
  },
  ocsf: {
    kind: 'ocsf',
    description: 'OCSF 1.x events (JSON lines or JSON array)',
    parse: parseOcsf,
  },
};

/** The importer for `kind`, or `unsupported_import_kind` naming the kinds there are. */
export function getImporter(kind: string): Importer {
  if (!isImportKind(kind)) {
    throw new AssayError(
      'unsupported_import_kind',
      `unknown import kind "${kind}" (supported: ${importKinds.join(', ')})`,
      { kind, supported: [...importKinds] },
    );
  }
  return importers[kind];
}

/** Parses `input` as `kind`. */
export function parseImport(
  kind: string,
  input: ImportInput,
  options: ParseOptions = {},
): AsyncIterable<ImportRecord> {
  return getImporter(kind).parse(input, options);
}

/**
 * Parses a file as `kind`, streaming it from disk (a missing or unreadable file is
 * `import_rejected`); positions name the file by its base name unless `fileName` is given.
 */
export function parseImportFile(
  kind: string,
  path: string,
  options: ParseOptions = {},
): AsyncIterable<ImportRecord> {
  const importer = getImporter(kind);
  return importer.parse(openImportFile(path), { ...options, fileName: options.fileName ?? basename(path) });
}
