import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isProvenantError } from '../errors.js';
import { parseJsonSafely, scanJson } from './jsonGuard.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    assert.ok(isProvenantError(error), `expected a ProvenantError, got ${String(error)}`);
    return error.code;
  }
  assert.fail('expected an error');
};
const options = { maxDepth: 32, maxInlineBinaryChars: 4096 };

describe('scanJson', () => {
  it('measures depth outside strings only', () => {
    assert.equal(scanJson(bytes('{"a":[{"b":"[[[{{{"}]}'), 32).depth, 3);
    assert.equal(scanJson(bytes('"just a string"'), 32).depth, 0);
  });

  it('rejects nesting past the limit before parsing', () => {
    const deep = '['.repeat(33) + ']'.repeat(33);
    assert.equal(
      code(() => scanJson(bytes(deep), 32)),
      'INGEST_TOO_DEEP',
    );
    assert.equal(scanJson(bytes('['.repeat(32) + ']'.repeat(32)), 32).depth, 32);
    // Unbalanced input deeper than the limit is still "too deep", not parsed.
    assert.equal(
      code(() => scanJson(bytes('['.repeat(100_000)), 32)),
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
      code(() => scanJson(bytes('[{"a":1]}'), 32)),
      'INGEST_MALFORMED_JSON',
    );
    assert.equal(
      code(() => scanJson(bytes('{"a":"unterminated'), 32)),
      'INGEST_MALFORMED_JSON',
    );
    assert.equal(
      code(() => scanJson(bytes('[[1]'), 32)),
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
      code(() => parseJsonSafely(bytes('{"a":}'), options)),
      'INGEST_MALFORMED_JSON',
    );
    assert.equal(
      code(() => parseJsonSafely(bytes('  '), options)),
      'INGEST_MALFORMED_JSON',
    );
  });

  it('rejects invalid UTF-8 instead of replacing it', () => {
    const body = Buffer.concat([bytes('{"a":"'), Buffer.from([0xc3, 0x28]), bytes('"}')]);
    assert.equal(
      code(() => parseJsonSafely(body, options)),
      'INGEST_BAD_ENCODING',
    );
  });

  for (const key of ['__proto__', 'constructor', 'prototype']) {
    it(`rejects the key ${key} at any depth`, () => {
      assert.equal(
        code(() => parseJsonSafely(bytes(`{"a":[{"${key}":{"polluted":true}}]}`), options)),
        'INGEST_FORBIDDEN_KEY',
      );
    });
  }

  it('rejects an escaped __proto__ key too', () => {
    assert.equal(
      code(() => parseJsonSafely(bytes('{"\\u005f_proto__":{}}'), options)),
      'INGEST_FORBIDDEN_KEY',
    );
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('rejects base64 runs longer than the limit and accepts shorter ones', () => {
    const blob = Buffer.alloc(3200, 7).toString('base64'); // 4268 characters
    assert.equal(
      code(() => parseJsonSafely(bytes(JSON.stringify({ evidence: { blob } })), options)),
      'INGEST_INLINE_BINARY',
    );
    const small = Buffer.alloc(3000, 7).toString('base64'); // 4000 characters
    assert.doesNotThrow(() => parseJsonSafely(bytes(JSON.stringify({ small })), options));
    // Long prose is not base64: spaces break the run.
    const prose = 'lorem ipsum dolor '.repeat(1000);
    assert.doesNotThrow(() => parseJsonSafely(bytes(JSON.stringify({ prose })), options));
  });
});
