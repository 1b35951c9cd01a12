// The adapter against an in-memory fake of the server (no KurrentDB can run
// here): the whole conformance suite, plus outages, reserved names and the
// server's own idempotency. The live run is test/eventStore/esdb.int.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  eventStoreConformance,
  type ConformanceQuirks,
} from '../../../test/eventStore/conformance.js';
import { isProvenantError } from '../../errors.js';
import type { EventStore } from '../types.js';
import { ulidToUuid } from '../ids.js';
import { createEsdbEventStore, getEventStoreDBEventStore } from './eventStore.js';
import { FakeEsdbServer, rawUnavailable } from './fakeEsdbClient.testing.js';
import { IDEMPOTENCY_NAMESPACE, idempotencyStreamName } from './mapping.js';
import { LOOKUP_KEY_EVENT_TYPE, lookupKeyStreamName } from './lookupKeys.js';
import { uuidV5 } from '../ids.js';

const servers = new WeakMap<EventStore, FakeEsdbServer>();

function open(server = new FakeEsdbServer()): EventStore {
  // A shared, non-empty server, as the live suite meets it.
  server.systemEvent('$stats-127.0.0.1:2113', '$statsCollected');
  const store = createEsdbEventStore(server.client(), {
    description: 'fake',
    subscriptionRetry: { initialDelayMs: 5, maxDelayMs: 20 },
    warn: () => undefined,
  });
  servers.set(store, server);
  return store;
}

/** The tamper test edits an event's data in the fake server's log. */
const quirks: ConformanceQuirks = {
  tamper: (store, event, newData) => {
    const server = servers.get(store) as FakeEsdbServer;
    const stored = server.log.find(
      (e) => e.streamId === event.stream && e.revision === BigInt(event.revision),
    );
    assert.ok(stored);
    (stored as { data: unknown }).data = newData;
    return Promise.resolve();
  },
};

eventStoreConformance('esdb (in-memory fake server)', {
  createStore: () => Promise.resolve(open()),
  reopen: (store) => Promise.resolve(open(servers.get(store))),
  quirks,
});

// Again with the `$by_category` projection running, so that whole-category filters
// are served from `$ce-` streams (categoryReads.ts).
eventStoreConformance('esdb (in-memory fake server, system projections)', {
  createStore: () => Promise.resolve(open(new FakeEsdbServer('immediate'))),
  reopen: (store) => Promise.resolve(open(servers.get(store))),
  quirks,
});

const take = async <T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> => {
  const out: T[] = [];
  while (out.length < count) {
    const next = await iterator.next();
    if (next.done === true) break;
    out.push(next.value);
  }
  return out;
};

