import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import canonicalizeOracle from 'canonicalize';
import fc from 'fast-check';
import { CanonicalJsonError, canonicalize } from './canonicalJson.js';

describe('canonicalize (RFC 8785)', () => {
  it('sorts members by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const expected =
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}';
    assert.equal(canonicalize(input), expected);
  });

  it('serialises the RFC 8785 §3.2.2 sample byte for byte', () => {
    const input = {
      // eslint-disable-next-line no-loss-of-precision -- the RFC's own literal
      numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001],
      string: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/',
      literals: [null, true, false],
    };
    assert.equal(
      canonicalize(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('follows the ECMAScript number serialisation of RFC 8785 Appendix B', () => {
    const vectors: [number, string][] = [
      [0, '0'],
      [-0, '0'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [9007199254740992, '9007199254740992'],
      [295147905179352830000, '295147905179352830000'],
      [1e21, '1e+21'],
      [0.000001, '0.000001'],
      [1e-7, '1e-7'],
    ];
    for (const [n, text] of vectors) assert.equal(canonicalize(n), text);
  });

  it('nests and omits undefined members like JSON.stringify', () => {
    assert.equal(
      canonicalize({ b: [1, { d: 1, c: undefined, a: 'x' }], a: {} }),
      '{"a":{},"b":[1,{"a":"x","d":1}]}',
    );
  });

  it('rejects values JSON cannot represent, naming where', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.throws(
      () => canonicalize(cyclic),
      (e: unknown) => e instanceof CanonicalJsonError && e.path === '/self',
    );
    assert.throws(() => canonicalize({ n: 10n }), /bigint is not JSON at \/n/);
    assert.throws(() => canonicalize({ f: () => 1 }), /function is not JSON/);
    assert.throws(() => canonicalize([Number.NaN]), /Non-finite number at \/0/);
    assert.throws(() => canonicalize(new Map()), /class Map is not plain JSON/);
  });

  it('uses toJSON for dates', () => {
    assert.equal(canonicalize({ t: new Date(0) }), '{"t":"1970-01-01T00:00:00.000Z"}');
  });
});

/** Lone surrogates (the `u` flag reads a pair as one code point). */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** Whether any string in `value`, member names included, holds a lone surrogate. */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(
    ([name, member]) => LONE_SURROGATE.test(name) || hasLoneSurrogate(member),
  );
}

describe('canonicalize on generated values, against the canonicalize package', () => {
  /** Characters where serialisers go wrong: escapes, controls, surrogates, the BMP's end. */
  const tricky = fc.constantFrom(
    '"',
    '\\',
    '/',
    '\u0000',
    '\b',
    '\u001f',
    '\u007f',
    '\u0080',
    '\u00f6',
    '\u2028',
    '\u20ac',
    '\ufb33',
    '\uffff',
    '\u{10000}',
    '\u{1f600}',
    '\u{10ffff}',
  );
  const wellFormedUnit = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
    tricky,
  );
  /** Any UTF-16 code unit, so lone surrogates too. */
  const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

  const numbers = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.constantFrom(
      0,
      -0,
      1e21,
      1e-7,
      1e20,
      1e-6,
      5e-324,
      -5e-324,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MIN_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER,
      2 ** 53,
      0.1 + 0.2,
      -1.5,
      123.456,
      // eslint-disable-next-line no-loss-of-precision -- RFC 8785's own literal
      333333333.33333329,
    ),
  );

  function jsonValues(unit: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
    const text = fc.string({ unit, maxLength: 6 });
    // Names that differ only by an astral character against a BMP one above the
    // surrogates: UTF-16 order puts the astral one first, code point order last.
    const names = fc.oneof(
      text,
      fc.constantFrom('a\ufb33', 'a\u{1f600}', '\ufb33', '\u{1f600}', '\uffff', '\u{10000}'),
      fc.constantFrom('10', '9', '1', '', 'constructor', '__proto__', 'a/b~c'),
    );
    const { value } = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        numbers,
        text,
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(names, tie('value'), { maxKeys: 6 }),
      ),
    }));
    return value;
  }

  it('writes exactly what the package writes for any JSON value', () => {
    fc.assert(
      fc.property(jsonValues(wellFormedUnit), (value) => {
        assert.equal(canonicalize(value), canonicalizeOracle(value));
      }),
      { numRuns: 500 },
    );
  });

  it('escapes lone surrogates as JSON.stringify does, where the package refuses them (I-JSON)', () => {
    fc.assert(
      fc.property(jsonValues(fc.oneof(wellFormedUnit, anyCodeUnit)), (value) => {
        const text = canonicalize(value);
        assert.ok(!LONE_SURROGATE.test(text), 'lone surrogates are escaped');
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
        assert.equal(canonicalize(JSON.parse(text)), text);
        if (hasLoneSurrogate(value))
          assert.throws(() => canonicalizeOracle(value), /Lone surrogate/);
        else assert.equal(text, canonicalizeOracle(value));
      }),
      { numRuns: 300 },
    );
  });
});

