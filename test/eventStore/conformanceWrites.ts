// The event-store conformance suite (conformance.ts), writing: appends with an
// expected revision, and idempotent appends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  ZERO_DIGEST,
  isIdempotencyConflictError,
  isRevisionConflictError,
} from '../../src/eventStore/index.js';
import { contentDigest } from '../../src/eventStore/integrity.js';
import { ev, type ConformanceContext } from './conformanceSupport.js';

export function appendAndExpectedRevision({ withStore }: ConformanceContext): void {
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
}

export function idempotency({ withStore }: ConformanceContext): void {
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
          store.append(`${p}-a`, [ev('Receipt', { ok: false }, { idempotencyKey: `${p}:src:1` })]),
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
}
