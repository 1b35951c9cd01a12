import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import { parseCloudEventsRequest, type CloudEventsRequest } from './cloudEvents.js';
import { resolveIngestLimits } from './limits.js';
import { codeOf } from '../../test/support/errors.js';

// The SDK's own emitters produce { headers, body } with a string or Buffer body.
const fromSdk = (message: { headers: object; body: unknown }): CloudEventsRequest => ({
  headers: message.headers as CloudEventsRequest['headers'],
  body: Buffer.isBuffer(message.body) ? message.body : Buffer.from(String(message.body), 'utf8'),
});
const structured = (event: unknown): CloudEventsRequest => ({
  headers: { 'Content-Type': 'application/cloudevents+json; charset=utf-8' },
  body: Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)),
});
const batch = (events: unknown): CloudEventsRequest => ({
  headers: { 'content-type': 'application/cloudevents-batch+json' },
  body: Buffer.from(typeof events === 'string' ? events : JSON.stringify(events)),
});
const valid = {
  specversion: '1.0',
  id: 'evt-1',
  source: 'https://ci.example.com/pipelines/42',
  type: 'com.example.pipeline.started',
  time: '2024-05-01T12:00:00Z',
  data: { run: 42 },
};

const rejectionOf = (request: CloudEventsRequest, limits = resolveIngestLimits()): string =>
  codeOf(() => parseCloudEventsRequest(request, limits));

describe('parseCloudEventsRequest: the SDK as client', () => {
  const event = new CloudEvent({
    id: 'sdk-1',
    source: '/builds/7',
    type: 'com.example.build.done',
    subject: 'openssl/3.2.1/2.el9/x86_64/rpm',
    time: '2024-05-01T12:00:00.000Z',
    data: { ok: true, n: 3 },
    ext1: 'value',
  });

  it('accepts binary mode from HTTP.binary', () => {
    const { mode, items } = parseCloudEventsRequest(fromSdk(HTTP.binary(event)));
    assert.equal(mode, 'binary');
    assert.equal(items.length, 1);
    const [item] = items;
    assert.ok(item?.ok);
    assert.equal(item.event.id, 'sdk-1');
    assert.equal(item.event.source, '/builds/7');
    assert.equal(item.event.subject, 'openssl/3.2.1/2.el9/x86_64/rpm');
    assert.equal(item.event['ext1'], 'value');
    assert.deepEqual(item.event.data, { ok: true, n: 3 });
    assert.equal(item.cloudEvent.id, 'sdk-1');
  });

  it('accepts structured mode from HTTP.structured', () => {
    const { mode, items } = parseCloudEventsRequest(fromSdk(HTTP.structured(event)));
    assert.equal(mode, 'structured');
    const [item] = items;
    assert.ok(item?.ok);
    assert.equal(item.event.type, 'com.example.build.done');
    assert.equal(item.event.time, '2024-05-01T12:00:00.000Z');
    assert.deepEqual(item.event.data, { ok: true, n: 3 });
    assert.equal(item.cloudEvent.type, 'com.example.build.done');
  });

  it('accepts binary data that is not JSON as data_base64, and text as a string', () => {
    const bin = new CloudEvent({
      source: '/x',
      type: 't',
      datacontenttype: 'application/octet-stream',
      data: Buffer.from([1, 2, 3]),
    });
    const [item] = parseCloudEventsRequest(fromSdk(HTTP.binary(bin))).items;
    assert.ok(item?.ok);
    assert.equal(item.event.data_base64, 'AQID');
    assert.equal(item.event.data, undefined);

    const text = {
      headers: {
        'content-type': 'text/plain',
        'ce-specversion': '1.0',
        'ce-id': 'a',
        'ce-source': '/x',
        'ce-type': 't',
      },
      body: Buffer.from('hello'),
    };
    const [textItem] = parseCloudEventsRequest(text).items;
    assert.ok(textItem?.ok);
    assert.equal(textItem.event.data, 'hello');
    assert.equal(textItem.event.datacontenttype, 'text/plain');
  });

  it('percent-decodes binary-mode header values', () => {
    const request = {
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'a',
        'ce-source': '/x',
        'ce-type': 't',
        'ce-subject': 'caf%C3%A9 100%',
      },
      body: Buffer.alloc(0),
    };
    const [item] = parseCloudEventsRequest(request).items;
    assert.ok(item?.ok);
    assert.equal(item.event.subject, 'café 100%');
  });

  it('accepts a batch and reports each element on its own', () => {
    const { mode, items } = parseCloudEventsRequest(
      batch([
        valid,
        { ...valid, id: 'evt-2', specversion: '0.3' },
        { ...valid, id: 'evt-3', time: 'yesterday' },
        { ...valid, id: 'evt-4', data: { constructor: { prototype: {} } } },
        { ...valid, id: 'evt-5' },
      ]),
    );
    assert.equal(mode, 'batch');
    assert.deepEqual(
      items.map((i) => (i.ok ? 'ok' : i.error.code)),
      ['ok', 'INGEST_BAD_SPECVERSION', 'INGEST_BAD_TIME', 'INGEST_FORBIDDEN_KEY', 'ok'],
    );
    const rejected = items[1];
    assert.ok(rejected !== undefined && !rejected.ok);
    assert.equal(rejected.id, 'evt-2');
    assert.equal(rejected.source, valid.source);
  });

  it('rejects one oversized element of a batch without rejecting the rest', () => {
    const limits = resolveIngestLimits({ maxEventBytes: 400 });
    const big = { ...valid, id: 'big', data: { text: 'x '.repeat(300) } };
    const { items } = parseCloudEventsRequest(batch([valid, big]), limits);
    assert.deepEqual(
      items.map((i) => (i.ok ? 'ok' : i.error.code)),
      ['ok', 'INGEST_EVENT_TOO_LARGE'],
    );
  });

  it('accepts an empty batch', () => {
    assert.deepEqual(parseCloudEventsRequest(batch([])).items, []);
  });
});

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

