import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import { canonicalize } from '../encoding/canonicalJson.js';
import type { CloudEventJson } from './cloudEventSchema.js';
import {
  idempotencyDigestOf,
  idempotencyKeyOf,
  ingestRequest,
  sourceStreamName,
  toIngestCommand,
} from './classify.js';
import { RECEIPT_EVENT_TYPE } from './receipt.js';
import { codeOf } from '../../test/support/errors.js';

const HEX = 'c'.repeat(64);
const receiptData = {
  unit: 'openssl/3.2.1/2.el9/x86_64/rpm',
  action: 'sast',
  multipass: true,
  results: { findings: 0 },
  artifacts: [
    { name: 'openssl.rpm', uri: 'https://repo.example.com/openssl.rpm', digest: { sha256: HEX } },
  ],
  evidence: [
    {
      uri: 'https://ci.example.com/reports/1.sarif',
      digest: { sha256: HEX },
      mediaType: 'application/sarif+json',
    },
  ],
};
const receiptEvent = (data: unknown = receiptData): CloudEventJson => ({
  specversion: '1.0',
  id: 'r-1',
  source: 'https://ci.example.com/p/1',
  type: RECEIPT_EVENT_TYPE,
  time: '2024-05-01T12:00:00Z',
  datacontenttype: 'application/json',
  data: data as CloudEventJson['data'],
});

describe('toIngestCommand', () => {
  it('maps a dev.provenant.receipt.v1 event to a receipt with its origin', () => {
    const command = toIngestCommand(receiptEvent());
    assert.equal(command.kind, 'receipt');
    assert.ok(command.kind === 'receipt');
    assert.deepEqual(command.input, {
      ...receiptData,
      producer: 'https://ci.example.com/p/1',
      origin: {
        source: 'https://ci.example.com/p/1',
        id: 'r-1',
        type: RECEIPT_EVENT_TYPE,
        time: '2024-05-01T12:00:00Z',
      },
    });
    assert.deepEqual(command.context, {
      id: 'r-1',
      source: 'https://ci.example.com/p/1',
      type: RECEIPT_EVENT_TYPE,
      time: '2024-05-01T12:00:00Z',
    });
  });

  it('rejects invalid receipt data with INGEST_INVALID_RECEIPT', () => {
    const { unit: _unit, ...noUnit } = receiptData;
    const bad: unknown[] = [
      noUnit,
      { ...receiptData, unit: 42 },
      { ...receiptData, multipass: 'yes' },
      { ...receiptData, action: '' },
      { ...receiptData, extra: 1 },
      { ...receiptData, artifacts: [{ uri: 'https://x', digest: { sha256: 'short' } }] },
      { ...receiptData, evidence: [{ digest: { sha256: HEX } }] },
      { ...receiptData, startedAt: 'noon' },
      [receiptData],
      null,
      'a string',
    ];
    for (const data of bad)
      assert.equal(
        codeOf(() => toIngestCommand(receiptEvent(data))),
        'INGEST_INVALID_RECEIPT',
        JSON.stringify(data),
      );
    const base64 = { ...receiptEvent(), data: undefined, data_base64: 'AAAA' };
    assert.equal(
      codeOf(() => toIngestCommand(base64)),
      'INGEST_INVALID_RECEIPT',
    );
  });

  it('stores any other event as PipelineEventRecorded.v1 in its source stream', () => {
    const event: CloudEventJson = {
      specversion: '1.0',
      id: 'p-1',
      source: 'https://ci.example.com/p/1',
      type: 'com.example.deploy.started',
      subject: 'prod',
      ext1: 'v',
      data: { env: 'prod' },
    };
    const command = toIngestCommand(event);
    assert.ok(command.kind === 'pipeline-event');
    assert.equal(command.eventType, 'PipelineEventRecorded.v1');
    const hash = createHash('sha256').update('https://ci.example.com/p/1').digest('hex');
    assert.equal(command.stream, `source-${hash.slice(0, 32)}`);
    assert.equal(command.stream, sourceStreamName(event.source));
    assert.deepEqual(command.data, { cloudEvent: event });
    assert.equal(command.context.subject, 'prod');
  });
});

