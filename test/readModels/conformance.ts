// The read-model store conformance suite: one suite, run by every adapter's spec
// with a store factory (like test/eventStore/conformance.ts). Every test uses
// its own projection and table names, so it may run against a shared database.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReadModelStore } from '../../src/readModels/index.js';
import { lifecycleConformance } from './conformanceLifecycle.js';
import { rebuildConformance } from './conformanceRebuild.js';
import {
  hasCode,
  row,
  storeHelpers,
  type ReadModelHarness,
  type ThingRow,
} from './conformanceSupport.js';

export type { ReadModelHarness } from './conformanceSupport.js';

export function readModelConformance(name: string, harness: ReadModelHarness): void {
  const { withTable } = storeHelpers(harness);

  describe(`read-model store conformance: ${name}`, () => {
    it('round-trips every column type, and null', () =>
      withTable(async (store, { things }) => {
        const full = row('a', 2 ** 40, {
          score: 1.5,
          flag: true,
          tags: { x: [1, 'two', null] },
          owner: 'o',
        });
        await store.transaction(async (tx) => {
          await tx.upsert(things, full);
          await tx.upsert(things, row('b', 0, { flag: false, tags: [] }));
        });
        assert.deepEqual(await store.get(things, { id: 'a' }), full);
        assert.deepEqual(
          await store.get(things, { id: 'b' }),
          row('b', 0, { flag: false, tags: [] }),
        );
        assert.equal(await store.get(things, { id: 'missing' }), undefined);
      }));

    it('upsert replaces, update patches, delete removes; missing rows are left alone', () =>
      withTable(async (store, { things }) => {
        await store.transaction(async (tx) => {
          await tx.upsert(things, row('a', 1, { owner: 'x', score: 3 }));
          await tx.upsert(things, row('a', 2));
          await tx.update(things, { id: 'missing' }, { seq: 9 });
          await tx.delete(things, { id: 'missing' });
          await tx.upsert(things, row('b', 1));
          await tx.upsert(things, row('c', 1));
        });
        assert.deepEqual(await store.get(things, { id: 'a' }), row('a', 2));
        await store.transaction(async (tx) => {
          await tx.update(things, { id: 'b' }, { owner: 'y', flag: true });
          await tx.delete(things, { id: 'c' });
          assert.deepEqual(
            await tx.get(things, { id: 'b' }),
            row('b', 1, { owner: 'y', flag: true }),
          );
        });
        assert.deepEqual(
          await store.get(things, { id: 'b' }),
          row('b', 1, { owner: 'y', flag: true }),
        );
        assert.equal(await store.get(things, { id: 'c' }), undefined);
        assert.equal(await store.get(things, { id: 'missing' }), undefined);
      }));

    it('finds by equality (null included), in order, and pages with a cursor', () =>
      withTable(async (store, { things }) => {
        await store.transaction(async (tx) => {
          for (let i = 0; i < 10; i++)
            await tx.upsert(things, row(`r${i}`, i % 3, { owner: i % 2 === 0 ? 'even' : null }));
        });
        const ids = (rows: ThingRow[]) => rows.map((r) => r.id);
        assert.deepEqual(ids((await store.find(things, { owner: 'even' })).rows), [
          'r0',
          'r2',
          'r4',
          'r6',
          'r8',
        ]);
        assert.deepEqual(ids((await store.find(things, { owner: null, seq: 1 })).rows), [
          'r1',
          'r7',
        ]);
        const bySeqDesc = await store.find(things, {}, { orderBy: ['seq'], direction: 'desc' });
        assert.deepEqual(ids(bySeqDesc.rows), [
          'r8',
          'r5',
          'r2',
          'r7',
          'r4',
          'r1',
          'r9',
          'r6',
          'r3',
          'r0',
        ]);
        assert.equal(bySeqDesc.next, undefined);
        const paged: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.find(
            things,
            {},
            { orderBy: ['seq'], direction: 'desc', limit: 3, ...(after ? { after } : {}) },
          );
          paged.push(...ids(page.rows));
          if (page.next === undefined) break;
          after = page.next;
        }
        assert.deepEqual(paged, ids(bySeqDesc.rows));
        await assert.rejects(
          store.find(things, {}, { after: 'garbage!' }),
          hasCode('READ_MODEL_INVALID'),
        );
      }));

    it('commits a transaction’s rows and checkpoint together, or nothing when it throws', () =>
      withTable(async (store, { schema: s, things }) => {
        await store.transaction(async (tx) => {
          await tx.upsert(things, row('a', 1));
          await tx.setCheckpoint(s.name, 10n);
        });
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.upsert(things, row('b', 1));
            await tx.update(things, { id: 'a' }, { seq: 2 });
            await tx.setCheckpoint(s.name, 20n);
            await new Promise((resolve) => setTimeout(resolve, 5));
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(await store.getCheckpoint(s.name), 10n);
        assert.deepEqual((await store.find(things)).rows, [row('a', 1)]);
        assert.equal(await store.getCheckpoint(`${s.name}_other`), undefined);
      }));

    it('never interleaves concurrent async transactions', () =>
      withTable(async (store, { things }) => {
        const order: string[] = [];
        const run = (label: string) =>
          store.transaction(async (tx) => {
            order.push(`${label}:begin`);
            const current = (await tx.get(things, { id: 'counter' }))?.seq ?? 0;
            await new Promise((resolve) => setTimeout(resolve, 2));
            await tx.upsert(things, row('counter', current + 1));
            order.push(`${label}:end`);
          });
        await Promise.all([run('a'), run('b'), run('c'), store.get(things, { id: 'counter' })]);
        assert.deepEqual(order, ['a:begin', 'a:end', 'b:begin', 'b:end', 'c:begin', 'c:end']);
        assert.equal((await store.get(things, { id: 'counter' }))?.seq, 3);
      }));

    it('rejects a transaction object used after its transaction ended', () =>
      withTable(async (store, { things }) => {
        let leaked: Parameters<Parameters<ReadModelStore['transaction']>[0]>[0] | undefined;
        await store.transaction(async (tx) => {
          leaked = tx;
          await Promise.resolve();
        });
        await assert.rejects(leaked!.upsert(things, row('a', 1)), hasCode('READ_MODEL_CLOSED'));
      }));

    it('reads one snapshot: checkpoint and rows agree while a writer commits', () =>
      withTable(async (store, { schema: s, things }) => {
        await store.transaction(async (tx) => {
          await tx.upsert(things, row('a', 1));
          await tx.setCheckpoint(s.name, 10n);
        });
        const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        let leaked: Parameters<Parameters<ReadModelStore['read']>[0]>[0] | undefined;
        const reading = store.read(async (snapshot) => {
          leaked = snapshot;
          const checkpoint = await snapshot.getCheckpoint(s.name);
          await sleep(40); // the writer below commits meanwhile (where the store lets it)
          const { rows } = await snapshot.find(things);
          return {
            checkpoint,
            ids: rows.map((r) => r.id),
            a: await snapshot.get(things, { id: 'a' }),
          };
        });
        await sleep(5);
        const writing = store.transaction(async (tx) => {
          await tx.upsert(things, row('b', 2));
          await tx.update(things, { id: 'a' }, { seq: 5 });
          await tx.setCheckpoint(s.name, 20n);
        });
        const [seen] = await Promise.all([reading, writing]);
        if (seen.checkpoint === 10n) {
          assert.deepEqual(seen.ids, ['a']);
          assert.equal(seen.a?.seq, 1);
        } else {
          assert.equal(seen.checkpoint, 20n);
          assert.deepEqual(seen.ids, ['a', 'b']);
          assert.equal(seen.a?.seq, 5);
        }
        // After it, the writer's commit is visible; the snapshot object is closed.
        const after = await store.read(async (snapshot) => ({
          checkpoint: await snapshot.getCheckpoint(s.name),
          rows: (await snapshot.find(things)).rows.length,
        }));
        assert.deepEqual(after, { checkpoint: 20n, rows: 2 });
        await assert.rejects(leaked!.find(things), hasCode('READ_MODEL_CLOSED'));
        // A read that throws rethrows, and the store goes on.
        await assert.rejects(
          store.read(async (snapshot) => {
            await snapshot.get(things, { id: 'a' });
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal((await store.get(things, { id: 'b' }))?.seq, 2);
      }));

    it('rejects rows that do not match the table declaration', () =>
      withTable(async (store, { things }) => {
        const bad = [
          () =>
            store.transaction((tx) =>
              tx.upsert(things, { ...row('a', 1), seq: 'one' as unknown as number }),
            ),
          () => store.transaction((tx) => tx.upsert(things, { ...row('a', 1), nope: 1 })),
          () => store.transaction((tx) => tx.update(things, {}, { seq: 1 })),
          () => store.get(things, { owner: 'x' }),
        ];
        for (const attempt of bad) await assert.rejects(attempt(), hasCode('READ_MODEL_INVALID'));
        assert.deepEqual((await store.find(things)).rows, []);
      }));

    lifecycleConformance(harness);
    rebuildConformance(harness);
  });
}
