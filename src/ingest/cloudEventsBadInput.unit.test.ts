// parseCloudEventsRequest: each kind of bad input gets its own code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CloudEventsRequest } from './cloudEvents.js';
import { resolveIngestLimits } from './limits.js';
import { batch, rejectionOf, structured, valid } from '../../test/support/cloudEventsRequests.js';

describe('parseCloudEventsRequest: bad input gets its own code', () => {
  const cases: Array<[string, CloudEventsRequest, string]> = [
    ['malformed JSON', structured('{"specversion":"1.0",'), 'INGEST_MALFORMED_JSON'],
    ['malformed batch JSON', batch('[{"a":1},{"b":}]'), 'INGEST_MALFORMED_JSON'],
    [
      'missing content type',
      { headers: {}, body: Buffer.from(JSON.stringify(valid)) },
      'INGEST_MISSING_CONTENT_TYPE',
    ],
    [
      'wrong content type',
      { headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(valid)) },
      'INGEST_UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'unsupported event format',
      { headers: { 'content-type': 'application/cloudevents+xml' }, body: Buffer.from('<e/>') },
      'INGEST_UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'garbage content type',
      { headers: { 'content-type': 'not a type' }, body: Buffer.from('{}') },
      'INGEST_UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'non-UTF-8 charset',
      {
        headers: { 'content-type': 'application/cloudevents+json; charset=latin1' },
        body: Buffer.from('{}'),
      },
      'INGEST_UNSUPPORTED_MEDIA_TYPE',
    ],
    ['missing id', structured({ ...valid, id: undefined }), 'INGEST_MISSING_ATTRIBUTE'],
    ['missing source', structured({ ...valid, source: undefined }), 'INGEST_MISSING_ATTRIBUTE'],
    ['missing type', structured({ ...valid, type: undefined }), 'INGEST_MISSING_ATTRIBUTE'],
    [
      'missing specversion',
      structured({ ...valid, specversion: undefined }),
      'INGEST_MISSING_ATTRIBUTE',
    ],
    ['empty id', structured({ ...valid, id: '' }), 'INGEST_EMPTY_ATTRIBUTE'],
    ['empty source', structured({ ...valid, source: '' }), 'INGEST_EMPTY_ATTRIBUTE'],
    ['empty type', structured({ ...valid, type: '' }), 'INGEST_EMPTY_ATTRIBUTE'],
    ['specversion 0.3', structured({ ...valid, specversion: '0.3' }), 'INGEST_BAD_SPECVERSION'],
    ['specversion 1.0.2', structured({ ...valid, specversion: '1.0.2' }), 'INGEST_BAD_SPECVERSION'],
    ['time without zone', structured({ ...valid, time: '2024-05-01T12:00:00' }), 'INGEST_BAD_TIME'],
    [
      'time that is no date',
      structured({ ...valid, time: '2024-02-30T12:00:00Z' }),
      'INGEST_BAD_TIME',
    ],
    // RFC 3339's offset is ±hh:mm (ajv-formats' date-time also took these).
    [
      'time with offset +0200',
      structured({ ...valid, time: '2024-05-01T12:00:00+0200' }),
      'INGEST_BAD_TIME',
    ],
    [
      'time with offset +02',
      structured({ ...valid, time: '2024-05-01T12:00:00+02' }),
      'INGEST_BAD_TIME',
    ],
    [
      'upper-case extension name',
      structured({ ...valid, myExt: 'x' }),
      'INGEST_BAD_EXTENSION_NAME',
    ],
    [
      'extension name with a dash',
      structured({ ...valid, 'my-ext': 'x' }),
      'INGEST_BAD_EXTENSION_NAME',
    ],
    ['object extension value', structured({ ...valid, ext: { a: 1 } }), 'INGEST_BAD_ATTRIBUTE'],
    [
      'source that is no URI reference',
      structured({ ...valid, source: 'http://[::1' }),
      'INGEST_BAD_ATTRIBUTE',
    ],
    [
      'malformed datacontenttype',
      structured({ ...valid, datacontenttype: 'json' }),
      'INGEST_BAD_ATTRIBUTE',
    ],
    [
      'relative dataschema',
      structured({ ...valid, dataschema: 'schema.json' }),
      'INGEST_BAD_ATTRIBUTE',
    ],
    [
      'data and data_base64 together',
      structured({ ...valid, data_base64: 'AA==' }),
      'INGEST_BAD_ATTRIBUTE',
    ],
    ['an array in structured mode', structured([valid]), 'INGEST_INVALID_CLOUDEVENT'],
    ['a batch that is not an array', batch(valid), 'INGEST_BATCH_NOT_ARRAY'],
    [
      '__proto__ key',
      structured(
        `{"specversion":"1.0","id":"a","source":"/x","type":"t","data":{"__proto__":{"x":1}}}`,
      ),
      'INGEST_FORBIDDEN_KEY',
    ],
    ['constructor key', structured({ ...valid, data: { constructor: 1 } }), 'INGEST_FORBIDDEN_KEY'],
    [
      'inline base64 blob',
      structured({ ...valid, data: { log: Buffer.alloc(4096, 1).toString('base64') } }),
      'INGEST_INLINE_BINARY',
    ],
    [
      'large binary data',
      {
        headers: {
          'content-type': 'application/octet-stream',
          'ce-specversion': '1.0',
          'ce-id': 'a',
          'ce-source': '/x',
          'ce-type': 't',
        },
        body: Buffer.alloc(5000, 1),
      },
      'INGEST_INLINE_BINARY',
    ],
    [
      'too deep',
      structured(
        `{"specversion":"1.0","id":"a","source":"/x","type":"t","data":${'['.repeat(40)}${']'.repeat(40)}}`,
      ),
      'INGEST_TOO_DEEP',
    ],
    [
      'binary mode without specversion',
      { headers: { 'ce-id': 'a', 'ce-source': '/x', 'ce-type': 't' }, body: Buffer.alloc(0) },
      'INGEST_MISSING_ATTRIBUTE',
    ],
    [
      'binary mode with ce-data header',
      {
        headers: {
          'ce-specversion': '1.0',
          'ce-id': 'a',
          'ce-source': '/x',
          'ce-type': 't',
          'ce-data': 'x',
        },
        body: Buffer.alloc(0),
      },
      'INGEST_BAD_ATTRIBUTE',
    ],
    [
      'binary data without content type',
      {
        headers: { 'ce-specversion': '1.0', 'ce-id': 'a', 'ce-source': '/x', 'ce-type': 't' },
        body: Buffer.from('{}'),
      },
      'INGEST_MISSING_CONTENT_TYPE',
    ],
    [
      'binary JSON data that is malformed',
      {
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': 'a',
          'ce-source': '/x',
          'ce-type': 't',
        },
        body: Buffer.from('{'),
      },
      'INGEST_MALFORMED_JSON',
    ],
    [
      'invalid UTF-8',
      structured(Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')),
      'INGEST_MALFORMED_JSON',
    ],
  ];
  for (const [name, request, expected] of cases) {
    it(`${name} → ${expected}`, () => assert.equal(rejectionOf(request), expected));
  }

  it('rejects invalid UTF-8 bytes with INGEST_BAD_ENCODING', () => {
    const body = Buffer.concat([
      Buffer.from('{"specversion":"1.0","id":"'),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    assert.equal(
      rejectionOf({ headers: { 'content-type': 'application/cloudevents+json' }, body }),
      'INGEST_BAD_ENCODING',
    );
  });

  it('rejects an oversized body with 413 before reading it', () => {
    const limits = resolveIngestLimits({ maxBodyBytes: 1024 });
    assert.equal(
      rejectionOf(structured({ ...valid, data: 'x'.repeat(2000) }), limits),
      'INGEST_BODY_TOO_LARGE',
    );
  });

  it('rejects an oversized single event with its own code', () => {
    const limits = resolveIngestLimits({ maxEventBytes: 512 });
    assert.equal(
      rejectionOf(structured({ ...valid, data: 'x '.repeat(400) }), limits),
      'INGEST_EVENT_TOO_LARGE',
    );
  });

  it('rejects a batch with too many events', () => {
    const limits = resolveIngestLimits({ maxBatchItems: 2 });
    assert.equal(rejectionOf(batch([valid, valid, valid]), limits), 'INGEST_BATCH_TOO_LARGE');
  });

  it('uses the default 1 MiB body limit', () => {
    const body = Buffer.alloc(1024 * 1024 + 1, 0x20);
    assert.equal(
      rejectionOf({ headers: { 'content-type': 'application/cloudevents+json' }, body }),
      'INGEST_BODY_TOO_LARGE',
    );
  });
});
