// The event-store conformance suite (conformance.ts), reading: streams and `$all`
// with filters and paging, subscriptions, and lookup keys.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { NO_STREAM } from '../../src/eventStore/index.js';
import { canonicalize } from '../../src/encoding/canonicalJson.js';
import { ev, hasCode, readPrefix, take, type ConformanceContext } from './conformanceSupport.js';

export function reading({ backend, withStore }: ConformanceContext): void {
  describe('reading', () => {
    it('reads a missing stream as empty with no_stream', () =>
      withStore(async (store, p) => {
        assert.deepEqual(await store.readStream(`${p}-missing`), {
          events: [],
          currentRevision: NO_STREAM,
        });
      }));

    it('reads a stream forwards and backwards from a revision with a limit', () =>
      withStore(async (store, p) => {
        await store.append(
          `${p}-a`,
          Array.from({ length: 10 }, (_, n) => ev('A', { n })),
        );
        const fwd = await store.readStream(`${p}-a`, { from: 3, maxCount: 4 });
        assert.deepEqual(
          fwd.events.map((e) => e.revision),
          [3, 4, 5, 6],
        );
        assert.equal(fwd.currentRevision, 9);
        const back = await store.readStream(`${p}-a`, { direction: 'backwards', maxCount: 3 });
        assert.deepEqual(
          back.events.map((e) => e.revision),
          [9, 8, 7],
        );
        const backFrom = await store.readStream(`${p}-a`, { direction: 'backwards', from: 2 });
        assert.deepEqual(
          backFrom.events.map((e) => e.revision),
          [2, 1, 0],
        );
      }));

    it('orders $all globally in acknowledgement order across streams, with paging', () =>
      withStore(async (store, p) => {
        const acknowledged: string[] = [];
        for (let i = 0; i < 12; i++) {
          const r = await store.append(`${p}-${i % 3}`, [ev('Step', { i })]);
          acknowledged.push(r.events[0]!.id);
        }
        const all = await readPrefix(store, p, 5);
        assert.deepEqual(
          all.map((e) => e.id),
          acknowledged,
        );
        for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.position < all[i]!.position);
        assert.ok((await store.headPosition()) >= all.at(-1)!.position);
      }));

    it('serves $all as stored (readAllStored): the canonical text the digests cover', (t) =>
      withStore(async (store, p) => {
        if (store.readAllStored === undefined) {
          t.skip(`${backend} does not implement readAllStored`);
          return;
        }
        const context = { id: 'c1', source: '/ci', type: 'x.y' };
        await store.append(`${p}-s`, [
          ev('Stored', { z: 1, a: [true, null, 'é'] }, { metadata: { principal: 'u', context } }),
          ev('Stored', { n: 2 }),
        ]);
        const recorded = await readPrefix(store, p, 10);
        const first = recorded[0]!.position;
        const page = await store.readAllStored({ from: first - 1n, maxCount: 2 });
        assert.deepEqual(
          page.map((e) => e.id),
          recorded.map((e) => e.id),
        );
        for (const [i, stored] of page.entries()) {
          const event = recorded[i]!;
          const { contentDigest: digest, prevDigest, ...metadata } = event.metadata;
          assert.equal(stored.dataJson, canonicalize(event.data));
          assert.deepEqual(JSON.parse(stored.metadataJson), metadata);
          assert.equal(stored.contentDigest, digest);
          assert.equal(stored.prevDigest, prevDigest);
          assert.deepEqual(
            [stored.type, stored.stream, stored.revision, stored.position, stored.recordedAt],
            [event.type, event.stream, event.revision, event.position, event.recordedAt],
          );
        }
        assert.equal(page[0]!.dataJson, '{"a":[true,null,"é"],"z":1}');
      }));

    it('reads $all backwards, exclusive of the given position', () =>
      withStore(async (store, p) => {
        for (let i = 0; i < 5; i++) await store.append(`${p}-a`, [ev('Step', { i })]);
        const filter = { streamPrefix: [p] };
        const back = await store.readAll({ direction: 'backwards', maxCount: 3, filter });
        assert.deepEqual(
          back.map((e) => (e.data as { i: number }).i),
          [4, 3, 2],
        );
        const next = await store.readAll({
          direction: 'backwards',
          from: back.at(-1)!.position,
          filter,
        });
        assert.deepEqual(
          next.map((e) => (e.data as { i: number }).i),
          [1, 0],
        );
        const forwardFrom = await store.readAll({ from: next[0]!.position, filter });
        assert.deepEqual(
          forwardFrom.map((e) => (e.data as { i: number }).i),
          [2, 3, 4],
        );
      }));

    it('filters $all by stream prefix and by event-type prefix', () =>
      withStore(async (store, p) => {
        await store.append(`${p}-unit-x`, [ev(`${p}Receipt.v1`, 1), ev(`${p}Gate.v1`, 2)]);
        await store.append(`${p}-gate-y`, [ev(`${p}Gate.v1`, 3)]);
        await store.append(`${p}-unit-z`, [ev(`${p}Receipt.v1`, 4)]);
        const units = await store.readAll({ filter: { streamPrefix: [`${p}-unit-`] } });
        assert.deepEqual(
          units.map((e) => e.data),
          [1, 2, 4],
        );
        const both = await store.readAll({
          filter: { streamPrefix: [`${p}-gate-`, `${p}-unit-z`] },
        });
        assert.deepEqual(
          both.map((e) => e.data),
          [3, 4],
        );
        const receipts = await store.readAll({ filter: { eventTypePrefix: [`${p}Receipt`] } });
        assert.deepEqual(
          receipts.map((e) => e.data),
          [1, 4],
        );
      }));
  });
}

