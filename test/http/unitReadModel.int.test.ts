// GET /v1/units/{key} from the read models answers exactly what the fold of the
// unit stream answers at the same position: receipts (revoked, counted), recorded
// and current gate and stage verdicts — also after a definition change that the
// recorded verdicts do not reflect yet, and after the re-evaluation. While the read
// models lag behind the head, the route folds instead.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { projections } from '../../projections/index.js';
import { createDomainService, type DomainService } from '../../src/application/index.js';
import { unitStatusFromReadModels } from '../../src/application/queries/readModels/unitStatus.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import {
  createProjectionRunner,
  type ProjectionRunner,
  type ReadModelStore,
} from '../../src/readModels/index.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import { anonymousAuth } from '../../src/security/index.js';

const A = 'openssl/3.2.1/2.el9/x86_64/rpm';
const B = 'zlib/1.3/1.el9/x86_64/rpm';
const digest = { sha256: 'c'.repeat(64) };

describe('GET /v1/units/{key} from the read models', () => {
  let store: SQLiteEventStore;
  let domain: DomainService;
  let readModels: ReadModelStore;
  let runner: ProjectionRunner;
  let served: FastifyInstance;
  let folded: FastifyInstance;

  before(async () => {
    store = getSQLiteEventStore({ path: ':memory:' });
    domain = createDomainService({ eventStore: store });
    readModels = getSQLiteReadModelStore({ path: ':memory:' });
    runner = createProjectionRunner({
      eventStore: store,
      readModels,
      projections,
      batchWindowMs: 5,
    });
    served = await buildApp({
      auth: anonymousAuth(),
      store,
      domain,
      storeDescription: 'memory',
      readModels,
    });
    folded = await buildApp({ auth: anonymousAuth(), store, domain, storeDescription: 'memory' });
    await domain.defineGate('build', { requiredActions: ['build', 'test'] });
    await domain.defineGate('scan', { requiredActions: ['sast'] });
    await domain.defineStage('ship', { gates: ['build'] });
    const record = (unit: string, action: string, extra: Record<string, unknown> = {}) =>
      domain.recordReceipt({ unit, action, multipass: true, ...extra });
    await record(A, 'build', { producer: 'ci', artifacts: [{ name: 'a.rpm', digest }] });
    const flaky = await record(A, 'test');
    await domain.revokeReceipt(flaky.receiptId, 'flaky run', { revokedBy: 'alice' });
    await record(A, 'test', { results: { tests: 3, failures: 0 } });
    await record(A, 'sast', { multipass: false });
    await record(B, 'build');
    await runner.start();
  });
  after(async () => {
    await runner.stop();
    await served.close();
    await folded.close();
    await readModels.close();
    await store.close();
  });

  async function caughtUp(): Promise<bigint> {
    const head = await store.headPosition();
    const deadline = Date.now() + 10_000;
    while ((await runner.status()).some((s) => s.checkpoint < head))
      if (Date.now() > deadline) assert.fail('the projections did not catch up');
      else await new Promise((resolve) => setTimeout(resolve, 5));
    return head;
  }

  /** Both apps answer alike, and the read models (not a fold) gave the served answer. */
  async function assertSameAnswers(): Promise<void> {
    const head = await caughtUp();
    for (const unit of [A, B]) {
      const fromReadModels = await unitStatusFromReadModels(readModels, unit, head, () =>
        domain.currentDefinitions(),
      );
      assert.ok(fromReadModels !== undefined, 'the read models were current');
      assert.deepStrictEqual(fromReadModels, await domain.getUnitStatus(unit));
      const url = `/v1/units/${encodeURIComponent(unit)}`;
      const [a, b] = await Promise.all([served.inject(url), folded.inject(url)]);
      assert.equal(a.statusCode, 200, a.body);
      assert.equal(a.headers['provenant-position'], b.headers['provenant-position']);
      assert.deepStrictEqual(a.json(), b.json());
    }
  }

  it('answers like the fold: receipts, revocations, counted receipts, verdicts', async () => {
    await assertSameAnswers();
    const status = await domain.getUnitStatus(A);
    assert.equal(status.receipts.filter((r) => r.counted).length, 3);
    assert.ok(status.receipts.some((r) => r.revoked?.revokedBy === 'alice'));
  });

  it('answers like the fold after a definition change, and after the re-evaluation', async () => {
    await domain.defineGate('build', { requiredActions: ['build', 'test', 'sast'] });
    await domain.defineStage('audit', { gates: ['scan'] });
    await assertSameAnswers();
    const before = await domain.getUnitStatus(A);
    assert.ok(
      before.gates.some((g) => !g.upToDate),
      'the change is not recorded yet',
    );
    await domain.evaluateUnit(A);
    await assertSameAnswers();
    const evaluated = await domain.getUnitStatus(A);
    assert.ok(evaluated.gates.every((g) => g.upToDate));
  });

  it('answers 404 for an unknown unit either way', async () => {
    const url = `/v1/units/${encodeURIComponent('none/1/1/x/rpm')}`;
    await caughtUp();
    const [a, b] = await Promise.all([served.inject(url), folded.inject(url)]);
    assert.equal(a.statusCode, 404);
    assert.deepStrictEqual(a.json(), b.json());
  });

  it('folds while the read models lag behind the head', async () => {
    await caughtUp();
    await runner.stop();
    await domain.recordReceipt({ unit: B, action: 'test', multipass: true });
    const head = await store.headPosition();
    const lagging = await unitStatusFromReadModels(readModels, B, head, () =>
      domain.currentDefinitions(),
    );
    assert.equal(lagging, undefined);
    const url = `/v1/units/${encodeURIComponent(B)}`;
    const res = await served.inject(url);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepStrictEqual(res.json(), (await folded.inject(url)).json());
    assert.equal(res.json<{ receipts: unknown[] }>().receipts.length, 2);
  });
});
