import { resolve } from 'node:path';
import type { Command } from 'commander';
import { verifyPackage } from '../../domains/audits/package/verify-package.ts';
import { AssayError } from '../../errors.ts';
import { type CommandIO, globalOptions, output } from '../runtime.ts';

export function registerVerifyCommand(program: Command, io: CommandIO) {
  program
    .command('verify')
    .description(
      'check an auditor package offline: every file against the signed manifest, every evidence item against its inclusion proof and the signed checkpoint',
    )
    .argument('<file.zip>', 'the package')
    .action(async (file: string, _opts: unknown, command: Command) => {
      const options = globalOptions(command);
      const result = await verifyPackage(resolve(file));
      if (!result.ok) {
        const failure = result.failure!;
        throw new AssayError(
          'package_verification_failed',
          `${file} does not verify: ${failure.file} ${failure.reason}`,
          { file: failure.file, reason: failure.reason },
        );
      }
      output(io, options, result, (r) =>
        [
          `${file}: OK`,
          `${r.filesChecked} files match the signed manifest; ${r.evidence} evidence envelopes and ${r.proofs} inclusion proofs lead to the signed checkpoint of ${r.summary!.checkpoint.treeSize} entries; ${r.blobs} files`,
          `workspace ${r.summary!.workspace.slug}, period ${r.summary!.period.label} (${r.summary!.period.firstDay}..${r.summary!.period.lastDay})`,
          `signed with ledger key ${r.keyId}: confirm this key id with the client`,
        ].join('\n'),
      );
    });
}
