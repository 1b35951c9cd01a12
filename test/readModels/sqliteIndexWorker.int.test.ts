// The SQLite store builds secondary indexes on a worker thread: while a table of
// 200,000 rows gets its indexes (deferred for a bulk load, or a rebuild's before
// its swap), this thread's event loop keeps turning and reads are answered; a
// write asked for meanwhile waits until the worker is done; the indexes come out
// under the catalog's names. A build that fails says why and holds no write
// back. An in-memory store, which no worker can open, builds them on its own
// thread.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { shadowTableName } from '../../src/readModels/shadow.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import { fill as fillRows, indexesOn, planOf, raw } from '../support/sqliteFile.js';
import { hasCode, row, schema } from './conformanceSupport.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-index-worker-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const quiet = { onWarning: () => undefined };
/** Enough rows that building an index takes tens of milliseconds or more. */
const ROWS = 200_000;
const fill = (path: string, table: string): void => fillRows(path, table, ROWS);

/** Records the gaps between the turns of this thread's event loop (a 1 ms interval). */
function loopWatch() {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return {
    /** Stops watching; the longest gap seen, in ms. */
    stop(): number {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

describe('sqlite index builds on a worker thread', () => {
  it('builds deferred indexes while the event loop turns and reads are answered', async () => {
    const path = join(dir, `rm-${++n}.db`);
    const s = schema();
    const setup = getSQLiteReadModelStore({ path, ...quiet });
    await setup.ensureProjection(s.schema);
    await setup.deferIndexes(s.schema.name);
    await setup.close();
    fill(path, s.things.name);

    let built = false;
    const reads: Promise<{ owner: string | null | undefined; built: boolean }>[] = [];
    const store = getSQLiteReadModelStore({
      path,
      ...quiet,
      // As each CREATE INDEX starts (on the worker, which sends its statements
      // here), a read: answered before the build ends, not queued behind it.
      trace: (sql) => {
        if (/^CREATE INDEX "/.test(sql))
          reads.push(
            store.get(s.things, { id: 'r1' }).then((found) => ({ owner: found?.owner, built })),
          );
      },
    });
    try {
      const watch = loopWatch();
      const started = performance.now();
      await store.buildIndexes(s.schema.name);
      built = true;
      const took = performance.now() - started;
      const longestGap = watch.stop();

      // On this thread, each CREATE INDEX would hold the loop for most of the
      // build; a loaded machine delays single turns, never by half of it.
      assert.ok(longestGap < took / 2, `longest gap ${longestGap} ms in a build of ${took} ms`);
      assert.equal(reads.length, 2, 'one CREATE INDEX per declared index');
      for (const read of reads) assert.deepEqual(await read, { owner: 'o104729', built: false });

      const t = s.things.name;
      assert.deepEqual(indexesOn(path, t), [`${t}_by_owner:owner`, `${t}_by_seq:seq`]);
      assert.match(planOf(path, t, 'owner'), new RegExp(`USING INDEX ${t}_by_owner\\b`));
      assert.equal((await store.find(s.things, { owner: 'o3' })).rows.length, 1);
      // Nothing is missing now: a second build starts no worker and builds nothing.
      reads.length = 0;
      await store.buildIndexes(s.schema.name);
      assert.equal(reads.length, 0);
    } finally {
      await store.close();
    }
  });

  it('builds a rebuild’s indexes before the swap; a write asked for meanwhile waits for the worker', async () => {
    const path = join(dir, `rm-${++n}.db`);
    const s = schema();
    const other = schema();
    let creates: string[] | undefined; // once the rebuild is filled
    let createsAtWrite: number | undefined;
    let write: Promise<void> | undefined;
    const store = getSQLiteReadModelStore({
      path,
      ...quiet,
      trace: (sql) => {
        if (creates === undefined || !/^CREATE INDEX "/.test(sql)) return;
        creates.push(sql);
        // At the first build, a write to another projection's table: it starts
        // only once the worker has built every index and closed its connection.
        write ??= store.transaction(async (tx) => {
          createsAtWrite = creates?.length;
          await tx.upsert(other.things, row('written', 1));
        });
      },
    });
    try {
      await store.ensureProjection(s.schema);
      await store.ensureProjection(other.schema);
      await store.transaction((tx) => tx.upsert(s.things, row('old', 0)));
      await store.beginRebuild(s.schema);
      fill(path, shadowTableName(s.things.name));
      await store.rebuildView([s.schema]).transaction((tx) => tx.setCheckpoint(s.schema.name, 7n));
      creates = [];

      let swapped = false;
      const completing = store.completeRebuild(s.schema.name).then(() => (swapped = true));
      const read = store.get(s.things, { id: 'old' }).then((found) => ({ found, swapped }));
      await completing;

      assert.deepEqual(await read, { found: row('old', 0), swapped: false });
      assert.equal(creates.length, 2);
      await write;
      assert.equal(createsAtWrite, 2);
      assert.deepEqual(await store.get(other.things, { id: 'written' }), row('written', 1));
      // Swapped in: every row, the checkpoint, and the indexes under the names
      // the current table's did not hold.
      const t = s.things.name;
      assert.equal(await store.get(s.things, { id: 'old' }), undefined);
      assert.equal((await store.find(s.things, { owner: 'o0' })).rows[0]?.id, 'r0');
      assert.equal(await store.getCheckpoint(s.schema.name), 7n);
      assert.deepEqual(indexesOn(path, t), [`${t}_by_owner_2:owner`, `${t}_by_seq_2:seq`]);
      assert.deepEqual(indexesOn(path, shadowTableName(t)), []);
      assert.match(planOf(path, t, 'seq'), new RegExp(`USING INDEX ${t}_by_seq_2\\b`));
    } finally {
      await store.close();
    }
  });

  it('rejects a build that fails on the worker; the writes waiting for it then run, later builds work', async () => {
    const path = join(dir, `rm-${++n}.db`);
    const s = schema();
    const other = schema();
    const store = getSQLiteReadModelStore({ path, ...quiet });
    try {
      await store.ensureProjection(s.schema);
      await store.ensureProjection(other.schema);
      // Its table dropped behind the store's back: every declared index is missing, none can be built.
      raw(path, (db) => db.exec(`DROP TABLE "${s.things.name}"`));
      const failing = store.buildIndexes(s.schema.name);
      const write = store.transaction((tx) => tx.upsert(other.things, row('w', 1)));
      await assert.rejects(failing, hasCode('READ_MODEL_UNAVAILABLE'));
      await assert.rejects(store.buildIndexes(s.schema.name), /no such table/);
      await write;
      assert.deepEqual(await store.get(other.things, { id: 'w' }), row('w', 1));

      await store.deferIndexes(other.schema.name);
      assert.deepEqual(indexesOn(path, other.things.name), []);
      await store.buildIndexes(other.schema.name);
      const t = other.things.name;
      assert.deepEqual(indexesOn(path, t), [`${t}_by_owner:owner`, `${t}_by_seq:seq`]);
    } finally {
      await store.close();
    }
  });

  it('builds on its own thread for an in-memory database (no worker can open it)', async () => {
    const s = schema();
    const creates: string[] = [];
    const store = getSQLiteReadModelStore({
      path: ':memory:',
      ...quiet,
      trace: (sql) => {
        if (/^CREATE INDEX "/.test(sql)) creates.push(sql);
      },
    });
    try {
      await store.ensureProjection(s.schema);
      await store.transaction(async (tx) => {
        for (let i = 0; i < 10; i++) await tx.upsert(s.things, row(`r${i}`, i, { owner: `o${i}` }));
      });
      await store.deferIndexes(s.schema.name);
      creates.length = 0;
      await store.buildIndexes(s.schema.name);
      assert.deepEqual(
        creates.map((sql) => /ON "[^"]+" \(("[^"]+")\)/.exec(sql)?.[1]),
        ['"owner"', '"seq"'],
      );
      await store.buildIndexes(s.schema.name);
      assert.equal(creates.length, 2, 'nothing left to build');

      await store.beginRebuild(s.schema);
      await store.rebuildView([s.schema]).transaction(async (tx) => {
        await tx.upsert(s.things, row('new', 1, { owner: 'n' }));
        await tx.setCheckpoint(s.schema.name, 1n);
      });
      await store.completeRebuild(s.schema.name);
      assert.equal(creates.length, 4);
      assert.deepEqual((await store.find(s.things, { owner: 'n' })).rows, [
        row('new', 1, { owner: 'n' }),
      ]);
    } finally {
      await store.close();
    }
  });
});
