import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { evidenceBlobStore } from '../../domains/evidence/evidence-blobs.ts';
import { reachOfUser } from '../../domains/msp/portfolio.service.ts';
import { exportWorkspace, importWorkspace } from '../../domains/portability/portability.service.ts';
import {
  type CommandIO,
  cliActor,
  configFrom,
  globalOptions,
  output,
  requireOption,
  withDatabase,
} from '../runtime.ts';

/** `assay tenant export|import`: a client, whole, to another Assay installation. */
export function registerPortabilityCommands(program: Command, io: CommandIO) {
  const tenant = program.commands.find((c) => c.name() === 'tenant') ?? program.command('tenant');
  tenant
    .command('export')
    .description(
      'export a client workspace whole (data, evidence, ledger, blobs) into a zip with a SHA-256 manifest',
    )
    .argument('<slug>', 'the workspace')
    .option('--out <file>', 'the zip to write')
    .option('--as <email>', 'only if this person reaches the workspace')
    .action(async (slug: string, opts: { out?: string; as?: string }, command: Command) => {
      const options = globalOptions(command);
      const out = requireOption(opts.out, '--out');
      const config = configFrom(options);
      const { zip, manifest } = await withDatabase(config, async (db) =>
        exportWorkspace(
          db,
          evidenceBlobStore(config),
          cliActor(),
          slug,
          opts.as ? await reachOfUser(db, opts.as) : null,
        ),
      );
      writeFileSync(out, zip);
      const summary = {
        out,
        workspace: manifest.workspace.slug,
        tables: manifest.tables,
        blobs: manifest.blobs.length,
        withheld: manifest.withheld,
        bytes: zip.length,
      };
      output(io, options, summary, (s) =>
        [
          `wrote ${s.out}: ${s.workspace}, ${s.tables.reduce((n, t) => n + t.rows, 0)} rows in ${s.tables.length} tables, ${s.blobs} blobs`,
          ...s.withheld.map((w) => `not exported: ${w.table} (${w.rows} rows): ${w.reason}`),
        ].join('\n'),
      );
    });

  tenant
    .command('import')
    .description('import a workspace exported by assay tenant export (same ids; its ledger verifies)')
    .argument('<file>', 'the zip')
    .option('--parent <msp>', 'make it a client of this MSP workspace')
    .action(async (file: string, opts: { parent?: string }, command: Command) => {
      const options = globalOptions(command);
      const config = configFrom(options);
      const result = await withDatabase(config, (db) =>
        importWorkspace(db, evidenceBlobStore(config), cliActor(), file, { parent: opts.parent }),
      );
      output(io, options, result, (r) =>
        [
          `imported ${r.workspace.slug} (${r.workspace.id}): ${r.tables.reduce((n, t) => n + t.rows, 0)} rows in ${r.tables.length} tables, ${r.blobs} blobs`,
          r.signingKeys,
          ...r.withheld.map((w) => `not imported: ${w.table} (${w.rows} rows): ${w.reason}`),
        ].join('\n'),
      );
    });
}
