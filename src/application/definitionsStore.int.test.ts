// The definitions store over SQLite: it scans only what was appended since the
// head it last read, serves a snapshot within the staleness bound or covering the
// position a caller read, and shares one queued check among the loads that wait.
// (Counting store: test/support/recordingFixtures.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { getSQLiteEventStore } from '../eventStore/sqlite/index.js';
import type { EventStore } from '../eventStore/types.js';
import { createDefinitionsStore } from './definitionsStore.js';
import { createDomainService } from './index.js';
import {
  counting,
  receipt,
  resetCalls,
  type CountingStore,
} from '../../test/support/recordingFixtures.js';

describe('definitions store', () => {
  let dir: string;
  let store: CountingStore;
  let other: EventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenant-defs-'));
    store = counting(getSQLiteEventStore({ path: join(dir, 'events.db') }));
    other = getSQLiteEventStore({ path: join(dir, 'events.db') });
  });
  afterEach(async () => {
    await store.close();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scans only what was appended since the head it last read', async () => {
    const b = createDomainService({ eventStore: other });
    await b.defineGate('quality', { requiredActions: ['build'] });
    const definitions = createDefinitionsStore(store);
    const first = await definitions.load();
    assert.deepEqual([...first.gates.keys()], ['quality']);
    for (let i = 0; i < 20; i++) await b.recordReceipt(receipt(`a${i}`, true));
    const head = await other.headPosition();
    await definitions.load();
    resetCalls(store);
    // Nothing new: one head read, no scan.
    const again = await definitions.load();
    assert.equal(store.calls.head, 1);
    assert.equal(store.calls.readAll.length, 0);
    assert.equal(again.position, head);
    // Something new: the scan starts at the head read last time, not at the last definition.
    await b.recordReceipt(receipt('late', true));
    resetCalls(store);
    await definitions.load();
    assert.deepEqual(
      store.calls.readAll.map((o) => o.from),
      [head],
    );
  });

  it('serves a snapshot within the staleness bound, and checks the log after it or after invalidate()', async () => {
    let now = 1_000;
    const definitions = createDefinitionsStore(store, { now: () => now });
    const b = createDomainService({ eventStore: other });
    assert.equal((await definitions.load()).gates.size, 0);
    await b.defineGate('quality', { requiredActions: ['build'] });
    resetCalls(store);
    now += 50;
    assert.equal((await definitions.load({ maxStalenessMs: 100 })).gates.size, 0);
    assert.equal(store.calls.head, 0, 'a fresh-enough snapshot reads nothing');
    assert.equal((await definitions.load()).gates.size, 1, 'no bound: checks the log');

    await b.defineGate('security', { requiredActions: ['sast'] });
    now += 10;
    assert.equal((await definitions.load({ maxStalenessMs: 100 })).gates.size, 1);
    now += 100;
    assert.equal((await definitions.load({ maxStalenessMs: 100 })).gates.size, 2);

    await b.defineGate('ext', { requiredActions: ['dt'] });
    definitions.invalidate();
    assert.equal((await definitions.load({ maxStalenessMs: 100 })).gates.size, 3);
  });

  it('serves a snapshot that covers the position a caller read, and checks the log for a later one', async () => {
    const definitions = createDefinitionsStore(store);
    const b = createDomainService({ eventStore: other });
    await b.defineGate('quality', { requiredActions: ['build'] });
    const first = await definitions.load();
    resetCalls(store);
    assert.equal(await definitions.load({ upTo: first.position }), first);
    assert.equal(store.calls.head, 0, 'covered: nothing read');
    await b.defineGate('security', { requiredActions: ['sast'] });
    const head = await other.headPosition();
    const later = await definitions.load({ upTo: head });
    assert.equal(store.calls.head, 1, 'a later position: the log is checked');
    assert.deepEqual([...later.gates.keys()].sort(), ['quality', 'security']);
    assert.ok(later.position >= head);
  });

  it('shares one queued check among the loads that wait for it', async () => {
    const definitions = createDefinitionsStore(store);
    await definitions.load();
    resetCalls(store);
    await Promise.all(Array.from({ length: 10 }, () => definitions.load()));
    // One check in flight, one queued behind it for all the others.
    assert.ok(store.calls.head <= 2, `head read ${store.calls.head} times`);
  });
});
