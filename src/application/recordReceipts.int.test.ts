// The fast paths of recording receipts, over SQLite: the unit-state cache (and
// what happens when another process writes the same unit), definitions changed by
// another process, and `recordReceipts` (one append per unit, each receipt with
// the outcome `recordReceipt` would have given it). One file past 400 lines: the
// three suites share the call-counting store wrapper that shows what was read.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EventTypes } from '../domain/events.js';
import type { ReceiptInput } from '../domain/receiptInput.js';
import { isProvenantError, type ErrorCode } from '../errors.js';
import { getSQLiteEventStore } from '../eventStore/sqlite/index.js';
import type { EventStore, ReadAllOptions, RecordedEvent } from '../eventStore/types.js';
import { createDefinitionsStore } from './definitionsStore.js';
import {
  createDomainService,
  type DomainService,
  type RecordReceiptsItem,
  type RecordReceiptResult,
} from './index.js';

const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
const OTHER = 'zlib/1.3/1.el9/x86_64/rpm';
const stream = (unit: string): string => `unit-${unit}`;

const receipt = (
  action: string,
  multipass: boolean,
  extra: Partial<ReceiptInput> = {},
): ReceiptInput => ({ unit: UNIT, action, multipass, ...extra });

/** A receipt as ingest sends it: from a CloudEvent, keyed by its source + id. */
const fromCloudEvent = (id: string, input: ReceiptInput) => ({
  input: { ...input, origin: { source: '/ci', id, type: 'dev.provenant.receipt.v1' } },
  options: { idempotencyKey: `/ci#${id}`, metadata: { context: { source: '/ci', id } } },
});

/** The port, with the calls that matter here counted. */
interface CountingStore extends EventStore {
  calls: { readStream: string[]; append: string[]; readAll: ReadAllOptions[]; head: number };
}

function counting(store: EventStore): CountingStore {
  const calls: CountingStore['calls'] = { readStream: [], append: [], readAll: [], head: 0 };
  return {
    calls,
    append: (s, events, options) => {
      calls.append.push(s);
      return store.append(s, events, options);
    },
    readStream: (s, options) => {
      calls.readStream.push(s);
      return store.readStream(s, options);
    },
    readAll: (options) => {
      calls.readAll.push(options ?? {});
      return store.readAll(options);
    },
    headPosition: () => {
      calls.head++;
      return store.headPosition();
    },
    subscribeToAll: (options) => store.subscribeToAll(options),
    findByKey: (key) => store.findByKey(key),
    verifyStream: (s) => store.verifyStream(s),
    verifyAll: (options) => store.verifyAll(options),
    isReady: () => store.isReady(),
    close: () => store.close(),
  };
}

const resetCalls = (store: CountingStore): void => {
  store.calls.readStream.length = 0;
  store.calls.append.length = 0;
  store.calls.readAll.length = 0;
  store.calls.head = 0;
};

const ok = (item: RecordReceiptsItem | undefined): RecordReceiptResult => {
  assert.ok(item?.ok, `expected a result, got ${item?.ok === false ? String(item.error) : 'none'}`);
  return item.result;
};

const failed = (item: RecordReceiptsItem | undefined, code: ErrorCode): void => {
  assert.ok(item !== undefined && !item.ok, 'expected an error');
  assert.ok(isProvenantError(item.error), String(item.error));
  assert.equal(item.error.code, code, item.error.message);
};

/** Type and data of a stream's events: what must not depend on how receipts were recorded. */
const contents = (events: readonly RecordedEvent[]) =>
  events.map((e) => ({ type: e.type, data: e.data, context: e.metadata.context }));

describe('two processes on one SQLite file', () => {
  let dir: string;
  let storeA: CountingStore;
  let storeB: EventStore;
  let a: DomainService;
  let b: DomainService;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenant-app-'));
    const path = join(dir, 'events.db');
    storeA = counting(getSQLiteEventStore({ path }));
    storeB = getSQLiteEventStore({ path });
    a = createDomainService({ eventStore: storeA });
    b = createDomainService({ eventStore: storeB });
  });
  afterEach(async () => {
    await storeA.close();
    await storeB.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a unit it wrote before without reading its stream again', async () => {
    await a.recordReceipt(receipt('build', true));
    resetCalls(storeA);
    const second = await a.recordReceipt(receipt('unit-test', true));
    assert.deepEqual(storeA.calls.readStream, []);
    assert.deepEqual(storeA.calls.append, [stream(UNIT)]);
    assert.equal(second.revision, 1);
  });

  it('drops a cached unit when the other process appended to it, and decides on the log', async () => {
    await a.defineGate('all', { requiredActions: ['build', 'unit-test', 'sast'] });
    const first = await a.recordReceipt(receipt('build', true)); // cached by A at revision 0
    const other = await b.recordReceipt(receipt('unit-test', true)); // A's cache is now stale
    resetCalls(storeA);
    const last = await a.recordReceipt(receipt('sast', true));
    // The stale append conflicted, the retry read the log, and the verdict counts B's receipt.
    assert.deepEqual(storeA.calls.append, [stream(UNIT), stream(UNIT)]);
    assert.deepEqual(storeA.calls.readStream, [stream(UNIT)]);
    assert.equal(last.revision, 2);
    assert.deepEqual(
      last.verdicts.map((v) => [v.type, v.receiptIds]),
      [[EventTypes.GatePassed, [first.receiptId, other.receiptId, last.receiptId]]],
    );
    const { events } = await storeB.readStream(stream(UNIT));
    assert.deepEqual(
      events.map((e) => e.type),
      [
        EventTypes.ReceiptRecorded,
        EventTypes.ReceiptRecorded,
        EventTypes.ReceiptRecorded,
        EventTypes.GatePassed,
      ],
    );
    // The cache now holds the unit at its new revision: the next receipt reads nothing.
    resetCalls(storeA);
    await a.recordReceipt(receipt('sca', true));
    assert.deepEqual(storeA.calls.readStream, []);
  });

  it('a grouped append after the other process wrote the unit is retried on the log', async () => {
    await a.defineGate('all', { requiredActions: ['build', 'unit-test', 'sast'] });
    await a.recordReceipt(receipt('build', true));
    await b.recordReceipt(receipt('unit-test', true));
    const results = await a.recordReceipts([
      { input: receipt('sast', true) },
      { input: receipt('sca', true) },
    ]);
    assert.deepEqual(
      results.map((r) => ok(r).revision),
      [2, 4],
    );
    assert.deepEqual(
      ok(results[0]).verdicts.map((v) => v.type),
      [EventTypes.GatePassed],
    );
    assert.equal((await storeB.readStream(stream(UNIT))).events.length, 5);
  });

  it('picks up a gate the other process defined (checked against the log by default)', async () => {
    await a.recordReceipt(receipt('build', true)); // A has loaded the (empty) definitions
    await b.defineGate('quality', { requiredActions: ['build', 'unit-test'] });
    // Past the staleness bound A checks the log again.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const result = await a.recordReceipt(receipt('unit-test', true));
    assert.deepEqual(
      result.verdicts.map((v) => [v.type, v.gateId, v.gateVersion]),
      [[EventTypes.GatePassed, 'quality', 1]],
    );
    assert.deepEqual(
      (await a.listGates()).map((g) => g.gateId),
      ['quality'],
    );
  });

  it('management reads see the other process at once, whatever the staleness bound', async () => {
    const lax = createDomainService({ eventStore: storeA, definitionsMaxStalenessMs: 60_000 });
    await lax.recordReceipt(receipt('build', true));
    await b.defineGate('quality', { requiredActions: ['build'] });
    assert.deepEqual(
      (await lax.listGates()).map((g) => g.gateId),
      ['quality'],
    );
    assert.equal((await lax.getUnitStatus(UNIT)).gates[0]?.current?.verdict, 'passed');
  });
});

