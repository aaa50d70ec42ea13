/**
 * A streaming reader for JSON record files that never holds more than one record in memory.
 *
 * It accepts, and tells apart by itself:
 * - JSON lines (one value per line; a broken line is reported and reading resumes at the next);
 * - a JSON array of records (`[{...}, {...}]`), pretty-printed or not;
 * - an envelope object whose array member holds the records, at a path the importer names
 *   (`{"Records": [...]}` for CloudTrail, `{"data": {"events": [...]}}` for Okta event hooks,
 *   `{"items": [...]}` for Google's activities.list), even when the whole file is one line;
 * - several such documents one after another.
 *
 * It is a small incremental tokenizer over bytes: it tracks strings, escapes and brackets, reads
 * keys only on the path to an envelope, and cuts out each record's bytes, which `JSON.parse`
 * then reads. Each record comes with the 1-based line and 0-based byte offset of its first byte.
 */

const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACK = 0x5b;
const RBRACK = 0x5d;
const QUOTE = 0x22;
const BSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const NL = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;

const MAX_DEPTH = 512;
const MAX_KEY_BYTES = 1024;

export interface JsonItem {
  /** 1-based line of the record's first byte. */
  line: number;
  /** 0-based byte offset of the record's first byte (after decompression). */
  byteOffset: number;
  ok: boolean;
  value?: unknown;
  /**
   * Key path of the array the record was an element of (`[]` for a top-level array,
   * `['Records']` for a CloudTrail envelope); absent for a top-level value (a JSON line).
   */
  container?: readonly string[];
  /** Why the record could not be read (when `ok` is false). */
  error?: string;
  /** True when nothing after this point can be read. */
  fatal?: boolean;
}

export interface JsonReadOptions {
  /** Key paths of envelope arrays whose elements are the records (e.g. `[['Records']]`). */
  envelopes?: readonly (readonly string[])[];
  maxRecordBytes: number;
  /** False to scan every byte, never trying whole JSON lines first (the two must agree). */
  wholeLines?: boolean;
}

// Frame roles
const PLAIN = 0;
const TRACK = 1; // an object on the path to an envelope: its keys are read
const STREAM = 2; // an array whose elements are records

// Frame states (TRACK and STREAM)
const EXPECT_KEY = 0; // TRACK: after '{' or ','; STREAM: expecting an element
const IN_KEY = 1;
const AFTER_KEY = 2;
const EXPECT_VALUE = 3;
const IN_VALUE = 4;
const AFTER_VALUE = 5;

interface Frame {
  close: number;
  role: number;
  state: number;
  path: readonly string[];
  key: string | undefined;
  count: number;
}

function isDelimiter(b: number): boolean {
  return (
    b === SP ||
    b === NL ||
    b === CR ||
    b === TAB ||
    b === COMMA ||
    b === COLON ||
    b === RBRACE ||
    b === RBRACK ||
    b === LBRACE ||
    b === LBRACK ||
    b === QUOTE
  );
}

/** Whether `value` nests no deeper than `limit` arrays and objects. */
function withinDepth(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (limit === 0) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!withinDepth(item, limit - 1)) return false;
    return true;
  }
  for (const key in value) {
    if (!withinDepth((value as Record<string, unknown>)[key], limit - 1)) return false;
  }
  return true;
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((part, index) => part === b[index]);
}

function isStrictPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length < path.length && prefix.every((part, index) => part === path[index]);
}

export class JsonRecordScanner {
  private readonly envelopes: readonly (readonly string[])[];
  private readonly maxRecordBytes: number;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  private stack: Frame[] = [];
  private line = 1;
  private base = 0;
  private started = false;
  private inString = false;
  private escape = false;
  private bare = false;
  private topScalar = false;
  private skipLine = false;
  private dead = false;
  private mode: 'unknown' | 'lines' | 'document' = 'unknown';
  /** First names of the envelope paths: an object with such a member may be an envelope. */
  private readonly envelopeKeys: readonly string[];
  /** Whether whole JSON lines are tried with JSON.parse before the byte-by-byte scan. */
  private wholeLines: boolean;

  // The record being cut out.
  private capturing = false;
  private parts: Uint8Array[] = [];
  private captureFrom = 0;
  private captureLen = 0;
  private oversize = false;
  private itemLine = 0;
  private itemOffset = 0;
  private itemContainer: readonly string[] | undefined;

  // The top-level value being read.
  private topLine = 0;
  private topOffset = 0;

  // The key being read in a TRACK object.
  private keyParts: Uint8Array[] | undefined;
  private keyFrom = 0;
  private keyLen = 0;

  private items: JsonItem[] = [];

  constructor(options: JsonReadOptions) {
    this.envelopes = options.envelopes ?? [];
    this.envelopeKeys = this.envelopes.map((path) => path[0]).filter((key) => key !== undefined);
    this.maxRecordBytes = options.maxRecordBytes;
    this.wholeLines = options.wholeLines ?? true;
  }

