// The runner lock of a SQLite read-model file (src/readModels/sqlite/runnerLock.ts),
// in one process with one read-model connection per "process" (SQLite's locks
// hold between connections of one process as between processes;
// projections.e2e.test.ts runs real processes): one runner projects, a second
// stands by, answering status from the same file, and takes over when the
// first stops, with every event applied once; a rebuild (whileNoSQLiteRunner)
// is refused while a runner holds the lock, and holds off one that starts
// meanwhile. Before the lock, a rebuild under a running loop lost the rows of
// the events the loop applied meanwhile, with a lag of 0.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventStore } from '../../src/eventStore/types.js';
import { createProjectionRunner, defineProjection } from '../../src/readModels/index.js';
import {
  getSQLiteReadModelStore,
  lockedProjectionRunner,
  runnerLockPath,
  whileNoSQLiteRunner,
} from '../../src/readModels/sqlite/index.js';
import { hasCode, positionsProjection, schema } from './conformanceSupport.js';

const root = mkdtempSync(join(tmpdir(), 'provenant-runnerlock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

function setup() {
  const dir = join(root, `rm-${++counter}`);
  mkdirSync(dir, { recursive: true });
  const log = getSQLiteEventStore({ path: join(dir, 'provenant.db'), pollIntervalMs: 20 });
  const path = join(dir, 'provenant-readmodels.db');
  const s = schema();
  const projection = positionsProjection(s);
  const closing: (() => Promise<void>)[] = [];
  /** A runner as one process runs it: its own read-model connection. */
  const runner = () => {
    const readModels = getSQLiteReadModelStore({ path, onWarning: () => undefined });
    const logged: string[] = [];
    const r = lockedProjectionRunner({
      eventStore: log,
      readModels,
      projections: [projection],
      path,
      pollMs: 50,
      log: (level, message) => logged.push(`${level}: ${message}`),
    });
    closing.push(async () => {
      await r.stop();
      await readModels.close();
    });
    return { r, readModels, logged };
  };
  const close = async () => {
    for (const c of closing.reverse()) await c();
    await log.close();
  };
  return { log, path, s, projection, runner, close };
}

const append = async (log: EventStore, count: number) => {
  for (let i = 0; i < count; i++) await log.append(`s-${i % 3}`, [{ type: 'T.v1', data: { i } }]);
};

/** Polls `check` every 10 ms until it holds; fails after 10 s. */
async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the runner lock of a SQLite read-model file', () => {
  it('one runner projects, a second stands by and takes over when it stops, every event applied once', async () => {
    const { log, s, runner, path, close } = setup();
    try {
      await append(log, 10);
      const first = runner();
      await first.r.start();
      assert.deepEqual(first.r.locks(), [{ lock: 'read-models', held: true }]);
      assert.ok(existsSync(runnerLockPath(path)));
      const second = runner();
      await second.r.start();
      assert.deepEqual(second.r.locks(), [{ lock: 'read-models', held: false }]);
      assert.match(second.logged.join('\n'), /another process runs the projections/);
      await until('the first applies the log', async () => {
        const [status] = await second.r.status(); // read from the shared file
        return status?.checkpoint === 10n;
      });
      const [standby] = await second.r.status();
      assert.equal(standby?.state, 'stopped');

      await first.r.stop();
      await append(log, 5);
      await until('the standby takes over', () => second.r.locks()[0]?.held === true);
      await until('and applies what came meanwhile', async () => {
        const [status] = await second.r.status();
        return status?.checkpoint === 15n;
      });
      assert.match(second.logged.join('\n'), /took over the projections/);
      const rows = (await second.readModels.find(s.things)).rows;
      assert.deepEqual(
        rows.map((r) => r['seq']).sort((a, b) => Number(a) - Number(b)),
        Array.from({ length: 15 }, (_, i) => i + 1),
      );
    } finally {
      await close();
    }
  });

  it('refuses a rebuild while a runner holds the lock, and holds off a runner while it rebuilds', async () => {
    const { log, s, projection, runner, path, close } = setup();
    try {
      await append(log, 10);
      const running = runner();
      await running.r.start();
      await assert.rejects(
        whileNoSQLiteRunner(path, () => Promise.resolve('rebuilt')),
        (error: unknown) => {
          assert.ok(hasCode('READ_MODEL_RUNNER_RUNNING')(error), String(error));
          assert.match((error as Error).message, /stop every provenant serve/);
          return true;
        },
      );
      await running.r.stop();

      // No runner now: the rebuild goes through, and a runner started meanwhile waits for it.
      const rebuilder = getSQLiteReadModelStore({ path, onWarning: () => undefined });
      const late = runner();
      try {
        const result = await whileNoSQLiteRunner(path, async () => {
          await late.r.start();
          assert.deepEqual(late.r.locks(), [{ lock: 'read-models', held: false }]);
          await append(log, 5);
          return createProjectionRunner({
            eventStore: log,
            readModels: rebuilder,
            projections: [projection],
          }).rebuild();
        });
        assert.ok(result.position >= 10n);
      } finally {
        await rebuilder.close();
      }
      await until('the late runner runs once the rebuild is done', async () => {
        const [status] = await late.r.status();
        return late.r.locks()[0]?.held === true && status?.checkpoint === 15n;
      });
      assert.equal((await late.readModels.find(s.things)).rows.length, 15);
    } finally {
      await close();
    }
  });

  it('an in-memory file needs no lock', async () => {
    const log = getSQLiteEventStore({ path: ':memory:' });
    const readModels = getSQLiteReadModelStore({ path: ':memory:' });
    const s = schema();
    const r = lockedProjectionRunner({
      eventStore: log,
      readModels,
      path: ':memory:',
      projections: [
        defineProjection({
          name: s.schema.name,
          version: 1,
          tables: [s.things],
          canHandle: ['T.v1'],
          handle: () => Promise.resolve([]),
        }),
      ],
    });
    try {
      await r.start();
      assert.deepEqual(r.locks(), []);
      assert.equal(await whileNoSQLiteRunner(':memory:', () => Promise.resolve(1)), 1);
    } finally {
      await r.stop();
      await readModels.close();
      await log.close();
    }
  });
});
