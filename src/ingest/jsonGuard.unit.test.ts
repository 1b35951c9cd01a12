import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isProvenantError } from '../errors.js';
import { codeOf } from '../../test/support/errors.js';
import { hasBase64Run, parseJsonSafely, sanitizeJson, scanJson } from './jsonGuard.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
const options = { maxDepth: 32, maxInlineBinaryChars: 4096 };

describe('scanJson', () => {
  it('measures depth outside strings only', () => {
    assert.equal(scanJson(bytes('{"a":[{"b":"[[[{{{"}]}'), 32).depth, 3);
    assert.equal(scanJson(bytes('"just a string"'), 32).depth, 0);
  });

  it('rejects nesting past the limit before parsing', () => {
    const deep = '['.repeat(33) + ']'.repeat(33);
    assert.equal(
      codeOf(() => scanJson(bytes(deep), 32)),
      'INGEST_TOO_DEEP',
    );
    assert.equal(scanJson(bytes('['.repeat(32) + ']'.repeat(32)), 32).depth, 32);
    // Unbalanced input deeper than the limit is still "too deep", not parsed.
    assert.equal(
      codeOf(() => scanJson(bytes('['.repeat(100_000)), 32)),
      'INGEST_TOO_DEEP',
    );
  });

  it('handles escaped quotes and backslashes inside strings', () => {
    assert.equal(scanJson(bytes('{"a":"x\\"]}\\\\","b":[1]}'), 32).depth, 2);
  });

  it('records the byte span of each top-level array element', () => {
    const text = '[ {"a":1} , "x,y" ,[1,2],3 ]';
    const scan = scanJson(bytes(text), 32);
    assert.deepEqual(
      scan.elements?.map((s) => text.slice(s.start, s.end)),
      ['{"a":1}', '"x,y"', '[1,2]', '3'],
    );
    assert.deepEqual(scanJson(bytes(' [ ] '), 32).elements, []);
    assert.equal(scanJson(bytes('{}'), 32).elements, undefined);
  });

  it('rejects brackets that do not balance', () => {
    assert.equal(
      codeOf(() => scanJson(bytes('[{"a":1]}'), 32)),
      'INGEST_MALFORMED_JSON',
    );
    assert.equal(
      codeOf(() => scanJson(bytes('{"a":"unterminated'), 32)),
      'INGEST_MALFORMED_JSON',
    );
    assert.equal(
      codeOf(() => scanJson(bytes('[[1]'), 32)),
      'INGEST_MALFORMED_JSON',
    );
  });
});