  write(chunk: Uint8Array): JsonItem[] {
    this.items = [];
    const n = chunk.length;
    if (this.dead) {
      this.base += n;
      return this.items;
    }
    let i = 0;
    if (!this.started) {
      this.started = true;
      if (n >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3; // UTF-8 BOM
    }
    this.captureFrom = 0;
    this.keyFrom = 0;
    for (; i < n; i++) {
      const b = chunk[i]!;
      if (this.skipLine) {
        if (b === NL) {
          this.skipLine = false;
          this.line++;
        }
        continue;
      }
      if (this.inString) {
        if (this.escape) {
          this.escape = false;
        } else if (b === BSLASH) {
          this.escape = true;
        } else if (b === QUOTE) {
          this.inString = false;
          this.stringEnded(chunk, i);
        } else if (b === NL) {
          this.line++;
          this.newlineInsideValue();
        }
        continue;
      }
      if (this.topScalar) {
        if (b === NL) {
          this.topScalar = false;
          this.finishCapture(chunk, i);
          this.line++;
          // Only line-oriented text has bare values at the top level.
          if (this.mode === 'unknown') this.mode = 'lines';
        }
        continue;
      }
      if (this.bare) {
        if (!isDelimiter(b)) continue;
        this.bare = false;
        this.valueEnded(chunk, i);
      }
      if (b === LBRACE && this.mode === 'lines' && this.wholeLines && this.stack.length === 0) {
        const end = this.wholeLine(chunk, i);
        if (end >= 0) {
          i = end;
          continue;
        }
      }
      switch (b) {
        case SP:
        case TAB:
        case CR:
          break;
        case NL:
          this.line++;
          if (this.stack.length > 0) this.newlineInsideValue();
          break;
        case LBRACE:
        case LBRACK:
          this.open(i, b);
          break;
        case RBRACE:
        case RBRACK:
          this.close(chunk, i, b);
          break;
        case QUOTE:
          this.startValue(i, 'string');
          break;
        case COMMA:
          this.comma(i);
          break;
        case COLON: {
          const top = this.stack[this.stack.length - 1];
          if (top && top.role === TRACK && top.state === AFTER_KEY) top.state = EXPECT_VALUE;
          else if (!top) this.startValue(i, 'bare');
          break;
        }
        default:
          this.startValue(i, 'bare');
      }
      if (this.dead) break;
    }
    if (this.capturing && !this.oversize && this.captureFrom < n) {
      const piece = chunk.subarray(this.captureFrom, n);
      this.captureLen += piece.length;
      if (this.captureLen > this.maxRecordBytes) {
        this.oversize = true;
        this.parts = [];
      } else {
        this.parts.push(piece);
      }
    }
    if (this.keyParts && this.keyFrom < n) {
      const piece = chunk.subarray(this.keyFrom, n);
      this.keyLen += piece.length;
      if (this.keyLen <= MAX_KEY_BYTES) this.keyParts.push(piece);
    }
    this.base += n;
    return this.items;
  }

  end(): JsonItem[] {
    this.items = [];
    if (this.dead) return this.items;
    if (this.topScalar) {
      this.topScalar = false;
      this.finishCapture(undefined, 0);
      return this.items;
    }
    if (this.bare) {
      this.bare = false;
      this.valueEnded(undefined, 0);
    }
    if (this.stack.length > 0 || this.inString) {
      // Point at the record cut short, or at the end when the enclosing array was not closed.
      this.items.push({
        ok: false,
        fatal: true,
        line: this.capturing ? this.itemLine : this.line,
        byteOffset: this.capturing ? this.itemOffset : this.base,
        error: this.capturing
          ? `unexpected end of input at byte ${this.base}: the JSON value starting here is incomplete (truncated file?)`
          : `unexpected end of input at byte ${this.base}: the JSON document started at line ${this.topLine} is not closed (truncated file?)`,
      });
      this.dead = true;
    }
    return this.items;
  }

  /**
   * JSON lines fast path: the object starting at `i` and ending with its line, read by
   * JSON.parse at native speed. Returns the index of the line's end, or -1 when the line is not
   * a plain record wholly within this chunk (cut by the chunk's end, too large, not valid JSON,
   * nested too deep, or possibly an envelope): then the byte scan reads it, and reports it
   * exactly as it always has.
   */
  private wholeLine(chunk: Uint8Array, i: number): number {
    const end = chunk.indexOf(NL, i);
    if (end < 0 || end - i > this.maxRecordBytes) return -1;
    let value: unknown;
    try {
      value = JSON.parse(this.decoder.decode(chunk.subarray(i, end)));
    } catch {
      return -1;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return -1;
    if (this.envelopeKeys.some((key) => Object.hasOwn(value, key))) {
      // A file of envelopes: every line would be parsed twice, so scan them all.
      this.wholeLines = false;
      return -1;
    }
    if (!withinDepth(value, MAX_DEPTH - 1)) return -1;
    this.items.push({ ok: true, line: this.line, byteOffset: this.base + i, value });
    this.line++;
    return end;
  }

  // -------------------------------------------------------------------------------------------

  private beginCapture(i: number, container?: readonly string[]): void {
    this.itemContainer = container;
    this.capturing = true;
    this.parts = [];
    this.captureFrom = i;
    this.captureLen = 0;
    this.oversize = false;
    this.itemLine = this.line;
    this.itemOffset = this.base + i;
  }

  /** Ends the record being cut out at `endExclusive` in `chunk` and reads it. */
  private finishCapture(chunk: Uint8Array | undefined, endExclusive: number): void {
    if (!this.capturing) return;
    this.capturing = false;
    const line = this.itemLine;
    const byteOffset = this.itemOffset;
    if (chunk && !this.oversize) {
      const piece = chunk.subarray(this.captureFrom, endExclusive);
      this.captureLen += piece.length;
      if (this.captureLen > this.maxRecordBytes) this.oversize = true;
      else this.parts.push(piece);
    }
    const parts = this.parts;
    this.parts = [];
    if (this.oversize) {
      this.items.push({
        ok: false,
        line,
        byteOffset,
        error: `record is larger than the limit of ${this.maxRecordBytes} bytes`,
      });
      return;
    }
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      this.items.push({ ok: false, line, byteOffset, error: 'not valid UTF-8 text' });
      return;
    }
    try {
      const value: unknown = JSON.parse(text);
      const item: JsonItem = { ok: true, line, byteOffset, value };
      if (this.itemContainer) item.container = this.itemContainer;
      this.items.push(item);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.items.push({ ok: false, line, byteOffset, error: `invalid JSON: ${reason}` });
    }
  }

  private structuralError(i: number, reason: string): void {
    const line = this.capturing ? this.itemLine : this.line;
    const byteOffset = this.capturing ? this.itemOffset : this.base + i;
    this.capturing = false;
    this.parts = [];
    if (this.mode === 'lines') {
      // One broken line must not take the rest of a JSON-lines file with it.
      this.items.push({ ok: false, line, byteOffset, error: reason });
      this.reset();
      this.skipLine = true;
      return;
    }
    this.items.push({ ok: false, fatal: true, line, byteOffset, error: reason });
    this.dead = true;
  }

  private reset(): void {
    this.stack = [];
    this.inString = false;
    this.escape = false;
    this.bare = false;
    this.capturing = false;
    this.parts = [];
    this.keyParts = undefined;
  }

  /** A line break inside a top-level value. */
  private newlineInsideValue(): void {
    if (this.mode === 'unknown') {
      this.mode = 'document';
      return;
    }
    if (this.mode !== 'lines') return;
    const line = this.capturing ? this.itemLine : this.topLine;
    const byteOffset = this.capturing ? this.itemOffset : this.topOffset;
    this.items.push({
      ok: false,
      line,
      byteOffset,
      error: 'the line ends before the JSON value is complete (truncated record?)',
    });
    this.reset();
  }

  private push(frame: Frame, i: number): boolean {
    if (this.stack.length >= MAX_DEPTH) {
      this.structuralError(i, `JSON nested deeper than ${MAX_DEPTH} levels`);
      return false;
    }
    this.stack.push(frame);
    return true;
  }

  private open(i: number, b: number): void {
    this.startValue(i, b === LBRACE ? 'object' : 'array');
  }

  private startValue(i: number, kind: 'object' | 'array' | 'string' | 'bare'): void {
    const close = kind === 'object' ? RBRACE : RBRACK;
    const top = this.stack[this.stack.length - 1];
    if (!top) {
      // A new top-level value.
      this.topLine = this.line;
      this.topOffset = this.base + i;
      if (kind === 'object') {
        this.beginCapture(i);
        this.push({ close, role: TRACK, state: EXPECT_KEY, path: [], key: undefined, count: 0 }, i);
      } else if (kind === 'array') {
        this.push({ close, role: STREAM, state: EXPECT_KEY, path: [], key: undefined, count: 0 }, i);
      } else {
        // Anything else at the top level is read to the end of its line (and rejected later
        // unless it is valid JSON), so garbage costs one rejection per line.
        this.beginCapture(i);
        this.topScalar = true;
      }
      return;
    }
    if (top.role === STREAM) {
      if (top.state !== EXPECT_KEY) {
        this.structuralError(i, "expected ',' or ']' after an array element");
        return;
      }
      top.state = IN_VALUE;
      this.beginCapture(i, top.path);
      this.startInner(i, kind, close);
      return;
    }
    if (top.role === TRACK) {
      if (kind === 'string' && top.state === EXPECT_KEY) {
        top.state = IN_KEY;
        this.inString = true;
        this.keyParts = [];
        this.keyFrom = i + 1;
        this.keyLen = 0;
        return;
      }
      if (top.state === EXPECT_VALUE && top.key !== undefined) {
        const path = [...top.path, top.key];
        if (kind === 'array' && this.envelopes.some((envelope) => samePath(envelope, path))) {
          // The enclosing object is an envelope: its records are this array's elements.
          this.capturing = false;
          this.parts = [];
          top.state = IN_VALUE;
          this.push({ close, role: STREAM, state: EXPECT_KEY, path, key: undefined, count: 0 }, i);
          return;
        }
        if (kind === 'object' && this.envelopes.some((envelope) => isStrictPrefix(path, envelope))) {
          top.state = IN_VALUE;
          this.push({ close, role: TRACK, state: EXPECT_KEY, path, key: undefined, count: 0 }, i);
          return;
        }
      }
      top.state = IN_VALUE;
      this.startInner(i, kind, close);
      return;
    }
    this.startInner(i, kind, close);
  }

  /** A value whose inside is not interesting: only brackets and strings are followed. */
  private startInner(i: number, kind: 'object' | 'array' | 'string' | 'bare', close: number): void {
    if (kind === 'string') this.inString = true;
    else if (kind === 'bare') this.bare = true;
    else this.push({ close, role: PLAIN, state: 0, path: [], key: undefined, count: 0 }, i);
  }

  private stringEnded(chunk: Uint8Array, i: number): void {
    const top = this.stack[this.stack.length - 1];
    if (!top || top.role === PLAIN) return;
    if (top.role === TRACK && top.state === IN_KEY) {
      const parts = this.keyParts ?? [];
      this.keyParts = undefined;
      if (this.keyLen <= MAX_KEY_BYTES) {
        parts.push(chunk.subarray(this.keyFrom, i));
        try {
          const raw = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(parts));
          top.key = JSON.parse(`"${raw}"`) as string;
        } catch {
          top.key = undefined;
        }
      } else {
        top.key = undefined;
      }
      top.state = AFTER_KEY;
      return;
    }
    this.valueEnded(chunk, i + 1);
  }

