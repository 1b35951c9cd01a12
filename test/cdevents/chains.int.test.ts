// CDEvents chains end to end (issue 18, docs/chains.md), with the spec's
// conformance examples over HTTP (app.inject) and the chain binder following the
// log: binding in every arrival order, across a restart, redelivery, a chain
// naming two units, a chain id reused by another source.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { createDomainService } from '../../src/application/index.js';
import { unitStream } from '../../src/application/unitStreams.js';
import { startChainBinding } from '../../src/composition.js';
import type { ChainBinder } from '../../src/application/chains/index.js';
import { handleChainEvent, type ChainView } from '../../src/application/chains/index.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { ingestAjv } from '../../src/ingest/ajv.js';
import { asCloudEvent, conformance, GOLANG_UNIT, OCI_UNIT, type Tag } from './support.js';
import { anonymousAuth } from '../../src/security/index.js';

const STRUCTURED = { 'content-type': 'application/cloudevents+json' };

interface Running {
  store: SQLiteEventStore;
  app: FastifyInstance;
  binder: ChainBinder;
}

let dir: string;
let running: Running;

async function start(): Promise<Running> {
  const store = getSQLiteEventStore({ path: join(dir, 'log.db') });
  const domain = createDomainService({ eventStore: store });
  const app = await buildApp({
    auth: anonymousAuth(),
    store,
    domain,
    storeDescription: 'sqlite',
    ownsStore: true,
  });
  const binder = startChainBinding(store, domain, undefined);
  return { store, app, binder };
}

async function stop(r: Running): Promise<void> {
  await r.binder.stop();
  await r.app.close();
}

const post = async (event: Record<string, unknown>) => {
  const res = await running.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: STRUCTURED,
    payload: JSON.stringify(event),
  });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
};

const get = async <T>(url: string): Promise<{ status: number; body: T }> => {
  const res = await running.app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json<T>() };
};

/** Waits (bounded) until `check` holds. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Receipts of a unit, by the CloudEvent ids they came from. */
async function receiptsOf(unit: string): Promise<string[]> {
  const { events } = await running.store.readStream(unitStream(unit));
  return events
    .filter((e) => e.type === 'ReceiptRecorded.v1')
    .map((e) => (e.data as { origin: { id: string } }).origin.id)
    .sort();
}

/** Waits until the binder has nothing left to do (the head stays put). */
const idle = () =>
  until('the binder to go idle', async () => {
    const head = await running.store.headPosition();
    await new Promise((resolve) => setTimeout(resolve, 100));
    return (await running.store.headPosition()) === head;
  });

const chain = async (id: string) =>
  (await get<ChainView>(`/v1/chains/${encodeURIComponent(id)}`)).body;

// Events of one chain: the conformance examples with their own ids and chain id.
const ev = (tag: Tag, name: string, chainId: string, source?: string) =>
  asCloudEvent(conformance(tag, name), {
    id: `${chainId}-${name}`,
    chainId,
    ...(source === undefined ? {} : { source }),
  });