describe('parseCloudEventsRequest: the SDK CloudEvent of each item', () => {
  const binary = (headers: Record<string, string>, body: Buffer): CloudEventsRequest => ({
    headers: {
      'ce-specversion': '1.0',
      'ce-id': 'b-1',
      'ce-source': '/x',
      'ce-type': 't',
      ...headers,
    },
    body,
  });

  it('is an SDK CloudEvent with the validated attributes, extensions and data', () => {
    const event = { ...valid, subject: 'openssl', dataschema: 'https://example.com/s', ext1: 'v' };
    for (const request of [structured(event), batch([event])]) {
      const [item] = parseCloudEventsRequest(request).items;
      assert.ok(item?.ok);
      assert.ok(item.cloudEvent instanceof CloudEvent);
      assert.equal(item.cloudEvent.specversion, '1.0');
      assert.equal(item.cloudEvent.id, 'evt-1');
      assert.equal(item.cloudEvent.source, valid.source);
      assert.equal(item.cloudEvent.type, valid.type);
      assert.equal(item.cloudEvent.subject, 'openssl');
      assert.equal(item.cloudEvent.time, valid.time);
      assert.equal(item.cloudEvent.dataschema, 'https://example.com/s');
      assert.equal((item.cloudEvent as unknown as Record<string, unknown>)['ext1'], 'v');
      assert.deepEqual(item.cloudEvent.data, { run: 42 });
      assert.ok(Object.isFrozen(item.cloudEvent));
    }
  });

  it('carries binary-mode data as the SDK binding would: JSON, text, or bytes', () => {
    const json = parseCloudEventsRequest(
      binary({ 'content-type': 'application/json', 'ce-ext': 'a%20b' }, Buffer.from('[1,2]')),
    ).items[0];
    assert.ok(json?.ok);
    assert.deepEqual(json.cloudEvent.data, [1, 2]);
    assert.equal(json.cloudEvent.datacontenttype, 'application/json');
    assert.equal((json.cloudEvent as unknown as Record<string, unknown>)['ext'], 'a b');

    const text = parseCloudEventsRequest(
      binary({ 'content-type': 'text/plain' }, Buffer.from('hi')),
    ).items[0];
    assert.ok(text?.ok);
    assert.equal(text.cloudEvent.data, 'hi');

    const bytes = parseCloudEventsRequest(
      binary({ 'content-type': 'application/octet-stream' }, Buffer.from([1, 2, 3])),
    ).items[0];
    assert.ok(bytes?.ok);
    assert.equal(bytes.event.data_base64, 'AQID');
    assert.equal(bytes.cloudEvent.data_base64, 'AQID');
    assert.deepEqual([...(bytes.cloudEvent.data as Uint8Array)], [1, 2, 3]);
  });

  it('takes any JSON value as binary-mode data, as structured mode does', () => {
    for (const data of [42, true, 'he said "hi"', '{x', 'C:\\bin']) {
      const [item] = parseCloudEventsRequest(
        binary({ 'content-type': 'application/json' }, Buffer.from(JSON.stringify(data))),
      ).items;
      assert.ok(item?.ok, JSON.stringify(data));
      assert.deepEqual(item.event.data, data);
      assert.deepEqual(item.cloudEvent.data, data);
      const [same] = parseCloudEventsRequest(
        structured({ specversion: '1.0', id: 'b-1', source: '/x', type: 't', data }),
      ).items;
      assert.ok(same?.ok);
      assert.deepEqual(same.cloudEvent.data, item.cloudEvent.data);
    }
  });

  it('is refused where the SDK refuses: schemaurl on a 1.0 event, in every mode', () => {
    const event = { ...valid, schemaurl: 'https://example.com/s' };
    assert.equal(rejectionOf(structured(event)), 'INGEST_INVALID_CLOUDEVENT');
    assert.equal(
      rejectionOf(binary({ 'ce-schemaurl': 'https://example.com/s' }, Buffer.alloc(0))),
      'INGEST_INVALID_CLOUDEVENT',
    );
    const { items } = parseCloudEventsRequest(batch([valid, event]));
    assert.deepEqual(
      items.map((i) => (i.ok ? 'ok' : i.error.code)),
      ['ok', 'INGEST_INVALID_CLOUDEVENT'],
    );
    const rejected = items[1];
    assert.ok(rejected !== undefined && !rejected.ok);
    assert.equal(rejected.id, 'evt-1');
  });
});