export function subscriptions({ withStore }: ConformanceContext): void {
  describe('subscriptions', () => {
    it('catches up, then delivers live events with no gap and no duplicate at the hand-over', () =>
      withStore(async (store, p) => {
        const filter = { streamPrefix: [p] };
        for (let i = 0; i < 30; i++) await store.append(`${p}-${i % 4}`, [ev('Step', { i })]);
        const subscription = store.subscribeToAll({ filter });
        // Keep appending while the subscription catches up.
        const writer = (async () => {
          for (let i = 30; i < 60; i++) {
            await store.append(`${p}-${i % 4}`, [ev('Step', { i })]);
            if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
          }
        })();
        const received = await take(subscription, 60);
        await writer;
        await subscription.close();
        assert.deepEqual(
          received.map((e) => (e.data as { i: number }).i),
          Array.from({ length: 60 }, (_, i) => i),
        );
        assert.equal(new Set(received.map((e) => e.id)).size, 60);
      }));

    it('resumes after a given position', () =>
      withStore(async (store, p) => {
        const filter = { streamPrefix: [p] };
        for (let i = 0; i < 10; i++) await store.append(`${p}-a`, [ev('Step', { i })]);
        const all = await store.readAll({ filter });
        const subscription = store.subscribeToAll({ from: all[6]!.position, filter });
        const received = await take(subscription, 3);
        await subscription.close();
        assert.deepEqual(
          received.map((e) => (e.data as { i: number }).i),
          [7, 8, 9],
        );
      }));

    it("from 'end' delivers only events appended after subscribing", () =>
      withStore(async (store, p) => {
        const filter = { streamPrefix: [p] };
        await store.append(`${p}-a`, [ev('Old', 1)]);
        const subscription = store.subscribeToAll({ from: 'end', filter });
        const pending = take(subscription, 2);
        await new Promise((resolve) => setTimeout(resolve, 20));
        await store.append(`${p}-a`, [ev('New', 2), ev('New', 3)]);
        const received = await pending;
        await subscription.close();
        assert.deepEqual(
          received.map((e) => e.data),
          [2, 3],
        );
      }));

    it('filters a subscription by event type and ends when closed', () =>
      withStore(async (store, p) => {
        const subscription = store.subscribeToAll({ filter: { eventTypePrefix: [`${p}Keep`] } });
        const received: unknown[] = [];
        const consumer = (async () => {
          for await (const event of subscription) received.push(event.data);
        })();
        await store.append(`${p}-a`, [
          ev(`${p}Keep.v1`, 1),
          ev(`${p}Drop.v1`, 2),
          ev(`${p}Keep.v1`, 3),
        ]);
        const deadline = Date.now() + 10_000;
        while (received.length < 2 && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 5));
        await subscription.close();
        await consumer; // the loop ends once closed
        assert.deepEqual(received, [1, 3]);
      }));
  });
}

