// The read-model conformance suite, continued: out-of-sight rebuilds. Writes
// through a rebuild view go to new tables while the store's reads see the
// current ones; completing swaps them in atomically (a swap that fails leaves
// the current tables); a rebuild survives a reopen and can be aborted.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTable, type ParkedEventInput } from '../../src/readModels/index.js';
import { shadowTableName } from '../../src/readModels/shadow.js';
import { hasCode, row, schema, storeHelpers, type ReadModelHarness } from './conformanceSupport.js';

const parked = (projection: string, position: bigint): ParkedEventInput => ({
  projection,
  position,
  eventId: `e${position}`,
  type: 'T.v1',
  error: 'Error: boom',
  attempts: 3,
  parkedAt: '2026-01-01T00:00:00.000Z',
});

/** Registers the rebuild tests inside the caller's describe. */
export function rebuildConformance(harness: ReadModelHarness): void {
  const { withStore, withTable } = storeHelpers(harness);

  it('rebuilds out of sight: writes go to new tables, reads see the current ones; complete swaps them in', () =>
    withTable(async (store, { schema: s, things }) => {
      const other = schema();
      await store.ensureProjection(other.schema);
      await store.transaction(async (tx) => {
        await tx.upsert(things, row('a', 1));
        await tx.setCheckpoint(s.name, 5n);
        await tx.park(parked(s.name, 3n));
      });
      const declared = ['owner', 'seq'];
      // A third round too: the new tables' indexes take names the current ones do not hold.
      for (let round = 1; round <= 3; round++) {
        await store.beginRebuild(s);
        assert.deepEqual(await store.getRebuild(s), {
          version: 1,
          current: true,
          checkpoint: undefined,
        });
        // The new tables are bulk-loaded without their secondary indexes.
        assert.deepEqual(await harness.indexesOf(store, shadowTableName(things.name)), []);
        const view = store.rebuildView([s]);
        await view.deferIndexes(s.name); // nothing to do: none yet
        await view.transaction(async (tx) => {
          await tx.upsert(things, row('b', round));
          await tx.upsert(things, row('c', 3, { owner: 'o' }));
          await tx.update(things, { id: 'c' }, { seq: 4 });
          assert.deepEqual(await tx.get(things, { id: 'b' }), row('b', round));
          assert.equal(await tx.get(things, { id: 'a' }), undefined);
          await tx.setCheckpoint(s.name, 9n);
          assert.equal(await tx.getCheckpoint(s.name), 9n);
          await tx.park(parked(s.name, 7n));
          // Another projection's table, through the view, is its current one.
          await tx.upsert(other.things, row(`x${round}`, round));
        });
        assert.deepEqual(
          (await view.find(things)).rows.map((r) => r.id),
          ['b', 'c'],
        );
        assert.equal(await view.getCheckpoint(s.name), 9n);
        assert.equal((await view.get(other.things, { id: `x${round}` }))?.seq, round);
        // The store still answers from the current tables, checkpoint and parked events.
        const current =
          round === 1 ? [row('a', 1)] : [row('b', round - 1), row('c', 4, { owner: 'o' })];
        assert.deepEqual((await store.find(things)).rows, current);
        assert.equal(await store.getCheckpoint(s.name), round === 1 ? 5n : 9n);
        assert.deepEqual(
          (await store.listParked(s.name)).map((p) => p.position),
          [round === 1 ? 3n : 7n],
        );
        assert.deepEqual(
          await store.read(async (snapshot) => ({
            rows: (await snapshot.find(things)).rows,
            checkpoint: await snapshot.getCheckpoint(s.name),
          })),
          { rows: current, checkpoint: round === 1 ? 5n : 9n },
        );
        assert.equal((await store.getRebuild(s))?.checkpoint, 9n);

        await store.completeRebuild(s.name);
        assert.deepEqual((await store.find(things)).rows, [
          row('b', round),
          row('c', 4, { owner: 'o' }),
        ]);
        assert.equal(await store.getCheckpoint(s.name), 9n);
        assert.deepEqual(
          (await store.listParked(s.name)).map((p) => [p.position, p.eventId]),
          [[7n, 'e7']],
        );
        assert.equal(await store.getRebuild(s), undefined);
        assert.deepEqual(await harness.indexesOf(store, things.name), declared);
        assert.deepEqual(await harness.indexesOf(store, shadowTableName(things.name)), []);
        assert.equal(await store.ensureProjection(s), 'unchanged');
        assert.equal((await store.find(things, { owner: 'o' })).rows.length, 1);
        // The view's rebuild is over: its writes are refused, nothing is half-written.
        await assert.rejects(
          view.transaction((tx) => tx.setCheckpoint(s.name, 10n)),
          hasCode('READ_MODEL_INVALID'),
        );
      }
      assert.equal((await store.find(other.things)).rows.length, 3);
      await assert.rejects(store.completeRebuild(s.name), hasCode('READ_MODEL_INVALID'));
    }));

  it('swaps atomically: a swap that fails leaves the current tables, checkpoint and rebuild', () =>
    withTable(async (store, { schema: first, things }) => {
      // A second table, without secondary indexes, declared last: its loss fails the swap itself.
      const extra = defineTable<{ id: string }>({
        name: `${first.name}_extra`,
        columns: { id: 'TEXT' },
        primaryKey: ['id'],
      });
      const s = { ...first, tables: [things, extra] };
      assert.equal(await store.ensureProjection(s), 'rebuilt');
      await store.transaction(async (tx) => {
        await tx.upsert(things, row('a', 1));
        await tx.upsert(extra, { id: 'x' });
        await tx.setCheckpoint(s.name, 5n);
      });
      await store.beginRebuild(s);
      await store.rebuildView([s]).transaction(async (tx) => {
        await tx.upsert(things, row('b', 2));
        await tx.setCheckpoint(s.name, 8n);
      });
      // The second new table vanishes behind the store's back: the swap fails
      // after dropping the current tables and renaming the first new one.
      await harness.exec(store, `DROP TABLE "${shadowTableName(extra.name)}"`);
      await assert.rejects(store.completeRebuild(s.name));
      assert.deepEqual((await store.find(things)).rows, [row('a', 1)]);
      assert.deepEqual((await store.find(extra)).rows, [{ id: 'x' }]);
      assert.equal(await store.getCheckpoint(s.name), 5n);
      assert.equal((await store.getRebuild(s))?.checkpoint, 8n);
      assert.deepEqual(await harness.indexesOf(store, things.name), ['owner', 'seq']);
      // Begun again, it swaps.
      await store.beginRebuild(s);
      await store.rebuildView([s]).transaction((tx) => tx.upsert(things, row('c', 3)));
      await store.completeRebuild(s.name);
      assert.deepEqual((await store.find(things)).rows, [row('c', 3)]);
      assert.deepEqual((await store.find(extra)).rows, []);
      assert.equal(await store.getCheckpoint(s.name), undefined); // the rebuild committed none
    }));

  it('requestRebuilds begins, at once, the rebuilds of the projections with none under way, whatever its declaration', () =>
    withTable(async (store, { schema: s, things }) => {
      const other = schema();
      await store.ensureProjection(other.schema);
      await store.transaction(async (tx) => {
        await tx.upsert(things, row('a', 1));
        await tx.setCheckpoint(s.name, 5n);
      });
      // Two at once: one begins it, the other finds it begun.
      assert.deepEqual(
        (await Promise.all([store.requestRebuilds([s]), store.requestRebuilds([s])])).sort(),
        [[], [s.name]],
      );
      assert.deepEqual(await store.getRebuild(s), {
        version: 1,
        current: true,
        checkpoint: undefined,
      });
      await store.rebuildView([s]).transaction(async (tx) => {
        await tx.upsert(things, row('b', 2));
        await tx.setCheckpoint(s.name, 3n);
      });
      // Under way, it is left as it is (its new tables and checkpoint are not
      // begun again); the other projection's is begun.
      assert.deepEqual(await store.requestRebuilds([s, other.schema]), [other.schema.name]);
      assert.deepEqual(await store.requestRebuilds([{ ...s, version: 2 }]), []);
      assert.deepEqual(await store.getRebuild(s), { version: 1, current: true, checkpoint: 3n });
      assert.deepEqual((await store.rebuildView([s]).find(things)).rows, [row('b', 2)]);
      assert.equal((await store.getRebuild(other.schema))?.current, true);
      // The current tables serve throughout.
      assert.deepEqual((await store.find(things)).rows, [row('a', 1)]);
      assert.equal(await store.getCheckpoint(s.name), 5n);
      await store.completeRebuild(s.name);
      assert.deepEqual(await store.requestRebuilds([s]), [s.name]);
      assert.deepEqual((await store.rebuildView([s]).find(things)).rows, []);
      assert.deepEqual((await store.find(things)).rows, [row('b', 2)]);
      // All or nothing: a schema it may not begin (another's tables) begins none.
      await store.abortRebuild(s.name);
      await store.abortRebuild(other.schema.name);
      await assert.rejects(
        store.requestRebuilds([s, { ...other.schema, tables: [things] }]),
        hasCode('READ_MODEL_INVALID'),
      );
      assert.equal(await store.getRebuild(s), undefined);
    }));

  it('keeps a rebuild across a reopen; abort drops it and leaves the current tables', async (t) => {
    if (harness.reopen === undefined) return t.skip('the harness cannot reopen');
    const store = await harness.createStore();
    const s = schema();
    await store.ensureProjection(s.schema);
    await store.transaction(async (tx) => {
      await tx.upsert(s.things, row('a', 1));
      await tx.setCheckpoint(s.schema.name, 4n);
    });
    await store.beginRebuild(s.schema);
    await store.rebuildView([s.schema]).transaction(async (tx) => {
      await tx.upsert(s.things, row('b', 2));
      await tx.setCheckpoint(s.schema.name, 6n);
    });
    await store.close();
    const again = await harness.reopen(store);
    try {
      assert.equal(await again.ensureProjection(s.schema), 'unchanged');
      assert.deepEqual(await again.getRebuild(s.schema), {
        version: 1,
        current: true,
        checkpoint: 6n,
      });
      assert.equal((await again.getRebuild({ ...s.schema, version: 2 }))?.current, false);
      const view = again.rebuildView([s.schema]);
      assert.deepEqual((await view.find(s.things)).rows, [row('b', 2)]);
      await again.abortRebuild(s.schema.name);
      await again.abortRebuild(s.schema.name); // idempotent
      assert.equal(await again.getRebuild(s.schema), undefined);
      assert.deepEqual((await again.find(s.things)).rows, [row('a', 1)]);
      assert.equal(await again.getCheckpoint(s.schema.name), 4n);
      await assert.rejects(view.find(s.things)); // its tables are gone
    } finally {
      await again.close();
    }
  });

  it('refuses a rebuild of tables another projection owns; dropping a projection drops its rebuild', () =>
    withStore(async (store) => {
      const a = schema();
      const b = schema();
      await store.ensureProjection(a.schema);
      await assert.rejects(
        store.beginRebuild({ ...b.schema, tables: [a.things] }),
        hasCode('READ_MODEL_INVALID'),
      );
      await store.ensureProjection(b.schema);
      await store.beginRebuild(b.schema);
      await store.dropProjection(b.schema.name);
      assert.equal(await store.getRebuild(b.schema), undefined);
      await assert.rejects(store.rebuildView([b.schema]).find(b.things));
    }));
}
