// The query API over read models and the metrics, through inject(): every filter,
// cursor paging to the end, bad input with its own code, minPosition (wait, beyond
// the head, timeout), unit keys URL-encoded in sub-resources, and /metrics. Time
// travel (`asOf`, the diff) is in queriesTimeTravel.int.test.ts; the log both read
// is built by test/support/queryFixture.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { projections } from '../../projections/index.js';
import type { DomainService } from '../../src/application/index.js';
import type { SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import type { ProjectionRunner, ReadModelStore } from '../../src/readModels/index.js';
import {
  A,
  A_BUILD,
  B,
  C,
  closeQueryFixture,
  enc,
  openQueryFixture,
  problem,
  units,
  type PageBody,
  type QueryFixture,
} from '../support/queryFixture.js';

describe('query API', () => {
  let store: SQLiteEventStore;
  let domain: DomainService;
  let readModels: ReadModelStore;
  let runner: ProjectionRunner;
  let app: FastifyInstance;
  let head: bigint;
  let ids: Record<string, string>;
  let positions: Record<string, bigint>;
  let fixture: QueryFixture;

  before(async () => {
    fixture = await openQueryFixture();
    ({ store, domain, readModels, runner, app, head, ids, positions } = fixture);
  });
  after(() => closeQueryFixture(fixture));

  const get = (url: string) => app.inject({ method: 'GET', url });
  const fresh = (url: string) => get(`${url}${url.includes('?') ? '&' : '?'}minPosition=${head}`);
  it('lists units with minPosition, and names the position it reflects', async () => {
    const res = await fresh('/v1/units');
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(BigInt(String(res.headers['provenant-position'])) >= head);
    const body = res.json<PageBody>();
    assert.deepEqual(units(body), [A, B, C]);
    assert.equal(body.next, null);
    const a = body.items[0] as Record<string, unknown>;
    assert.equal(a['currentStage'], 'ship');
    assert.deepEqual(
      a['openGates'],
      ['scan'].filter(() => false),
    );
    assert.equal(a['receiptCount'], 2);
  });

  it('filters units by name, version, stage, gate verdict and last activity', async () => {
    const list = async (q: string) => units((await fresh(`/v1/units?${q}`)).json<PageBody>());
    assert.deepEqual(await list('name=openssl'), [A, B]);
    assert.deepEqual(await list('version=3.3.0'), [B]);
    assert.deepEqual(await list('stage=ship'), [A]);
    assert.deepEqual(await list('gateStatus=failed'), [C]);
    assert.deepEqual(await list('gateStatus=passed'), [A]);
    assert.deepEqual(await list('gate=build&gateStatus=passed'), [A]);
    assert.deepEqual(await list('gate=build&gateStatus=passed&name=zlib'), []);
    assert.deepEqual(await list(`updatedSince=${positions['bTest']}`), [B, C]);
    assert.deepEqual(await list('updatedSince=2000-01-01T00:00:00Z'), [A, B, C]);
    assert.deepEqual(await list('updatedSince=2999-01-01T00:00:00Z'), []);
    problem(await get('/v1/units?updatedSince=yesterday'), 400, 'QUERY_BAD_SINCE');
    problem(await get('/v1/units?updatedSince=2026-02-30T00:00:00Z'), 400, 'QUERY_BAD_SINCE');
    problem(await get('/v1/units?gate=build'), 400, 'HTTP_BAD_REQUEST');
    problem(await get('/v1/units?gateStatus=maybe'), 400, 'HTTP_VALIDATION');
  });

  it('pages with an opaque cursor to the end, filtered or not; refuses a bad cursor', async () => {
    for (const filter of ['', '&name=openssl']) {
      const seen: unknown[] = [];
      let url = `/v1/units?limit=1${filter}`;
      for (let i = 0; i < 10; i++) {
        const body = (await fresh(url)).json<PageBody>();
        seen.push(...units(body));
        if (body.next === null) break;
        url = `/v1/units?limit=1${filter}&cursor=${body.next}`;
      }
      assert.deepEqual(seen, filter === '' ? [A, B, C] : [A, B]);
    }
    problem(await get('/v1/units?cursor=!!notacursor'), 400, 'QUERY_BAD_CURSOR');
    problem(await get('/v1/units?cursor=bm9wZQ'), 400, 'QUERY_BAD_CURSOR');
    const page = (await fresh(`/v1/units/${enc(A)}/receipts?limit=1`)).json<PageBody>();
    assert.ok(page.next !== null);
    problem(await get(`/v1/units?cursor=${page.next}`), 400, 'QUERY_BAD_CURSOR');
    const tampered = Buffer.from(JSON.stringify({ q: 'units', c: 'xx' })).toString('base64url');
    problem(await get(`/v1/units?cursor=${tampered}`), 400, 'QUERY_BAD_CURSOR');
    problem(await get('/v1/units?limit=1001'), 400, 'HTTP_VALIDATION');
    problem(await get('/v1/units?limit=0'), 400, 'HTTP_VALIDATION');
  });

  it("lists a unit's receipts (key URL-encoded), with filters", async () => {
    const res = await fresh(`/v1/units/${enc(A)}/receipts`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<PageBody>();
    assert.deepEqual(
      body.items.map((r) => r['receiptId']),
      [ids['aBuild'], ids['aTest']],
    );
    assert.equal(body.items[0]?.['producer'], 'ci-a');
    assert.equal(body.items[0]?.['correlationId'], 'trace-1');
    const ofB = async (q: string) =>
      (await fresh(`/v1/units/${enc(B)}/receipts?${q}`))
        .json<PageBody>()
        .items.map((r) => r['receiptId']);
    assert.deepEqual(await ofB('action=test'), [ids['bTest']]);
    assert.deepEqual(await ofB('revoked=true'), [ids['bTest']]);
    assert.deepEqual(await ofB('revoked=false'), [ids['bBuild']]);
    assert.deepEqual(await ofB('producer=ci-a'), []);
    const revoked = (await fresh(`/v1/units/${enc(B)}/receipts?revoked=true`)).json<PageBody>();
    assert.deepEqual((revoked.items[0]?.['revocation'] as { reason: string }).reason, 'flaky run');
    // Plain segments are the unit status route's: a clear 404, not a bad key.
    problem(await get(`/v1/units/${A}/receipts`), 404, 'HTTP_NOT_FOUND');
    problem(await get(`/v1/units/${enc('not-a-key')}/receipts`), 400, 'DOMAIN_INVALID_UNIT_KEY');
    // A long key, encoded, is one path parameter too (over fastify's default 100 characters).
    const long = `${'a'.repeat(95)}/1.0/1/x86_64/rpm`;
    assert.equal((await get(`/v1/units/${enc(long)}/receipts`)).statusCode, 200);
    problem(await get(`/v1/units/${enc(long)}/diff`), 404, 'DOMAIN_UNIT_NOT_FOUND');
    // An unknown unit has no receipts.
    const none = (await fresh(`/v1/units/${enc('x/1/1/noarch/rpm')}/receipts`)).json<PageBody>();
    assert.deepEqual(none, { items: [], next: null });
  });

  it('reads one receipt; 404 problem+json when unknown', async () => {
    const res = await fresh(`/v1/receipts/${ids['aBuild']}`);
    assert.equal(res.statusCode, 200, res.body);
    const receipt = res.json<Record<string, unknown>>();
    assert.equal(receipt['unit'], A);
    assert.equal(receipt['producer'], 'ci-a');
    // What the receipt recorded, not only the ledger's row.
    assert.deepEqual(receipt['results'], A_BUILD.results);
    assert.equal(receipt['finishedAt'], A_BUILD.finishedAt);
    assert.equal('artifacts' in receipt, false, 'a field the receipt did not record is absent');
    assert.ok(res.headers['provenant-position']);
    problem(await get('/v1/receipts/01ARZ3NDEKTSV4RRFFQ69G5FAV'), 404, 'QUERY_RECEIPT_NOT_FOUND');
  });

  it('lists the units of a gate by status and of a stage', async () => {
    const gate = async (q: string) =>
      units((await fresh(`/v1/gates/build/units${q}`)).json<PageBody>());
    assert.deepEqual(await gate('?status=passed'), [A]);
    assert.deepEqual(await gate('?status=failed'), []);
    assert.deepEqual(units((await fresh('/v1/gates/scan/units?status=failed')).json<PageBody>()), [
      C,
    ]);
    const badStatus = await get('/v1/gates/build/units?status=nope');
    problem(badStatus, 400, 'HTTP_VALIDATION');
    assert.equal(
      badStatus.json<{ detail: string }>().detail,
      'querystring/status must be one of passed, failed, pending',
    );
    assert.match(
      (await get('/v1/units?colour=red')).json<{ detail: string }>().detail,
      /^querystring must NOT have additional properties: 'colour'$/,
    );
    const stage = (await fresh('/v1/stages/ship/units')).json<PageBody>();
    assert.deepEqual(units(stage), [A, B]);
    assert.deepEqual(
      stage.items.map((i) => i['passed']),
      [true, false],
    );
    assert.deepEqual(units((await fresh('/v1/stages/ship/units?passed=true')).json<PageBody>()), [
      A,
    ]); // A gate or stage that is not defined is not one without units.
    problem(await get('/v1/gates/biuld/units'), 404, 'DOMAIN_GATE_NOT_FOUND');
    problem(await get('/v1/stages/shipp/units?passed=true'), 404, 'DOMAIN_STAGE_NOT_FOUND');
  });

  it('traces a correlation id in log order', async () => {
    const body = (await fresh('/v1/traces/trace-1')).json<PageBody>();
    assert.deepEqual(
      body.items.map((i) => [i['kind'], i['receiptId']]),
      [
        ['receipt', ids['aBuild']],
        ['receipt', ids['aTest']],
      ],
    );
    const first = (await fresh('/v1/traces/trace-1?limit=1')).json<PageBody>();
    assert.ok(first.next !== null);
    const second = (
      await fresh(`/v1/traces/trace-1?limit=1&cursor=${first.next}`)
    ).json<PageBody>();
    assert.deepEqual(
      second.items.map((i) => i['receiptId']),
      [ids['aTest']],
    );
    assert.equal(second.next, null);
    assert.deepEqual((await fresh('/v1/traces/none')).json<PageBody>(), { items: [], next: null });
  });

  it('refuses a minPosition beyond the head, and times out (503, Retry-After) when not reached', async () => {
    problem(await get(`/v1/units?minPosition=${head + 1000n}`), 400, 'QUERY_POSITION_BEYOND_HEAD');
    problem(await get('/v1/units?minPosition=x'), 400, 'HTTP_VALIDATION');
    const idle = getSQLiteReadModelStore({ path: ':memory:' });
    for (const p of projections) await idle.ensureProjection(p);
    const stale = await buildApp({
      auth: anonymousAuth(),
      store,
      domain,
      storeDescription: 'sqlite :memory:',
      readModels: idle,
      query: { waitMs: 50, pollMs: 5 },
    });
    try {
      const res = await stale.inject({ method: 'GET', url: `/v1/units?minPosition=${head}` });
      problem(res, 503, 'QUERY_POSITION_TIMEOUT');
      assert.equal(res.headers['retry-after'], '1');
      const now = await stale.inject({ method: 'GET', url: '/v1/units' });
      assert.equal(now.headers['provenant-position'], '0');
    } finally {
      await stale.close();
      await idle.close();
    }
    const bare = await buildApp({
      auth: anonymousAuth(),
      store,
      domain,
      storeDescription: 'sqlite :memory:',
    });
    try {
      problem(await bare.inject('/v1/units'), 503, 'QUERY_READ_MODELS_UNAVAILABLE');
    } finally {
      await bare.close();
    }
  });

  it('keeps GET /v1/units/{key} as it was (folded from the log), with the position', async () => {
    const res = await get(`/v1/units/${enc(A)}`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<Record<string, unknown>>();
    // Issue 18 added the unit's names: its canonical purl and its NVRPP.
    assert.deepEqual(Object.keys(body).sort(), [
      'gates',
      'nvrpp',
      'purl',
      'receipts',
      'revision',
      'stages',
      'unit',
    ]);
    assert.deepEqual(body, JSON.parse(JSON.stringify(await domain.getUnitStatus(A))));
    assert.ok(res.headers['provenant-position']);
    problem(await get(`/v1/units/${enc('x/1/1/noarch/rpm')}`), 404, 'DOMAIN_UNIT_NOT_FOUND');
  });

  it('exposes the named metrics', async () => {
    // Built on the store alone, as the server builds it: its appends are timed.
    const own = await buildApp({
      auth: anonymousAuth(),
      store,
      storeDescription: 'sqlite :memory:',
      readModels,
      projectionStatus: () => runner.status(),
      // As the server passes them on PostgreSQL (composition.ts locksOf).
      leadership: () => [
        { lock: 'projection:unitSummary', held: true },
        { lock: 'merkle-log', held: false },
      ],
    });
    try {
      await own.inject({ method: 'POST', url: '/v1/events', payload: { nope: true } });
      const put = await own.inject({
        method: 'PUT',
        url: '/v1/gates/lint',
        payload: { requiredActions: ['lint'] },
      });
      assert.equal(put.statusCode, 201, put.body);
      const res = await own.inject('/metrics');
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      for (const name of [
        'provenant_projection_lag{projection="unitSummary"}',
        'provenant_projection_parked{projection="receiptsLedger"}',
        'provenant_ingest_requests_total{route="/v1/events",outcome="rejected",code="',
        'provenant_http_request_duration_seconds_bucket{',
        'provenant_event_store_append_seconds_bucket{',
        'provenant_leadership_held{lock="projection:unitSummary"} 1',
        'provenant_leadership_held{lock="merkle-log"} 0',
      ])
        assert.ok(res.body.includes(name), `metrics lack ${name}`);
      assert.doesNotMatch((await app.inject('/metrics')).body, /provenant_leadership_held\{/);
      // One registry per app: the other app's counters are not here.
      assert.doesNotMatch((await app.inject('/metrics')).body, /route="\/v1\/gates\/:id"/);
    } finally {
      await own.close();
    }
  });
});
