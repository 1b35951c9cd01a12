// The read-model conformance suite, continued: dead letters, projection
// versions, dropping a projection, and reopening the store.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  hasCode,
  row,
  schema,
  storeHelpers,
  uniqueName,
  type ReadModelHarness,
} from './conformanceSupport.js';

/** Registers the lifecycle tests inside the caller's describe. */
export function lifecycleConformance(harness: ReadModelHarness): void {
  const { withStore, withTable } = storeHelpers(harness);

  it('parks, lists and takes back dead letters, in the transaction', () =>
    withStore(async (store) => {
      const projection = uniqueName();
      const entry = (position: bigint) => ({
        projection,
        position,
        eventId: `e${position}`,
        type: 'T.v1',
        error: 'Error: boom',
        attempts: 3,
        parkedAt: '2026-01-01T00:00:00.000Z',
      });
      const [first, second] = await store.transaction(async (tx) => [
        await tx.park(entry(5n)),
        await tx.park(entry(2n ** 60n)),
      ]);
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.park(entry(7n));
          throw new Error('rolled back');
        }),
      );
      assert.deepEqual(await store.listParked(projection), [
        { id: first, ...entry(5n) },
        { id: second, ...entry(2n ** 60n) },
      ]);
      assert.ok((await store.listParked()).length >= 2);
      assert.deepEqual(await store.getParked(second), { id: second, ...entry(2n ** 60n) });
      const taken = await store.transaction((tx) => tx.takeParked(first));
      assert.deepEqual(taken, { id: first, ...entry(5n) });
      assert.equal(await store.transaction((tx) => tx.takeParked(first)), undefined);
      assert.deepEqual(
        (await store.listParked(projection)).map((p) => p.id),
        [second],
      );
    }));

  it('versions projections: same version keeps rows; another version rebuilds out of sight when its tables answer the same queries, else drops them', () =>
    withTable(async (store, { schema: s, things }) => {
      await store.transaction(async (tx) => {
        await tx.upsert(things, row('a', 1));
        await tx.setCheckpoint(s.name, 5n);
      });
      assert.equal(await store.ensureProjection(s), 'unchanged');
      assert.equal((await store.find(things)).rows.length, 1);
      // Same tables, another version: the current rows and checkpoint serve until the swap.
      const v2 = { ...s, version: 2 };
      assert.equal(await store.ensureProjection(v2), 'rebuilding');
      assert.deepEqual((await store.find(things)).rows, [row('a', 1)]);
      assert.equal(await store.getCheckpoint(s.name), 5n);
      assert.deepEqual(await store.getRebuild(v2), {
        version: 2,
        current: true,
        checkpoint: undefined,
      });
      await store.rebuildView([v2]).transaction((tx) => tx.setCheckpoint(s.name, 3n));
      assert.equal(await store.ensureProjection(v2), 'rebuilding'); // kept, not begun again
      assert.equal((await store.getRebuild(v2))?.checkpoint, 3n);
      // Other columns: the current tables cannot answer; dropped with the checkpoint and the rebuild.
      const v3 = {
        ...s,
        version: 3,
        tables: [{ ...things, columns: { ...things.columns, seq: 'TEXT' as const } }],
      };
      assert.equal(await store.ensureProjection(v3), 'rebuilt');
      assert.deepEqual((await store.find(things)).rows, []);
      assert.equal(await store.getCheckpoint(s.name), undefined);
      assert.equal(await store.getRebuild(v3), undefined);
    }));

  it('drops a projection’s tables, checkpoint and parked events', () =>
    withTable(async (store, { schema: s, things }) => {
      await store.transaction(async (tx) => {
        await tx.upsert(things, row('a', 1));
        await tx.setCheckpoint(s.name, 5n);
        await tx.park({
          projection: s.name,
          position: 3n,
          eventId: 'e',
          type: 'T',
          error: 'x',
          attempts: 1,
          parkedAt: 'now',
        });
      });
      await store.dropProjection(s.name);
      assert.equal(await store.getCheckpoint(s.name), undefined);
      assert.deepEqual(await store.listParked(s.name), []);
      await assert.rejects(store.find(things));
      assert.equal(await store.ensureProjection(s), 'created');
      assert.deepEqual((await store.find(things)).rows, []);
    }));

  it('keeps rows and checkpoints across a reopen; close is idempotent', async (t) => {
    if (harness.reopen === undefined) return t.skip('the harness cannot reopen');
    const store = await harness.createStore();
    const s = schema();
    await store.ensureProjection(s.schema);
    await store.transaction(async (tx) => {
      await tx.upsert(s.things, row('a', 1));
      await tx.setCheckpoint(s.schema.name, 42n);
    });
    await store.close();
    await store.close();
    await assert.rejects(store.getCheckpoint(s.schema.name), hasCode('READ_MODEL_CLOSED'));
    const again = await harness.reopen(store);
    try {
      assert.equal(await again.ensureProjection(s.schema), 'unchanged');
      assert.equal(await again.getCheckpoint(s.schema.name), 42n);
      assert.deepEqual(await again.get(s.things, { id: 'a' }), row('a', 1));
    } finally {
      await again.close();
    }
  });

  it('records, per projection, the log it was built from; kept across a reopen', async () => {
    const store = await harness.createStore();
    const [a, b] = [uniqueName(), uniqueName()];
    try {
      assert.equal(await store.getSourceLog(a), undefined);
      await store.setSourceLog(a, '01FIRSTEVENTOFLOGONE');
      await store.setSourceLog(b, '01FIRSTEVENTOFLOGTWO');
      await store.setSourceLog(a, '01FIRSTEVENTOFLOGTHREE');
      assert.equal(await store.getSourceLog(a), '01FIRSTEVENTOFLOGTHREE');
      assert.equal(await store.getSourceLog(b), '01FIRSTEVENTOFLOGTWO');
    } finally {
      await store.close();
    }
    if (harness.reopen === undefined) return;
    const again = await harness.reopen(store);
    try {
      assert.equal(await again.getSourceLog(a), '01FIRSTEVENTOFLOGTHREE');
    } finally {
      await again.close();
    }
  });

  it('refuses a table of another projection, and store calls inside its own transaction', () =>
    withTable(async (store, { schema: s, things }) => {
      await assert.rejects(
        store.ensureProjection({ name: uniqueName(), version: 1, tables: [things] }),
        hasCode('READ_MODEL_INVALID'),
      );
      const settled = await store.transaction(async (tx) => {
        await tx.upsert(things, row('a', 1));
        const inner = await Promise.race([
          store.getCheckpoint(s.name).then(
            () => 'completed',
            () => 'rejected',
          ),
          new Promise((resolve) => setTimeout(() => resolve('hung'), 2000)),
        ]);
        return inner;
      });
      assert.notEqual(settled, 'hung');
      assert.deepEqual(await store.get(things, { id: 'a' }), row('a', 1));
    }));

  it('defers secondary indexes for a bulk load and builds them after; reads answer the same', () =>
    withTable(async (store, { schema: s, things }) => {
      const declared = ['owner', 'seq'];
      assert.deepEqual(await harness.indexesOf(store, things.name), declared);
      await store.transaction(async (tx) => {
        for (let i = 0; i < 10; i++)
          await tx.upsert(things, row(`r${i}`, i % 3, { owner: i % 2 === 0 ? 'even' : null }));
      });
      const query = () => store.find(things, { owner: 'even' }, { orderBy: ['seq'], limit: 4 });
      const before = await query();
      await store.deferIndexes(s.name);
      await store.deferIndexes(s.name); // idempotent
      assert.deepEqual(await harness.indexesOf(store, things.name), []);
      assert.deepEqual(await query(), before);
      await store.transaction((tx) => tx.upsert(things, row('r10', -1, { owner: 'even' })));
      await store.buildIndexes(s.name);
      await store.buildIndexes(s.name); // idempotent
      assert.deepEqual(await harness.indexesOf(store, things.name), declared);
      assert.deepEqual(
        (await query()).rows.map((r) => r.id),
        ['r10', 'r0', 'r6', 'r4'],
      );
      // Neither is a change of declaration: the rows stay.
      assert.equal(await store.ensureProjection(s), 'unchanged');
      assert.equal((await store.find(things)).rows.length, 11);
      await store.buildIndexes(uniqueName()); // an unknown projection has nothing to build
    }));

  it('rebuilds a projection whose tables changed under the same version', () =>
    withTable(async (store, { schema: s, things }) => {
      await store.transaction((tx) => tx.upsert(things, row('a', 1)));
      // Another index only: the current table still answers, so it serves meanwhile.
      const reindexed = { ...s, tables: [{ ...things, indexes: [['owner', 'seq']] as const }] };
      assert.equal(await store.ensureProjection(reindexed), 'rebuilding');
      assert.deepEqual((await store.find(things)).rows, [row('a', 1)]);
      // Another key: it cannot.
      const rekeyed = { ...s, tables: [{ ...things, primaryKey: ['id', 'seq'] as const }] };
      assert.equal(await store.ensureProjection(rekeyed), 'rebuilt');
      assert.deepEqual((await store.find(things)).rows, []);
      assert.equal(await store.getRebuild(reindexed), undefined);
    }));
}