describe('parseCloudEventsRequest: batch elements are sanitised on their own', () => {
  it('rejects only the element with an escaped forbidden key, at its own pointer', () => {
    const text = `[${JSON.stringify(valid)},{"specversion":"1.0","id":"e2","source":"/x","type":"t","data":{"a":[{"\\u0063onstructor":1}]}},${JSON.stringify({ ...valid, id: 'e3' })}]`;
    const { items } = parseCloudEventsRequest(batch(text));
    assert.deepEqual(
      items.map((i) => (i.ok ? 'ok' : i.error.code)),
      ['ok', 'INGEST_FORBIDDEN_KEY', 'ok'],
    );
    const rejected = items[1];
    assert.ok(rejected !== undefined && !rejected.ok);
    assert.equal(rejected.error.details?.['path'], '/1/data/a/0/constructor');
    assert.equal(rejected.id, 'e2');
  });

  it('rejects only the element with inline binary, whatever the other elements hold', () => {
    const blob = Buffer.alloc(3100, 9).toString('base64');
    const { items } = parseCloudEventsRequest(
      batch([
        { ...valid, data: { note: `${'A'.repeat(4000)} ${'A'.repeat(4000)}` } },
        { ...valid, id: 'e2', data: { blob } },
        { ...valid, id: 'e3', data: 'constructor' },
      ]),
    );
    assert.deepEqual(
      items.map((i) => (i.ok ? 'ok' : i.error.code)),
      ['ok', 'INGEST_INLINE_BINARY', 'ok'],
    );
    const rejected = items[1];
    assert.ok(rejected !== undefined && !rejected.ok);
    assert.equal(rejected.error.details?.['path'], '/1/data/blob');
  });
});
