import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
