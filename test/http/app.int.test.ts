// The HTTP foundation through fastify's inject(): health, readiness, the log
// endpoint with paging and filters, problem+json errors, and the OpenAPI document.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';

interface Page {
  events: { id: string; type: string; stream: string; position: string; data: { i: number } }[];
  next: string | null;
}

describe('HTTP foundation', () => {
  let store: SQLiteEventStore;
  let app: FastifyInstance;
  let shuttingDown = false;

  before(async () => {
    store = getSQLiteEventStore({ path: ':memory:' });
    for (let i = 0; i < 25; i++)
      await store.append(i % 2 === 0 ? `unit-${i % 3}` : `gate-${i % 3}`, [
        { type: i % 5 === 0 ? 'Five.v1' : 'Other.v1', data: { i } },
      ]);
    app = await buildApp({
      auth: anonymousAuth(),
      store,
      storeDescription: 'sqlite :memory:',
      ownsStore: true,
      isShuttingDown: () => shuttingDown,
    });
  });
  after(() => app.close());

  it('answers liveness and readiness', async () => {
    const live = await app.inject('/healthz');
    assert.equal(live.statusCode, 200);
    assert.deepEqual(live.json(), { status: 'ok' });
    const ready = await app.inject('/readyz');
    assert.equal(ready.statusCode, 200);
    // Development mode (anonymousAuth) says so, loudly, in /readyz.
    const { warning, ...readiness } = ready.json<Record<string, unknown>>();
    assert.deepEqual(readiness, { status: 'ready', store: 'sqlite :memory:', auth: ['anonymous'] });
    assert.match(String(warning), /DEVELOPMENT MODE/);
    shuttingDown = true;
    const draining = await app.inject('/readyz');
    shuttingDown = false;
    assert.equal(draining.statusCode, 503);
    assert.equal(draining.json<{ reason: string }>().reason, 'shutting down');
  });

  it('pages through $all with exclusive cursors', async () => {
    const seen: number[] = [];
    const readPage = async (cursor: string | null): Promise<Page> => {
      const query: Record<string, string> =
        cursor === null ? { limit: '10' } : { limit: '10', after: cursor };
      const res = await app.inject({ url: '/v1/events', query });
      assert.equal(res.statusCode, 200);
      return res.json<Page>();
    };
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await readPage(cursor);
      seen.push(...page.events.map((e) => e.data.i));
      cursor = page.next;
      pages++;
    } while (cursor !== null);
    assert.deepEqual(
      seen,
      Array.from({ length: 25 }, (_, i) => i),
    );
    assert.equal(pages, 3);
    // After the head itself: an empty last page, as after any position the log holds.
    for (const url of ['/v1/events?after=25', '/v1/events?after=21&type_prefix=Five']) {
      const res = await app.inject(url);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json<Page>(), { events: [], next: null });
    }
  });

  it('reads backwards and filters by stream or type prefix', async () => {
    const back = (await app.inject('/v1/events?direction=backwards&limit=3')).json<Page>();
    assert.deepEqual(
      back.events.map((e) => e.data.i),
      [24, 23, 22],
    );
    const older = (
      await app.inject(`/v1/events?direction=backwards&limit=3&before=${back.next}`)
    ).json<Page>();
    assert.deepEqual(
      older.events.map((e) => e.data.i),
      [21, 20, 19],
    );
    const gates = (await app.inject('/v1/events?stream_prefix=gate-&limit=1000')).json<Page>();
    assert.ok(gates.events.length > 0 && gates.events.every((e) => e.stream.startsWith('gate-')));
    assert.equal(gates.next, null);
    const fives = (await app.inject('/v1/events?type_prefix=Five')).json<Page>();
    assert.deepEqual(
      fives.events.map((e) => e.data.i),
      [0, 5, 10, 15, 20],
    );
    assert.match(fives.events[0]!.position, /^\d+$/);
  });

  it('reports bad requests as problem+json with stable codes', async () => {
    const cases: [string, number, string][] = [
      ['/v1/events?limit=0', 400, 'HTTP_VALIDATION'],
      ['/v1/events?limit=5000', 400, 'HTTP_VALIDATION'],
      ['/v1/events?after=-1', 400, 'HTTP_VALIDATION'],
      ['/v1/events?after=12abc', 400, 'HTTP_VALIDATION'],
      ['/v1/events?unknown=1', 400, 'HTTP_VALIDATION'],
      ['/v1/events?stream_prefix=a&type_prefix=b', 400, 'HTTP_BAD_REQUEST'],
      ['/v1/events?before=3', 400, 'HTTP_BAD_REQUEST'],
      ['/v1/events?direction=backwards&after=3', 400, 'HTTP_BAD_REQUEST'],
      // Past the head (25 events): not an empty page.
      ['/v1/events?after=1000', 400, 'QUERY_POSITION_BEYOND_HEAD'],
      ['/v1/events?after=1000&type_prefix=Five', 400, 'QUERY_POSITION_BEYOND_HEAD'],
      ['/v1/nothing-here', 404, 'HTTP_NOT_FOUND'],
      // Errors of the router itself leave as problem+json too.
      ['/v1/units/a%2', 400, 'HTTP_BAD_REQUEST'],
      // (The router's parameter limit is 1024: a URL-encoded unit key fits in one segment.)
      [`/v1/gates/${'x'.repeat(1100)}`, 400, 'HTTP_BAD_REQUEST'],
    ];
    for (const [url, status, code] of cases) {
      const res = await app.inject(url);
      assert.equal(res.statusCode, status, url);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/, url);
      const body = res.json<{
        code: string;
        status: number;
        type: string;
        title: string;
        detail: string;
      }>();
      assert.equal(body.code, code, url);
      assert.equal(body.status, status);
      assert.equal(body.type, `urn:provenant:problem:${code.toLowerCase().replaceAll('_', '-')}`);
      assert.ok(body.title.length > 0 && body.detail.length > 0);
    }
  });

  it('serves the OpenAPI document generated from the route schemas', async () => {
    const res = await app.inject('/docs/json');
    assert.equal(res.statusCode, 200);
    const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
    assert.equal(doc.openapi, '3.1.0');
    for (const path of ['/healthz', '/readyz', '/v1/events']) assert.ok(path in doc.paths, path);
    assert.equal((await app.inject('/docs/')).statusCode, 200);
  });

  it('reports not ready once the store is closed, and hides internal errors', async () => {
    const local = getSQLiteEventStore({ path: ':memory:' });
    const localApp = await buildApp({ auth: anonymousAuth(), store: local, storeDescription: 'x' });
    try {
      await local.close();
      const ready = await localApp.inject('/readyz');
      assert.equal(ready.statusCode, 503);
      const read = await localApp.inject('/v1/events');
      assert.equal(read.statusCode, 503);
      assert.equal(read.json<{ code: string }>().code, 'STORE_CLOSED');
    } finally {
      await localApp.close();
    }
  });
});
