// The event-store conformance suite (conformance.ts), what guards the log: the
// digest chain against tampering, bad input refused with its own code, and
// closing with appends in flight.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { NO_STREAM, ZERO_DIGEST } from '../../src/eventStore/index.js';
import { contentDigest, eventDigest } from '../../src/eventStore/integrity.js';
import { ev, hasCode, type ConformanceContext } from './conformanceSupport.js';

export function integrity({ backend, harness, withStore }: ConformanceContext): void {
  describe('integrity', () => {
    it('chains each stream: prevDigest links every event to the one before', () =>
      withStore(async (store, p) => {
        await store.append(`${p}-a`, [ev('A', 1), ev('A', 2)]);
        await store.append(`${p}-b`, [ev('B', 1)]);
        await store.append(`${p}-a`, [ev('A', 3)]);
        const { events } = await store.readStream(`${p}-a`);
        assert.equal(events[0]!.metadata.prevDigest, ZERO_DIGEST);
        for (let i = 1; i < events.length; i++) {
          const prev = events[i - 1]!;
          assert.equal(
            events[i]!.metadata.prevDigest,
            eventDigest(prev.metadata.prevDigest, prev.metadata.contentDigest),
          );
        }
        for (const e of events)
          assert.equal(e.metadata.contentDigest, contentDigest(e.type, e.data, e.metadata.context));
        assert.deepEqual(await store.verifyStream(`${p}-a`), { ok: true, checked: 3 });
        const all = await store.verifyAll();
        assert.equal(all.ok, true, all.problem?.message);
        assert.ok(all.checked >= 4);
      }));

    const tamper = harness.quirks?.tamper;
    it(
      'reports an event edited behind its back at the right position',
      { skip: tamper ? false : `${backend} offers no raw access to tamper with` },
      () =>
        withStore(async (store, p) => {
          await store.append(`${p}-a`, [
            ev('A', { amount: 1 }),
            ev('A', { amount: 2 }),
            ev('A', { amount: 3 }),
          ]);
          await store.append(`${p}-b`, [ev('B', { amount: 4 })]);
          const victim = (await store.readStream(`${p}-a`)).events[1]!;
          await tamper!(store, victim, { amount: 2000 });
          const verdict = await store.verifyAll();
          assert.equal(verdict.ok, false);
          assert.equal(verdict.problem?.kind, 'content-digest-mismatch');
          assert.equal(verdict.problem?.position, victim.position);
          assert.equal(verdict.problem?.stream, `${p}-a`);
          assert.equal(verdict.problem?.revision, 1);
          const streamVerdict = await store.verifyStream(`${p}-a`);
          assert.equal(streamVerdict.problem?.position, victim.position);
          assert.equal((await store.verifyStream(`${p}-b`)).ok, true);
        }),
    );
  });
}

export function badInput({ withStore }: ConformanceContext): void {
  describe('bad input', () => {
    it('rejects unknown expected revisions, empty batches, non-JSON data and bad stream names, and stays usable', () =>
      withStore(async (store, p) => {
        const stream = `${p}-a`;
        for (const expectedRevision of ['latest', -1, 1.5, '0', 10n, null, Number.NaN] as unknown[])
          await assert.rejects(
            store.append(stream, [ev('A', 1)], { expectedRevision: expectedRevision as 'any' }),
            hasCode('STORE_INVALID_EXPECTED_REVISION'),
          );
        await assert.rejects(store.append(stream, []), hasCode('STORE_EMPTY_APPEND'));
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        for (const data of [
          cyclic,
          { n: 1n },
          { f: () => 1 },
          Symbol('x'),
          undefined,
          { x: Number.POSITIVE_INFINITY },
        ])
          await assert.rejects(
            store.append(stream, [ev('A', data)]),
            hasCode('STORE_INVALID_EVENT'),
          );
        await assert.rejects(
          store.append(stream, [ev('A', 1, { metadata: { principal: 'x', loop: cyclic } })]),
          hasCode('STORE_INVALID_EVENT'),
        );
        await assert.rejects(store.append(stream, [ev('', 1)]), hasCode('STORE_INVALID_EVENT'));
        for (const name of ['', 'x'.repeat(257), `${p}-a\nb`, `${p}\u0000`, `${p}\u007f`] as const)
          await assert.rejects(
            store.append(name, [ev('A', 1)]),
            hasCode('STORE_INVALID_STREAM_NAME'),
          );
        await assert.rejects(
          store.append(42 as unknown as string, [ev('A', 1)]),
          hasCode('STORE_INVALID_STREAM_NAME'),
        );
        // A valid event batched with a bad one: nothing of the batch is appended.
        await assert.rejects(
          store.append(stream, [ev('A', 1), ev('A', { n: 1n })]),
          hasCode('STORE_INVALID_EVENT'),
        );
        assert.equal((await store.readStream(stream)).currentRevision, NO_STREAM);
        const ok = await store.append(stream, [ev('A', 1)], { expectedRevision: NO_STREAM });
        assert.equal(ok.nextExpectedRevision, 0);
        assert.ok(await store.isReady());
      }));

    it('rejects malformed read options', () =>
      withStore(async (store, p) => {
        await assert.rejects(store.readAll({ maxCount: 0 }), hasCode('STORE_INVALID_READ_OPTIONS'));
        await assert.rejects(store.readAll({ from: -1n }), hasCode('STORE_INVALID_READ_OPTIONS'));
        await assert.rejects(
          store.readAll({ filter: { streamPrefix: [] } }),
          hasCode('STORE_INVALID_READ_OPTIONS'),
        );
        await assert.rejects(
          store.readStream(`${p}-a`, { maxCount: -2 }),
          hasCode('STORE_INVALID_READ_OPTIONS'),
        );
        await assert.rejects(store.readStream('', {}), hasCode('STORE_INVALID_STREAM_NAME'));
      }));
  });
}

export function lifecycle({ harness }: ConformanceContext): void {
  describe('lifecycle', () => {
    it('finishes in-flight appends on close, then refuses new ones', async () => {
      const store = await harness.createStore();
      const p = `conf${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const inFlight = Array.from({ length: 20 }, (_, i) =>
        store.append(`${p}-a`, [ev('A', { i })]),
      );
      await store.close();
      const results = await Promise.all(inFlight);
      assert.equal(results.length, 20);
      assert.equal(await store.isReady(), false);
      await assert.rejects(store.append(`${p}-a`, [ev('A', 1)]), hasCode('STORE_CLOSED'));
      await store.close(); // idempotent
      const reopened = await (harness.reopen ? harness.reopen(store) : harness.createStore());
      try {
        assert.equal((await reopened.readStream(`${p}-a`)).events.length, 20);
      } finally {
        await reopened.close();
      }
    });
  });
}
