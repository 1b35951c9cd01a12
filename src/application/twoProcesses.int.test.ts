// Two processes on one SQLite file: the unit-state cache (a unit written before is
// recorded without reading its stream again; a unit the other process appended to
// is dropped and decided on the log, a grouped append retried), a gate the other
// process defined picked up, and management reads that see it at once.
// (Counting store: test/support/recordingFixtures.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EventTypes } from '../domain/events.js';
import { getSQLiteEventStore } from '../eventStore/sqlite/index.js';
import type { EventStore } from '../eventStore/types.js';
import { createDomainService, type DomainService } from './index.js';
import {
  UNIT,
  counting,
  ok,
  receipt,
  resetCalls,
  stream,
  type CountingStore,
} from '../../test/support/recordingFixtures.js';

describe('two processes on one SQLite file', () => {
  let dir: string;
  let storeA: CountingStore;
  let storeB: EventStore;
  let a: DomainService;
  let b: DomainService;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenant-app-'));
    const path = join(dir, 'events.db');
    storeA = counting(getSQLiteEventStore({ path }));
    storeB = getSQLiteEventStore({ path });
    a = createDomainService({ eventStore: storeA });
    b = createDomainService({ eventStore: storeB });
  });
  afterEach(async () => {
    await storeA.close();
    await storeB.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a unit it wrote before without reading its stream again', async () => {
    await a.recordReceipt(receipt('build', true));
    resetCalls(storeA);
    const second = await a.recordReceipt(receipt('unit-test', true));
    assert.deepEqual(storeA.calls.readStream, []);
    assert.deepEqual(storeA.calls.append, [stream(UNIT)]);
    assert.equal(second.revision, 1);
  });

  it('drops a cached unit when the other process appended to it, and decides on the log', async () => {
    await a.defineGate('all', { requiredActions: ['build', 'unit-test', 'sast'] });
    const first = await a.recordReceipt(receipt('build', true)); // cached by A at revision 0
    const other = await b.recordReceipt(receipt('unit-test', true)); // A's cache is now stale
    resetCalls(storeA);
    const last = await a.recordReceipt(receipt('sast', true));
    // The stale append conflicted, the retry read the log, and the verdict counts B's receipt.
    assert.deepEqual(storeA.calls.append, [stream(UNIT), stream(UNIT)]);
    assert.deepEqual(storeA.calls.readStream, [stream(UNIT)]);
    assert.equal(last.revision, 2);
    assert.deepEqual(
      last.verdicts.map((v) => [v.type, v.receiptIds]),
      [[EventTypes.GatePassed, [first.receiptId, other.receiptId, last.receiptId]]],
    );
    const { events } = await storeB.readStream(stream(UNIT));
    assert.deepEqual(
      events.map((e) => e.type),
      [
        EventTypes.ReceiptRecorded,
        EventTypes.ReceiptRecorded,
        EventTypes.ReceiptRecorded,
        EventTypes.GatePassed,
      ],
    );
    // The cache now holds the unit at its new revision: the next receipt reads nothing.
    resetCalls(storeA);
    await a.recordReceipt(receipt('sca', true));
    assert.deepEqual(storeA.calls.readStream, []);
  });

  it('a grouped append after the other process wrote the unit is retried on the log', async () => {
    await a.defineGate('all', { requiredActions: ['build', 'unit-test', 'sast'] });
    await a.recordReceipt(receipt('build', true));
    await b.recordReceipt(receipt('unit-test', true));
    const results = await a.recordReceipts([
      { input: receipt('sast', true) },
      { input: receipt('sca', true) },
    ]);
    assert.deepEqual(
      results.map((r) => ok(r).revision),
      [2, 4],
    );
    assert.deepEqual(
      ok(results[0]).verdicts.map((v) => v.type),
      [EventTypes.GatePassed],
    );
    assert.equal((await storeB.readStream(stream(UNIT))).events.length, 5);
  });

  it('picks up a gate the other process defined (checked against the log by default)', async () => {
    await a.recordReceipt(receipt('build', true)); // A has loaded the (empty) definitions
    await b.defineGate('quality', { requiredActions: ['build', 'unit-test'] });
    // Past the staleness bound A checks the log again.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const result = await a.recordReceipt(receipt('unit-test', true));
    assert.deepEqual(
      result.verdicts.map((v) => [v.type, v.gateId, v.gateVersion]),
      [[EventTypes.GatePassed, 'quality', 1]],
    );
    assert.deepEqual(
      (await a.listGates()).map((g) => g.gateId),
      ['quality'],
    );
  });

  it('management reads see the other process at once, whatever the staleness bound', async () => {
    const lax = createDomainService({ eventStore: storeA, definitionsMaxStalenessMs: 60_000 });
    await lax.recordReceipt(receipt('build', true));
    await b.defineGate('quality', { requiredActions: ['build'] });
    assert.deepEqual(
      (await lax.listGates()).map((g) => g.gateId),
      ['quality'],
    );
    assert.equal((await lax.getUnitStatus(UNIT)).gates[0]?.current?.verdict, 'passed');
  });
});
