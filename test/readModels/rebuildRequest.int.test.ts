// A rebuild requested of the runner of another process (`projections rebuild`
// beside a running server), on a real SQLite log and read-model file: the
// running runner sees the request, replays the log into new tables while the
// current ones serve and live events go on, swaps them in, and stays live; with
// no runner, the request waits for the next one to start.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { projections, receipts } from '../../projections/index.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventToAppend } from '../../src/eventStore/types.js';
import { createProjectionRunner, type ProjectionRunner } from '../../src/readModels/index.js';
import { requestRebuilds } from '../../src/readModels/rebuildRequest.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import { hasCode } from '../support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-rebuild-request-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const receipt = (i: number): EventToAppend => ({
  type: 'ReceiptRecorded.v1',
  data: { receiptId: `r${i}`, unit: `u${i % 3}`, action: 'build', multipass: true },
});

const ledger = projections.find((p) => p.name === 'receiptsLedger');
const summary = projections.find((p) => p.name === 'unitSummary');
if (ledger === undefined || summary === undefined) throw new Error('projections renamed');

/** A log of `count` receipts, and a read-model file two handles open (two processes, as far as SQLite knows). */
async function setUp(count: number) {
  const logPath = join(dir, `log-${++n}.db`);
  const rmPath = join(dir, `rm-${n}.db`);
  const log = getSQLiteEventStore({ path: logPath, pollIntervalMs: 20 });
  for (let i = 0; i < count; i++) await log.append(`unit-u${i % 3}`, [receipt(i)]);
  const warnings: string[] = [];
  const onWarning = (message: string) => void warnings.push(message);
  const served = getSQLiteReadModelStore({ path: rmPath, onWarning });
  const elsewhere = getSQLiteReadModelStore({ path: rmPath, onWarning });
  const runnerOn = () =>
    createProjectionRunner({
      eventStore: log,
      readModels: served,
      projections,
      batchSize: 7,
      catchUpBatchSize: 7,
      batchWindowMs: 10,
      rebuildPollMs: 20,
    });
  const close = async () => {
    await elsewhere.close();
    await served.close();
    await log.close();
  };
  return { log, served, elsewhere, runnerOn, close };
}

async function settled(runner: ProjectionRunner, head: bigint): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await runner.status()).every((s) => s.checkpoint === head && s.state === 'caught-up')) {
    if (Date.now() > deadline) assert.fail('the runner did not catch up');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('a rebuild requested of the runner of another process', () => {
  it('is replayed by the running runner while live events go on, swapped in, and the runner stays live', async () => {
    const env = await setUp(40);
    const runner = env.runnerOn();
    await runner.start();
    await settled(runner, 40n);
    // A row lost behind the runner's back: only a replay from the log brings it back.
    await env.elsewhere.transaction((tx) => tx.delete(receipts, { receiptId: 'r7' }));
    assert.equal((await env.served.find(receipts)).rows.length, 39);

    const positions: bigint[] = [];
    let appended = false;
    const result = await requestRebuilds({
      eventStore: env.log,
      readModels: env.elsewhere,
      definitions: [ledger, summary],
      pollMs: 5,
      onProgress: (p) => {
        positions.push(p.position);
        assert.ok(p.total >= 40n);
        if (appended) return;
        appended = true;
        // Events arrive while the rebuild runs: the runner takes them all.
        void (async () => {
          for (let i = 40; i < 50; i++) await env.log.append(`unit-u${i % 3}`, [receipt(i)]);
        })();
      },
    });
    assert.deepEqual(result.requested, ['receiptsLedger', 'unitSummary']);
    assert.deepEqual(result.joined, []);
    assert.ok(positions.length > 0, 'progress was reported');
    assert.equal(await env.elsewhere.getRebuild(ledger), undefined);
    await settled(runner, 50n);
    const rows = (await env.served.find(receipts)).rows;
    assert.equal(rows.length, 50);
    assert.ok(
      rows.some((r) => r.receiptId === 'r7'),
      'the lost row is back',
    );
    // Still live after the swap.
    await env.log.append('unit-u0', [receipt(50)]);
    await settled(runner, 51n);
    assert.equal((await env.served.find(receipts)).rows.length, 51);
    await runner.stop();
    await env.close();
  });

  it('waits for the next runner when none runs: READ_MODEL_REBUILD_NOT_TAKEN, and the request stays', async () => {
    const env = await setUp(12);
    const first = env.runnerOn();
    await first.start();
    await settled(first, 12n);
    await first.stop();
    await env.elsewhere.transaction((tx) => tx.delete(receipts, { receiptId: 'r3' }));
    await assert.rejects(
      requestRebuilds({
        eventStore: env.log,
        readModels: env.elsewhere,
        definitions: [ledger],
        takeMs: 100,
        pollMs: 10,
      }),
      hasCode('READ_MODEL_REBUILD_NOT_TAKEN'),
    );
    assert.equal((await env.elsewhere.getRebuild(ledger))?.current, true);
    const next = env.runnerOn();
    await next.start();
    await settled(next, 12n);
    assert.equal(await env.elsewhere.getRebuild(ledger), undefined);
    assert.equal((await env.served.find(receipts)).rows.length, 12);
    await next.stop();
    await env.close();
  });
});
