import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { V8_MAJOR } from './engine.js';
import {
  CanonicalJsonError,
  FAST_WRITER,
  canonicalize,
  canonicalizeCarefully,
  canonicalizeWith,
} from './canonicalJson.js';

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

for (const writer of ['rope', 'copy'] as const)
  describe(`canonicalize fast path (${writer} writer)`, () => {
    const canon = (value: unknown): string => canonicalizeWith(writer, value);

    // A small deterministic PRNG, so a failure reproduces.
    function prng(seed: number): () => number {
      let state = seed >>> 0;
      return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }
    const keyPool = [
      'a',
      'b',
      'B',
      'é',
      'z1',
      '10',
      '9',
      '_x',
      '\u20ac',
      '\ud83d\ude00',
      '\r',
      '',
      'aa',
      'a\u0000',
      'constructor',
    ];
    const numberPool = [
      0,
      -0,
      1,
      -1,
      1.5,
      1e21,
      1e-7,
      123456789012,
      0.1 + 0.2,
      Number.MAX_SAFE_INTEGER,
      5e-324,
    ];
    const stringPool = [
      '',
      'x',
      '"quoted"',
      'back\\slash',
      'line\nbreak',
      '\u0001',
      '\u2028',
      'é€😀',
      '\ud800',
    ];

    function randomValue(next: () => number, depth: number): unknown {
      const r = next();
      if (depth > 4 || r < 0.35) {
        const leaf = next();
        if (leaf < 0.3) return numberPool[Math.floor(next() * numberPool.length)];
        if (leaf < 0.6) return stringPool[Math.floor(next() * stringPool.length)];
        if (leaf < 0.8) return next() < 0.5;
        return null;
      }
      if (r < 0.6)
        return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
      const object: Record<string, unknown> = {};
      const count = Math.floor(next() * 6);
      for (let i = 0; i < count; i++) {
        const key = keyPool[Math.floor(next() * keyPool.length)] as string;
        object[key] = next() < 0.1 ? undefined : randomValue(next, depth + 1);
      }
      return object;
    }

    it('agrees with the careful walk on thousands of random values', () => {
      const next = prng(20261123);
      for (let i = 0; i < 5000; i++) {
        const value = randomValue(next, 0);
        assert.equal(canon(value), canonicalizeCarefully(value), JSON.stringify(value));
      }
    });

    it('sorts objects of every size, either side of the insertion-sort limit', () => {
      const next = prng(8785);
      const names = [...keyPool, ...Array.from({ length: 60 }, (_, i) => `k${(i * 37) % 61}`)];
      for (let size = 0; size <= 64; size++) {
        const shuffled = [...new Set(names)].sort(() => next() - 0.5).slice(0, size);
        const object = Object.fromEntries(shuffled.map((name, i) => [name, i]));
        const text = canon(object);
        assert.equal(text, canonicalizeCarefully(object), `${size} members`);
        const parsed = JSON.parse(text) as Record<string, unknown>;
        assert.equal(Object.keys(parsed).length, size);
      }
    });

    it('escapes member names correctly however many distinct names it has seen', () => {
      // More distinct names than the fast path remembers, then names that need escaping.
      const many = Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`name${i}`, i]));
      assert.equal(canon(many), canonicalizeCarefully(many));
      for (const name of ['quote"d', 'back\\slash', 'tab\t', 'lone\ud800', 'name5999']) {
        const value = { [name]: 1, plain: 2 };
        assert.equal(canon(value), canonicalizeCarefully(value), JSON.stringify(name));
        assert.deepEqual(JSON.parse(canon(value)), value);
      }
    });

    it('agrees on objects parsed from JSON with __proto__ and integer-like keys', () => {
      const parsed: unknown = JSON.parse(
        '{"b":1,"__proto__":{"x":1},"10":2,"9":3,"a":[{"d":1,"c":2}]}',
      );
      assert.equal(canon(parsed), canonicalizeCarefully(parsed));
      assert.equal(canon(parsed), '{"10":2,"9":3,"__proto__":{"x":1},"a":[{"c":2,"d":1}],"b":1}');
      // Each on its own, nested, so that neither hides behind the other.
      for (const [json, expected] of [
        ['{"b":1,"__proto__":{"x":1}}', '{"__proto__":{"x":1},"b":1}'],
        ['{"m":{"9":"nine","10":"ten","a":0}}', '{"m":{"10":"ten","9":"nine","a":0}}'],
        ['[{"z":{"__proto__":null}}]', '[{"z":{"__proto__":null}}]'],
      ]) {
        const value: unknown = JSON.parse(json as string);
        assert.equal(canon(value), expected);
        assert.equal(canon(value), canonicalizeCarefully(value));
      }
    });

    it('leaves its input untouched', () => {
      const input = { b: { d: 1, c: [3, { f: 1, e: 2 }] }, a: 1 };
      const copy = structuredClone(input);
      canon(input);
      assert.deepEqual(input, copy);
      assert.deepEqual(Object.keys(input), ['b', 'a']);
    });

    it('hands what it cannot write to the careful writer, index names or not', () => {
      for (const value of [
        { when: new Date(0), a: 1 },
        { 10: 'ten', nested: { when: new Date(0) } },
        [{ 9: 'nine' }, { when: new Date(0) }],
      ])
        assert.equal(canon(value), canonicalizeCarefully(value));
      assert.throws(() => canon({ 10: 1, f: () => 0 }), CanonicalJsonError);
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
      assert.equal(canon(value), '{"a":1,"b":"first"}');
      assert.equal(reads, 1);
    });
  });

describe('canonicalize', () => {
  it('uses the fast writer measured faster on this engine', () => {
    assert.equal(FAST_WRITER, V8_MAJOR >= 12 ? 'copy' : 'rope');
    const value = { b: [1, { d: 'x', c: null }], a: true };
    assert.equal(canonicalize(value), canonicalizeWith(FAST_WRITER, value));
  });
});
