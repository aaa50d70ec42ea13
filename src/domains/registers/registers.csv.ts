/**
 * The CSV form of every register (documented in docs/registers.md). Lists in a cell are separated
 * by semicolons; dates are `2026-03-31` or ISO 8601 date-times with a zone; booleans are
 * true/false. Rows are matched to records by their natural key (a vendor's name, a risk's
 * reference, a policy's title and version…), so importing an export changes nothing.
 */
import { AssayError } from '../../errors.ts';
import { changes } from './changes/changes.csv.ts';
import { continuityTests } from './continuity/continuity.csv.ts';
import { followUpActions, incidents, tabletopExercises } from './incidents/incidents.csv.ts';
import { policies, policyAcknowledgements } from './policies/policies.csv.ts';
import { risks } from './risks/risks.csv.ts';
import type { CsvKind } from './shared/csv.ts';
import { trainingCompletions, trainingCourses } from './training/training.csv.ts';
import { vendorCuecs, vendorDocuments, vendors } from './vendors/vendors.csv.ts';

/** Every register kind, in the order an import of a whole programme should follow. */
export const csvKinds: readonly CsvKind[] = [
  vendors,
  vendorDocuments,
  vendorCuecs,
  risks,
  policies,
  policyAcknowledgements,
  incidents,
  tabletopExercises,
  followUpActions,
  trainingCourses,
  trainingCompletions,
  changes,
  continuityTests,
] as CsvKind[];

export const csvKindNames = csvKinds.map((k) => k.kind);

export function csvKind(name: string): CsvKind {
  const kind = csvKinds.find((k) => k.kind === name);
  if (!kind) {
    throw new AssayError(
      'unsupported_import_kind',
      `unknown register "${name}" (kinds: ${csvKindNames.join(', ')})`,
      {
        field: 'kind',
      },
    );
  }
  return kind;
}