describe('parseJsonSafely', () => {
  it('parses ordinary JSON', () => {
    assert.deepEqual(parseJsonSafely(bytes('{"a":[1,"b",null]}'), options), { a: [1, 'b', null] });
  });

  it('maps syntax errors and empty bodies to INGEST_MALFORMED_JSON', () => {
    assert.equal(
      codeOf(() => parseJsonSafely(bytes('{"a":}'), options)),
      'INGEST_MALFORMED_JSON',
    );
    assert.equal(
      codeOf(() => parseJsonSafely(bytes('  '), options)),
      'INGEST_MALFORMED_JSON',
    );
  });

  it('rejects invalid UTF-8 instead of replacing it', () => {
    const body = Buffer.concat([bytes('{"a":"'), Buffer.from([0xc3, 0x28]), bytes('"}')]);
    assert.equal(
      codeOf(() => parseJsonSafely(body, options)),
      'INGEST_BAD_ENCODING',
    );
  });

  for (const key of ['__proto__', 'constructor', 'prototype']) {
    it(`rejects the key ${key} at any depth`, () => {
      assert.equal(
        codeOf(() => parseJsonSafely(bytes(`{"a":[{"${key}":{"polluted":true}}]}`), options)),
        'INGEST_FORBIDDEN_KEY',
      );
    });
  }

  it('rejects an escaped __proto__ key too', () => {
    assert.equal(
      codeOf(() => parseJsonSafely(bytes('{"\\u005f_proto__":{}}'), options)),
      'INGEST_FORBIDDEN_KEY',
    );
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('rejects base64 runs longer than the limit and accepts shorter ones', () => {
    const blob = Buffer.alloc(3200, 7).toString('base64'); // 4268 characters
    assert.equal(
      codeOf(() => parseJsonSafely(bytes(JSON.stringify({ evidence: { blob } })), options)),
      'INGEST_INLINE_BINARY',
    );
    const small = Buffer.alloc(3000, 7).toString('base64'); // 4000 characters
    assert.doesNotThrow(() => parseJsonSafely(bytes(JSON.stringify({ small })), options));
    // Long prose is not base64: spaces break the run.
    const prose = 'lorem ipsum dolor '.repeat(1000);
    assert.doesNotThrow(() => parseJsonSafely(bytes(JSON.stringify({ prose })), options));
  });
});

describe('scanJson facts: when the sanitising walk can be skipped', () => {
  it('records the longest string literal, keys included, in bytes', () => {
    assert.equal(scanJson(bytes('{"ab":"cdef","g":[1,"hi"]}'), 32).longestString, 4);
    assert.equal(scanJson(bytes('{"abcdefgh":1}'), 32).longestString, 8);
    // Escapes count as their bytes: an upper bound on the decoded length.
    assert.equal(scanJson(bytes('["\\u0041\\n"]'), 32).longestString, 8);
    assert.equal(scanJson(bytes('"é"'), 32).longestString, 2);
  });

  it('flags keys that are escaped or spell a forbidden key, not values', () => {
    const suspicious = (text: string): boolean => scanJson(bytes(text), 32).suspiciousKey;
    assert.equal(suspicious('{"a":"constructor","b":["__proto__","prototype"]}'), false);
    assert.equal(suspicious('{"a":{"constructor":1}}'), true);
    assert.equal(suspicious('{"__proto__" :1}'), true);
    assert.equal(suspicious('{"prototype"\n:1}'), true);
    assert.equal(suspicious('{"a\\n":1}'), true);
    assert.equal(suspicious('{"a":"b\\n"}'), false);
    assert.equal(suspicious('{"constructors":1,"_proto__":2}'), false);
  });

  it('records the facts of each element of a top-level array on its own', () => {
    const scan = scanJson(bytes('[{"a":"xyz"}, {"constructor":1}, "abcdefgh", {"\\u0061":2}]'), 32);
    assert.deepEqual(
      scan.elements?.map((e) => [e.longestString, e.suspiciousKey]),
      [
        [3, false],
        [11, true],
        [8, false],
        [6, true],
      ],
    );
    assert.equal(scan.longestString, 11);
    assert.equal(scan.suspiciousKey, true);
  });
});

describe('parseJsonSafely gives the same verdict whether or not the walk is skipped', () => {
  const outcome = (fn: () => unknown): string => {
    try {
      fn();
      return 'accepted';
    } catch (error) {
      assert.ok(isProvenantError(error), String(error));
      return `${error.code} ${error.message}`;
    }
  };
  // Reference: always walk, as the guard did before the scan's facts were used.
  const walkAlways = (text: string): string =>
    outcome(() => sanitizeJson(JSON.parse(text), options));
  const verdict = (text: string): string => outcome(() => parseJsonSafely(bytes(text), options));
  const run = (n: number, c = 'A'): string => c.repeat(n);
  const inputs = [
    '{"a":1}',
    '{"\\u0063onstructor":1}',
    '{"a":[{"pro\\u0074otype":{}}]}',
    '{"x":"constructor"}',
    '{"__proto__":1}',
    `{"blob":"${run(4096)}"}`,
    `{"blob":"${run(4097)}"}`,
    `{"${run(4097)}":1}`,
    `{"blob":"${run(4090)}\\n\\n\\n\\n"}`, // longer literal, shorter run
    `{"blob":"${run(2000)} ${run(2000)} ${run(2000)}"}`,
    // A top-level array: the facts of every element count, the last one too.
    '[{"a":1},{"constructor":1}]',
    `[{"a":"x"},"${run(4097)}"]`,
    `["${run(4097)}",{"a":"x"}]`,
    `{"blob":"${run(4000)}\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041"}`,
  ];
  for (const text of inputs) {
    it(`${text.length > 60 ? `${text.slice(0, 40)}… (${text.length} bytes)` : text}`, () =>
      assert.equal(verdict(text), walkAlways(text)));
  }

  it('the inputs above cover both verdicts and both codes', () => {
    const verdicts = inputs.map(verdict);
    assert.ok(verdicts.filter((v) => v === 'accepted').length >= 4);
    assert.ok(verdicts.filter((v) => v.startsWith('INGEST_FORBIDDEN_KEY')).length >= 4);
    assert.ok(verdicts.filter((v) => v.startsWith('INGEST_INLINE_BINARY')).length >= 5);
  });
});

describe('sanitizeJson', () => {
  const error = (value: unknown): Record<string, unknown> => {
    try {
      sanitizeJson(value, options, '/3');
    } catch (e) {
      assert.ok(isProvenantError(e));
      return { code: e.code, message: e.message, ...e.details };
    }
    assert.fail('expected an error');
  };

  it('names the forbidden key and its JSON Pointer, escaped, after the given prefix', () => {
    assert.deepEqual(error({ 'a/b': [{ 'c~': { constructor: 1 } }] }), {
      code: 'INGEST_FORBIDDEN_KEY',
      message: "Key 'constructor' is not accepted (at /3/a~1b/0/c~0/constructor)",
      key: 'constructor',
      path: '/3/a~1b/0/c~0/constructor',
    });
  });

  it('reports the first problem in key order: a key before its value, a long key too', () => {
    const blob = 'A'.repeat(4097);
    assert.equal(error({ a: blob, prototype: 1 })['path'], '/3/a');
    assert.equal(error({ [blob]: 1 })['code'], 'INGEST_INLINE_BINARY');
    assert.equal(error({ x: [1, 'ok', blob] })['path'], '/3/x/2');
    assert.equal(
      error(blob)['message'],
      `String at /3 looks like inline binary (a base64 run over 4096 characters); send large evidence by reference (uri + digest)`,
    );
  });
});

describe('hasBase64Run', () => {
  it('finds runs of the standard and URL-safe alphabets and padding, over the limit only', () => {
    assert.equal(hasBase64Run('ab+/=_-9', 7), true);
    assert.equal(hasBase64Run('ab+/=_-9', 8), false);
    assert.equal(hasBase64Run('abc def', 3), false);
    assert.equal(hasBase64Run('abc.defg', 3), true);
    assert.equal(hasBase64Run('éééé', 2), false);
  });

  it('agrees with the regular expression it replaces', () => {
    const alphabet = 'Aa0+/=_- .é\n';
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 300; n++) {
      const text = Array.from(
        { length: Math.floor(random() * 40) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join('');
      const max = 1 + Math.floor(random() * 6);
      const expected = new RegExp(`[A-Za-z0-9+/=_-]{${max + 1},}`).test(text);
      assert.equal(hasBase64Run(text, max), expected, `${JSON.stringify(text)} max ${max}`);
    }
  });

  it('stays linear on a long string of runs that fall just short', () => {
    const text = `${'A'.repeat(4096)} `.repeat(64); // 256 KiB
    assert.equal(hasBase64Run(text, 4096), false);
    assert.equal(hasBase64Run(`${text}${'A'.repeat(4097)}`, 4096), true);
  });
});
