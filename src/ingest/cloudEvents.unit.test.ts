// parseCloudEventsRequest with the `cloudevents` SDK as client, the SDK CloudEvent
// it makes of each item, and batch elements sanitised one by one. Bad input and
// its codes: cloudEventsBadInput.unit.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import { parseCloudEventsRequest, type CloudEventsRequest } from './cloudEvents.js';
import { resolveIngestLimits } from './limits.js';
import {
  batch,
  fromSdk,
  rejectionOf,
  structured,
  valid,
} from '../../test/support/cloudEventsRequests.js';

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
