import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { prepareAuditPackage } from '../../domains/audits/package/export.service.ts';
import { evidenceBlobStore } from '../../domains/evidence/evidence.service.ts';
import { type CommandIO, cliActor, configFrom, globalOptions, output, withDatabase } from '../runtime.ts';

export function registerExportCommand(program: Command, io: CommandIO) {
  program
    .command('export')
    .description(
      'write the auditor package: populations, evidence with inclusion proofs, signed checkpoints, OSCAL, a spreadsheet and a report',
    )
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--period <period>', 'FROM..TO (e.g. 2026-01-01..2026-12-31) or an audit period’s name')
    .requiredOption('--out <file.zip>', 'where to write the zip')
    .action(async (opts: { tenant: string; period: string; out: string }, command: Command) => {
      const options = globalOptions(command);
      const config = configFrom(options);
      const target = resolve(opts.out);
      const partial = `${target}.partial`;
      const result = await withDatabase(config, async (db) => {
        const prepared = await prepareAuditPackage(db, opts.tenant, opts.period, {
          actor: cliActor(),
          blobStore: evidenceBlobStore(config),
          deprovisioningSlaHours: config.deprovisioningSlaHours,
          checkpoint: true,
        });
        try {
          const written = await prepared.write(createWriteStream(partial));
          await rename(partial, target);
          return written;
        } catch (error) {
          await rm(partial, { force: true });
          throw error;
        }
      });
      output(io, options, { out: target, ...result }, (r) =>
        [
          `auditor package written to ${r.out}`,
          `${r.files} files, ${r.summary.evidence.items} evidence items, ${(r.bytes / 1e6).toFixed(1)} MB before compression`,
          `period ${r.summary.period.label} (${r.summary.period.firstDay}..${r.summary.period.lastDay}); checkpoint of ${r.summary.checkpoint.treeSize} entries`,
          `manifest SHA-256 ${r.manifestSha256}; signed with ledger key ${r.summary.checkpoint.keyId}`,
          `check it with: assay verify ${opts.out}`,
        ].join('\n'),
      );
    });
}
