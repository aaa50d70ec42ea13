import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type JsonItem, JsonRecordScanner } from './json-records.ts';
import { parseIsoDateTime } from './values.ts';

function scan(
  text: string | Uint8Array,
  envelopes: string[][] = [],
  size = 5,
  maxRecordBytes = 1 << 20,
): JsonItem[] {
  const scanner = new JsonRecordScanner({ envelopes, maxRecordBytes });
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const out: JsonItem[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(...scanner.write(bytes.subarray(at, at + size)));
  out.push(...scanner.end());
  return out;
}

const values = (items: JsonItem[]) => items.map((item) => (item.ok ? item.value : `ERR ${item.error}`));

describe('JSON record scanner', () => {
  it('yields the same records from JSON lines, an array and an envelope, whatever the chunk size', () => {
    const records = fc.array(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 })), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(records, fc.integer({ min: 1, max: 64 }), (list, size) => {
        // JSON.parse(JSON.stringify(x)) is the reference: -0 becomes 0 and so on.
        const expected = list.map((record) => JSON.parse(JSON.stringify(record)));
        const jsonl = list.map((record) => JSON.stringify(record)).join('\n');
        assert.deepEqual(values(scan(jsonl, [], size)), expected);
        assert.deepEqual(values(scan(JSON.stringify(list, null, 2), [], size)), expected);
        const envelope = JSON.stringify({ meta: { Records: 1 }, Records: list, after: [1, { x: '}' }] });
        assert.deepEqual(values(scan(envelope, [['Records']], size)), expected);
      }),
      { numRuns: 300 },
    );
  });

  it('reads JSON lines whole exactly as its byte scan does: records, broken lines, envelopes, limits (property)', () => {
    const line = fc.oneof(
      fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 3 })).map((r) => JSON.stringify(r)),
      fc.constant('{"a":1} {"b":2}'),
      fc.constant('{"a":[1,2}'),
      fc.constant('{"a":"\u00e9"}\r'),
      fc.constant('{"Records":[{"x":1},{"y":2}]}'),
      fc.constant(`{"deep":${'['.repeat(600)}${']'.repeat(600)}}`),
      fc.constant(`{"edge":${'['.repeat(510)}${']'.repeat(510)}}`),
      fc.constant(`{"big":"${'x'.repeat(2100)}"}`),
      fc.constant('  {"indented":true}  '),
      fc.constant('[{"inArray":1}]'),
      fc.constant('not json'),
      fc.constant(''),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.integer({ min: 16, max: 4096 }), (lines, size) => {
        const bytes = Buffer.from(lines.join('\n'), 'utf8');
        const read = (wholeLines: boolean, envelopes: string[][]) => {
          const scanner = new JsonRecordScanner({ envelopes, maxRecordBytes: 2048, wholeLines });
          const out: JsonItem[] = [];
          for (let at = 0; at < bytes.length; at += size)
            out.push(...scanner.write(bytes.subarray(at, at + size)));
          out.push(...scanner.end());
          return out;
        };
        for (const envelopes of [[], [['Records']]]) {
          assert.deepEqual(read(true, envelopes), read(false, envelopes));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('finds a nested envelope by its exact key path, escapes and all', () => {
    const text = '{"data": {"other": [9], "ev\\u0065nts": [{"a": "]"}, {"b": "\\"}"}]}, "tail": 1}';
    const items = scan(text, [['data', 'events']], 3);
    assert.deepEqual(values(items), [{ a: ']' }, { b: '"}' }]);
    assert.deepEqual(items[0]?.container, ['data', 'events']);
    // a record that merely has such a key elsewhere is a record
    assert.deepEqual(values(scan('{"events": [1]}', [['data', 'events']])), [{ events: [1] }]);
    assert.equal(scan('{"events": [1]}', [['data', 'events']])[0]?.container, undefined);
  });

  it('reports lines and byte offsets of each record, counting a BOM', () => {
    const items = scan('\ufeff[\n  {"a": 1},\n  {"b": 2}\n]\n');
    assert.deepEqual(
      items.map((item) => [item.line, item.byteOffset]),
      [
        [2, 7],
        [3, 19],
      ],
    );
  });

  it('rejects invalid UTF-8 and over-large records one by one', () => {
    const bad = Buffer.concat([
      Buffer.from('{"a":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}\n{"b":1}\n'),
    ]);
    assert.deepEqual(values(scan(bad)), ['ERR not valid UTF-8 text', { b: 1 }]);
    const big = `{"a":"${'x'.repeat(200)}"}\n{"b":1}\n`;
    assert.deepEqual(values(scan(big, [], 16, 100)), [
      'ERR record is larger than the limit of 100 bytes',
      { b: 1 },
    ]);
  });

  it('stops at nesting deeper than its limit instead of exhausting memory', () => {
    const items = scan(`[${'['.repeat(600)}`);
    assert.equal(items.length, 1);
    assert.equal(items[0]?.fatal, true);
    assert.match(items[0]?.error ?? '', /nested deeper/);
  });
});

describe('ISO date-time reading', () => {
  it('accepts ISO forms and the space-separated form, normalising to UTC milliseconds', () => {
    assert.equal(parseIsoDateTime('2026-11-07T19:00:00Z'), '2026-11-07T19:00:00.000Z');
    assert.equal(parseIsoDateTime('2016-05-16T18:13:11+00:00'), '2016-05-16T18:13:11.000Z');
    assert.equal(parseIsoDateTime('2021-08-19T12:16:32.000-04:00'), '2021-08-19T16:16:32.000Z');
    assert.equal(parseIsoDateTime('2024-06-02 19:41:40.000000000'), '2024-06-02T19:41:40.000Z');
    assert.equal(parseIsoDateTime('2021-06-25T21:27:03.49Z'), '2021-06-25T21:27:03.490Z');
  });

  it('refuses impossible dates and other shapes', () => {
    for (const text of [
      '2026-02-30T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2024-12-17 00:00:00000000',
      'redacted',
      '2026-01-01',
    ]) {
      assert.equal(parseIsoDateTime(text), undefined, text);
    }
  });
});
