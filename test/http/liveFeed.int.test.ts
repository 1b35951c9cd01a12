// GET /v1/events/stream over a loopback socket: server-sent events with the
// position as `id`, filters, heartbeats, resume after a dropped connection with
// Last-Event-ID (every event exactly once), an overflowing slow client cut off
// with `event: overflow`, and streams ended by the server's shutdown.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';

interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** An SSE client over node:http: messages as they arrive, and the raw response. */
function connect(
  url: string,
  headers: Record<string, string> = {},
): Promise<{
  res: IncomingMessage;
  messages: SseMessage[];
  next: (n: number) => Promise<SseMessage[]>;
  ended: Promise<void>;
  close: () => void;
}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { headers: { accept: 'text/event-stream', ...headers } },
      (res) => {
        const messages: SseMessage[] = [];
        let waiters: (() => void)[] = [];
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const message: SseMessage = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) message.comment = line.slice(1).trim();
              else {
                const colon = line.indexOf(':');
                const field = line.slice(0, colon);
                const value = line.slice(colon + 1).replace(/^ /, '');
                if (field === 'id' || field === 'event' || field === 'data') message[field] = value;
              }
            }
            messages.push(message);
          }
          for (const w of waiters) w();
          waiters = [];
        });
        const ended = new Promise<void>((done) => {
          res.on('end', done);
          res.on('close', done);
          res.on('error', () => done());
        });
        const events = () => messages.filter((m) => m.id !== undefined);
        resolve({
          res,
          messages,
          ended,
          close: () => req.destroy(),
          next: async (n) => {
            const deadline = Date.now() + 5000;
            while (events().length < n) {
              if (Date.now() > deadline) throw new Error(`only ${events().length} of ${n} events`);
              await new Promise<void>((r) => {
                waiters.push(r);
                setTimeout(r, 50);
              });
            }
            return events();
          },
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('GET /v1/events/stream', () => {
  let store: SQLiteEventStore;
  let app: FastifyInstance;
  let base: string;

  const append = async (stream: string, n: number, from = 0) => {
    for (let i = from; i < from + n; i++)
      await store.append(stream, [{ type: 'Tick.v1', data: { i } }]);
  };

  before(async () => {
    store = getSQLiteEventStore({ path: ':memory:', pollIntervalMs: 20 });
    app = await buildApp({
      auth: anonymousAuth(),
      store,
      storeDescription: 'sqlite :memory:',
      liveFeed: { heartbeatMs: 100, bufferSize: 20 },
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  it('resumes after a dropped connection with Last-Event-ID: every event exactly once', async () => {
    await append('feed-a', 5);
    await append('other-x', 2);
    const first = await connect(`${base}/v1/events/stream?from=0&stream_prefix=feed-a`);
    assert.equal(first.res.statusCode, 200);
    assert.match(String(first.res.headers['content-type']), /^text\/event-stream/);
    const got = await first.next(5);
    first.close();
    await first.ended;
    await append('feed-a', 5, 5); // while disconnected
    const lastId = got.at(-1)?.id as string;
    const second = await connect(`${base}/v1/events/stream?from=0&stream_prefix=feed-a`, {
      'last-event-id': lastId,
    });
    const more = await second.next(5);
    await append('feed-a', 3, 10); // live
    const all = [...got, ...(await second.next(8))];
    second.close();
    const values = all.map((m) => (JSON.parse(m.data as string) as { data: { i: number } }).data.i);
    assert.deepEqual(values, [...Array(13).keys()]);
    const ids = all.map((m) => BigInt(m.id as string));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => (a < b ? -1 : 1)),
    );
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(more.length >= 5, true);
  });

  it('sends heartbeat comments and filters by type', async () => {
    const client = await connect(`${base}/v1/events/stream?type_prefix=Tock`);
    await store.append('feed-b', [
      { type: 'Tick.v1', data: {} },
      { type: 'Tock.v1', data: {} },
    ]);
    const events = await client.next(1);
    assert.deepEqual(
      events.map((m) => (JSON.parse(m.data as string) as { type: string }).type),
      ['Tock.v1'],
    );
    await new Promise((r) => setTimeout(r, 250));
    assert.ok(
      client.messages.some((m) => m.comment === 'heartbeat'),
      'a heartbeat comment',
    );
    client.close();
  });

  it('refuses bad input as problem+json', async () => {
    const both = await app.inject({
      url: '/v1/events/stream?stream_prefix=a&type_prefix=b',
      headers: { accept: 'text/event-stream' },
    });
    assert.equal(both.statusCode, 400);
    const bad = await app.inject({
      url: '/v1/events/stream?from=abc',
      headers: { accept: 'text/event-stream' },
    });
    assert.equal(bad.statusCode, 400);
  });

  it('refuses a Last-Event-ID that is no position, and a resume beyond the head, instead of starting at the head', async () => {
    await append('feed-c', 2);
    const head = await store.headPosition();
    const stream = (headers: Record<string, string>, query = '') =>
      app.inject({
        url: `/v1/events/stream${query}`,
        headers: { accept: 'text/event-stream', ...headers },
      });
    const garbled = await stream({ 'last-event-id': 'abc' });
    assert.equal(garbled.statusCode, 400, garbled.body);
    assert.match(String(garbled.headers['content-type']), /^application\/problem\+json/);
    assert.equal(garbled.json<{ code: string }>().code, 'HTTP_VALIDATION');
    assert.match(garbled.json<{ detail: string }>().detail, /last-event-id/);
    for (const [headers, query] of [
      [{ 'last-event-id': String(head + 1n) }, ''],
      [{ 'last-event-id': String(head + 100n) }, '?from=0'], // the header wins over from
      [{}, `?from=${head + 1n}`],
    ] as const) {
      const res = await stream(headers, query);
      assert.equal(res.statusCode, 400, res.body);
      const body = res.json<{ code: string; detail: string }>();
      assert.equal(body.code, 'QUERY_POSITION_BEYOND_HEAD');
      assert.match(body.detail, new RegExp(`the head of the log is ${head}$`));
    }
    // At the head itself, it subscribes: the next event is the first it sends.
    const atHead = await connect(`${base}/v1/events/stream?stream_prefix=feed-c`, {
      'last-event-id': String(head),
    });
    assert.equal(atHead.res.statusCode, 200);
    await append('feed-c', 1, 2);
    const [next] = await atHead.next(1);
    atHead.close();
    assert.equal(next?.id, String(head + 1n));
  });

  it('disconnects a client that falls bufferSize events behind, with event: overflow', async () => {
    const client = await connect(`${base}/v1/events/stream?stream_prefix=feed-slow`);
    client.res.pause(); // a client that stops reading
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 200; i++)
      await store.append('feed-slow', [{ type: 'Big.v1', data: { big, i } }]);
    await new Promise((r) => setTimeout(r, 300));
    client.res.resume();
    await client.ended;
    const overflow = client.messages.find((m) => m.event === 'overflow');
    assert.ok(overflow, 'an overflow message');
    const received = client.messages.filter((m) => m.id !== undefined).length;
    assert.ok(received < 200, `the stream was cut (${received} events received)`);
    assert.ok((JSON.parse(overflow.data as string) as { resumeAfter: string }).resumeAfter);
  });

  it('ends open streams when the server shuts down', async () => {
    const local = await buildApp({
      auth: anonymousAuth(),
      store,
      storeDescription: 'sqlite :memory:',
    });
    const url = await local.listen({ host: '127.0.0.1', port: 0 });
    const client = await connect(`${url}/v1/events/stream`);
    const started = Date.now();
    await local.close();
    await client.ended;
    assert.ok(Date.now() - started < 3000);
  });
});
