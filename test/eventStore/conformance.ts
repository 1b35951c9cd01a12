// The event-store conformance suite (STYLE.md §3): one suite, run by every
// backend's spec with a store factory. Every test uses its own stream-name prefix
// and filters `$all` by it, so the suite also runs against a shared, non-empty
// server (KurrentDB).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { isProvenantError, type ErrorCode } from '../../src/errors.js';
import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  ZERO_DIGEST,
  isIdempotencyConflictError,
  isRevisionConflictError,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
} from '../../src/eventStore/index.js';
import { canonicalize } from '../../src/encoding/canonicalJson.js';
import { contentDigest, eventDigest } from '../../src/eventStore/integrity.js';

export interface ConformanceQuirks {
  /**
   * Edits the stored data of `event` behind the store's back (e.g. a raw SQL
   * UPDATE with the guard triggers dropped). Omit when the backend cannot be
   * tampered with from a test; the tamper test is then reported as skipped.
   */
  tamper?: (store: EventStore, event: RecordedEvent, newData: unknown) => Promise<void>;
}

export interface ConformanceHarness {
  /** A store to test, called once per test. It may be shared and non-empty. */
  createStore(): Promise<EventStore>;
  /** Opens the same log again after `store` was closed. Defaults to `createStore()`. */
  reopen?(store: EventStore): Promise<EventStore>;
  quirks?: ConformanceQuirks;
}

const ev = (type: string, data: unknown, extra: Partial<EventToAppend> = {}): EventToAppend => ({
  type,
  data,
  ...extra,
});

