/**
 * `assay evidence redact | delete | hold | retention`: erasure, disposal, legal holds and
 * retention policies (the rules themselves live in retention.service.ts).
 */
import type { Command } from 'commander';
import { evidenceBlobStore } from '../../domains/evidence/evidence.service.ts';
import {
  disposeEvidence,
  listLegalHolds,
  listRetentionPolicies,
  placeLegalHold,
  redactEvidence,
  releaseLegalHold,
  setRetentionPolicy,
} from '../../domains/evidence/retention.service.ts';
import {
  type CommandIO,
  cliActor,
  configFrom,
  globalOptions,
  output,
  table,
  withDatabase,
} from '../runtime.ts';
import { bad, integer } from './evidence-input.ts';

/** Registers the erasure and retention subcommands under `evidence`. */
export function registerEvidenceRetentionCommands(evidence: Command, io: CommandIO) {
  evidence
    .command('redact')
    .description(
      'privacy erasure: remove the payload and file (and with --envelope the envelope); the ledger still verifies',
    )
    .argument('<id>', 'evidence id')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--reason <text>', 'why (recorded in the ledger)')
    .option('--envelope', 'also erase the envelope (it names the subject)')
    .action(
      async (id: string, opts: { tenant: string; reason: string; envelope?: boolean }, command: Command) => {
        const options = globalOptions(command);
        const config = configFrom(options);
        const result = await withDatabase(config, (db) =>
          redactEvidence(db, evidenceBlobStore(config), cliActor(), opts.tenant, id, {
            reason: opts.reason,
            parts: opts.envelope ? ['envelope'] : undefined,
          }),
        );
        output(
          io,
          options,
          result,
          (r) =>
            `redacted ${r.erased.join(', ')} of evidence ${r.evidenceId} (entry ${r.leafIndex}); recorded as entry ${r.record.leafIndex}`,
        );
      },
    );

  evidence
    .command('delete')
    .description('dispose of an item whose retention has elapsed (refused under legal hold)')
    .argument('<id>', 'evidence id')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--reason <text>', 'why (recorded in the ledger)')
    .action(async (id: string, opts: { tenant: string; reason: string }, command: Command) => {
      const options = globalOptions(command);
      const config = configFrom(options);
      const result = await withDatabase(config, (db) =>
        disposeEvidence(db, evidenceBlobStore(config), cliActor(), opts.tenant, id, { reason: opts.reason }),
      );
      output(
        io,
        options,
        result,
        (r) =>
          `disposed of evidence ${r.evidenceId} (entry ${r.leafIndex}); recorded as entry ${r.record.leafIndex}`,
      );
    });

  const hold = evidence
    .command('hold')
    .description('legal holds: while active, matching evidence cannot be erased');
  hold
    .command('add')
    .description('place a hold (every given criterion must match; none given: all evidence)')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--reason <text>', 'why')
    .option('--evidence <id>', 'one item')
    .option('--kind <kind>', 'evidence of this kind')
    .option('--control <id>', 'evidence proving this control')
    .option('--subject <type:id>', 'evidence about this subject')
    .action(
      async (
        opts: {
          tenant: string;
          reason: string;
          evidence?: string;
          kind?: string;
          control?: string;
          subject?: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        let subject: { type: string; id: string } | undefined;
        if (opts.subject !== undefined) {
          const at = opts.subject.indexOf(':');
          if (at < 1) bad('--subject', 'expected TYPE:ID, e.g. person:emp-1042');
          subject = { type: opts.subject.slice(0, at), id: opts.subject.slice(at + 1) };
        }
        const result = await withDatabase(configFrom(options), (db) =>
          placeLegalHold(db, cliActor(), opts.tenant, {
            reason: opts.reason,
            evidenceId: opts.evidence,
            kind: opts.kind,
            control: opts.control,
            subject,
          }),
        );
        output(io, options, result, (h) => `placed legal hold ${h.id}`);
      },
    );
  hold
    .command('list')
    .description('active legal holds (with --all, released ones too)')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--all', 'include released holds')
    .action(async (opts: { tenant: string; all?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const holds = await withDatabase(configFrom(options), (db) =>
        listLegalHolds(db, opts.tenant, { includeReleased: opts.all === true }),
      );
      output(io, options, { holds }, (r) =>
        table(
          ['ID', 'MATCHES', 'REASON', 'PLACED', 'RELEASED'],
          r.holds.map((h) => [
            h.id,
            [
              h.evidenceId && `evidence ${h.evidenceId}`,
              h.kind && `kind ${h.kind}`,
              h.control && `control ${h.control}`,
              h.subject && `subject ${h.subject.type}:${h.subject.id}`,
            ]
              .filter(Boolean)
              .join(', ') || 'all evidence',
            h.reason,
            `${h.placedAt.slice(0, 10)} by ${h.placedBy}`,
            h.releasedAt ? `${h.releasedAt.slice(0, 10)} by ${h.releasedBy}` : '',
          ]),
        ),
      );
    });
  hold
    .command('release')
    .description('release a legal hold')
    .argument('<hold>', 'hold id')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--reason <text>', 'why')
    .action(async (holdId: string, opts: { tenant: string; reason: string }, command: Command) => {
      const options = globalOptions(command);
      const result = await withDatabase(configFrom(options), (db) =>
        releaseLegalHold(db, cliActor(), opts.tenant, holdId, { reason: opts.reason }),
      );
      output(io, options, result, (h) => `released legal hold ${h.id}`);
    });

  const retention = evidence.command('retention').description('minimum retention per evidence kind');
  retention
    .command('show')
    .description('retention policies (default 730 days)')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const result = await withDatabase(configFrom(options), (db) => listRetentionPolicies(db, opts.tenant));
      output(io, options, result, (r) =>
        [
          `default: ${r.defaultDays} days`,
          ...r.policies.filter((p) => p.kind !== '*').map((p) => `${p.kind}: ${p.days} days`),
        ].join('\n'),
      );
    });
  retention
    .command('set')
    .description('keep evidence of a kind at least N days (--kind "*": the default)')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--kind <kind>', 'evidence kind, or * for the workspace default')
    .requiredOption('--days <n>', 'days after the evidence happened')
    .action(async (opts: { tenant: string; kind: string; days: string }, command: Command) => {
      const options = globalOptions(command);
      const result = await withDatabase(configFrom(options), (db) =>
        setRetentionPolicy(db, cliActor(), opts.tenant, {
          kind: opts.kind,
          days: integer(opts.days, '--days')!,
        }),
      );
      output(io, options, result, () => `evidence of kind ${opts.kind} is kept at least ${opts.days} days`);
    });
}
