import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isAssayError } from '../../../errors.ts';
import { canonicalBytes, canonicalize, sha256Hex } from './canonical-json.ts';

function rejectsAt(value: unknown, path: string, reason: RegExp): void {
  assert.throws(
    () => canonicalize(value),
    (err: unknown) => {
      assert.ok(isAssayError(err));
      assert.equal(err.code, 'validation_failed');
      assert.equal(err.details?.['path'], path);
      assert.match(err.message, reason);
      assert.ok(err.message.includes(path), err.message);
      return true;
    },
  );
}

function doubleFromHex(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

function shuffleKeys(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, rand));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    // fromEntries defines own properties, so a member named "__proto__" stays a member.
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, rand)]));
  }
  return value;
}

describe('canonicalize (RFC 8785)', () => {
  it('reproduces the RFC 8785 §3.2.2 example', () => {
    // The RFC's input text, parsed as JSON.
    const input = JSON.parse(`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`);
    assert.equal(
      canonicalize(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts property names by UTF-16 code units as in the RFC 8785 §3.2.3 example', () => {
    const input = JSON.parse(`{
      "\\u20ac": "Euro Sign",
      "\\r": "Carriage Return",
      "\\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\\ud83d\\ude00": "Emoji: Grinning Face",
      "\\u0080": "Control",
      "\\u00f6": "Latin Small Letter O With Diaeresis"
    }`);
    const out = canonicalize(input);
    const values = Object.values(JSON.parse(out) as Record<string, string>);
    // Object.values would reorder integer-like keys, so read the order from the text instead.
    const order = [...out.matchAll(/"([^"]*)":"([^"]*)"/g)].map((m) => m[2]);
    assert.deepEqual(order, [
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    assert.equal(values.length, 7);
    // The RFC lists the UTF-8 bytes of the sorted names; the first member is "\r".
    assert.ok(out.startsWith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"'));
  });

  it('serialises the RFC 8785 Appendix B numbers', () => {
    const cases: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [hex, expected] of cases) assert.equal(canonicalize(doubleFromHex(hex)), expected, hex);
  });

  it('rejects NaN and infinities (RFC 8785 Appendix B error cases)', () => {
    rejectsAt(doubleFromHex('7fffffffffffffff'), '$', /NaN is not a finite number/);
    rejectsAt({ a: [1, doubleFromHex('7ff0000000000000')] }, '$.a[1]', /Infinity/);
    rejectsAt({ a: Number.NEGATIVE_INFINITY }, '$.a', /-Infinity/);
  });

  it('escapes strings as JSON.stringify does and emits no whitespace', () => {
    assert.equal(
      canonicalize('\b\t\n\f\r\u0001\u001f"\\/\u007f\u2028é😀'),
      '"\\b\\t\\n\\f\\r\\u0001\\u001f\\"\\\\/\u007f\u2028é😀"',
    );
    assert.equal(
      canonicalize({ b: [1, { d: true, c: null }], a: '' }),
      '{"a":"","b":[1,{"c":null,"d":true}]}',
    );
    assert.equal(canonicalize([]), '[]');
    assert.equal(canonicalize({}), '{}');
    assert.equal(canonicalize(Object.create(null)), '{}');
  });

  it('rejects values JSON cannot carry, naming the JSON path', () => {
    rejectsAt({ subject: { id: undefined } }, '$.subject.id', /undefined/);
    rejectsAt({ subject: { id: () => 1 } }, '$.subject.id', /function/);
    rejectsAt({ count: 10n }, '$.count', /bigint/);
    rejectsAt({ tags: ['a', Symbol('x')] }, '$.tags[1]', /symbol/);
    rejectsAt({ at: new Date(0) }, '$.at', /Date is not allowed/);
    rejectsAt({ 'odd key': { 'x-y': new Map() } }, '$["odd key"]["x-y"]', /Map instance/);
    rejectsAt({ bytes: Buffer.from('x') }, '$.bytes', /Buffer instance/);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the case under test
    rejectsAt({ list: [1, , 3] }, '$.list[1]', /sparse/);
    rejectsAt({ [Symbol('k')]: 1 }, '$', /symbol-keyed/);
    rejectsAt({ text: 'a\uD800b' }, '$.text', /lone UTF-16 surrogate/);
    rejectsAt({ ['\uDC00']: 1 }, '$["\\udc00"]', /lone UTF-16 surrogate/);
    const cyclic: Record<string, unknown> = { a: {} };
    (cyclic['a'] as Record<string, unknown>)['back'] = cyclic;
    rejectsAt(cyclic, '$.a.back', /circular/);
  });

  it('accepts a shared (non-circular) sub-object twice', () => {
    const shared = { x: 1 };
    assert.equal(canonicalize({ a: shared, b: shared }), '{"a":{"x":1},"b":{"x":1}}');
  });

  it('is a fixed point under parse and independent of key order (property)', () => {
    const json = fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 });
    fc.assert(
      fc.property(json, fc.integer(), (value, seed) => {
        const once = canonicalize(value);
        assert.equal(canonicalize(JSON.parse(once)), once);
        let state = seed >>> 0 || 1;
        const rand = () => {
          state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
          return state / 2 ** 32;
        };
        assert.equal(canonicalize(shuffleKeys(value, rand)), once);
        // Same data model as JSON.parse(JSON.stringify(x)) (no information lost or invented).
        assert.deepEqual(JSON.parse(once), JSON.parse(JSON.stringify(value)));
      }),
      // A member named "__proto__" once broke the shuffling helper; keep it as a fixed example.
      { numRuns: 300, examples: [[JSON.parse('{"__proto__":false,"a":{"__proto__":[1]}}'), 7]] },
    );
  });

  it('orders members exactly as a UTF-16 code-unit sort does, for small and large objects (property)', () => {
    const key = fc.string({ unit: 'binary', maxLength: 6 });
    fc.assert(
      fc.property(fc.dictionary(key, fc.integer(), { maxKeys: 60 }), (object) => {
        const expected = `{${Object.keys(object)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${object[k]}`)
          .join(',')}}`;
        assert.equal(canonicalize(object), expected);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with a plain recursive reference on any JSON value, index-like and "__proto__" names included (property)', () => {
    // The reference: sort each object's names, write primitives as JSON.stringify does.
    const reference = (value: unknown): string => {
      if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
      if (value !== null && typeof value === 'object') {
        const record = value as Record<string, unknown>;
        return `{${Object.keys(record)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${reference(record[k])}`)
          .join(',')}}`;
      }
      return JSON.stringify(value);
    };
    const key = fc.oneof(
      fc.string({ maxLength: 4 }),
      fc.nat({ max: 20 }).map(String),
      fc.constantFrom('__proto__', '10', '2', '01', '-1', '4294967295'),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string({ unit: 'grapheme', maxLength: 6 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.array(fc.tuple(key, tie('node')), { maxLength: 6 }).map((entries) => Object.fromEntries(entries)),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        assert.equal(canonicalize(v), reference(v));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes canonical bytes with sha256Hex', () => {
    assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const text = canonicalize({ b: 'é', a: 1 });
    assert.equal(sha256Hex(text), createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
    assert.equal(sha256Hex(canonicalBytes({ a: 1, b: 'é' })), sha256Hex(text));
  });
});
