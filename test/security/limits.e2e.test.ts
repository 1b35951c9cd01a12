// Abuse limits on a real loopback socket (issue 15, docs/security.md "Limits"):
// HTTP parser errors as problem+json over raw sockets, slow clients cut off,
// per-principal rate limits, the bounded ingest queue under a small load test
// (two producers: a flood from one does not starve the other), and /healthz
// answering promptly while someone tries a catastrophic schema pattern.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { EventStore } from '../../src/eventStore/types.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { DEFAULT_ABUSE_LIMITS, type AbuseLimits } from '../../src/security/abuseLimits.js';
import {
  anonymousAuth,
  createAuthenticator,
  createStaticToken,
  type Authenticator,
} from '../../src/security/index.js';

// Real callers: one static token per producer (principal `token:<name>`), each a
// producer that may also read, with a scope that allows everything.
const callers = [
  'producer-a',
  'producer-b',
  'producer-0',
  'producer-1',
  'producer-2',
  'producer-3',
];
const tokens = new Map(callers.map((name) => [name, createStaticToken()]));
const tokenAuth = createAuthenticator({
  principals: {
    tokens: callers.map((name) => ({
      name,
      sha256: tokens.get(name)?.sha256 ?? '',
      roles: ['producer', 'reader'] as const,
      scope: { sources: ['*'], types: ['*'], actions: ['*'], units: ['*'] },
    })),
    certificates: [],
    oidc: [],
  },
});
const bearer = (who: string): string => `Bearer ${tokens.get(who)?.token ?? 'unknown'}`;

const UNIT = 'libfoo/2.0.0/1.el9/x86_64/rpm';
const SHA = 'ab'.repeat(32);
let counter = 0;
const receiptEvent = (custom?: unknown, unit = UNIT) =>
  JSON.stringify({
    specversion: '1.0',
    id: `l-${++counter}`,
    source: 'https://ci.example.com/p/1',
    type: 'dev.provenant.receipt.v1',
    datacontenttype: 'application/json',
    data: {
      unit,
      action: 'build',
      multipass: true,
      artifacts: [{ uri: 'https://repo.example.com/a.rpm', digest: { sha256: SHA } }],
      ...(custom === undefined ? {} : { custom }),
    },
  });

const limits = (overrides: Partial<AbuseLimits> = {}): AbuseLimits => ({
  ...DEFAULT_ABUSE_LIMITS,
  server: {
    ...DEFAULT_ABUSE_LIMITS.server,
    headersTimeoutMs: 600,
    requestTimeoutMs: 1_000,
    timeoutCheckIntervalMs: 100,
  },
  ...overrides,
});

/** A store whose appends take `ms` longer: requests stay in the ingest queue meanwhile. */
const slowStore = (store: EventStore, ms: number): EventStore =>
  new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'append')
        return async (...args: Parameters<EventStore['append']>) => {
          await delay(ms);
          return target.append(...args);
        };
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });

interface Server {
  app: FastifyInstance;
  store: SQLiteEventStore;
  base: string;
  port: number;
}

async function serve(
  dir: string,
  abuse: AbuseLimits,
  appendDelayMs = 0,
  auth: Authenticator = anonymousAuth(),
): Promise<Server> {
  const store = getSQLiteEventStore({ path: join(dir, `log-${++counter}.db`) });
  const app = await buildApp({
    auth,
    store: appendDelayMs > 0 ? slowStore(store, appendDelayMs) : store,
    storeDescription: 'test',
    abuse,
  });
  app.addHook('onClose', async () => store.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, store, base: `http://127.0.0.1:${port}`, port };
}

/** Writes `request` on a raw socket (in pieces every `pauseMs`, when given) and reads until closed. */
function raw(
  port: number,
  request: string | string[],
  pauseMs = 0,
): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      resolve({ text, ms: performance.now() - started });
    });
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`no close after 10 s; got ${JSON.stringify(text.slice(0, 200))}`));
    });
    void (async () => {
      for (const piece of Array.isArray(request) ? request : [request]) {
        if (closed) return;
        socket.write(piece);
        if (pauseMs > 0) await delay(pauseMs);
      }
    })();
  });
}

/** The status and problem of a raw HTTP response. */
function problemOf(text: string): { status: number; code: string; contentType: string } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const contentType = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
  return { status, code: (JSON.parse(body) as { code: string }).code, contentType };
}

