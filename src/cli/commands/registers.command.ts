import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { csvKinds } from '../../domains/registers/registers.csv.ts';
import { exportRegister, importRegister } from '../../domains/registers/registers.service.ts';
import { AssayError } from '../../errors.ts';
import {
  type CommandIO,
  cliActor,
  configFrom,
  globalOptions,
  output,
  table,
  withDatabase,
} from '../runtime.ts';
import { registerChangeCommands } from './registers-changes.command.ts';
import { registerContinuityCommands } from './registers-continuity.command.ts';
import { registerIncidentCommands } from './registers-incidents.command.ts';
import { registerPolicyCommands } from './registers-policies.command.ts';
import { registerRiskCommands } from './registers-risks.command.ts';
import { registerTrainingCommands } from './registers-training.command.ts';
import { registerVendorCommands } from './registers-vendors.command.ts';

/** `assay vendors|risks|policies|incidents|training|changes|continuity …` and `assay registers export|import`. */
export function registerRegisterCommands(program: Command, io: CommandIO) {
  registerVendorCommands(program, io);
  registerRiskCommands(program, io);
  registerPolicyCommands(program, io);
  registerIncidentCommands(program, io);
  registerTrainingCommands(program, io);
  registerChangeCommands(program, io);
  registerContinuityCommands(program, io);

  const registers = program
    .command('registers')
    .description('CSV import and export of the programme registers');

  registers
    .command('kinds')
    .description('the register kinds and their CSV columns')
    .action(async (_opts: unknown, command: Command) => {
      const options = globalOptions(command);
      const kinds = csvKinds.map((k) => ({
        kind: k.kind,
        register: k.register,
        description: k.description,
        columns: k.columns.map((c) => ({
          header: c.header,
          required: c.required ?? false,
          description: c.description,
        })),
      }));
      output(io, options, { kinds }, (r) =>
        table(
          ['KIND', 'REGISTER', 'COLUMNS'],
          r.kinds.map((k) => [
            k.kind,
            k.register,
            k.columns.map((c) => `${c.header}${c.required === true ? '*' : ''}`).join(','),
          ]),
        ),
      );
    });

  registers
    .command('export')
    .argument('<kind>', `register kind (${csvKinds.map((k) => k.kind).join(', ')})`)
    .argument('[file]', 'where to write the CSV (default: stdout)')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (kind: string, file: string | undefined, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const csv = await withDatabase(configFrom(options), (db) => exportRegister(db, opts.tenant, kind));
      const rows = Math.max(0, csv.split('\n').filter(Boolean).length - 1);
      if (file === undefined || file === '-') {
        if (options.json) output(io, options, { kind, rows, csv }, () => '');
        else io.stdout(csv);
        return;
      }
      writeFileSync(file, csv);
      output(io, options, { kind, rows, file }, (r) => `exported ${r.rows} ${r.kind} rows to ${r.file}`);
    });

  registers
    .command('import')
    .argument('<kind>', 'register kind')
    .argument('<file>', 'the CSV file')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (kind: string, file: string, opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        throw new AssayError('validation_failed', `${file}: no such file`, { field: 'file' });
      }
      const summary = await withDatabase(configFrom(options), (db) =>
        importRegister(db, cliActor(), opts.tenant, kind, text, { fileName: basename(file) }),
      );
      output(
        io,
        options,
        summary,
        (s) =>
          `imported ${s.rows} ${s.kind} rows into ${s.workspace}: ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged`,
      );
    });
}