  /** A string or bare value ended just before `endExclusive`. */
  private valueEnded(chunk: Uint8Array | undefined, endExclusive: number): void {
    const top = this.stack[this.stack.length - 1];
    if (!top || top.role === PLAIN) return;
    if (top.state !== IN_VALUE) return;
    top.state = AFTER_VALUE;
    if (top.role === STREAM) {
      top.count++;
      this.finishCapture(chunk, endExclusive);
    }
  }

  private close(chunk: Uint8Array, i: number, b: number): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) {
      this.startValue(i, 'bare');
      return;
    }
    if (b !== top.close) {
      this.structuralError(i, `unexpected '${String.fromCharCode(b)}': brackets do not match`);
      return;
    }
    if (top.role === STREAM && top.state === EXPECT_KEY && top.count > 0) {
      this.items.push({
        ok: false,
        line: this.line,
        byteOffset: this.base + i,
        error: "invalid JSON: a ',' is followed by ']' (missing array element)",
      });
    }
    this.stack.pop();
    const parent = this.stack[this.stack.length - 1];
    if (!parent) {
      // A top-level value ended.
      if (this.mode === 'unknown') this.mode = 'lines';
      if (this.capturing) this.finishCapture(chunk, i + 1);
      return;
    }
    if (parent.role === PLAIN || parent.state !== IN_VALUE) return;
    parent.state = AFTER_VALUE;
    if (parent.role === STREAM) {
      parent.count++;
      this.finishCapture(chunk, i + 1);
    }
  }

  private comma(i: number): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) {
      this.startValue(i, 'bare');
      return;
    }
    if (top.role === PLAIN) return;
    if (top.role === TRACK) {
      top.state = EXPECT_KEY;
      top.key = undefined;
      return;
    }
    if (top.state === EXPECT_KEY) {
      this.items.push({
        ok: false,
        line: this.line,
        byteOffset: this.base + i,
        error: "invalid JSON: unexpected ',' (missing array element)",
      });
      return;
    }
    top.state = EXPECT_KEY;
  }
}

/** Reads records from decoded bytes (see `JsonRecordScanner`). */
export async function* readJsonRecords(
  bytes: AsyncIterable<Uint8Array>,
  options: JsonReadOptions,
): AsyncGenerator<JsonItem> {
  const scanner = new JsonRecordScanner(options);
  for await (const chunk of bytes) {
    const items = scanner.write(chunk);
    for (const item of items) {
      yield item;
      if (item.fatal) return;
    }
  }
  for (const item of scanner.end()) yield item;
}
