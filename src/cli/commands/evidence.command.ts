import { createReadStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { collectorTypes, type EvidenceInput } from '../../domains/evidence/envelope.ts';
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
import {
  disposeEvidence,
  listLegalHolds,
  listRetentionPolicies,
  placeLegalHold,
  redactEvidence,
  releaseLegalHold,
  setRetentionPolicy,
} from '../../domains/evidence/retention.service.ts';
import { AssayError } from '../../errors.ts';
import {
  type CommandIO,
  cliActor,
  configFrom,
  globalOptions,
  output,
  requireOption,
  table,
  withDatabase,
} from '../runtime.ts';

const mediaTypes: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.csv': 'text/csv',
  '.txt': 'text/plain',
  '.json': 'application/json',
  '.zip': 'application/zip',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

function bad(field: string, message: string): never {
  throw new AssayError('validation_failed', `${field}: ${message}`, { field });
}

/** JSON.parse with the place of the error as line and column. */
export function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const offset = jsonErrorOffset(text);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    const found =
      offset >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[offset])}`;
    throw new AssayError(
      'invalid_json',
      `${where}: not valid JSON at line ${line}, column ${column}: ${found}`,
      {
        field: where,
        line,
        column,
        reason: (error as Error).message,
      },
    );
  }
}

/** Offset of the first syntax error in text that JSON.parse rejected (V8 does not always say). */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const ch = text.charCodeAt(i);
      if (ch < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const value = () => {
    space();
    const ch = text[i];
    if (ch === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail();
        string();
        space();
        if (text[i] !== ':') fail();
        i++;
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (ch === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (ch === '"') {
      string();
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (ch === word[0]) {
        literal(word);
        return;
      }
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!number) fail();
    i += number![0].length;
  };
  try {
    value();
    space();
    return i;
  } catch (offset) {
    return Math.min(offset as number, text.length);
  }
}

/** `90d`, `12h`, `30m`, `45s` or plain seconds. */
export function parseDuration(text: string, field: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) bad(field, `"${text}" is not a duration such as 90d, 12h, 30m or 3600`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds < 1) bad(field, 'must be at least one second');
  return seconds;
}

function list(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0);
}

function integer(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) bad(field, `"${value}" is not a whole number`);
  return Number(value);
}

interface AddOptions {
  tenant: string;
  input?: string;
  kind?: string;
  controls?: string;
  criteria?: string;
  subjectType?: string;
  subjectId?: string;
  subjectName?: string;
  effectiveAt?: string;
  ttl?: string;
  content?: string;
  contentFile?: string;
  collector?: string;
  file?: string;
  mediaType?: string;
  fileName?: string;
  sha256?: string;
}

function inputFromOptions(opts: AddOptions, collector: EvidenceInput['collector']): EvidenceInput {
  const kind = requireOption(opts.kind, '--kind');
  if ((opts.subjectType === undefined) !== (opts.subjectId === undefined)) {
    bad('--subject-type', 'give both --subject-type and --subject-id');
  }
  if (opts.content !== undefined && opts.contentFile !== undefined) {
    bad('--content', 'give --content or --content-file, not both');
  }
  let content: unknown = {};
  if (opts.content !== undefined) content = parseJson(opts.content, '--content');
  if (opts.contentFile !== undefined) {
    content = parseJson(readFileSync(opts.contentFile, 'utf8'), opts.contentFile);
  }
  return {
    kind,
    controls: list(opts.controls),
    criteria: list(opts.criteria),
    subject:
      opts.subjectType === undefined
        ? null
        : { type: opts.subjectType, id: opts.subjectId ?? '', name: opts.subjectName ?? null },
    effectiveAt: opts.effectiveAt ?? new Date().toISOString(),
    collector,
    ttlSeconds: opts.ttl === undefined ? null : parseDuration(opts.ttl, '--ttl'),
    content,
  };
}

function collectorOf(value: string | undefined): EvidenceInput['collector'] {
  if (value === undefined) return { type: 'user', id: cliActor().id };
  const at = value.indexOf(':');
  const type = value.slice(0, at);
  if (at < 1 || !(collectorTypes as readonly string[]).includes(type)) {
    bad('--collector', `expected TYPE:ID with TYPE one of ${collectorTypes.join(', ')}`);
  }
  return { type: type as EvidenceInput['collector']['type'], id: value.slice(at + 1) };
}

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
