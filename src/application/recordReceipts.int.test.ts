// `recordReceipts` over SQLite: one append per unit, each receipt with the
// outcome `recordReceipt` would have given it. The unit-state cache and the
// definitions store have files of their own (twoProcesses.int.test.ts,
// definitionsStore.int.test.ts); the counting store is in
// test/support/recordingFixtures.ts.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EventTypes } from '../domain/events.js';
import { getSQLiteEventStore } from '../eventStore/sqlite/index.js';
import { createDomainService, type DomainService, type RecordReceiptResult } from './index.js';
import {
  OTHER,
  UNIT,
  contents,
  counting,
  failed,
  fromCloudEvent,
  ok,
  receipt,
  resetCalls,
  stream,
  type CountingStore,
} from '../../test/support/recordingFixtures.js';

describe('recordReceipts', () => {
  let store: CountingStore;
  let service: DomainService;

  beforeEach(() => {
    store = counting(getSQLiteEventStore({ path: ':memory:' }));
    service = createDomainService({ eventStore: store });
  });
  afterEach(async () => {
    await store.close();
  });

  const pipeline = async (target: DomainService): Promise<void> => {
    await target.defineGate('quality', { requiredActions: ['build', 'unit-test'] });
    await target.defineGate('security', {
      requiredActions: ['sast'],
      customSchema: { type: 'object', properties: { findings: { type: 'integer', maximum: 0 } } },
    });
    await target.defineStage('release', { gates: ['quality', 'security'] });
  };

  const batch = [
    fromCloudEvent('1', receipt('build', true)),
    fromCloudEvent('2', receipt('build', true, { unit: OTHER })),
    fromCloudEvent('3', receipt('unit-test', true)),
    fromCloudEvent('4', receipt('sast', false, { unit: OTHER })),
    fromCloudEvent('5', receipt('sast', true)),
    fromCloudEvent('6', receipt('sast', true, { unit: OTHER })),
  ];

  it('appends once per unit and returns one result per receipt, in input order', async () => {
    await pipeline(service);
    resetCalls(store);
    const results = await service.recordReceipts(batch);
    assert.deepEqual(store.calls.append.sort(), [stream(UNIT), stream(OTHER)]);
    assert.deepEqual(
      results.map((r) => [ok(r).unit, ok(r).duplicate]),
      batch.map((b) => [b.input.unit, false]),
    );
    // Each receipt is decided on the state the earlier ones of its unit left.
    assert.deepEqual(
      results.map((r) => ok(r).verdicts.map((v) => [v.type, v.gateId ?? v.stageId])),
      [
        [],
        [],
        [[EventTypes.GatePassed, 'quality']],
        [[EventTypes.GateFailed, 'security']],
        [
          [EventTypes.GatePassed, 'security'],
          [EventTypes.StagePassed, 'release'],
        ],
        [[EventTypes.GatePassed, 'security']],
      ],
    );
    // Each result names its own receipt event.
    for (const r of results) {
      const { events } = await store.readStream(ok(r).stream, {
        from: ok(r).revision,
        maxCount: 1,
      });
      assert.equal(events[0]?.id, ok(r).eventId);
      assert.equal((events[0]?.data as { receiptId: string }).receiptId, ok(r).receiptId);
      assert.equal(events[0]?.position.toString(), ok(r).position);
    }
  });

  it('leaves the same log as recording the receipts one by one', async () => {
    await pipeline(service);
    const grouped = await service.recordReceipts(batch);
    const oneByOne = getSQLiteEventStore({ path: ':memory:' });
    try {
      const sequential = createDomainService({ eventStore: oneByOne });
      await pipeline(sequential);
      const single: RecordReceiptResult[] = [];
      for (const b of batch) single.push(await sequential.recordReceipt(b.input, b.options));
      for (const unit of [UNIT, OTHER])
        assert.deepEqual(
          contents((await store.readStream(stream(unit))).events),
          contents((await oneByOne.readStream(stream(unit))).events),
        );
      const shape = (r: RecordReceiptResult) => ({
        receiptId: r.receiptId,
        revision: r.revision,
        verdicts: r.verdicts.map((v) => [v.type, v.gateId, v.stageId, v.receiptIds]),
      });
      assert.deepEqual(grouped.map(ok).map(shape), single.map(shape));
    } finally {
      await oneByOne.close();
    }
  });

  it('reports a redelivered batch as duplicates with the original results, appending nothing', async () => {
    await pipeline(service);
    const first = await service.recordReceipts(batch);
    resetCalls(store);
    const again = await service.recordReceipts(batch);
    assert.deepEqual(store.calls.append, []);
    assert.deepEqual(
      again.map((r) => ok(r)),
      first.map((r) => ({ ...ok(r), duplicate: true })),
    );
  });

  it('treats a receipt repeated within the batch as a duplicate of the first', async () => {
    const [one, two] = await service.recordReceipts([
      fromCloudEvent('7', receipt('build', true)),
      fromCloudEvent('7', receipt('build', true)),
    ]);
    assert.equal(ok(two).duplicate, true);
    assert.equal(ok(two).eventId, ok(one).eventId);
    assert.equal((await store.readStream(stream(UNIT))).events.length, 1);
  });

  it('fails only the receipts that conflict or are invalid; the others of their unit are recorded', async () => {
    await pipeline(service);
    await service.recordReceipts([fromCloudEvent('1', receipt('build', true))]);
    resetCalls(store);
    const results = await service.recordReceipts([
      fromCloudEvent('1', receipt('build', false)), // same CloudEvent, other content
      fromCloudEvent('8', receipt('unit-test', true)),
      fromCloudEvent('9', receipt('sast', true, { custom: { findings: 3 } })), // schema
      fromCloudEvent('10', receipt('sast', true, { unit: 'not a unit' })),
      fromCloudEvent('11', receipt('sast', true, { custom: { findings: 0 } })),
    ]);
    failed(results[0], 'DOMAIN_RECEIPT_CONFLICT');
    assert.equal(ok(results[1]).duplicate, false);
    failed(results[2], 'DOMAIN_CUSTOM_SCHEMA_VIOLATION');
    failed(results[3], 'DOMAIN_INVALID_UNIT_KEY');
    assert.deepEqual(
      ok(results[4]).verdicts.map((v) => v.type),
      [EventTypes.GatePassed, EventTypes.StagePassed],
    );
    assert.deepEqual(store.calls.append, [stream(UNIT)]);
  });

  it('falls back to one receipt at a time when the store refuses the grouped append', async () => {
    // The key of receipt '12' is already stored, in another unit's stream.
    await service.recordReceipt(receipt('build', true, { unit: OTHER }), {
      idempotencyKey: '/ci#12',
    });
    resetCalls(store);
    const results = await service.recordReceipts([
      fromCloudEvent('13', receipt('build', true)),
      fromCloudEvent('12', receipt('unit-test', true)),
      fromCloudEvent('14', receipt('sast', true)),
    ]);
    assert.equal(ok(results[0]).revision, 0);
    failed(results[1], 'STORE_IDEMPOTENCY_CONFLICT');
    assert.equal(ok(results[2]).revision, 1);
    assert.deepEqual(
      (await store.readStream(stream(UNIT))).events.map(
        (e) => (e.data as { action: string }).action,
      ),
      ['build', 'sast'],
    );
  });

  it('reports a receipt whose key was stored before (a JUnit re-post) as the original', async () => {
    const original = await service.recordReceipt(receipt('unit-test', true), {
      idempotencyKey: 'junit:run-1',
    });
    const results = await service.recordReceipts([
      { input: receipt('build', true) },
      { input: receipt('unit-test', true), options: { idempotencyKey: 'junit:run-1' } },
    ]);
    assert.equal(ok(results[0]).duplicate, false);
    assert.deepEqual(ok(results[1]), { ...original, duplicate: true });
    assert.equal((await store.readStream(stream(UNIT))).events.length, 2);
  });

  it('keeps the order of concurrent calls on one unit', async () => {
    const [first, second] = await Promise.all([
      service.recordReceipts([{ input: receipt('a', true) }, { input: receipt('b', true) }]),
      service.recordReceipts([{ input: receipt('c', true) }]),
      service.recordReceipt(receipt('d', true)),
    ]);
    assert.deepEqual(
      [...(first ?? []), ...(second ?? [])].map((r) => ok(r).revision),
      [0, 1, 2],
    );
    assert.deepEqual(
      (await store.readStream(stream(UNIT))).events.map(
        (e) => (e.data as { action: string }).action,
      ),
      ['a', 'b', 'c', 'd'],
    );
  });

  it('records nothing for an empty request list', async () => {
    assert.deepEqual(await service.recordReceipts([]), []);
    assert.deepEqual(store.calls.append, []);
  });
});
