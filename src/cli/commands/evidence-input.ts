/**
 * Reading the evidence commands' options: JSON with the place of an error, durations, lists,
 * whole numbers, and an evidence item from `evidence add`'s options.
 */
import { readFileSync } from 'node:fs';
import { collectorTypes, type EvidenceInput } from '../../domains/evidence/envelope.ts';
import { AssayError } from '../../errors.ts';
import { cliActor, requireOption } from '../runtime.ts';

export const mediaTypes: Record<string, string> = {
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

export function bad(field: string, message: string): never {
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

export function list(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0);
}

export function integer(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) bad(field, `"${value}" is not a whole number`);
  return Number(value);
}

export interface AddOptions {
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

export function inputFromOptions(opts: AddOptions, collector: EvidenceInput['collector']): EvidenceInput {
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

export function collectorOf(value: string | undefined): EvidenceInput['collector'] {
  if (value === undefined) return { type: 'user', id: cliActor().id };
  const at = value.indexOf(':');
  const type = value.slice(0, at);
  if (at < 1 || !(collectorTypes as readonly string[]).includes(type)) {
    bad('--collector', `expected TYPE:ID with TYPE one of ${collectorTypes.join(', ')}`);
  }
  return { type: type as EvidenceInput['collector']['type'], id: value.slice(at + 1) };
}
