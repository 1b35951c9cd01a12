// A scoped producer's chained CDEvents (docs/chains.md, docs/security.md): an
// event that names no unit takes its chain's unit, so its action and unit are
// known only then. Within the producer's scope it becomes a receipt; outside it,
// it is refused at ingest when the chain is bound already, and stays pending
// (no receipt) when the chain binds later.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createDomainService } from '../../src/application/index.js';
import {
  CHAIN_BINDER_CHECKPOINT_STREAM,
  type ChainBinder,
  type ChainView,
} from '../../src/application/chains/index.js';
import {
  chainStreamName,
  type ChainEventPendingData,
} from '../../src/application/chains/chainStream.js';
import { unitStream } from '../../src/application/unitStreams.js';
import { startChainBinding } from '../../src/composition.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import {
  createAuthenticator,
  createStaticToken,
  type TokenEntry,
} from '../../src/security/index.js';
import { asCloudEvent, conformance, OCI_UNIT } from './support.js';

const everything = { sources: ['*'], types: ['*'], actions: ['*'], units: ['*'] };
const tokens = {
  // Binds the chains: its build.finished names the OCI unit.
  builder: createStaticToken(),
  // Any unit, but only builds: a test run's receipt is outside its scope.
  buildsOnly: createStaticToken(),
  // Any action, but only npm packages: the OCI unit is outside its scope.
  npmOnly: createStaticToken(),
  // Any action on OCI images: within scope.
  ociTester: createStaticToken(),
};
const reader = createStaticToken();
const entries: TokenEntry[] = [
  { name: 'builder', scope: everything },
  { name: 'buildsOnly', scope: { ...everything, actions: ['build'] } },
  { name: 'npmOnly', scope: { ...everything, units: ['pkg:npm/*'] } },
  { name: 'ociTester', scope: { ...everything, units: ['pkg:oci/*'] } },
]
  .map(({ name, scope }): TokenEntry => ({
    name,
    sha256: tokens[name as keyof typeof tokens].sha256,
    roles: ['producer'],
    scope,
  }))
  .concat([{ name: 'reader', sha256: reader.sha256, roles: ['reader'] }]);

describe('chained CDEvents of scoped producers', () => {
  let dir: string;
  let store: SQLiteEventStore;
  let app: FastifyInstance;
  let binder: ChainBinder;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provenant-chain-scopes-'));
    store = getSQLiteEventStore({ path: join(dir, 'log.db') });
    const domain = createDomainService({ eventStore: store });
    app = await buildApp({
      auth: createAuthenticator({ principals: { tokens: entries, certificates: [], oidc: [] } }),
      store,
      domain,
      storeDescription: 'sqlite',
      ownsStore: true,
    });
    binder = startChainBinding(store, domain, undefined);
  });
  after(async () => {
    await binder.stop();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (who: keyof typeof tokens, name: string, chainId: string) => {
    const event = asCloudEvent(conformance('v0.5.1', name), { id: `${chainId}-${name}`, chainId });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: {
        'content-type': 'application/cloudevents+json',
        authorization: `Bearer ${tokens[who].token}`,
      },
      payload: JSON.stringify(event),
    });
    return {
      status: res.statusCode,
      body: res.json<{ code?: string; details?: { field?: string } }>(),
    };
  };
  const chain = async (id: string): Promise<ChainView> =>
    (
      await app.inject({
        url: `/v1/chains/${id}`,
        headers: { authorization: `Bearer ${reader.token}` },
      })
    ).json<ChainView>();
  /** The CloudEvent ids the unit has receipts of, in this chain. */
  const receiptsOf = async (chainId: string): Promise<string[]> =>
    (await store.readStream(unitStream(OCI_UNIT))).events
      .filter((e) => e.type === 'ReceiptRecorded.v1')
      .map((e) => (e.data as { origin: { id: string } }).origin.id)
      .filter((id) => id.startsWith(chainId))
      .sort();
  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('refuses at ingest, in a bound chain, a receipt outside the action or unit scope', async () => {
    const id = 'bound-first';
    assert.equal((await post('builder', 'build_finished', id)).status, 201);
    await until('the binding', async () => (await chain(id)).unit === OCI_UNIT);
    const head = await store.headPosition();
    const test = await post('buildsOnly', 'testsuiterun_finished', id);
    assert.equal(test.status, 403, JSON.stringify(test.body));
    assert.equal(test.body.code, 'AUTH_PRODUCER_SCOPE');
    assert.equal(test.body.details?.field, 'action');
    const task = await post('npmOnly', 'taskrun_finished', id);
    assert.equal(task.status, 403, JSON.stringify(task.body));
    assert.equal(task.body.details?.field, 'unit');
    // Nothing was stored: after `head`, at most the binder's own checkpoint
    // (written once it has handled the binding, whenever that is).
    const since = await store.readAll({ from: head });
    assert.deepEqual(
      since.filter((e) => e.stream !== CHAIN_BINDER_CHECKPOINT_STREAM).map((e) => e.type),
      [],
      'nothing was stored',
    );
    // Within its scope, a producer's event of the chain is a receipt at once.
    assert.equal((await post('ociTester', 'pipelinerun_finished', id)).status, 201);
    assert.deepEqual(await receiptsOf(id), [`${id}-build_finished`, `${id}-pipelinerun_finished`]);
  });

  it('keeps pending, when the chain binds, the events its producers may not record', async () => {
    const id = 'bound-last';
    for (const [who, name] of [
      ['buildsOnly', 'testsuiterun_finished'],
      ['npmOnly', 'taskrun_finished'],
      ['ociTester', 'pipelinerun_finished'],
    ] as const)
      assert.equal((await post(who, name, id)).status, 202, `${who} ${name}`);
    assert.equal((await post('builder', 'build_finished', id)).status, 201);
    await until('the receipt within scope', async () =>
      (await receiptsOf(id)).includes(`${id}-pipelinerun_finished`),
    );
    // The binder has handled the binding: the two outside their scope got no receipt.
    await until('the binder to go idle', async () => {
      const head = await store.headPosition();
      await new Promise((resolve) => setTimeout(resolve, 150));
      return (await store.headPosition()) === head;
    });
    assert.deepEqual(await receiptsOf(id), [`${id}-build_finished`, `${id}-pipelinerun_finished`]);
    // The receipt the binder recorded names who sent the event, as ingest does.
    const recorded = (await store.readStream(unitStream(OCI_UNIT))).events.find(
      (e) => (e.data as { origin: { id: string } }).origin.id === `${id}-pipelinerun_finished`,
    );
    assert.equal(recorded?.metadata.principal, 'token:ociTester');
    // Each pending event keeps the scope its producer had when it sent it.
    const { events } = await store.readStream(chainStreamName(id));
    const scopes = Object.fromEntries(
      events
        .filter((e) => e.type === 'ChainEventPending.v1')
        .map((e) => {
          const data = e.data as ChainEventPendingData;
          return [data.cloudEvent.id, data.producerScope];
        }),
    );
    assert.deepEqual(scopes, {
      [`${id}-testsuiterun_finished`]: { actions: ['build'], units: ['*'] },
      [`${id}-taskrun_finished`]: { actions: ['*'], units: ['pkg:npm/*'] },
      [`${id}-pipelinerun_finished`]: { actions: ['*'], units: ['pkg:oci/*'] },
    });
  });
});
