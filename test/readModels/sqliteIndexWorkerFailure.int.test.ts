// When the SQLite store's index worker (src/readModels/sqlite/indexBuild.ts)
// fails other than by an SQL error: its thread dies in the middle of a build
// (ended while it holds the file's write lock, crashed, or exited), or dies
// while idle, or waits for a write lock another connection holds longer than
// its busy timeout. Each time the build fails at once with READ_MODEL_UNAVAILABLE
// saying why (never hangs), the file's write lock and the store's writes held
// for the build are released, and a later build builds the indexes; a runner
// whose bulk load, or out-of-sight rebuild before its swap, ends in such a
// failure restarts as its policy says and builds them then; a rebuild asked for
// (`projections rebuild`) that meets it fails, keeps the current tables, and
// succeeds when run again. The threads are
// started through the store's one injection point, `indexWorker`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { isProvenantError } from '../../src/errors.js';
import { openDatabase } from '../../src/eventStore/sqlite/database.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventStore } from '../../src/eventStore/types.js';
import { createProjectionRunner, type ProjectionStatus } from '../../src/readModels/index.js';
import { shadowTableName } from '../../src/readModels/shadow.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import {
  indexBuilder,
  startIndexWorker,
  WORKER_BUSY_TIMEOUT_MS,
  type IndexWorkerStarter,
} from '../../src/readModels/sqlite/indexBuild.js';
import type { IndexWorkerReply } from '../../src/readModels/sqlite/indexWorker.js';
import { startWorker } from '../../src/workerThread.js';
import { hasCode, positionsProjection, row, schema } from './conformanceSupport.js';
import { fill, indexesOn } from '../support/sqliteFile.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-index-worker-failure-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const quiet = { onWarning: () => undefined };
/** A build that never ends fails its test rather than hang the run. */
const LIMIT = { timeout: 60_000 };

/** A worker that dies as `body` says at its first build (an eval'd CommonJS thread). */
const dying =
  (body: string): IndexWorkerStarter =>
  (workerData) =>
    new Worker(`require('node:worker_threads').parentPort.once('message', () => { ${body} });`, {
      eval: true,
      workerData,
    });

/** `first` for the first worker the store starts, the real one after; the data each was given. */
function firstThen(first: IndexWorkerStarter) {
  const started: Parameters<IndexWorkerStarter>[0][] = [];
  const starter: IndexWorkerStarter = (data) => {
    started.push(data);
    return started.length === 1 ? first(data) : startIndexWorker(data);
  };
  return { starter, started };
}

/** Whether a connection of its own gets the file's write lock without waiting. */
const writeLockFree = (path: string): boolean => {
  const db = openDatabase(path, { timeout: 0 });
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return true;
  } catch {
    return false;
  } finally {
    db.close();
  }
};

const tableExists = (path: string, name: string): boolean => {
  const db = openDatabase(path, { readonly: true });
  try {
    return db.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(name) !== undefined;
  } finally {
    db.close();
  }
};

/** A store on a fresh file with `s`'s indexes deferred over a few rows, and `other` to write to. */
async function deferredStore(indexWorker: IndexWorkerStarter, rows = 1000) {
  const path = join(dir, `rm-${++n}.db`);
  const [s, other] = [schema(), schema()];
  const store = getSQLiteReadModelStore({ path, ...quiet, indexWorker });
  await store.ensureProjection(s.schema);
  await store.ensureProjection(other.schema);
  await store.deferIndexes(s.schema.name);
  fill(path, s.things.name, rows);
  const t = s.things.name;
  return { path, s, other, store, built: [`${t}_by_owner:owner`, `${t}_by_seq:seq`] };
}