const hasCode =
  (code: ErrorCode) =>
  (error: unknown): boolean => {
    assert.ok(isProvenantError(error), `expected a ProvenantError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };

/** Reads all of a prefix's events from `$all`, paging with exclusive positions. */
async function readPrefix(
  store: EventStore,
  prefix: string,
  pageSize = 7,
): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  let from: bigint | 'start' = 'start';
  for (;;) {
    const page = await store.readAll({
      from,
      maxCount: pageSize,
      filter: { streamPrefix: [prefix] },
    });
    out.push(...page);
    if (page.length < pageSize) return out;
    from = (page.at(-1) as RecordedEvent).position;
  }
}

async function take(
  iterable: AsyncIterable<RecordedEvent>,
  count: number,
  timeoutMs = 10_000,
): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  const timeout = AbortSignal.timeout(timeoutMs);
  for await (const event of iterable) {
    out.push(event);
    if (out.length >= count) break;
    if (timeout.aborted) break;
  }
  return out;
}

export function eventStoreConformance(backend: string, harness: ConformanceHarness): void {
  const withStore = async (
    fn: (store: EventStore, prefix: string) => Promise<void>,
  ): Promise<void> => {
    const store = await harness.createStore();
    const prefix = `conf${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    try {
      await fn(store, prefix);
    } finally {
      await store.close();
    }
  };

  describe(`event store conformance: ${backend}`, () => {
    describe('append and expected revision', () => {
      it('appends to a new stream with no_stream and numbers revisions from 0', () =>
        withStore(async (store, p) => {
          const result = await store.append(
            `${p}-a`,
            [ev('A', { n: 1 }), ev('A', { n: 2 }), ev('B', { n: 3 })],
            {
              expectedRevision: NO_STREAM,
            },
          );
          assert.equal(result.duplicate, false);
          assert.equal(result.nextExpectedRevision, 2);
          assert.deepEqual(
            result.events.map((e) => e.revision),
            [0, 1, 2],
          );
          const positions = result.events.map((e) => e.position);
          assert.ok(positions[0]! < positions[1]! && positions[1]! < positions[2]!);
          assert.equal(result.position, positions[2]);
          const read = await store.readStream(`${p}-a`);
          assert.equal(read.currentRevision, 2);
          assert.deepEqual(
            read.events.map((e) => [e.type, e.data, e.revision, e.stream]),
            [
              ['A', { n: 1 }, 0, `${p}-a`],
              ['A', { n: 2 }, 1, `${p}-a`],
              ['B', { n: 3 }, 2, `${p}-a`],
            ],
          );
          assert.deepEqual(
            read.events.map((e) => e.id),
            result.events.map((e) => e.id),
          );
          assert.ok(
            read.events.every((e) => /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(e.id)),
            'ids are ULIDs',
          );
          assert.ok(read.events.every((e) => !Number.isNaN(Date.parse(e.recordedAt))));
        }));

      it('rejects no_stream on an existing stream and appends nothing', () =>
        withStore(async (store, p) => {
          await store.append(`${p}-a`, [ev('A', 1)], { expectedRevision: NO_STREAM });
          await assert.rejects(
            store.append(`${p}-a`, [ev('A', 2)], { expectedRevision: NO_STREAM }),
            (error: unknown) => {
              assert.ok(isRevisionConflictError(error));
              assert.equal(error.code, 'STORE_REVISION_CONFLICT');
              assert.equal(error.stream, `${p}-a`);
              assert.equal(error.expected, NO_STREAM);
              assert.equal(error.actual, 0);
              return true;
            },
          );
          assert.equal((await store.readStream(`${p}-a`)).events.length, 1);
        }));

      it('honours stream_exists', () =>
        withStore(async (store, p) => {
          await assert.rejects(
            store.append(`${p}-a`, [ev('A', 1)], { expectedRevision: STREAM_EXISTS }),
            (error: unknown) => isRevisionConflictError(error) && error.actual === NO_STREAM,
          );
          assert.equal((await store.readStream(`${p}-a`)).currentRevision, NO_STREAM);
          await store.append(`${p}-a`, [ev('A', 1)]);
          const r = await store.append(`${p}-a`, [ev('A', 2)], { expectedRevision: STREAM_EXISTS });
          assert.equal(r.nextExpectedRevision, 1);
        }));

      it('honours an exact revision and rejects a stale one', () =>
        withStore(async (store, p) => {
          const first = await store.append(`${p}-a`, [ev('A', 1), ev('A', 2)]);
          const second = await store.append(`${p}-a`, [ev('A', 3)], {
            expectedRevision: first.nextExpectedRevision,
          });
          assert.equal(second.nextExpectedRevision, 2);
          await assert.rejects(
            store.append(`${p}-a`, [ev('A', 4)], { expectedRevision: 1 }),
            (error: unknown) =>
              isRevisionConflictError(error) && error.expected === 1 && error.actual === 2,
          );
          await assert.rejects(
            store.append(`${p}-b`, [ev('A', 4)], { expectedRevision: 0 }),
            (error: unknown) => isRevisionConflictError(error) && error.actual === NO_STREAM,
          );
          assert.equal((await store.readStream(`${p}-a`)).events.length, 3);
          assert.equal((await store.readStream(`${p}-b`)).events.length, 0);
        }));

      it('appends with any whatever the stream state', () =>
        withStore(async (store, p) => {
          await store.append(`${p}-a`, [ev('A', 1)], { expectedRevision: ANY });
          const r = await store.append(`${p}-a`, [ev('A', 2)], { expectedRevision: ANY });
          assert.equal(r.nextExpectedRevision, 1);
        }));

      it('lets exactly one of several concurrent writers with the same expected revision win', () =>
        withStore(async (store, p) => {
          await store.append(`${p}-a`, [ev('A', 0)]);
          const writers = Array.from({ length: 8 }, (_, i) =>
            store.append(`${p}-a`, [ev('W', { writer: i })], { expectedRevision: 0 }),
          );
          const settled = await Promise.allSettled(writers);
          const won = settled.filter((s) => s.status === 'fulfilled');
          const lost = settled.filter((s) => s.status === 'rejected');
          assert.equal(won.length, 1);
          assert.equal(lost.length, 7);
          for (const l of lost) assert.ok(isRevisionConflictError(l.reason));
          const read = await store.readStream(`${p}-a`);
          assert.equal(read.events.length, 2);
        }));

      it('serialises concurrent writers that retry on conflict into one gap-free stream', () =>
        withStore(async (store, p) => {
          const stream = `${p}-counter`;
          const writer = async (i: number): Promise<void> => {
            for (let attempt = 0; attempt < 50; attempt++) {
              const { currentRevision } = await store.readStream(stream, {
                direction: 'backwards',
                maxCount: 1,
              });
              try {
                await store.append(stream, [ev('Inc', { writer: i })], {
                  expectedRevision: currentRevision,
                });
                return;
              } catch (error) {
                if (!isRevisionConflictError(error)) throw error;
              }
            }
            throw new Error(`writer ${i} gave up`);
          };
          await Promise.all(Array.from({ length: 6 }, (_, i) => writer(i)));
          const read = await store.readStream(stream);
          assert.deepEqual(
            read.events.map((e) => e.revision),
            [0, 1, 2, 3, 4, 5],
          );
          assert.deepEqual(
            new Set(read.events.map((e) => (e.data as { writer: number }).writer)).size,
            6,
          );
          assert.equal((await store.verifyStream(stream)).ok, true);
        }));

      it('stores metadata as given and adds integrity fields', () =>
        withStore(async (store, p) => {
          const context = {
            id: 'ce-1',
            source: '/ci/pipeline',
            type: 'dev.example.built',
            subject: 'x',
            time: '2026-01-02T03:04:05Z',
          };
          await store.append(`${p}-a`, [
            ev(
              'A',
              { ok: true },
              {
                metadata: {
                  context,
                  principal: 'ci-bot',
                  correlationId: 'c-1',
                  causationId: 'k-1',
                  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
                },
              },
            ),
          ]);
          const [event] = (await store.readStream(`${p}-a`)).events;
          assert.ok(event);
          assert.deepEqual(event.metadata.context, context);
          assert.equal(event.metadata.principal, 'ci-bot');
          assert.equal(event.metadata.correlationId, 'c-1');
          assert.equal(event.metadata.causationId, 'k-1');
          assert.equal(
            event.metadata.traceparent,
            '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          );
          assert.equal(event.metadata.contentDigest, contentDigest('A', { ok: true }, context));
          assert.equal(event.metadata.prevDigest, ZERO_DIGEST);
        }));
    });

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

    describe('idempotency', () => {
      it('acknowledges a re-append of a stored key with the original result and appends nothing', () =>
        withStore(async (store, p) => {
          const event = ev('Receipt', { ok: true }, { idempotencyKey: `${p}:src:1` });
          const first = await store.append(`${p}-a`, [event], { expectedRevision: NO_STREAM });
          await store.append(`${p}-a`, [ev('Other', 2)]);
          // The retry carries its original (now stale) expected revision.
          const again = await store.append(`${p}-a`, [event], { expectedRevision: NO_STREAM });
          assert.equal(again.duplicate, true);
          assert.deepEqual(again.events, first.events);
          assert.equal(again.position, first.position);
          assert.equal((await store.readStream(`${p}-a`)).events.length, 2);
        }));

      it('rejects the same key with different content and appends nothing', () =>
        withStore(async (store, p) => {
          await store.append(`${p}-a`, [
            ev('Receipt', { ok: true }, { idempotencyKey: `${p}:src:1` }),
          ]);
          await assert.rejects(
            store.append(`${p}-a`, [
              ev('Receipt', { ok: false }, { idempotencyKey: `${p}:src:1` }),
            ]),
            (error: unknown) =>
              isIdempotencyConflictError(error) && error.code === 'STORE_IDEMPOTENCY_CONFLICT',
          );
          await assert.rejects(
            store.append(`${p}-b`, [ev('Receipt', { ok: true }, { idempotencyKey: `${p}:src:1` })]),
            isIdempotencyConflictError,
          );
          assert.equal((await store.readStream(`${p}-a`)).events.length, 1);
          assert.equal((await store.readStream(`${p}-b`)).events.length, 0);
        }));

      it('compares the caller-given idempotency digest when there is one', () =>
        withStore(async (store, p) => {
          const key = `${p}:src:2`;
          const first = await store.append(`${p}-a`, [
            ev(
              'Receipt',
              { receiptId: 'r1' },
              { idempotencyKey: key, idempotencyDigest: 'a'.repeat(64) },
            ),
          ]);
          const again = await store.append(`${p}-a`, [
            ev(
              'Receipt',
              { receiptId: 'r1-derived-again' },
              { idempotencyKey: key, idempotencyDigest: 'a'.repeat(64) },
            ),
          ]);
          assert.equal(again.duplicate, true);
          assert.deepEqual(again.events, first.events);
          await assert.rejects(
            store.append(`${p}-a`, [
              ev('Receipt', {}, { idempotencyKey: key, idempotencyDigest: 'b'.repeat(64) }),
            ]),
            isIdempotencyConflictError,
          );
        }));

      it('deduplicates concurrent deliveries of the same key', () =>
        withStore(async (store, p) => {
          const event = ev('Receipt', { ok: true }, { idempotencyKey: `${p}:src:3` });
          const results = await Promise.all(
            Array.from({ length: 5 }, () => store.append(`${p}-a`, [event])),
          );
          assert.equal(results.filter((r) => !r.duplicate).length, 1);
          assert.equal(new Set(results.map((r) => r.events[0]!.id)).size, 1);
          assert.equal((await store.readStream(`${p}-a`)).events.length, 1);
        }));
    });

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
          const event = ev(
            'Receipt',
            { ok: 1 },
            { idempotencyKey: `${p}:src:1`, lookupKeys: [key] },
          );
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
            assert.equal(
              e.metadata.contentDigest,
              contentDigest(e.type, e.data, e.metadata.context),
            );
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

    describe('bad input', () => {
      it('rejects unknown expected revisions, empty batches, non-JSON data and bad stream names, and stays usable', () =>
        withStore(async (store, p) => {
          const stream = `${p}-a`;
          for (const expectedRevision of [
            'latest',
            -1,
            1.5,
            '0',
            10n,
            null,
            Number.NaN,
          ] as unknown[])
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
          for (const name of [
            '',
            'x'.repeat(257),
            `${p}-a\nb`,
            `${p}\u0000`,
            `${p}\u007f`,
          ] as const)
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
          await assert.rejects(
            store.readAll({ maxCount: 0 }),
            hasCode('STORE_INVALID_READ_OPTIONS'),
          );
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
  });
}