describe('canonicalize, further cases', () => {
  it('writes lone surrogates as escapes and sorts them by code unit', () => {
    assert.equal(
      canonicalize({ '\ud800': 'x\udfff', '\u{1f600}': 1, '\uffff': ['\ud83d'] }),
      '{"\\ud800":"x\\udfff","\u{1f600}":1,"\uffff":["\\ud83d"]}',
    );
  });

  it('sorts objects of every size', () => {
    const names = [...new Set(Array.from({ length: 64 }, (_, i) => `k${(i * 37) % 61}`))];
    for (let size = 0; size <= names.length; size++) {
      const object = Object.fromEntries(names.slice(0, size).map((name, i) => [name, i]));
      const text = canonicalize(object);
      assert.equal(text, canonicalizeOracle(object), `${size} members`);
      assert.equal(Object.keys(JSON.parse(text) as object).length, size);
    }
  });

  it('escapes member names that need it', () => {
    const many = Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`name${i}`, i]));
    assert.equal(canonicalize(many), canonicalizeOracle(many));
    for (const name of ['quote"d', 'back\\slash', 'tab\t', 'nul\u0000', 'name5999']) {
      const value = { [name]: 1, plain: 2 };
      assert.equal(canonicalize(value), canonicalizeOracle(value), JSON.stringify(name));
      assert.deepEqual(JSON.parse(canonicalize(value)), value);
    }
  });

  it('sorts __proto__ and integer-like names of parsed JSON like any other', () => {
    const parsed: unknown = JSON.parse(
      '{"b":1,"__proto__":{"x":1},"10":2,"9":3,"a":[{"d":1,"c":2}]}',
    );
    assert.equal(
      canonicalize(parsed),
      '{"10":2,"9":3,"__proto__":{"x":1},"a":[{"c":2,"d":1}],"b":1}',
    );
    for (const [json, expected] of [
      ['{"b":1,"__proto__":{"x":1}}', '{"__proto__":{"x":1},"b":1}'],
      ['{"m":{"9":"nine","10":"ten","a":0}}', '{"m":{"10":"ten","9":"nine","a":0}}'],
      ['[{"z":{"__proto__":null}}]', '[{"z":{"__proto__":null}}]'],
    ] as const)
      assert.equal(canonicalize(JSON.parse(json)), expected);
  });

  it('accepts objects without a prototype and values shared but not cyclic', () => {
    const bare = Object.assign(Object.create(null) as object, { b: 1, a: 2 });
    const shared = { x: 1 };
    assert.equal(
      canonicalize({ bare, p: shared, q: [shared, shared] }),
      '{"bare":{"a":2,"b":1},"p":{"x":1},"q":[{"x":1},{"x":1}]}',
    );
  });

  it('leaves its input untouched', () => {
    const input = { b: { d: 1, c: [3, { f: 1, e: 2 }] }, a: 1 };
    const copy = structuredClone(input);
    canonicalize(input);
    assert.deepEqual(input, copy);
    assert.deepEqual(Object.keys(input), ['b', 'a']);
  });

  it('uses toJSON of nested class instances, and still rejects what it cannot write', () => {
    assert.equal(
      canonicalize({
        10: 'ten',
        nested: { when: new Date(0) },
        list: [{ 9: 'nine' }, new Date(1)],
      }),
      '{"10":"ten","list":[{"9":"nine"},"1970-01-01T00:00:00.001Z"],"nested":{"when":"1970-01-01T00:00:00.000Z"}}',
    );
    assert.throws(() => canonicalize({ 10: 1, f: () => 0 }), CanonicalJsonError);
  });

  it('names the path of a rejected value as a JSON Pointer', () => {
    const cases: [unknown, string, RegExp][] = [
      [undefined, '', /type undefined is not JSON at \(root\)/],
      [{ a: [1, { 'x/y~z': 1n }] }, '/a/1/x~1y~0z', /bigint/],
      [[0, [1, 2, Number.POSITIVE_INFINITY]], '/1/2', /Non-finite number/],
      [[1, undefined], '/1', /type undefined/],
      // eslint-disable-next-line no-sparse-arrays -- a hole, which JSON.stringify writes as null
      [[1, , 3], '/1', /type undefined/],
      [{ s: Symbol('s') }, '/s', /type symbol/],
      [{ m: { set: new Set() } }, '/m/set', /class Set is not plain JSON/],
    ];
    for (const [value, path, message] of cases)
      assert.throws(
        () => canonicalize(value),
        (e: unknown) =>
          e instanceof CanonicalJsonError && e.path === path && message.test(e.message),
        path,
      );
    const cyclic: unknown[] = [{ a: 1 }];
    cyclic.push({ back: [cyclic] });
    assert.throws(
      () => canonicalize(cyclic),
      (e: unknown) => e instanceof CanonicalJsonError && e.path === '/1/back/0',
    );
  });

  it('reads each member once, so what it checked is what it writes', () => {
    let reads = 0;
    const value = {
      a: 1,
      get b(): unknown {
        reads++;
        return reads === 1 ? 'first' : (): number => 0;
      },
    };
    assert.equal(canonicalize(value), '{"a":1,"b":"first"}');
    assert.equal(reads, 1);
  });
});
