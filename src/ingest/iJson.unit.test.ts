// I-JSON (RFC 7493): duplicate member names and lone surrogates are refused with
// their own codes and the path; well-formed input, escaped pairs included, passes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isProvenantError, type ErrorCode } from '../errors.js';
import { parseCloudEventsRequest } from './cloudEvents.js';
import { parseJsonSafely } from './jsonGuard.js';
import { DEFAULT_INGEST_LIMITS } from './limits.js';

const parse = (text: string): unknown => parseJsonSafely(Buffer.from(text), DEFAULT_INGEST_LIMITS);

function rejects(text: string, code: ErrorCode, path: string): void {
  assert.throws(
    () => parse(text),
    (error: unknown) =>
      isProvenantError(error) &&
      error.code === code &&
      (error.details as { path: string }).path === path,
    text,
  );
}

describe('I-JSON', () => {
  it('refuses a duplicate member name at the root and nested, naming the object', () => {
    rejects('{"id":"a","source":"s","id":"b"}', 'INGEST_DUPLICATE_KEY', '');
    rejects('{"data":{"x":[{"k":1},{"k":1,"k":2}]}}', 'INGEST_DUPLICATE_KEY', '/data/x/1');
    rejects('{"a":{"x":1},"a":{"y":2}}', 'INGEST_DUPLICATE_KEY', '');
    // The same name written with an escape is still the same name.
    rejects('{"id":"a","\\u0069d":"b"}', 'INGEST_DUPLICATE_KEY', '');
  });

  it('refuses lone surrogates in values and names, high or low', () => {
    rejects('{"a":"x\\ud800"}', 'INGEST_LONE_SURROGATE', '/a');
    rejects('{"a":["\\udc00y"]}', 'INGEST_LONE_SURROGATE', '/a/0');
    rejects('{"\\ud800":1}', 'INGEST_LONE_SURROGATE', '/\ud800');
  });

  it('accepts escaped surrogate pairs, escaped keys and colons inside strings', () => {
    assert.deepEqual(parse('{"e":"\\ud83d\\ude00","k:v":"a:b","\\u0061":1}'), {
      e: '😀',
      'k:v': 'a:b',
      a: 1,
    });
  });

  it('checks each batch element on its own: only the bad one is rejected', () => {
    const event = (id: string) =>
      `{"specversion":"1.0","id":"${id}","source":"/s","type":"com.example.t"}`;
    const body = `[${event('1')},{"specversion":"1.0","id":"2","id":"3","source":"/s","type":"t"},${event('4')}]`;
    const { items } = parseCloudEventsRequest({
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: Buffer.from(body),
    });
    assert.deepEqual(
      items.map((item) => (item.ok ? 'ok' : item.error.code)),
      ['ok', 'INGEST_DUPLICATE_KEY', 'ok'],
    );
    const bad = items[1];
    assert.ok(bad !== undefined && !bad.ok);
    assert.equal((bad.error.details as { path: string }).path, '/1');
  });
});
