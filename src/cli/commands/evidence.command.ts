import { createReadStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import type { EvidenceInput } from '../../domains/evidence/envelope.ts';
import {
  addEvidence,
  addEvidenceWithFile,
  checkpointNow,
  evidenceBlobStore,
  evidenceFreshness,
  evidenceProof,
  getEvidence,
  ledgerConsistency,
  ledgerStatus,
  listCheckpoints,
  listEvidence,
  rotateKey,
  verifyLedger,
} from '../../domains/evidence/evidence.service.ts';
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
import {
  type AddOptions,
  bad,
  collectorOf,
  inputFromOptions,
  integer,
  mediaTypes,
  parseJson,
} from './evidence-input.ts';
import { registerEvidenceRetentionCommands } from './evidence-retention.command.ts';

function ago(seconds: number): string {
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400 * 2) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function registerEvidenceCommands(program: Command, io: CommandIO) {
  const evidence = program
    .command('evidence')
    .description('the evidence ledger: add, list, prove, verify, erase');

  evidence
    .command('add')
    .description('append evidence (with --file, a file is stored by SHA-256 and referenced)')
    .requiredOption('--tenant <slug>', 'workspace')
    .option(
      '--input <file.json>',
      'a JSON array of evidence items (the API body shape) instead of the options below',
    )
    .option('--kind <kind>', 'what sort of evidence, e.g. access_review.decision')
    .option('--controls <ids>', 'comma-separated control ids it proves, e.g. AC-01,AC-03')
    .option('--criteria <ids>', 'comma-separated criteria it proves, e.g. CC6.1')
    .option('--subject-type <type>', 'person, account, system, vendor…')
    .option('--subject-id <id>', "the subject's id")
    .option('--subject-name <name>', "the subject's name")
    .option('--effective-at <time>', 'when it happened, ISO 8601 (default now)')
    .option('--ttl <duration>', 'stale after this long, e.g. 90d')
    .option('--content <json>', 'the payload, JSON')
    .option('--content-file <file.json>', 'the payload, from a JSON file')
    .option('--collector <type:id>', 'who collected it (default: user:<you>)')
    .option('--file <path>', 'a file to store with it (streamed; any size)')
    .option('--media-type <type>', "the file's media type (default from its extension)")
    .option('--file-name <name>', "the file name to record (default the file's own)")
    .option('--sha256 <hex>', 'refuse the file unless it has this SHA-256')
    .action(async (opts: AddOptions, command: Command) => {
      const options = globalOptions(command);
      const config = configFrom(options);
      const collector = collectorOf(opts.collector);
      let records: Awaited<ReturnType<typeof addEvidence>>;
      if (opts.input !== undefined) {
        if (opts.file !== undefined || opts.kind !== undefined)
          bad('--input', 'give --input alone, or the item options');
        const items = parseJson(readFileSync(opts.input, 'utf8'), opts.input);
        if (!Array.isArray(items)) bad(opts.input, 'expected a JSON array of evidence items');
        const inputs = (items as EvidenceInput[]).map((item) =>
          item && typeof item === 'object' && item.collector === undefined ? { ...item, collector } : item,
        );
        records = await withDatabase(config, (db) => addEvidence(db, cliActor(), opts.tenant, inputs));
      } else {
        const input = inputFromOptions(opts, collector);
        if (opts.file !== undefined) {
          const path = opts.file;
          if (!statSync(path, { throwIfNoEntry: false })?.isFile())
            bad('--file', `${path} is not a readable file`);
          const mediaType =
            opts.mediaType ?? mediaTypes[extname(path).toLowerCase()] ?? 'application/octet-stream';
          records = [
            await withDatabase(config, (db) =>
              addEvidenceWithFile(db, evidenceBlobStore(config), cliActor(), opts.tenant, input, {
                source: createReadStream(path),
                mediaType,
                fileName: opts.fileName ?? basename(path),
                expectedSha256: opts.sha256,
              }),
            ),
          ];
        } else {
          if (opts.sha256 !== undefined || opts.mediaType !== undefined) bad('--sha256', 'only with --file');
          records = await withDatabase(config, (db) => addEvidence(db, cliActor(), opts.tenant, [input]));
        }
      }
      output(
        io,
        options,
        {
          items: records.map((r) => ({
            id: r.id,
            leafIndex: r.leafIndex,
            leafHash: r.leafHash,
            envelopeSha256: r.envelopeSha256,
            envelope: r.envelope,
          })),
        },
        (r) =>
          r.items
            .map(
              (item) =>
                `appended evidence ${item.id} as entry ${item.leafIndex} (envelope sha256 ${item.envelopeSha256})`,
            )
            .join('\n'),
      );
    });

  evidence
    .command('list')
    .description('evidence items, newest first')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--kind <kind>', 'only this kind')
    .option('--control <id>', 'only evidence proving this control (template id)')
    .option('--subject-type <type>', 'only this subject type')
    .option('--subject-id <id>', 'only this subject')
    .option('--stale', 'only stale evidence')
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--before <entry>', 'only entries before this one (the previous page\'s "next")')
    .action(
      async (
        opts: {
          tenant: string;
          kind?: string;
          control?: string;
          subjectType?: string;
          subjectId?: string;
          stale?: boolean;
          limit?: string;
          before?: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const result = await withDatabase(configFrom(options), (db) =>
          listEvidence(db, opts.tenant, {
            kind: opts.kind,
            control: opts.control,
            subjectType: opts.subjectType,
            subjectId: opts.subjectId,
            stale: opts.stale ? true : undefined,
            limit: integer(opts.limit, '--limit'),
            before: integer(opts.before, '--before'),
          }),
        );
        output(io, options, result, (r) =>
          [
            table(
              ['ENTRY', 'ID', 'KIND', 'EFFECTIVE', 'CONTROLS', 'SUBJECT', 'STATE'],
              r.items.map((item) => [
                String(item.leafIndex),
                item.id,
                item.kind,
                item.effectiveAt.slice(0, 16).replace('T', ' '),
                item.controls.join(','),
                item.subject ? `${item.subject.type}:${item.subject.id}` : '',
                item.erased.length > 0 ? `erased (${item.erased.join(',')})` : item.stale ? 'stale' : 'fresh',
              ]),
            ),
            ...(r.next !== null ? [`more: --before ${r.next}`] : []),
          ].join('\n'),
        );
      },
    );

  evidence
    .command('show')
    .description('one item; with --proof its inclusion proof in a signed checkpoint')
    .argument('<id>', 'evidence id')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--proof', 'include the inclusion proof and the checkpoint')
    .option('--tree-size <n>', 'prove against the checkpoint of this size (default the latest)')
    .option(
      '--out <dir>',
      "write the auditor recipe's files (docs/evidence-verification.md) to this directory",
    )
    .action(
      async (
        id: string,
        opts: { tenant: string; proof?: boolean; treeSize?: string; out?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const withProof = opts.proof === true || opts.out !== undefined;
        const result = await withDatabase(configFrom(options), async (db) => ({
          ...(await getEvidence(db, opts.tenant, id)),
          proof: withProof
            ? await evidenceProof(db, opts.tenant, id, { treeSize: integer(opts.treeSize, '--tree-size') })
            : undefined,
        }));
        const written: string[] = [];
        if (opts.out !== undefined && result.proof) {
          mkdirSync(opts.out, { recursive: true });
          for (const [name, text] of Object.entries(result.proof.files)) {
            writeFileSync(join(opts.out, name), text);
            written.push(name);
          }
        }
        output(io, options, { ...result, written }, (r) => {
          const item = r.item;
          const lines = [
            `evidence ${item.id} — entry ${item.leafIndex} of the ledger`,
            `kind: ${item.kind}`,
            `proves: controls ${item.controls.join(', ') || '—'}; criteria ${item.criteria.join(', ') || '—'}`,
            `subject: ${item.subject ? `${item.subject.type} ${item.subject.id}${item.subject.name ? ` (${item.subject.name})` : ''}` : '—'}`,
            `effective: ${item.effectiveAt}   collected: ${item.collectedAt} by ${item.collector.type} ${item.collector.id}`,
            `stale after: ${item.staleAfter ?? 'never'}${item.stale ? ' (STALE)' : ''}`,
            `content sha256: ${item.contentSha256}`,
            `envelope sha256: ${item.envelopeSha256 ?? '(envelope disposed of)'}`,
            `leaf hash: ${item.leafHash}`,
            ...(item.blob
              ? [
                  `file: ${item.blob.fileName ?? '(unnamed)'} ${item.blob.mediaType}, ${item.blob.size} bytes, sha256 ${item.blob.sha256}`,
                ]
              : []),
            ...(item.erased.length > 0
              ? [`erased: ${item.erased.join(', ')} (record at entry ${item.erasedBy})`]
              : []),
            `retained until: ${r.retainedUntil}${r.legalHolds.length > 0 ? `; legal holds: ${r.legalHolds.join(', ')}` : ''}`,
            `content: ${r.content === null ? '(erased)' : JSON.stringify(r.content)}`,
          ];
          if (r.proof) {
            lines.push(
              '',
              `inclusion proof in the checkpoint of size ${r.proof.treeSize} (issued ${r.proof.checkpoint.issuedAt}, key ${r.proof.checkpoint.keyId}):`,
              ...r.proof.proof.map((h) => `  ${h}`),
              `root: ${r.proof.checkpoint.rootHash}`,
            );
          }
          if (r.written.length > 0) {
            lines.push(
              '',
              `wrote ${r.written.join(', ')} to ${opts.out}`,
              `verify with docs/evidence-verification.md: LEAF_INDEX=${item.leafIndex} sh -e recipe.sh`,
            );
          }
          return lines.join('\n');
        });
      },
    );

  evidence
    .command('verify')
    .description(
      'recompute every hash, the tree and every checkpoint; names the first entry that does not match',
    )
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const config = configFrom(options);
      const result = await withDatabase(config, (db) =>
        verifyLedger(db, evidenceBlobStore(config), opts.tenant),
      );
      if (!result.ok) {
        const first = result.firstFailure!;
        for (const failure of result.failures.slice(1, 20)) io.stderr(`assay: also: ${failure.message}\n`);
        throw new AssayError(
          'ledger_verification_failed',
          `the evidence ledger of ${opts.tenant} does not verify (${result.failureCount} problem${result.failureCount === 1 ? '' : 's'}); first: ${first.message}`,
          { firstFailure: first },
        );
      }
      output(io, options, result, (r) =>
        [
          `evidence ledger of ${opts.tenant} verified: ${r.treeSize} entries, ${r.checkpoints} checkpoints, ${r.blobs} files, ${r.erased} erased entries accounted for`,
          `root: ${r.rootHash}`,
          r.latestCheckpoint
            ? `latest checkpoint: size ${r.latestCheckpoint.treeSize}, issued ${r.latestCheckpoint.issuedAt}, key ${r.latestCheckpoint.keyId}`
            : 'no checkpoint yet',
          `keys: ${r.keys.map((k) => `${k.keyId} (${k.createdAt} – ${k.retiredAt ?? 'current'})`).join(', ') || 'none'}`,
        ].join('\n'),
      );
    });

  evidence
    .command('checkpoint')
    .description('sign a checkpoint of the ledger now (with --list, list the checkpoints)')
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--list', 'list checkpoints instead')
    .action(async (opts: { tenant: string; list?: boolean }, command: Command) => {
      const options = globalOptions(command);
      if (opts.list) {
        const checkpoints = await withDatabase(configFrom(options), (db) => listCheckpoints(db, opts.tenant));
        output(io, options, { checkpoints }, (r) =>
          table(
            ['SIZE', 'ISSUED', 'KEY', 'ROOT'],
            r.checkpoints.map((c) => [String(c.treeSize), c.issuedAt, c.keyId, c.rootHash]),
          ),
        );
        return;
      }
      const result = await withDatabase(configFrom(options), (db) =>
        checkpointNow(db, cliActor(), opts.tenant),
      );
      output(io, options, result, (r) =>
        [
          r.created
            ? `signed a checkpoint of ${r.checkpoint.treeSize} entries`
            : `the ledger has not grown since the checkpoint of ${r.checkpoint.treeSize} entries`,
          r.checkpoint.body.trimEnd(),
          `signature: ${r.checkpoint.signature}`,
        ].join('\n'),
      );
    });

  evidence
    .command('consistency')
    .description('RFC 9162 consistency proof between two ledger sizes')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--from <size>', 'the older tree size')
    .option('--to <size>', 'the newer tree size (default the latest checkpoint)')
    .action(async (opts: { tenant: string; from: string; to?: string }, command: Command) => {
      const options = globalOptions(command);
      const result = await withDatabase(configFrom(options), (db) =>
        ledgerConsistency(db, opts.tenant, {
          from: integer(opts.from, '--from')!,
          to: integer(opts.to, '--to'),
        }),
      );
      output(io, options, result, (r) =>
        [
          `the tree of ${r.fromTreeSize} entries (root ${r.fromRootHash}) is a prefix of the tree of ${r.toTreeSize} (root ${r.toRootHash})`,
          'proof:',
          ...r.proof.map((h) => `  ${h}`),
        ].join('\n'),
      );
    });

  registerEvidenceRetentionCommands(evidence, io);

  evidence
    .command('freshness')
    .description('per control: the newest evidence, its age, and whether it is stale')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(async (opts: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const result = await withDatabase(configFrom(options), (db) => evidenceFreshness(db, opts.tenant));
      output(io, options, result, (r) =>
        table(
          ['CONTROL', 'STATUS', 'NEWEST', 'AGE', 'STALE AFTER', 'COUNT'],
          r.controls.map((c) => [
            c.control,
            c.status,
            c.newest ? c.newest.effectiveAt.slice(0, 10) : '',
            c.newest ? ago(c.newest.ageSeconds) : '',
            c.newest?.staleAfter?.slice(0, 10) ?? '',
            String(c.evidenceCount),
          ]),
        ),
      );
    });

  evidence
    .command('keys')
    .description("the ledger's signing keys (with --rotate, retire the current key and make a new one)")
    .requiredOption('--tenant <slug>', 'workspace')
    .option('--rotate', 'rotate the signing key')
    .action(async (opts: { tenant: string; rotate?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const result = await withDatabase(configFrom(options), async (db) => {
        if (opts.rotate) await rotateKey(db, cliActor(), opts.tenant);
        return ledgerStatus(db, opts.tenant);
      });
      output(io, options, result, (r) =>
        [
          `ledger of ${opts.tenant}: ${r.treeSize} entries, root ${r.rootHash}`,
          table(
            ['KEY', 'CREATED', 'RETIRED'],
            r.keys.map((k) => [k.keyId, k.createdAt, k.retiredAt ?? 'current']),
          ),
          ...r.keys.filter((k) => k.retiredAt === null).map((k) => k.publicKeyPem.trimEnd()),
        ].join('\n'),
      );
    });
}
