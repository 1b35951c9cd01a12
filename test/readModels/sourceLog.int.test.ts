// Read models never outlive their log: a log restored from an older copy (its
// head behind the read models) or another log under the same read models is
// found when the runner starts; each read model it fed is dropped, with a
// warning, and replays, so that it equals read models built fresh from the log
// it follows now. The same log, restarted, keeps its read models.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { projections } from '../../projections/index.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventStore, EventToAppend } from '../../src/eventStore/types.js';
import {
  createProjectionRunner,
  type ProjectionRunner,
  type ReadModelStore,
} from '../../src/readModels/index.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import { readModelSnapshot } from '../support/readModelSnapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-source-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const path = (name: string) => join(dir, `${++n}-${name}.db`);

const receipt = (i: number): EventToAppend => ({
  type: 'ReceiptRecorded.v1',
  data: { receiptId: `r${i}`, unit: `u${i % 3}`, action: 'build', multipass: true },
});

async function appendReceipts(logPath: string, from: number, count: number): Promise<void> {
  const log = getSQLiteEventStore({ path: logPath });
  for (let i = from; i < from + count; i++) await log.append(`unit-u${i % 3}`, [receipt(i)]);
  await log.close();
}

interface Run {
  log: EventStore;
  readModels: ReadModelStore;
  runner: ProjectionRunner;
  warnings: string[];
}

/** Runs every projection of `logPath` into `rmPath` until caught up; `stop()` closes all. */
async function project(logPath: string, rmPath: string): Promise<Run & { stop(): Promise<void> }> {
  const log = getSQLiteEventStore({ path: logPath, pollIntervalMs: 20 });
  const readModels = getSQLiteReadModelStore({ path: rmPath, onWarning: () => undefined });
  const warnings: string[] = [];
  const runner = createProjectionRunner({
    eventStore: log,
    readModels,
    projections,
    batchWindowMs: 10,
    log: (level, message) => {
      if (level !== 'info') warnings.push(message);
    },
  });
  await runner.start();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await runner.status();
    if (status.every((s) => s.lag === 0n && s.state === 'caught-up')) break;
    if (Date.now() > deadline) assert.fail(`not caught up: ${status.map((s) => s.state).join()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    log,
    readModels,
    runner,
    warnings,
    async stop() {
      await runner.stop();
      await readModels.close();
      await log.close();
    },
  };
}

const snapshot = readModelSnapshot;

/** The read models a fresh file gets from `logPath`. */
async function freshSnapshot(logPath: string): Promise<Record<string, unknown>> {
  const fresh = await project(logPath, path('fresh-rm'));
  try {
    return await snapshot(fresh.readModels);
  } finally {
    await fresh.stop();
  }
}

const names = projections.map((p) => p.name);

/** Read models built from a log of 5 events, and another log of `events` events. */
async function builtFromAnotherLog(events: number): Promise<{ rmPath: string; other: string }> {
  const rmPath = path('rm');
  const first = path('first-log');
  await appendReceipts(first, 0, 5);
  await (await project(first, rmPath)).stop();
  const other = path('other-log');
  await appendReceipts(other, 50, events);
  return { rmPath, other };
}

describe('read models built from another log, or ahead of this one', () => {
  it('are dropped and replayed when the log was restored from an older copy', async () => {
    const logPath = path('log');
    const rmPath = path('rm');
    await appendReceipts(logPath, 0, 6);
    const olderCopy = path('older-copy');
    copyFileSync(logPath, olderCopy);
    await appendReceipts(logPath, 6, 9);
    await (await project(logPath, rmPath)).stop();

    // The log is restored from the copy (6 events); the read models saw 15.
    copyFileSync(olderCopy, logPath);
    await appendReceipts(logPath, 100, 2); // positions 7–8 are other events now
    const restored = await project(logPath, rmPath);
    try {
      assert.equal(restored.warnings.length, names.length, restored.warnings.join('\n'));
      for (const [i, name] of names.entries())
        assert.match(
          restored.warnings[i] ?? '',
          new RegExp(
            `read model ${name} is not trusted: it applied the log up to position 15, but the log ends at 8`,
          ),
        );
      assert.deepEqual(await snapshot(restored.readModels), await freshSnapshot(logPath));
    } finally {
      await restored.stop();
    }
  });

  it('are dropped and replayed under another log, even a longer one', async () => {
    const { rmPath, other } = await builtFromAnotherLog(12);
    const run = await project(other, rmPath);
    try {
      assert.equal(run.warnings.length, names.length, run.warnings.join('\n'));
      assert.ok(
        run.warnings.every((w) =>
          /it was built from a log whose first event is \S+, but this log's first event is \S+: another log/.test(
            w,
          ),
        ),
      );
      assert.deepEqual(await snapshot(run.readModels), await freshSnapshot(other));
    } finally {
      await run.stop();
    }
  });

  it('are kept when the same log comes back, grown or not', async () => {
    const logPath = path('log');
    const rmPath = path('rm');
    await appendReceipts(logPath, 0, 5);
    await (await project(logPath, rmPath)).stop();
    for (const grow of [0, 4]) {
      await appendReceipts(logPath, 10 + grow, grow);
      const again = await project(logPath, rmPath);
      try {
        assert.deepEqual(again.warnings, []);
        assert.deepEqual(await snapshot(again.readModels), await freshSnapshot(logPath));
      } finally {
        await again.stop();
      }
    }
  });

  it('a rebuild from this log makes them its own: the next start keeps them', async () => {
    const { rmPath, other } = await builtFromAnotherLog(7);
    const log = getSQLiteEventStore({ path: other });
    const readModels = getSQLiteReadModelStore({ path: rmPath });
    const offline = createProjectionRunner({ eventStore: log, readModels, projections });
    await offline.rebuild();
    await readModels.close();
    await log.close();

    const run = await project(other, rmPath);
    try {
      assert.deepEqual(run.warnings, []);
      assert.deepEqual(await snapshot(run.readModels), await freshSnapshot(other));
    } finally {
      await run.stop();
    }
  });
});