describe('idempotency', () => {
  it('derives the key from source and id without ambiguity', () => {
    assert.notEqual(
      idempotencyKeyOf({ source: 'a#b', id: 'c' }),
      idempotencyKeyOf({ source: 'a', id: 'b#c' }),
    );
    assert.equal(idempotencyKeyOf({ source: '/s', id: '1' }), 'ce:2:/s#1');
    // The schema's bounds keep the key within the store's 1024 characters.
    assert.ok(idempotencyKeyOf({ source: 's'.repeat(512), id: 'i'.repeat(256) }).length <= 1024);
  });

  it('digests the canonical JSON of the whole event, independent of key order', () => {
    const event = receiptEvent();
    const reordered = Object.fromEntries(Object.entries(event).reverse()) as CloudEventJson;
    assert.equal(idempotencyDigestOf(event), idempotencyDigestOf(reordered));
    assert.equal(
      idempotencyDigestOf(event),
      createHash('sha256').update(canonicalize(event)).digest('hex'),
    );
    const changed = receiptEvent({ ...receiptData, multipass: false });
    assert.notEqual(idempotencyDigestOf(event), idempotencyDigestOf(changed));
    assert.equal(idempotencyKeyOf(event), idempotencyKeyOf(changed));
  });

  it('gives a redelivery of the same SDK event the same key and digest', () => {
    const sdkEvent = new CloudEvent({
      id: 'x',
      source: '/s',
      type: 't',
      time: '2024-05-01T12:00:00.000Z',
      data: { a: 1 },
    });
    const once = ingestRequest({
      headers: HTTP.structured(sdkEvent).headers,
      body: Buffer.from(String(HTTP.structured(sdkEvent).body)),
    });
    const twice = ingestRequest({
      headers: HTTP.structured(sdkEvent).headers,
      body: Buffer.from(String(HTTP.structured(sdkEvent).body)),
    });
    const [a] = once.results;
    const [b] = twice.results;
    assert.ok(a?.ok && b?.ok);
    assert.equal(a.command.idempotencyKey, b.command.idempotencyKey);
    assert.equal(a.command.idempotencyDigest, b.command.idempotencyDigest);
  });
});

describe('ingestRequest', () => {
  it('reports classification errors per item in a batch', () => {
    const body = Buffer.from(
      JSON.stringify([
        receiptEvent(),
        { ...receiptEvent({ ...receiptData, unit: undefined }), id: 'r-2' },
        { specversion: '1.0', id: 'o-1', source: '/s', type: 'com.example.other' },
        { specversion: '1.0', id: '', source: '/s', type: 'com.example.other' },
      ]),
    );
    const { mode, results } = ingestRequest({
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body,
    });
    assert.equal(mode, 'batch');
    assert.deepEqual(
      results.map((r) => (r.ok ? r.command.kind : r.error.code)),
      ['receipt', 'INGEST_INVALID_RECEIPT', 'pipeline-event', 'INGEST_EMPTY_ATTRIBUTE'],
    );
    const rejected = results[1];
    assert.ok(rejected !== undefined && !rejected.ok);
    assert.equal(rejected.id, 'r-2');
  });

  it('throws a classification error in structured mode', () => {
    const body = Buffer.from(JSON.stringify(receiptEvent({ ...receiptData, multipass: 1 })));
    assert.equal(
      codeOf(() =>
        ingestRequest({ headers: { 'content-type': 'application/cloudevents+json' }, body }),
      ),
      'INGEST_INVALID_RECEIPT',
    );
  });

  it('accepts a receipt sent in binary mode by the SDK', () => {
    const message = HTTP.binary(
      new CloudEvent({ id: 'b-1', source: '/s', type: RECEIPT_EVENT_TYPE, data: receiptData }),
    );
    const { results } = ingestRequest({
      headers: message.headers,
      body: Buffer.from(String(message.body)),
    });
    const [result] = results;
    assert.ok(result?.ok && result.command.kind === 'receipt');
    assert.equal(result.command.input.unit, receiptData.unit);
    assert.equal(result.command.input.origin?.id, 'b-1');
  });
});
