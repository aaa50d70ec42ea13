import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import {
  fulfilRequests,
  importRequestList,
  listRequests,
  type RequestListFormat,
} from '../../domains/audits/requests.service.ts';
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

function formatOf(file: string, given: string | undefined): RequestListFormat {
  const format = (given ?? extname(file).slice(1)).toLowerCase();
  if (format === 'csv' || format === 'xlsx') return format;
  throw new AssayError(
    'validation_failed',
    `format: "${format || file}" — request lists are CSV or XLSX (name the file .csv or .xlsx, or give --format)`,
    { field: 'format' },
  );
}

export function registerRequestCommands(program: Command, io: CommandIO) {
  const requests = program
    .command('requests')
    .description("auditors' request lists (PBC): import, track, fulfil from evidence");

  requests
    .command('import')
    .description(
      'import a request list (CSV or XLSX: request_id, description, controls, criteria, due_date) for a declared period',
    )
    .argument('<file>', 'the list (.csv or .xlsx)')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--period <name>', 'the audit period the list is for')
    .option('--format <format>', 'csv or xlsx (default: from the file name)')
    .action(
      async (file: string, opts: { tenant: string; period: string; format?: string }, command: Command) => {
        const options = globalOptions(command);
        const format = formatOf(file, opts.format);
        const content = await readFile(file);
        const result = await withDatabase(configFrom(options), (db) =>
          importRequestList(db, cliActor(), opts.tenant, opts.period, {
            format,
            content,
            fileName: basename(file),
          }),
        );
        output(io, options, result, (r) =>
          [
            `${r.imported} requests imported for ${r.period} (${r.created} new, ${r.updated} updated)`,
            `${r.fulfilled.length} fulfilled from evidence${r.fulfilled.length > 0 ? `: ${r.fulfilled.join(', ')}` : ''}`,
            `${r.open} open`,
          ].join('\n'),
        );
      },
    );

  requests
    .command('list')
    .description("a period's requests: mapped controls, due dates, status and the evidence that fulfils them")
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--period <name>', 'the audit period')
    .option('--status <status>', 'open or fulfilled')
    .action(async (opts: { tenant: string; period: string; status?: string }, command: Command) => {
      const options = globalOptions(command);
      if (opts.status !== undefined && opts.status !== 'open' && opts.status !== 'fulfilled') {
        throw new AssayError('validation_failed', `status: "${opts.status}" is not open or fulfilled`, {
          field: 'status',
        });
      }
      const status = opts.status as 'open' | 'fulfilled' | undefined;
      const result = await withDatabase(configFrom(options), (db) =>
        listRequests(db, opts.tenant, opts.period, { status }),
      );
      output(io, options, result, (r) =>
        r.requests.length === 0
          ? `no requests for ${r.period}`
          : table(
              ['REQUEST', 'CONTROLS', 'DUE', 'STATUS', 'EVIDENCE', 'DESCRIPTION'],
              r.requests.map((q) => [
                q.ref,
                q.controls.join(','),
                q.dueOn ?? '',
                q.status === 'open' ? (q.overdue ? 'open, overdue' : 'open') : `fulfilled (${q.fulfilment})`,
                String(q.evidenceIds.length),
                q.description.length > 60 ? `${q.description.slice(0, 57)}...` : q.description,
              ]),
            ),
      );
    });

  requests
    .command('fulfil')
    .description(
      'fulfil a request by hand citing evidence, or (no request id) fulfil every open request that evidence now proves',
    )
    .argument('[request]', 'the request id')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--period <name>', 'the audit period')
    .option('--evidence <ids>', 'evidence ids, comma-separated')
    .option('--note <text>', 'a note for the auditor')
    .action(
      async (
        ref: string | undefined,
        opts: { tenant: string; period: string; evidence?: string; note?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        if (ref === undefined && opts.evidence !== undefined) {
          throw new AssayError('validation_failed', 'request: name the request the evidence fulfils', {
            field: 'request',
          });
        }
        const result = await withDatabase(configFrom(options), (db) =>
          fulfilRequests(db, cliActor(), opts.tenant, opts.period, {
            ref,
            evidenceIds: opts.evidence?.split(',').filter((s) => s.trim() !== ''),
            note: opts.note,
          }),
        );
        output(io, options, result, (r) =>
          r.fulfilled.length === 0
            ? `no open request of ${r.period} is proven by evidence yet`
            : `fulfilled in ${r.period}: ${r.fulfilled.join(', ')}`,
        );
      },
    );
}
