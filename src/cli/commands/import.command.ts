import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { importKinds } from '../../domains/events/event.model.ts';
import { type ImportProgress, importFile, parseImportKind } from '../../domains/ingest/import.service.ts';
import { AssayError } from '../../errors.ts';
import { type InlineEvaluation, runQueuedEvaluationNow } from '../../jobs/evaluation.ts';
import { type CommandIO, cliActor, configFrom, globalOptions, output, withDatabase } from '../runtime.ts';

function parseColumns(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  const columns: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const [ours, theirs, ...rest] = pair.split('=');
    if (!ours?.trim() || !theirs?.trim() || rest.length > 0) {
      throw new AssayError('validation_failed', `--columns "${pair}": expected our_field=Their Header`, {
        field: '--columns',
      });
    }
    columns[ours.trim()] = theirs.trim();
  }
  return columns;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function registerImportCommand(program: Command, io: CommandIO) {
  program
    .command('import')
    .description(`import a vendor file (kinds: ${importKinds.join(', ')}); gzip is accepted`)
    .argument('<kind>', 'import kind')
    .argument('<file>', 'the file to import')
    .requiredOption('--tenant <slug>', 'workspace')
    .option(
      '--observed-at <time>',
      'when snapshot facts (credential reports, rosters) were true (default: now)',
    )
    .option('--columns <map>', 'HR roster column mapping: our_field=Their Header,…')
    .action(
      async (
        kind: string,
        file: string,
        opts: { tenant: string; observedAt?: string; columns?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        parseImportKind(kind);
        let size: number;
        try {
          const stat = statSync(file);
          if (!stat.isFile()) throw new Error('not a file');
          size = stat.size;
        } catch {
          throw new AssayError('validation_failed', `${file}: no such file`, { field: 'file' });
        }
        const columns = parseColumns(opts.columns);
        const showProgress = !options.json && process.stderr.isTTY === true;
        const onProgress = showProgress
          ? (p: ImportProgress) => {
              const pct = size > 0 ? Math.min(100, Math.floor((p.bytes / size) * 100)) : 100;
              const bar = '#'.repeat(Math.floor(pct / 4)).padEnd(25, '.');
              process.stderr.write(
                `\r[${bar}] ${pct}% ${formatBytes(p.bytes)}/${formatBytes(size)} ${p.records.toLocaleString()} records`,
              );
            }
          : undefined;
        const config = configFrom(options);
        const { summary, checks } = await withDatabase(config, async (db) => {
          const summary = await importFile(db, cliActor(), opts.tenant, kind, createReadStream(file), {
            fileName: basename(file),
            observedAt: opts.observedAt,
            columns,
            onProgress,
          });
          // No worker runs in the CLI: the checks the import triggered are evaluated here, now.
          const checks = await runQueuedEvaluationNow(
            db,
            summary.evaluation,
            cliActor(),
            config.jobLeaseSeconds,
          );
          return { summary, checks };
        });
        if (showProgress) process.stderr.write('\n');
        const { storedEventIds: _ids, ...imported } = summary;
        const result = { ...imported, checks: presentInlineEvaluation(checks) };
        output(io, options, result, (r) =>
          [
            `imported ${r.fileName} (${r.kind}) into ${r.workspace}: ${r.recordsRead} records read`,
            `  events stored ${r.eventsStored}, already present ${r.duplicates}, people ${r.people}, ` +
              `account observations ${r.identities}, entitlement changes ${r.entitlementChanges}`,
            describeInlineEvaluation(checks),
          ].join('\n'),
        );
      },
    );
}

function presentInlineEvaluation(checks: InlineEvaluation) {
  if (checks.status !== 'evaluated') return checks;
  const { summary } = checks;
  return {
    status: checks.status,
    runId: summary.runId,
    asOf: summary.asOf,
    checks: summary.checks,
    failures: summary.failures,
    findingsOpened: summary.findingsOpened,
    findingsClosed: summary.findingsClosed,
    findingsOpen: summary.findingsOpen,
    drift: summary.drift.length,
  };
}

function describeInlineEvaluation(checks: InlineEvaluation): string {
  switch (checks.status) {
    case 'none':
      return '  checks: nothing new to evaluate';
    case 'queued':
      return `  checks: queued as job ${checks.jobId} (${checks.reason})`;
    case 'evaluated': {
      const s = checks.summary;
      return (
        `  checks: ${s.checks} evaluated as of ${s.asOf}, ${s.findingsOpened} findings opened, ` +
        `${s.findingsClosed} closed, ${s.findingsOpen} open, ${s.drift.length} control status changes`
      );
    }
  }
}