describe('definitions store', () => {
  let dir: string;
  let store: CountingStore;
  let other: EventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenant-defs-'));
    store = counting(getSQLiteEventStore({ path: join(dir, 'events.db') }));
    other = getSQLiteEventStore({ path: join(dir, 'events.db') });
  });
  afterEach(async () => {
    await store.close();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scans only what was appended since the head it last read', async () => {
    const b = createDomainService({ eventStore: other });
    await b.defineGate('quality', { requiredActions: ['build'] });
    const definitions = createDefinitionsStore(store);
    const first = await definitions.load();
    assert.deepEqual([...first.gates.keys()], ['quality']);
    for (let i = 0; i < 20; i++) await b.recordReceipt(receipt(`a${i}`, true));
    const head = await other.headPosition();
    await definitions.load();
    resetCalls(store);
    // Nothing new: one head read, no scan.
    const again = await definitions.load();
    assert.equal(store.calls.head, 1);
    assert.equal(store.calls.readAll.length, 0);
    assert.equal(again.position, head);
    // Something new: the scan starts at the head read last time, not at the last definition.
    await b.recordReceipt(receipt('late', true));
    resetCalls(store);
    await definitions.load();
    assert.deepEqual(
      store.calls.readAll.map((o) => o.from),
      [head],
    );
  });

  it('serves a snapshot within the staleness bound, and checks the log after it or after invalidate()', async () => {
    let now = 1_000;
    const definitions = createDefinitionsStore(store, { now: () => now });
    const b = createDomainService({ eventStore: other });
    assert.equal((await definitions.load()).gates.size, 0);
    await b.defineGate('quality', { requiredActions: ['build'] });
    resetCalls(store);
    now += 50;
    assert.equal((await definitions.load({ maxStalenessMs: 100 })).gates.size, 0);
    assert.equal(store.calls.head, 0, 'a fresh-enough snapshot reads nothing');
    assert.equal((await definitions.load()).gates.size, 1, 'no bound: checks the log');

    await b.defineGate('security', { requiredActions: ['sast'] });
    now += 10;
    assert.equal((await definitions.load({ maxStalenessMs: 100 })).gates.size, 1);
    now += 100;
    assert.equal((await definitions.load({ maxStalenessMs: 100 })).gates.size, 2);

    await b.defineGate('ext', { requiredActions: ['dt'] });
    definitions.invalidate();
    assert.equal((await definitions.load({ maxStalenessMs: 100 })).gates.size, 3);
  });

  it('serves a snapshot that covers the position a caller read, and checks the log for a later one', async () => {
    const definitions = createDefinitionsStore(store);
    const b = createDomainService({ eventStore: other });
    await b.defineGate('quality', { requiredActions: ['build'] });
    const first = await definitions.load();
    resetCalls(store);
    assert.equal(await definitions.load({ upTo: first.position }), first);
    assert.equal(store.calls.head, 0, 'covered: nothing read');
    await b.defineGate('security', { requiredActions: ['sast'] });
    const head = await other.headPosition();
    const later = await definitions.load({ upTo: head });
    assert.equal(store.calls.head, 1, 'a later position: the log is checked');
    assert.deepEqual([...later.gates.keys()].sort(), ['quality', 'security']);
    assert.ok(later.position >= head);
  });

  it('shares one queued check among the loads that wait for it', async () => {
    const definitions = createDefinitionsStore(store);
    await definitions.load();
    resetCalls(store);
    await Promise.all(Array.from({ length: 10 }, () => definitions.load()));
    // One check in flight, one queued behind it for all the others.
    assert.ok(store.calls.head <= 2, `head read ${store.calls.head} times`);
  });
});

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