describe('sqlite index worker failures', () => {
  // Ended at its BEGIN IMMEDIATE (waiting for a lock another connection holds,
  // which it gets as the holder lets go), or after its CREATE INDEX and before
  // its COMMIT: a thread that waits once it has sent the trace of that COMMIT
  // (test/support/pausingIndexWorker.ts), so it is ended there and nowhere else.
  for (const at of ['BEGIN IMMEDIATE', 'COMMIT'] as const)
    it(
      `a thread ended at its ${at}: the build fails, the lock and the held writes are released, the next build works`,
      LIMIT,
      async () => {
        let holder: ReturnType<typeof openDatabase> | undefined;
        const traced: string[] = [];
        const victim = firstThen((data) => {
          const worker =
            at === 'COMMIT'
              ? startWorker(import.meta.url, '../support/pausingIndexWorker', {
                  ...data,
                  trace: true,
                  pauseAt: at,
                })
              : startIndexWorker({ ...data, trace: true });
          worker.on('message', (reply: IndexWorkerReply) => {
            if (reply.t !== 'trace') return;
            traced.push(reply.sql);
            if (!reply.sql.startsWith(at) || traced.filter((t) => t.startsWith(at)).length > 1)
              return;
            void worker.terminate();
            holder?.exec('ROLLBACK');
          });
          return worker;
        });
        const { path, s, other, store, built } = await deferredStore(victim.starter);
        try {
          if (at === 'BEGIN IMMEDIATE') {
            holder = openDatabase(path);
            holder.exec('BEGIN IMMEDIATE');
          }
          const building = store.buildIndexes(s.schema.name);
          const write = store.transaction((tx) => tx.upsert(other.things, row('w', 1)));
          await assert.rejects(building, (error: unknown) => {
            assert.ok(isProvenantError(error), String(error));
            assert.equal(error.code, 'READ_MODEL_UNAVAILABLE');
            assert.match(
              error.message,
              /^building read-model indexes failed: the index worker thread exited \(code 1\) before it answered$/,
            );
            return true;
          });
          assert.equal(holder?.inTransaction ?? false, false, 'the holder let go');
          // Ended before its first COMMIT ran: at the lock, or with an index built in its transaction.
          assert.deepEqual(
            traced
              .filter((sql) => /^(BEGIN|CREATE INDEX|COMMIT)/.test(sql))
              .map((sql) => sql.split(' "')[0]),
            at === 'COMMIT' ? ['BEGIN IMMEDIATE', 'CREATE INDEX', 'COMMIT'] : ['BEGIN IMMEDIATE'],
            traced.join('; '),
          );
          await write; // held for the build, and run once it failed
          assert.deepEqual(await store.get(other.things, { id: 'w' }), row('w', 1));
          assert.ok(writeLockFree(path), 'the dead thread holds no lock');
          assert.deepEqual(indexesOn(path, s.things.name), [], 'what it built was rolled back');

          await store.buildIndexes(s.schema.name);
          assert.deepEqual(indexesOn(path, s.things.name), built);
          assert.equal(victim.started.length, 2);
          assert.equal(victim.started[0]?.busyTimeoutMs, WORKER_BUSY_TIMEOUT_MS);
        } finally {
          holder?.close();
          await store.close();
        }
      },
    );

  for (const [how, body, message] of [
    [
      'crashes',
      "throw new Error('index thread boom')",
      /^building read-model indexes failed: the index worker thread crashed before it answered: index thread boom$/,
    ],
    [
      'exits',
      'process.exit(3)',
      /^building read-model indexes failed: the index worker thread exited \(code 3\) before it answered$/,
    ],
  ] as const)
    it(
      `a thread that ${how} in a build fails it with why; the writes held run, the next build works`,
      LIMIT,
      async () => {
        const { starter } = firstThen(dying(body));
        const { path, s, other, store, built } = await deferredStore(starter);
        try {
          const building = store.buildIndexes(s.schema.name);
          const write = store.transaction((tx) => tx.upsert(other.things, row('w', 1)));
          await assert.rejects(building, (error: unknown) => {
            assert.ok(hasCode('READ_MODEL_UNAVAILABLE')(error));
            assert.match((error as Error).message, message);
            return true;
          });
          await write;
          assert.deepEqual(await store.get(other.things, { id: 'w' }), row('w', 1));
          await store.buildIndexes(s.schema.name);
          assert.deepEqual(indexesOn(path, s.things.name), built);
        } finally {
          await store.close();
        }
      },
    );

  it('a thread that dies between builds is replaced at the next build', LIMIT, async () => {
    const workers: Worker[] = [];
    const { path, s, other, store, built } = await deferredStore((data) => {
      const worker = startIndexWorker(data);
      workers.push(worker);
      return worker;
    });
    try {
      await store.buildIndexes(s.schema.name);
      assert.deepEqual(indexesOn(path, s.things.name), built);
      assert.equal(await workers[0]?.terminate(), 1);
      await store.deferIndexes(other.schema.name);
      await store.buildIndexes(other.schema.name);
      assert.equal(workers.length, 2);
      assert.equal(indexesOn(path, other.things.name).length, 2);
    } finally {
      await store.close();
    }
  });

  it(
    'a thread ended by close() never settles the build of the thread started after it',
    LIMIT,
    async () => {
      const { path, s, store } = await deferredStore(startIndexWorker);
      await store.close();
      const builder = indexBuilder(path);
      const target = { table: s.things, on: s.things.name };
      try {
        assert.equal(await builder.build([target]), 2);
        // The old thread's exit comes after the next build has started another.
        const closing = builder.close();
        const again = builder.build([target]);
        await closing;
        assert.equal(await again, 0, 'answered by its own thread');
      } finally {
        await builder.close();
      }
    },
  );

  it(
    'a write lock held past the busy timeout fails the build, saying so, instead of hanging',
    LIMIT,
    async () => {
      const timeoutMs = 150;
      const { path, s, store, built } = await deferredStore((data) =>
        startIndexWorker({ ...data, busyTimeoutMs: timeoutMs }),
      );
      const holder = openDatabase(path);
      try {
        holder.exec('BEGIN IMMEDIATE');
        const started = performance.now();
        await assert.rejects(store.buildIndexes(s.schema.name), (error: unknown) => {
          assert.ok(hasCode('READ_MODEL_UNAVAILABLE')(error));
          assert.match(
            (error as Error).message,
            new RegExp(
              `^building read-model indexes failed: the write lock of .*rm-${n}\\.db stayed held by another connection \\(.*\\) for longer than the ${timeoutMs} ms a build waits for it \\(database is locked\\)$`,
            ),
          );
          return true;
        });
        const waited = performance.now() - started;
        assert.ok(waited >= timeoutMs - 10 && waited < 10_000, `waited ${waited} ms`);
        holder.exec('ROLLBACK');
        // Nothing is left behind: the store writes, and builds once the lock is free.
        await store.transaction((tx) => tx.upsert(s.things, row('after', 1)));
        await store.buildIndexes(s.schema.name);
        assert.deepEqual(indexesOn(path, s.things.name), built);
      } finally {
        holder.close();
        await store.close();
      }
    },
  );

  /** A runner of `s` (at `version`) over the log and the file, its store's threads started by `indexWorker`. */
  function runnerOf(
    log: EventStore,
    path: string,
    s: ReturnType<typeof schema>,
    version: number,
    indexWorker: IndexWorkerStarter,
  ) {
    const readModels = getSQLiteReadModelStore({ path, ...quiet, indexWorker });
    const logged: string[] = [];
    const runner = createProjectionRunner({
      eventStore: log,
      readModels,
      projections: [positionsProjection(s, version)],
      restartDelayMs: 5,
      log: (level, message, fields) =>
        logged.push(`${level}: ${message} ${JSON.stringify(fields)}`),
    });
    /** Waits until the projection is caught up, with no rebuild left, after `threads` threads. */
    const settled = async (threads: () => number): Promise<ProjectionStatus> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const [status] = await runner.status();
        if (status?.state === 'caught-up' && status.rebuild === undefined && threads() >= 2)
          return status;
        if (Date.now() > deadline) assert.fail(`the runner did not recover: ${logged.join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const restarts = () => logged.filter((l) => /restarting from its checkpoint/.test(l)).length;
    return { readModels, runner, logged, settled, restarts };
  }

  /**
   * Runs `fn` on a log of 20 events and a read-model file that version 1 of a
   * fresh schema built from it (tables and indexes, its runner stopped), then
   * closes the log.
   */
  async function withVersion1File(
    fn: (file: { log: EventStore; path: string; s: ReturnType<typeof schema> }) => Promise<void>,
  ): Promise<void> {
    const path = join(dir, `rm-${++n}.db`);
    const s = schema();
    const log = getSQLiteEventStore({ path: join(dir, `log-${n}.db`), pollIntervalMs: 20 });
    try {
      await appendEvents(log, 20);
      const v1 = runnerOf(log, path, s, 1, startIndexWorker);
      await v1.runner.start();
      await v1.settled(() => 2);
      await v1.runner.stop();
      await v1.readModels.close();
      await fn({ log, path, s });
    } finally {
      await log.close();
    }
  }

  const appendEvents = async (log: EventStore, count: number) => {
    for (let i = 0; i < count; i++) await log.append(`s-${i % 3}`, [{ type: 'T.v1', data: { i } }]);
  };

  it(
    'a runner whose bulk load ends in a dead index thread restarts and builds the indexes',
    LIMIT,
    async () => {
      const logPath = join(dir, `log-${++n}.db`);
      const path = join(dir, `rm-${n}.db`);
      const s = schema();
      const log = getSQLiteEventStore({ path: logPath, pollIntervalMs: 20 });
      const { starter, started } = firstThen(dying("throw new Error('index thread boom')"));
      const r = runnerOf(log, path, s, 1, starter);
      try {
        await appendEvents(log, 20);
        await r.runner.start();
        const status = await r.settled(() => started.length);
        const t = s.things.name;
        assert.deepEqual(indexesOn(path, t), [`${t}_by_owner:owner`, `${t}_by_seq:seq`]);
        assert.equal(status.checkpoint, 20n);
        assert.match(status.lastError ?? '', /index worker thread crashed .*index thread boom/);
        assert.equal(r.restarts(), 1, r.logged.join('\n'));
        assert.equal((await r.readModels.find(s.things)).rows.length, 20);
      } finally {
        await r.runner.stop();
        await r.readModels.close();
        await log.close();
      }
    },
  );

  it(
    'a runner whose out-of-sight rebuild meets a dead index thread before the swap restarts and swaps it in',
    LIMIT,
    () =>
      withVersion1File(async ({ log, path, s }) => {
        // Version 2, the same tables: rebuilt out of sight; the thread building
        // the new tables' indexes before the swap dies.
        const { starter, started } = firstThen(dying('process.exit(3)'));
        const v2 = runnerOf(log, path, s, 2, starter);
        try {
          await v2.runner.start();
          const status = await v2.settled(() => started.length);
          assert.equal(status.version, 2);
          assert.equal(status.checkpoint, 20n);
          assert.match(status.lastError ?? '', /index worker thread exited \(code 3\)/);
          assert.equal(v2.restarts(), 1, v2.logged.join('\n'));
          assert.ok(
            v2.logged.some((l) => /swapped in/.test(l)),
            v2.logged.join('\n'),
          );
          const t = s.things.name;
          assert.deepEqual(indexesOn(path, t), [`${t}_by_owner_2:owner`, `${t}_by_seq_2:seq`]);
          assert.deepEqual(indexesOn(path, shadowTableName(t)), []);
          assert.equal((await v2.readModels.find(s.things)).rows.length, 20);
        } finally {
          await v2.runner.stop();
          await v2.readModels.close();
        }
      }),
  );

  it(
    'a rebuild (`projections rebuild`) whose index thread dies before the swap fails, keeps the current tables, and can be run again',
    LIMIT,
    () =>
      withVersion1File(async ({ log, path, s }) => {
        const t = s.things.name;
        const before = indexesOn(path, t);

        // The same version again: nothing to rebuild at start, so the first
        // thread this store starts is the one `rebuild` needs before its swap.
        const { starter, started } = firstThen(dying('process.exit(3)'));
        const again = runnerOf(log, path, s, 1, starter);
        try {
          await again.runner.start();
          await assert.rejects(again.runner.rebuild(s.schema.name), (error: unknown) => {
            assert.ok(hasCode('READ_MODEL_UNAVAILABLE')(error), String(error));
            assert.match((error as Error).message, /index worker thread exited \(code 3\)/);
            return true;
          });
          assert.equal(started.length, 1);
          // The current tables still serve, with their indexes; the new ones are gone.
          assert.equal((await again.readModels.find(s.things)).rows.length, 20);
          assert.deepEqual(indexesOn(path, t), before);
          assert.equal(tableExists(path, shadowTableName(t)), false);
          const [status] = await again.runner.status();
          assert.equal(status?.rebuild, undefined);

          // The loop runs again after the failed rebuild: new events reach the tables.
          await appendEvents(log, 5);
          const caughtUp = await again.settled(() => 2);
          assert.equal(caughtUp.checkpoint, 25n);
          assert.equal((await again.readModels.find(s.things)).rows.length, 25);

          // Run again, with a sound thread: rebuilt and swapped in.
          const result = await again.runner.rebuild(s.schema.name);
          assert.equal(started.length, 2);
          assert.equal(result.position, 25n);
          assert.equal(result.parked, 0);
          assert.deepEqual(indexesOn(path, t), [`${t}_by_owner_2:owner`, `${t}_by_seq_2:seq`]);
          assert.equal((await again.readModels.find(s.things)).rows.length, 25);
        } finally {
          await again.runner.stop();
          await again.readModels.close();
        }
      }),
  );
});
