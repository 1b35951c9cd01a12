import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEventId, ulidToUuid } from '../ids.js';
import { ZERO_DIGEST } from '../integrity.js';
import { decideIdempotency, parseIdempotencyRecord } from './idempotency.js';
import { decodeRecordedEvent, encodeMetadata } from './metadata.js';

const digest = 'ab'.repeat(32);

describe('metadata layout', () => {
  it('round-trips caller metadata, integrity fields, id, time and key through the stored JSON', () => {
    const id = newEventId();
    const stored = encodeMetadata(
      {
        context: { id: 'e1', source: 'ci', type: 'dev.cdevents.build.finished' },
        principal: 'ci-bot',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        contentDigest: 'caller-cannot-set-this',
      },
      { contentDigest: digest, prevDigest: ZERO_DIGEST },
      {
        v: 1,
        id,
        recordedAt: '2025-01-02T03:04:05.678Z',
        idempotencyKey: 'ci\u0000e1',
        idempotencyDigest: digest,
      },
    );
    // As the server stores and returns it: JSON text.
    const metadata: unknown = JSON.parse(JSON.stringify(stored));
    const decoded = decodeRecordedEvent({
      streamId: 'unit-a',
      id: '886313e1-3b8a-5372-9b90-0c9aee199e5d',
      revision: 4n,
      type: 'ReceiptRecorded.v1',
      created: new Date('2025-01-02T03:04:06Z'),
      isJson: true,
      data: { ok: true },
      metadata,
      position: { commit: 5000n, prepare: 5000n },
    });
    assert.deepEqual(decoded.event, {
      id,
      type: 'ReceiptRecorded.v1',
      stream: 'unit-a',
      revision: 4,
      position: 5000n,
      recordedAt: '2025-01-02T03:04:05.678Z',
      data: { ok: true },
      metadata: {
        context: { id: 'e1', source: 'ci', type: 'dev.cdevents.build.finished' },
        principal: 'ci-bot',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        contentDigest: digest,
        prevDigest: ZERO_DIGEST,
      },
    });
    assert.equal(decoded.record?.idempotencyKey, 'ci\u0000e1');
    assert.equal(decoded.record?.idempotencyDigest, digest);
  });

  it('refuses the reserved key', () => {
    assert.throws(
      () =>
        encodeMetadata(
          { $provenant: 'x' },
          { contentDigest: digest, prevDigest: ZERO_DIGEST },
          { v: 1, id: newEventId(), recordedAt: 'now' },
        ),
      { code: 'STORE_INVALID_EVENT' },
    );
  });

  it('decodes events written by other tools, and demands a position', () => {
    const ulid = newEventId();
    const foreign = decodeRecordedEvent({
      streamId: 'legacy',
      id: ulidToUuid(ulid),
      revision: 0n,
      type: 'Old',
      created: new Date('2020-01-01T00:00:00Z'),
      isJson: false,
      data: new Uint8Array([1, 2, 3]),
      metadata: undefined,
      position: { commit: 7n, prepare: 7n },
    });
    assert.equal(foreign.event.id, ulid);
    assert.equal(foreign.event.recordedAt, '2020-01-01T00:00:00.000Z');
    assert.equal(foreign.event.data, 'AQID');
    assert.equal(foreign.event.metadata.contentDigest, '');
    assert.equal(foreign.record, undefined);
    assert.throws(
      () =>
        decodeRecordedEvent({
          streamId: 's',
          id: ulidToUuid(ulid),
          revision: 0n,
          type: 'T',
          created: new Date(),
          isJson: true,
          data: {},
          metadata: {},
        }),
      { code: 'ESDB_UNEXPECTED' },
    );
  });
});

describe('idempotency decision', () => {
  const record = {
    key: 'k',
    digest,
    stream: 'unit-a',
    eventId: newEventId(),
    revision: 2,
    position: '900',
  };
  it('appends when no key is stored, returns originals when all are', () => {
    assert.deepEqual(decideIdempotency('unit-a', [{ key: 'k', digest }], new Map()), {
      kind: 'append',
    });
    assert.deepEqual(
      decideIdempotency('unit-a', [{ key: 'k', digest }], new Map([['k', record]])),
      {
        kind: 'duplicate',
        originals: [{ id: record.eventId, revision: 2, position: 900n }],
      },
    );
  });
  it('conflicts on other content, another stream, or a mix of stored and new keys', () => {
    const found = new Map([['k', record]]);
    assert.throws(
      () => decideIdempotency('unit-a', [{ key: 'k', digest: 'cd'.repeat(32) }], found),
      {
        code: 'STORE_IDEMPOTENCY_CONFLICT',
      },
    );
    assert.throws(
      () => decideIdempotency('unit-b', [{ key: 'k', digest }], found),
      /stream 'unit-a'/,
    );
    assert.throws(
      () =>
        decideIdempotency(
          'unit-a',
          [
            { key: 'k', digest },
            { key: 'k2', digest },
          ],
          found,
        ),
      /some keys/,
    );
  });
  it('parses only well-formed index records', () => {
    assert.deepEqual(parseIdempotencyRecord(JSON.parse(JSON.stringify(record))), record);
    assert.equal(parseIdempotencyRecord({ ...record, position: 900 }), undefined);
    assert.equal(parseIdempotencyRecord(null), undefined);
  });
});
