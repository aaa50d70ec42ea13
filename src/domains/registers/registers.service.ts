/**
 * Import and export of the registers as CSV (see registers.csv.ts for the kinds and
 * docs/registers.md for their columns). An import validates every row before writing any, writes
 * them in one transaction with their evidence, then re-evaluates the register's monitors.
 */
import type { Database } from '../../db/database.ts';
import type { Actor } from '../audit/actor.ts';
import { csvKind } from './registers.csv.ts';
import { audit, readContext, registerContext, type WriteOptions } from './shared/context.ts';
import { applyCsv, exportCsv, type ImportSummary, readCsv } from './shared/csv.ts';
import { evaluateRegister } from './shared/evaluate.ts';

export async function exportRegister(
  database: Database,
  workspaceRef: string,
  kindName: string,
): Promise<string> {
  const kind = csvKind(kindName);
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, (trx) => exportCsv(kind, trx, ctx));
}

export async function importRegister(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  kindName: string,
  text: string,
  options: WriteOptions & { fileName?: string | undefined } = {},
): Promise<ImportSummary> {
  const kind = csvKind(kindName);
  const rows = readCsv(kind, text);
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const summary = await database.inWorkspace(ctx.workspaceId, async (trx) => {
    const result = await applyCsv(kind, trx, ctx, rows);
    await audit(trx, ctx, 'registers.imported', 'register', kind.kind, {
      fileName: options.fileName ?? null,
      rows: result.rows,
      created: result.created,
      updated: result.updated,
      unchanged: result.unchanged,
    });
    return result;
  });
  if (summary.created + summary.updated > 0)
    await evaluateRegister(database, ctx, kind.checks, options.evaluate);
  return summary;
}