describe('esdb adapter on the fake server', () => {
  it('reports an outage as STORE_BACKEND_UNAVAILABLE, acknowledges nothing, and recovers', async () => {
    const server = new FakeEsdbServer();
    const store = open(server);
    await store.append('unit-a', [{ type: 'A', data: 1 }]);
    server.goDown();
    assert.equal(await store.isReady(), false);
    await assert.rejects(store.append('unit-a', [{ type: 'A', data: 2 }]), (error) => {
      assert.ok(isProvenantError(error));
      assert.equal(error.code, 'STORE_BACKEND_UNAVAILABLE');
      assert.match(error.message, /unavailable/i);
      return true;
    });
    await assert.rejects(store.readStream('unit-a'), { code: 'STORE_BACKEND_UNAVAILABLE' });
    await assert.rejects(store.readAll(), { code: 'STORE_BACKEND_UNAVAILABLE' });
    server.down = false;
    assert.equal(await store.isReady(), true);
    // Reads work but the append itself gets the raw gRPC error the client throws.
    server.failAppendsWith = rawUnavailable();
    await assert.rejects(store.append('unit-a', [{ type: 'A', data: 3 }]), (error) => {
      assert.ok(isProvenantError(error));
      assert.equal(error.code, 'STORE_BACKEND_UNAVAILABLE');
      assert.match(error.message, /append to 'unit-a' failed: 14 UNAVAILABLE/);
      return true;
    });
    server.failAppendsWith = undefined;
    const read = await store.readStream('unit-a');
    assert.deepEqual(
      read.events.map((e) => e.data),
      [1],
    );
    await store.close();
  });

  it('resumes a subscription after the server went away, with no gap and no duplicate', async () => {
    const server = new FakeEsdbServer();
    const store = open(server);
    await store.append('unit-s', [{ type: 'A', data: 0 }]);
    const sub = store.subscribeToAll({ filter: { streamPrefix: ['unit-s'] } });
    const it = sub[Symbol.asyncIterator]();
    assert.deepEqual(
      (await take(it, 1)).map((e) => e.data),
      [0],
    );
    server.goDown();
    const pending = take(it, 3);
    await new Promise((resolve) => setTimeout(resolve, 30));
    server.down = false;
    await store.append('unit-s', [
      { type: 'A', data: 1 },
      { type: 'A', data: 2 },
    ]);
    await store.append('unit-s', [{ type: 'A', data: 3 }]);
    assert.deepEqual(
      (await pending).map((e) => e.data),
      [1, 2, 3],
    );
    await sub.close();
    assert.equal((await it.next()).done, true);
    await store.close();
  });

  it('hides system events and the idempotency index from $all', async () => {
    const server = new FakeEsdbServer();
    const store = open(server);
    await store.append('$checkpoints', [{ type: 'CheckpointSigned.v1', data: { size: 1 } }]);
    await store.append('unit-b', [{ type: 'A', data: 1, idempotencyKey: 'src/1' }]);
    server.systemEvent('$$unit-b', '$metadata');
    const all = await store.readAll();
    assert.deepEqual(
      all.map((e) => `${e.stream}:${e.type}`),
      ['$checkpoints:CheckpointSigned.v1', 'unit-b:A'],
    );
    assert.ok(server.log.some((e) => e.streamId.startsWith('$idem-')));
    assert.equal(await store.headPosition(), all.at(-1)?.position);
    await store.close();
  });

  it('refuses names and types the server reserves, and the adapter metadata key', async () => {
    const store = open();
    await assert.rejects(store.append('$$unit-c', [{ type: 'A', data: 1 }]), {
      code: 'STORE_INVALID_STREAM_NAME',
    });
    await assert.rejects(store.append('$idem-x', [{ type: 'A', data: 1 }]), {
      code: 'STORE_INVALID_STREAM_NAME',
    });
    await assert.rejects(store.append('unit-c', [{ type: '$metadata', data: 1 }]), {
      code: 'STORE_INVALID_EVENT',
    });
    await assert.rejects(
      store.append('unit-c', [{ type: 'A', data: 1, metadata: { $provenant: 1 } }]),
      { code: 'STORE_INVALID_EVENT' },
    );
    await store.close();
  });

  it('stores keyed events under a deterministic UUID and the ULID in metadata', async () => {
    const server = new FakeEsdbServer();
    const store = open(server);
    const a = await store.append('unit-d', [{ type: 'A', data: 1, idempotencyKey: 'src/9' }]);
    const b = await store.append('unit-d', [{ type: 'A', data: 2 }]);
    const [first, second] = server.streams.get('unit-d') ?? [];
    assert.equal(first?.id, uuidV5(IDEMPOTENCY_NAMESPACE, 'src/9'));
    assert.equal(second?.id, ulidToUuid(b.events[0]?.id ?? ''));
    const read = await store.readStream('unit-d');
    assert.equal(read.events[0]?.id, a.events[0]?.id);
    assert.equal(read.events[0]?.metadata.$provenant, undefined);
    await store.close();
  });

  it('recognises a redelivery whose index record was lost, from the stream tail', async () => {
    const server = new FakeEsdbServer();
    const store = open(server);
    const first = await store.append('unit-e', [{ type: 'A', data: 1, idempotencyKey: 'k1' }]);
    server.streams.delete(idempotencyStreamName('k1')); // as if the process died before writing it
    const again = await store.append('unit-e', [{ type: 'A', data: 1, idempotencyKey: 'k1' }]);
    assert.equal(again.duplicate, true);
    assert.deepEqual(again.events, first.events);
    assert.ok(server.streams.has(idempotencyStreamName('k1')), 'index repaired');
    await assert.rejects(store.append('unit-e', [{ type: 'A', data: 2, idempotencyKey: 'k1' }]), {
      code: 'STORE_IDEMPOTENCY_CONFLICT',
    });
    assert.equal((await store.readStream('unit-e')).events.length, 1);
    await store.close();
  });

  it('treats a write the server deduplicated by event id as a duplicate of the original', async () => {
    // Two API nodes (two stores) deliver the same CloudEvent at the same moment:
    // both read revision -1 and append the same deterministic id with no_stream/0.
    const server = new FakeEsdbServer();
    const one = open(server);
    const two = open(server);
    const [a, b] = await Promise.all([
      one.append('unit-f', [{ type: 'A', data: 1, idempotencyKey: 'k2' }]),
      two.append('unit-f', [{ type: 'A', data: 1, idempotencyKey: 'k2' }]),
    ]);
    assert.deepEqual(a.events, b.events);
    assert.equal([a.duplicate, b.duplicate].filter(Boolean).length, 1);
    assert.equal((await one.readStream('unit-f')).events.length, 1);
    await one.close();
    await two.close();
  });

  it('keeps each lookup key in a one-event $key- stream hidden from $all', async () => {
    const server = new FakeEsdbServer();
    const store = open(server);
    const first = await store.append('unit-k', [
      { type: 'A', data: 1, lookupKeys: ['receipt:r1'] },
    ]);
    await store.append('unit-k', [{ type: 'A', data: 2, lookupKeys: ['receipt:r1'] }]);
    const index = server.streams.get(lookupKeyStreamName('receipt:r1')) ?? [];
    assert.equal(index.length, 1, 'the later event leaves the first record alone');
    assert.equal(index[0]?.type, LOOKUP_KEY_EVENT_TYPE);
    assert.equal((await store.findByKey('receipt:r1'))?.id, first.events[0]?.id);
    assert.deepEqual(
      (await store.readAll()).map((e) => e.type),
      ['A', 'A'],
    );
    await assert.rejects(store.append(lookupKeyStreamName('x'), [{ type: 'A', data: 1 }]), {
      code: 'STORE_INVALID_STREAM_NAME',
    });
    await store.close();
  });

  it('records the keys of an idempotent append again when its redelivery finds them missing', async () => {
    const server = new FakeEsdbServer();
    const store = open(server);
    const event = { type: 'A', data: 1, idempotencyKey: 'src/k', lookupKeys: ['receipt:r2'] };
    const first = await store.append('unit-l', [event]);
    server.streams.delete(lookupKeyStreamName('receipt:r2')); // as if the process died before writing it
    assert.equal(await store.findByKey('receipt:r2'), undefined);
    const again = await store.append('unit-l', [event]);
    assert.equal(again.duplicate, true);
    assert.deepEqual(await store.findByKey('receipt:r2'), {
      ...first.events[0],
      stream: 'unit-l',
    });
    await store.close();
  });

  it('fails an append whose key record cannot be written, saying the event is stored', async () => {
    const server = new FakeEsdbServer();
    const client = server.client();
    const failing: typeof client = {
      ...client,
      appendToStream: ((stream: string, ...rest: unknown[]) =>
        stream.startsWith('$key-')
          ? Promise.reject(rawUnavailable())
          : (client.appendToStream as (...args: unknown[]) => unknown)(
              stream,
              ...rest,
            )) as typeof client.appendToStream,
    };
    const store = createEsdbEventStore(failing, { description: 'fake' });
    await assert.rejects(
      store.append('unit-m', [{ type: 'A', data: 1, lookupKeys: ['receipt:r3'] }]),
      (error) => {
        assert.ok(isProvenantError(error));
        assert.equal(error.code, 'STORE_BACKEND_UNAVAILABLE');
        assert.match(error.message, /lookup key 'receipt:r3' of unit-m@0 \(the event is stored/);
        return true;
      },
    );
    assert.equal((await store.readStream('unit-m')).events.length, 1);
    await store.close();
  });

  it('describes itself without credentials', () => {
    const store = getEventStoreDBEventStore({
      connectionString: 'kurrentdb://admin:s3cret@localhost:2113?tls=false',
    });
    assert.equal(
      String(store),
      'EventStoreDB/KurrentDB event store (kurrentdb://***@localhost:2113?tls=false)',
    );
    assert.doesNotMatch(JSON.stringify(store), /s3cret/);
    return store.close();
  });

  it('fails fast on a malformed connection string or a missing CA file, naming the problem', () => {
    assert.throws(
      () => getEventStoreDBEventStore({ connectionString: 'http://admin:s3cret@localhost:2113' }),
      (error) => {
        assert.ok(isProvenantError(error));
        assert.equal(error.code, 'STORE_CONFIGURATION');
        assert.match(error.message, /unsupported scheme 'http:\/\/'/);
        assert.doesNotMatch(error.message, /s3cret/);
        return true;
      },
    );
    assert.throws(
      () =>
        getEventStoreDBEventStore({
          connectionString: 'esdb://localhost:2113',
          tlsCaFile: '/nonexistent/ca.crt',
        }),
      /Cannot read the TLS CA file '\/nonexistent\/ca.crt': ENOENT/,
    );
  });

  it('is not ready and fails appends with STORE_BACKEND_UNAVAILABLE when no server listens', async () => {
    // A real client against a closed port: the raw gRPC UNAVAILABLE path.
    const store = getEventStoreDBEventStore({
      connectionString: 'esdb://127.0.0.1:1?tls=false',
      readinessTimeoutMs: 3000,
    });
    try {
      assert.equal(await store.isReady(), false);
      await assert.rejects(store.append('unit-g', [{ type: 'A', data: 1 }]), {
        code: 'STORE_BACKEND_UNAVAILABLE',
      });
      const sub = store.subscribeToAll();
      await sub.close();
    } finally {
      await store.close();
    }
  });
});