describe('abuse limits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-limits-'));
  // One server with short timeouts for the suites that need no other limits.
  let server: Server;
  before(async () => (server = await serve(dir, limits())));
  after(async () => {
    await server.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('errors before routing are problem+json', () => {
    const cases: [string, string, number, string][] = [
      [
        'headers too large',
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'HTTP_HEADERS_TOO_LARGE',
      ],
      ['a malformed request line', 'GARBAGE\r\n\r\n', 400, 'HTTP_BAD_REQUEST'],
      [
        'a CR inside a header',
        'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n',
        400,
        'HTTP_BAD_REQUEST',
      ],
      [
        'Content-Length with Transfer-Encoding',
        'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        400,
        'HTTP_BAD_REQUEST',
      ],
    ];
    for (const [what, request, status, code] of cases)
      it(what, async () => {
        const { text } = await raw(server.port, request);
        const problem = problemOf(text);
        assert.equal(problem.status, status, text.slice(0, 300));
        assert.equal(problem.code, code);
        assert.equal(problem.contentType, 'application/problem+json');
      });
  });

  describe('slow clients are cut off', () => {
    it('sending headers one byte at a time: 408 once the header timeout passes', async () => {
      const bytes = [...'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: yes\r\n'];
      const { text, ms } = await raw(server.port, bytes, 100);
      assert.equal(problemOf(text).code, 'HTTP_REQUEST_TIMEOUT');
      assert.ok(ms >= 500 && ms < 2_000, `cut off after ${Math.round(ms)} ms`);
    });
    it('sending a body one byte at a time: 408 once the request timeout passes', async () => {
      const head = `POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/cloudevents+json\r\nContent-Length: 200\r\n\r\n`;
      const { text, ms } = await raw(server.port, [head, ...'{"specversion":"1.0","id":"x"'], 100);
      assert.equal(problemOf(text).status, 408, text.slice(0, 300));
      assert.ok(ms >= 900 && ms < 2_500, `cut off after ${Math.round(ms)} ms`);
      assert.equal((await server.store.readAll({ from: 'start', maxCount: 10 })).length, 0);
    });
    it('by default, within 30 s', () => {
      const { requestTimeoutMs, headersTimeoutMs, timeoutCheckIntervalMs } =
        DEFAULT_ABUSE_LIMITS.server;
      assert.ok(Math.max(requestTimeoutMs, headersTimeoutMs) + timeoutCheckIntervalMs <= 30_000);
    });
  });

  describe('the connection cap', () => {
    let capped: Server;
    before(
      async () =>
        (capped = await serve(dir, limits({ server: { ...limits().server, maxConnections: 2 } }))),
    );
    after(async () => capped.app.close());

    it('closes connections beyond the cap on arrival, and serves again once below', async () => {
      const open = () =>
        new Promise<ReturnType<typeof connect>>((resolve) => {
          const socket = connect(capped.port, '127.0.0.1', () => resolve(socket));
          socket.on('error', () => undefined);
        });
      const held = [await open(), await open()];
      const { text, ms } = await raw(capped.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(text, '', 'no answer beyond the cap');
      assert.ok(ms < 1_000, `closed after ${Math.round(ms)} ms`);
      for (const socket of held) socket.destroy();
      await delay(100);
      const served = await raw(
        capped.port,
        'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      assert.match(served.text, /^HTTP\/1\.1 200/);
    });
  });

  describe('rate limits per principal', () => {
    let limited: Server;
    before(
      async () =>
        (limited = await serve(
          dir,
          limits({ rateLimit: { max: 5, windowMs: 60_000 } }),
          0,
          tokenAuth,
        )),
    );
    after(async () => limited.app.close());

    it('answers 429 with Retry-After to the flooding producer only; /healthz is never limited', async () => {
      const get = (who: string): Promise<Response> =>
        fetch(`${limited.base}/v1/events`, { headers: { authorization: bearer(who) } });
      const flood = await Promise.all(Array.from({ length: 12 }, () => get('producer-a')));
      const statuses = flood.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 200).length, 5, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 429).length, 7);
      const refused = flood.find((r) => r.status === 429);
      assert.ok(Number(refused?.headers.get('retry-after')) > 0);
      assert.equal(((await refused?.json()) as { code: string }).code, 'HTTP_RATE_LIMITED');
      // The other producer is untouched.
      const other = await Promise.all(Array.from({ length: 5 }, () => get('producer-b')));
      assert.deepEqual(
        other.map((r) => r.status),
        [200, 200, 200, 200, 200],
      );
      for (let i = 0; i < 10; i++)
        assert.equal((await fetch(`${limited.base}/healthz`)).status, 200);
    });
  });

  describe('the bounded ingest queue', () => {
    let queued: Server;
    before(
      async () =>
        (queued = await serve(
          dir,
          limits({ ingestQueue: { max: 8, perPrincipal: 4 }, retryAfterSeconds: 2 }),
          400,
          tokenAuth,
        )),
    );
    after(async () => queued.app.close());

    // Each receipt for a unit of its own, so that appends run side by side.
    const post = (who: string) =>
      fetch(`${queued.base}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', authorization: bearer(who) },
        body: receiptEvent(undefined, `libq/1.0.${++counter}/1/x86_64/rpm`),
      });

    it('keeps a flood from one producer from starving another, and sheds load with 503 when full', async () => {
      // Producer a floods; producer b sends a few at the same time.
      const a = Array.from({ length: 10 }, () => post('producer-a'));
      await delay(50);
      const b = Array.from({ length: 3 }, () => post('producer-b'));
      const [aRes, bRes] = [await Promise.all(a), await Promise.all(b)];
      const count = (rs: Response[], status: number) =>
        rs.filter((r) => r.status === status).length;
      assert.equal(count(aRes, 201), 4, aRes.map((r) => r.status).join(','));
      assert.equal(count(aRes, 429), 6);
      assert.equal(count(bRes, 201), 3, 'the other producer got through');
      assert.equal(aRes.find((r) => r.status === 429)?.headers.get('retry-after'), '2');

      // Many producers at once: the queue holds 8, the rest get 503 + Retry-After.
      const many = await Promise.all(
        Array.from({ length: 16 }, (_, i) => post(`producer-${i % 4}`)),
      );
      assert.equal(count(many, 201), 8, many.map((r) => r.status).join(','));
      assert.equal(count(many, 503), 8);
      const shed = many.find((r) => r.status === 503);
      assert.equal(shed?.headers.get('retry-after'), '2');
      assert.equal(((await shed?.json()) as { code: string }).code, 'HTTP_OVERLOADED');

      // Drained: accepted again.
      assert.equal((await post('producer-a')).status, 201);
      const stored = await queued.store.readAll({ from: 'start', maxCount: 1_000 });
      assert.equal(stored.filter((e) => e.type === 'ReceiptRecorded.v1').length, 4 + 3 + 8 + 1);
    });
  });

  describe('no request stalls the server', () => {
    const timed = async (request: Promise<Response>) => {
      const started = performance.now();
      const res = await request;
      await res.arrayBuffer();
      return { status: res.status, ms: performance.now() - started };
    };
    const healthz = () => timed(fetch(`${server.base}/healthz`));

    it('refuses ^(a+)+$ at definition time while /healthz answers promptly', async () => {
      const define = timed(
        fetch(`${server.base}/v1/gates/redos`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            requiredActions: ['build'],
            customSchema: {
              type: 'object',
              properties: { v: { type: 'string', pattern: '^(a+)+$' } },
            },
          }),
        }),
      );
      const [defined, health] = await Promise.all([define, healthz()]);
      assert.equal(defined.status, 400);
      assert.equal(health.status, 200);
      assert.ok(health.ms < 1_000, `/healthz took ${Math.round(health.ms)} ms`);
    });

    it('never runs such a pattern stored before it was refused', async () => {
      await server.store.append('gate-legacy', [
        {
          type: 'GateDefined.v1',
          data: {
            gateId: 'legacy',
            version: 1,
            requiredActions: ['build'],
            customSchema: {
              type: 'object',
              properties: { v: { type: 'string', pattern: '^(a+)+$' } },
            },
          },
        },
      ]);
      const ingest = timed(
        fetch(`${server.base}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: receiptEvent({ v: `${'a'.repeat(28)}!` }),
        }),
      );
      await delay(20);
      const [ingested, health] = await Promise.all([ingest, healthz()]);
      assert.ok(ingested.ms < 2_000, `ingest took ${Math.round(ingested.ms)} ms`);
      assert.equal(ingested.status, 422);
      assert.ok(health.ms < 1_000, `/healthz took ${Math.round(health.ms)} ms`);
    });
  });
});
