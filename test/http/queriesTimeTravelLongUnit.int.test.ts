// Time travel on a unit longer than one page of its stream (1,000 events): `asOf`
// a position folds exactly the unit's events up to it, whether the stream is dense
// in the log or interleaved with other streams, and a dense stream is read no
// further than the point (the last page asks only for what can lie before it).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { unitStatusAsOf } from '../../src/application/queries/timeTravel.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventStore, RecordedEvent } from '../../src/eventStore/types.js';

const DENSE = 'dense/1.0.0/1.el9/x86_64/rpm';
const SPARSE = 'sparse/1.0.0/1.el9/x86_64/rpm';

const receipt = (unit: string, i: number) => ({
  type: 'ReceiptRecorded.v1',
  data: { unit, receiptId: `${unit.slice(0, 1)}-${i}`, action: 'build', multipass: true },
});

/** `store` with the number of events its stream reads returned. */
function counting(store: EventStore): { store: EventStore; read: () => number } {
  let read = 0;
  const wrapped = Object.create(store) as EventStore;
  wrapped.readStream = async (...args: Parameters<EventStore['readStream']>) => {
    const result = await store.readStream(...args);
    read += result.events.length;
    return result;
  };
  return { store: wrapped, read: () => read };
}

describe('asOf a position on a unit of more than one page', () => {
  let store: SQLiteEventStore;
  let dense: RecordedEvent[];
  let sparse: RecordedEvent[];

  before(async () => {
    store = getSQLiteEventStore({ path: ':memory:' });
    // 2,500 events in a row, then 1,200 interleaved with another stream's.
    for (let i = 0; i < 2500; i += 500)
      await store.append(
        `unit-${DENSE}`,
        Array.from({ length: 500 }, (_, k) => receipt(DENSE, i + k)),
      );
    for (let i = 0; i < 1200; i += 100) {
      await store.append(
        `unit-${SPARSE}`,
        Array.from({ length: 100 }, (_, k) => receipt(SPARSE, i + k)),
      );
      await store.append('other-1', [{ type: 'Other.v1', data: { i } }]);
    }
    dense = (await store.readStream(`unit-${DENSE}`)).events;
    sparse = (await store.readStream(`unit-${SPARSE}`)).events;
  });
  after(() => store.close());

  const receiptIdsUpTo = (events: RecordedEvent[], position: bigint): string[] =>
    events
      .filter((e) => e.position <= position)
      .map((e) => (e.data as { receiptId: string }).receiptId);

  it('folds exactly the events up to the point, and reads a dense stream no further', async () => {
    // Inside the first page, at the end of a page, just after it, inside a later
    // page, the stream's last event.
    for (const revision of [10, 999, 1000, 1999, 2000, 2345, 2499]) {
      const position = (dense[revision] as RecordedEvent).position;
      const reads = counting(store);
      const status = await unitStatusAsOf(reads.store, DENSE, { position });
      assert.equal(status.revision, revision, `revision at ${revision}`);
      assert.deepEqual(
        status.receipts.map((r) => r.receiptId),
        receiptIdsUpTo(dense, position),
      );
      assert.equal(reads.read(), revision + 1, `events read for revision ${revision}`);
    }
  });

  it('folds exactly the events up to the point when other streams lie between them', async () => {
    const last = sparse.at(-1) as RecordedEvent;
    for (const position of [
      (sparse[999] as RecordedEvent).position,
      (sparse[999] as RecordedEvent).position + 1n, // another stream's event
      (sparse[1000] as RecordedEvent).position,
      (sparse[1150] as RecordedEvent).position,
      last.position,
      await store.headPosition(),
    ]) {
      const status = await unitStatusAsOf(store, SPARSE, { position });
      const expected = receiptIdsUpTo(sparse, position);
      assert.equal(status.revision, expected.length - 1, `revision at ${position}`);
      assert.deepEqual(
        status.receipts.map((r) => r.receiptId),
        expected,
      );
    }
  });
});
