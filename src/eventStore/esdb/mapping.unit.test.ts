import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANY, NO_STREAM, STREAM_EXISTS } from '../expectedRevision.js';
import { newEventId, uuidToUlid, uuidV5 } from '../ids.js';
import {
  IDEMPOTENCY_NAMESPACE,
  assertStorableOnEsdb,
  esdbEventId,
  fromEsdbExpectedRevision,
  fromEsdbPosition,
  fromEsdbRevision,
  idempotencyStreamName,
  isPastPosition,
  isVisibleInAll,
  portEventId,
  toEsdbExpectedRevision,
  toEsdbFilter,
  toEsdbPosition,
} from './mapping.js';

describe('revisions', () => {
  it('maps sentinels and numbers both ways (both are 0-based)', () => {
    assert.equal(toEsdbExpectedRevision(ANY), 'any');
    assert.equal(toEsdbExpectedRevision(NO_STREAM), 'no_stream');
    assert.equal(toEsdbExpectedRevision(STREAM_EXISTS), 'stream_exists');
    assert.equal(toEsdbExpectedRevision(0), 0n);
    assert.equal(toEsdbExpectedRevision(41), 41n);
    for (const r of [ANY, NO_STREAM, STREAM_EXISTS, 0, 7] as const)
      assert.equal(fromEsdbExpectedRevision(toEsdbExpectedRevision(r)), r);
    assert.equal(fromEsdbRevision('no_stream'), NO_STREAM);
    assert.equal(fromEsdbRevision(12n), 12);
    assert.throws(() => fromEsdbRevision(2n ** 60n), { code: 'STORE_INTEGRITY_VIOLATION' });
  });
});

describe('positions', () => {
  it('uses the commit position, and maps back with commit = prepare', () => {
    assert.equal(fromEsdbPosition({ commit: 1234n, prepare: 1234n }), 1234n);
    assert.deepEqual(toEsdbPosition(99n), { commit: 99n, prepare: 99n });
    assert.equal(fromEsdbPosition(toEsdbPosition(2n ** 62n)), 2n ** 62n);
  });
  it('treats a given position as exclusive in both directions', () => {
    assert.equal(isPastPosition(10n, 10n, 'forwards'), false);
    assert.equal(isPastPosition(11n, 10n, 'forwards'), true);
    assert.equal(isPastPosition(10n, 10n, 'backwards'), false);
    assert.equal(isPastPosition(9n, 10n, 'backwards'), true);
  });
});

describe('event ids', () => {
  it('stores unkeyed events under the lossless UUID image of their ULID', () => {
    const ulid = newEventId();
    const uuid = esdbEventId(ulid, undefined);
    assert.equal(uuidToUlid(uuid), ulid);
    assert.equal(portEventId(undefined, uuid), ulid);
  });
  it('derives a deterministic UUIDv5 from an idempotency key', () => {
    const a = esdbEventId(newEventId(), 'https://ci.example/jobs\u00001');
    const b = esdbEventId(newEventId(), 'https://ci.example/jobs\u00001');
    assert.equal(a, b);
    assert.notEqual(a, esdbEventId(newEventId(), 'https://ci.example/jobs\u00002'));
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // RFC 9562 / RFC 4122 test vector: uuid5(NAMESPACE_DNS, "python.org").
    assert.equal(
      uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org'),
      '886313e1-3b8a-5372-9b90-0c9aee199e5d',
    );
    assert.notEqual(IDEMPOTENCY_NAMESPACE, '6ba7b810-9dad-11d1-80b4-00c04fd430c8');
  });
  it('prefers the ULID recorded in metadata over the server UUID', () => {
    const ulid = newEventId();
    assert.equal(portEventId(ulid, '886313e1-3b8a-5372-9b90-0c9aee199e5d'), ulid);
    assert.equal(
      portEventId('not-a-ulid', '886313e1-3b8a-5372-9b90-0c9aee199e5d'),
      uuidToUlid('886313e1-3b8a-5372-9b90-0c9aee199e5d'),
    );
  });
});

describe('system events and filters', () => {
  it("hides the server's $-typed events but not Provenant's $-streams", () => {
    for (const type of ['$metadata', '$>', '$statsCollected', '$provenant-idempotency'])
      assert.equal(isVisibleInAll(type), false);
    assert.equal(isVisibleInAll('CheckpointSigned.v1'), true);
  });
  it('builds server-side filters: exclude system events by default, else the prefixes', () => {
    assert.deepEqual(
      { ...toEsdbFilter(undefined), checkpointReached: undefined },
      {
        filterOn: 'eventType',
        regex: '^[^$].*',
        checkpointInterval: 1,
        checkpointReached: undefined,
      },
    );
    const byStream = toEsdbFilter({ streamPrefix: ['unit-', 'gate-'] });
    assert.equal(byStream.filterOn, 'streamName');
    assert.deepEqual('prefixes' in byStream && byStream.prefixes, ['unit-', 'gate-']);
    const byType = toEsdbFilter({ eventTypePrefix: ['Receipt'] });
    assert.equal(byType.filterOn, 'eventType');
    assert.deepEqual('prefixes' in byType && byType.prefixes, ['Receipt']);
  });
  it('names idempotency streams by key digest and reserves server names', () => {
    assert.match(idempotencyStreamName('k'), /^\$idem-[0-9a-f]{64}$/);
    assert.notEqual(idempotencyStreamName('k'), idempotencyStreamName('k2'));
    assert.throws(() => assertStorableOnEsdb('$$unit-a', ['A']), {
      code: 'STORE_INVALID_STREAM_NAME',
    });
    assert.throws(() => assertStorableOnEsdb('$all', ['A']), { code: 'STORE_INVALID_STREAM_NAME' });
    assert.throws(() => assertStorableOnEsdb('unit-a', ['A', '$>']), {
      code: 'STORE_INVALID_EVENT',
    });
    assert.doesNotThrow(() => assertStorableOnEsdb('$checkpoints', ['CheckpointSigned.v1']));
  });
});