describe('CDEvents chains', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provenant-chains-'));
    running = await start();
  });
  after(async () => {
    await stop(running);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const tag of ['v0.4.1', 'v0.5.1'] as const) {
    it(`${tag}: the unit-naming event LAST — the others wait (202, unit null), then get receipts`, async () => {
      const id = `${tag}-last`;
      for (const name of ['testsuiterun_finished', 'taskrun_finished']) {
        const res = await post(ev(tag, name, id));
        assert.equal(res.status, 202, JSON.stringify(res.body));
        assert.equal(res.body['unit'], null);
        assert.equal(res.body['chainId'], id);
        assert.equal(res.body['kind'], 'chain-pending');
      }
      const waiting = await get<{ items: ChainView[] }>('/v1/chains?bound=false');
      assert.ok(waiting.body.items.some((c) => c.chainId === id && c.pending.length === 2));

      const build = await post(ev(tag, 'build_finished', id));
      assert.equal(build.status, 201);
      assert.equal(build.body['unit'], OCI_UNIT);
      await until(
        'the chain receipts',
        async () => (await receiptsOf(OCI_UNIT)).filter((r) => r.startsWith(id)).length === 3,
      );
      assert.deepEqual(
        (await receiptsOf(OCI_UNIT)).filter((r) => r.startsWith(id)),
        [`${id}-build_finished`, `${id}-taskrun_finished`, `${id}-testsuiterun_finished`],
      );
      const bound = await chain(id);
      assert.equal(bound.unit, OCI_UNIT);
      const stillWaiting = await get<{ items: ChainView[] }>('/v1/chains?bound=false');
      assert.ok(!stillWaiting.body.items.some((c) => c.chainId === id));
    });
  }

  it('the unit-naming event FIRST — later events become receipts at once (201)', async () => {
    const id = 'order-first';
    assert.equal((await post(ev('v0.5.1', 'build_finished', id))).status, 201);
    await until('the binding', async () => (await chain(id))?.unit === OCI_UNIT);
    const test = await post(ev('v0.5.1', 'testcaserun_finished', id));
    assert.equal(test.status, 201);
    assert.equal(test.body['unit'], OCI_UNIT);
    assert.equal(test.body['kind'], 'receipt');
  });

  it('the unit-naming event in the MIDDLE', async () => {
    const id = 'order-middle';
    assert.equal((await post(ev('v0.4.1', 'testcaserun_finished', id))).status, 202);
    assert.equal((await post(ev('v0.4.1', 'build_finished', id))).status, 201);
    await until('the binding', async () => (await chain(id))?.unit === OCI_UNIT);
    assert.equal((await post(ev('v0.4.1', 'pipelinerun_finished', id))).status, 201);
    await until('the receipts', async () => {
      const ids = (await receiptsOf(OCI_UNIT)).filter((r) => r.startsWith(id));
      return ids.length === 3;
    });
  });

  it('redelivery records nothing twice, before and after the binding', async () => {
    const id = 'redelivery';
    const pending = ev('v0.5.1', 'taskrun_finished', id);
    const first = await post(pending);
    await idle();
    const head = await running.store.headPosition();
    const again = await post(pending);
    assert.equal(again.status, 202);
    assert.deepEqual(again.body, { ...first.body, duplicate: true });
    assert.equal(await running.store.headPosition(), head, 'a redelivery appends nothing');
    await post(ev('v0.5.1', 'build_finished', id));
    await until('the receipts', async () =>
      (await receiptsOf(OCI_UNIT)).includes(`${id}-taskrun_finished`),
    );
    assert.equal((await post(pending)).status, 202);
    assert.equal((await post(ev('v0.5.1', 'build_finished', id))).status, 200);
    await idle();
    // The binder handling every event of the log again records nothing either.
    const before = await running.store.headPosition();
    for (const event of await running.store.readAll({ maxCount: 100_000 }))
      await handleChainEvent(
        running.store,
        createDomainService({ eventStore: running.store }),
        event,
      );
    assert.equal(await running.store.headPosition(), before);
    assert.equal((await receiptsOf(OCI_UNIT)).filter((r) => r.startsWith(id)).length, 2);
  });

  it('binds across a restart, and a second restart records nothing', async () => {
    const id = 'restart';
    await post(ev('v0.5.1', 'testsuiterun_finished', id));
    await running.binder.stop(); // the binder is down when the chain is named
    await post(ev('v0.5.1', 'build_finished', id));
    assert.deepEqual(
      (await receiptsOf(OCI_UNIT)).filter((r) => r.startsWith(id)),
      [`${id}-build_finished`],
    );
    await running.app.close();
    running = await start();
    await until('the receipts after the restart', async () =>
      (await receiptsOf(OCI_UNIT)).includes(`${id}-testsuiterun_finished`),
    );
    await idle();
    const head = await running.store.headPosition();
    await stop(running);
    running = await start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await running.store.headPosition(), head, 'nothing recorded twice');
  });

  it('a chain naming a second unit is a recorded conflict, not a merge', async () => {
    const id = 'two-units';
    await post(ev('v0.5.1', 'build_finished', id));
    await until('the binding', async () => (await chain(id))?.unit === OCI_UNIT);
    const signed = await post(ev('v0.5.1', 'artifact_signed', id));
    assert.equal(signed.status, 201);
    assert.equal(signed.body['unit'], GOLANG_UNIT); // its own unit: evidence is kept
    await until('the conflict', async () => (await chain(id)).conflicts.length === 1);
    const view = await chain(id);
    assert.equal(view.unit, OCI_UNIT);
    assert.deepEqual(view.conflicts[0], {
      kind: 'unit',
      boundUnit: OCI_UNIT,
      otherUnit: GOLANG_UNIT,
      event: {
        source: '/event/source/123',
        id: `${id}-artifact_signed`,
        type: 'dev.cdevents.artifact.signed.0.3.0',
      },
    });
    const listed = await get<{ items: ChainView[] }>('/v1/chains?conflicts=true');
    assert.ok(listed.body.items.some((c) => c.chainId === id));
  });

  it('a chain id reused by another source is refused (409) and nothing is stored', async () => {
    const id = 'two-sources';
    assert.equal((await post(ev('v0.5.1', 'taskrun_finished', id))).status, 202);
    await idle();
    const head = await running.store.headPosition();
    const other = await post(ev('v0.5.1', 'testsuiterun_finished', id, 'https://other.example'));
    assert.equal(other.status, 409);
    assert.equal(other.body['code'], 'INGEST_CHAIN_SOURCE_CONFLICT');
    assert.equal(await running.store.headPosition(), head);
    // A unit-naming event from the other source keeps its own receipt; the chain
    // records the conflict and stays with its owner, unbound.
    const build = await post(ev('v0.5.1', 'build_finished', id, 'https://other.example'));
    assert.equal(build.status, 201);
    await until('the conflict', async () => (await chain(id)).conflicts.length === 1);
    const view = await chain(id);
    assert.equal(view.unit, null);
    assert.equal(view.owner, '/event/source/123');
    assert.equal(view.conflicts[0]?.kind, 'source');
    assert.equal(view.conflicts[0]?.otherUnit, OCI_UNIT);
  });

  it('the NVRPP and purl forms of one RPM are one unit', async () => {
    const receipt = (unit: string, id: string) => ({
      specversion: '1.0',
      id,
      source: 'https://ci.example.com/rpm',
      type: 'dev.provenant.receipt.v1',
      datacontenttype: 'application/json',
      data: { unit, action: id, multipass: true },
    });
    const a = await post(receipt('openssl/3.2.1/2.el9/x86_64/rpm', 'build'));
    const b = await post(receipt('pkg:rpm/redhat/openssl@3.2.1-2.el9?arch=x86_64', 'sign'));
    assert.equal(a.body['stream'], 'unit-openssl/3.2.1/2.el9/x86_64/rpm');
    assert.equal(b.body['stream'], a.body['stream']);
    assert.equal(b.body['unit'], 'openssl/3.2.1/2.el9/x86_64/rpm');
    const byPurl = await get<Record<string, unknown>>(
      `/v1/units/${encodeURIComponent('pkg:rpm/openssl@3.2.1-2.el9?arch=x86_64')}`,
    );
    const byNvrpp = await get<Record<string, unknown>>('/v1/units/openssl/3.2.1/2.el9/x86_64/rpm');
    assert.deepEqual(byPurl.body, byNvrpp.body);
    assert.equal(byPurl.body['purl'], 'pkg:rpm/openssl@3.2.1-2.el9?arch=x86_64');
    assert.equal(byPurl.body['nvrpp'], 'openssl/3.2.1/2.el9/x86_64/rpm');
    assert.equal((byPurl.body['receipts'] as unknown[]).length, 2);
  });

  it('bad purls are 400 problems with their own codes, and nothing is stored', async () => {
    await idle();
    const head = await running.store.headPosition();
    const cases: [string, string][] = [
      ['pkg:npm/@1', 'DOMAIN_INVALID_PURL'],
      ['pkg:npm/a@1?arch', 'DOMAIN_INVALID_PURL'],
      ['pkg:npm/a@%zz', 'DOMAIN_INVALID_PURL'],
      ['pkg:oci/app@v1', 'DOMAIN_INVALID_OCI_DIGEST'],
      [`pkg:npm/${'a'.repeat(1030)}@1`, 'DOMAIN_PURL_TOO_LONG'],
    ];
    for (const [unit, code] of cases) {
      const res = await post({
        specversion: '1.0',
        id: `bad-${code}-${unit.length}`,
        source: 'https://ci.example.com/bad',
        type: 'dev.provenant.receipt.v1',
        datacontenttype: 'application/json',
        data: { unit, action: 'build', multipass: true },
      });
      assert.equal(res.status, 400, unit);
      assert.equal(res.body['code'], code, unit);
      const status = await running.app.inject(`/v1/units/${encodeURIComponent(unit)}`);
      assert.equal(status.statusCode, 400, unit);
      assert.match(String(status.headers['content-type']), /problem\+json/);
    }
    assert.equal(await running.store.headPosition(), head);
  });

  it('every chain event stored satisfies its JSON Schema (schemas/events/Chain*.v1.json)', async () => {
    // The ingest validator: strict, with the CloudEvents formats (media-type).
    const ajv = ingestAjv;
    const load = (path: string): object =>
      JSON.parse(readFileSync(new URL(`../../schemas/${path}`, import.meta.url), 'utf8')) as object;
    if (ajv.getSchema('https://provenant.dev/schemas/cloudevents/cloudevent.v1.json') === undefined)
      ajv.addSchema(load('cloudevents/cloudevent.v1.json'));
    const seen = new Set<string>();
    for (const event of await running.store.readAll({
      maxCount: 100_000,
      filter: { streamPrefix: ['chain-'] },
    })) {
      const validate =
        ajv.getSchema(`https://provenant.dev/schemas/events/${event.type}.json`) ??
        ajv.compile(load(`events/${event.type}.json`));
      assert.ok(validate(event.data), `${event.type}: ${JSON.stringify(validate.errors)}`);
      seen.add(event.type);
    }
    assert.deepEqual([...seen].sort(), [
      'ChainBound.v1',
      'ChainConflict.v1',
      'ChainEventPending.v1',
    ]);
  });
});
