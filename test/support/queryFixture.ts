// The query API's tests (test/http/queries*.int.test.ts): one log of three units
// (gates build and scan, stage ship; a revoked test receipt, a failed scan),
// projected by a running projection runner into in-memory read models, and the
// app that serves both; plus what the tests check the answers with.
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { projections } from '../../projections/index.js';
import { createDomainService, type DomainService } from '../../src/application/index.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import {
  createProjectionRunner,
  type ProjectionRunner,
  type ReadModelStore,
} from '../../src/readModels/index.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';

export const A = 'openssl/3.2.1/2.el9/x86_64/rpm';
export const B = 'openssl/3.3.0/1.el9/x86_64/rpm';
export const C = 'zlib/1.3/1.el9/x86_64/rpm';
export const enc = encodeURIComponent;

export interface PageBody {
  items: Record<string, unknown>[];
  next: string | null;
}

export function problem(res: LightMyRequestResponse, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(res.json<{ code: string }>().code, code, res.body);
}

export const units = (body: PageBody): unknown[] => body.items.map((i) => i['unit']);

export interface QueryFixture {
  store: SQLiteEventStore;
  domain: DomainService;
  readModels: ReadModelStore;
  runner: ProjectionRunner;
  app: FastifyInstance;
  /** The log's head once the fixture is recorded. */
  head: bigint;
  /** Receipt ids by name (aBuild, aTest, bBuild, bTest, cSast). */
  ids: Record<string, string>;
  /** The log position of each named receipt. */
  positions: Record<string, bigint>;
}

/** Records the fixture's log and starts the projection runner on it. */
export async function openQueryFixture(): Promise<QueryFixture> {
  const ids: Record<string, string> = {};
  const positions: Record<string, bigint> = {};
  const store = getSQLiteEventStore({ path: ':memory:' });
  const domain = createDomainService({ eventStore: store });
  const readModels = getSQLiteReadModelStore({ path: ':memory:' });
  const runner = createProjectionRunner({
    eventStore: store,
    readModels,
    projections,
    batchWindowMs: 5,
  });
  const app = await buildApp({
    auth: anonymousAuth(),
    store,
    domain,
    storeDescription: 'sqlite :memory:',
    readModels,
    projectionStatus: () => runner.status(),
    query: { waitMs: 3000, pollMs: 5 },
  });
  await domain.defineGate('build', { requiredActions: ['build', 'test'] });
  await domain.defineGate('scan', { requiredActions: ['sast'] });
  await domain.defineStage('ship', { gates: ['build'] });
  const record = async (name: string, input: Record<string, unknown>, correlationId?: string) => {
    const result = await domain.recordReceipt(
      { multipass: true, ...input } as never,
      correlationId === undefined ? {} : { metadata: { correlationId } },
    );
    ids[name] = result.receiptId;
    positions[name] = BigInt(result.position);
  };
  await record('aBuild', { unit: A, action: 'build', producer: 'ci-a', ...A_BUILD }, 'trace-1');
  await record('aTest', { unit: A, action: 'test', producer: 'ci-a' }, 'trace-1');
  await record('bBuild', { unit: B, action: 'build', producer: 'ci-b' });
  await record('bTest', { unit: B, action: 'test', producer: 'ci-b' });
  await domain.revokeReceipt(ids['bTest'] as string, 'flaky run');
  await record('cSast', { unit: C, action: 'sast', multipass: false, producer: 'ci-c' });
  const head = await store.headPosition();
  await runner.start();
  return { store, domain, readModels, runner, app, head, ids, positions };
}

/** What the receipt aBuild records besides its unit, action and producer. */
export const A_BUILD = {
  results: { warnings: 2, log: 'https://ci.example.com/a/build/1' },
  finishedAt: '2026-01-31T12:00:00Z',
} as const;

export async function closeQueryFixture(f: QueryFixture): Promise<void> {
  await f.runner.stop();
  await f.app.close();
  await f.readModels.close();
  await f.store.close();
}