export function lookupKeys({ harness, withStore }: ConformanceContext): void {
  describe('lookup keys', () => {
    it('finds an event by each of its lookup keys, with its location', () =>
      withStore(async (store, p) => {
        await store.append(`${p}-a`, [ev('A', 0)]);
        const result = await store.append(`${p}-a`, [
          ev('A', 1),
          ev('Receipt', { receiptId: 'r1' }, { lookupKeys: [`${p}:receipt:r1`, `${p}:other`] }),
        ]);
        const written = result.events[1]!;
        for (const key of [`${p}:receipt:r1`, `${p}:other`])
          assert.deepEqual(await store.findByKey(key), {
            id: written.id,
            stream: `${p}-a`,
            revision: 2,
            position: written.position,
          });
        const { events } = await store.readStream(`${p}-a`, { from: 2, maxCount: 1 });
        assert.equal(events[0]?.id, written.id);
      }));

    it('returns undefined for an unknown key', () =>
      withStore(async (store, p) => {
        await store.append(`${p}-a`, [ev('A', 1, { lookupKeys: [`${p}:known`] })]);
        assert.equal(await store.findByKey(`${p}:unknown`), undefined);
        assert.equal(await store.findByKey(`${p}:known`.toUpperCase()), undefined);
      }));

    it('keeps a key on the first event stored with it', () =>
      withStore(async (store, p) => {
        const key = `${p}:receipt:r1`;
        const first = await store.append(`${p}-a`, [
          ev('A', 1, { lookupKeys: [key] }),
          ev('A', 2, { lookupKeys: [key, `${p}:second`] }),
        ]);
        const later = await store.append(`${p}-b`, [ev('B', 3, { lookupKeys: [key] })]);
        assert.equal(later.duplicate, false);
        assert.equal((await store.readStream(`${p}-b`)).events.length, 1);
        assert.equal((await store.findByKey(key))?.id, first.events[0]!.id);
        assert.equal((await store.findByKey(`${p}:second`))?.id, first.events[1]!.id);
      }));

    it('writes no new key on an idempotent redelivery', () =>
      withStore(async (store, p) => {
        const key = `${p}:receipt:r1`;
        const event = ev('Receipt', { ok: 1 }, { idempotencyKey: `${p}:src:1`, lookupKeys: [key] });
        const first = await store.append(`${p}-a`, [event]);
        const again = await store.append(`${p}-a`, [event]);
        assert.equal(again.duplicate, true);
        assert.deepEqual(await store.findByKey(key), {
          ...first.events[0]!,
          stream: `${p}-a`,
        });
        assert.equal((await store.readStream(`${p}-a`)).events.length, 1);
      }));

    it('keeps keys when the store is reopened', async () => {
      const store = await harness.createStore();
      const p = `conf${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const result = await store.append(`${p}-a`, [ev('A', 1, { lookupKeys: [`${p}:k`] })]);
      await store.close();
      const reopened = await (harness.reopen ? harness.reopen(store) : harness.createStore());
      try {
        assert.deepEqual(await reopened.findByKey(`${p}:k`), {
          ...result.events[0]!,
          stream: `${p}-a`,
        });
      } finally {
        await reopened.close();
      }
    });

    it('rejects invalid keys as invalid input and appends nothing', () =>
      withStore(async (store, p) => {
        const stream = `${p}-a`;
        for (const lookupKeys of [
          [''],
          ['x'.repeat(513)],
          [`${p}:a\nb`],
          [42],
          [null],
          'receipt:r1',
          Array.from({ length: 9 }, (_, i) => `${p}:${i}`),
        ] as unknown[])
          await assert.rejects(
            store.append(stream, [
              ev('A', 1, { lookupKeys: [`${p}:fine`] }),
              ev('A', 2, { lookupKeys: lookupKeys as string[] }),
            ]),
            hasCode('STORE_INVALID_EVENT'),
          );
        assert.equal((await store.readStream(stream)).currentRevision, NO_STREAM);
        assert.equal(await store.findByKey(`${p}:fine`), undefined);
        await assert.rejects(store.findByKey(''), hasCode('STORE_INVALID_READ_OPTIONS'));
        // The limits themselves are fine.
        const ok = await store.append(stream, [
          ev('A', 3, {
            lookupKeys: Array.from({ length: 8 }, (_, i) => `${p}:${i}`.padEnd(512, 'x')),
          }),
        ]);
        assert.equal((await store.findByKey(`${p}:7`.padEnd(512, 'x')))?.id, ok.events[0]!.id);
      }));
  });
}
