// The SQLite swap of an out-of-sight rebuild, seen from the store's statements
// (its `trace`, the index worker's included) and from the catalog: the new
// tables' indexes are built before the swap, one per transaction, so the swap
// only drops and renames; after each of several rebuilds every declared index is there and
// query plans use it; a file whose indexes have the names earlier releases gave
// them (or any other) rebuilds and swaps.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { shadowTableName } from '../../src/readModels/shadow.js';
import {
  getSQLiteReadModelStore,
  type SQLiteReadModelStore,
} from '../../src/readModels/sqlite/index.js';
import { raw, planOf } from '../support/sqliteFile.js';
import { row, schema } from './conformanceSupport.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-sqlite-swap-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const quiet = { onWarning: () => undefined };

/** A store on a fresh file whose statements are recorded in `trace`. */
function traced(path = join(dir, `rm-${++n}.db`)) {
  const trace: string[] = [];
  const store = getSQLiteReadModelStore({ path, ...quiet, trace: (sql) => trace.push(sql) });
  return { store, trace, path };
}

/** Name and columns of each index made by CREATE INDEX on `table`, by name. */
const indexesOn = (path: string, table: string): { name: string; columns: string }[] =>
  raw(
    path,
    (db) =>
      db
        .prepare(
          "SELECT l.name, (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno)) AS columns FROM pragma_index_list(?) AS l WHERE l.origin = 'c' ORDER BY l.name",
        )
        .all(table) as { name: string; columns: string }[],
  );

/** The traced statements cut into transactions (BEGIN … COMMIT/ROLLBACK), the rest dropped. */
function transactions(trace: readonly string[]): string[][] {
  const out: string[][] = [];
  let open: string[] | undefined;
  for (const sql of trace) {
    if (/^BEGIN\b/i.test(sql)) open = [];
    else if (/^(COMMIT|ROLLBACK)\b/i.test(sql)) {
      if (open !== undefined) out.push(open);
      open = undefined;
    } else open?.push(sql);
  }
  return out;
}

/** A store with one projection (indexes on `owner` and `seq`), rows in it, and a rebuild filled. */
async function rebuilding(store: SQLiteReadModelStore, s = schema(), rows = 50) {
  await store.ensureProjection(s.schema);
  await store.beginRebuild(s.schema);
  await store.rebuildView([s.schema]).transaction(async (tx) => {
    for (let i = 0; i < rows; i++) await tx.upsert(s.things, row(`r${i}`, i, { owner: `o${i}` }));
    await tx.setCheckpoint(s.schema.name, BigInt(rows));
  });
  return s;
}

describe('sqlite rebuild swap', () => {
  it('builds the new tables’ indexes before the swap, one per transaction; the swap builds none', async () => {
    const { store, trace } = traced();
    try {
      const { schema: s, things } = await rebuilding(store);
      await store.transaction((tx) => tx.upsert(things, row('old', 0)));
      trace.length = 0;
      let swapped = false;
      const completing = store.completeRebuild(s.name).then(() => (swapped = true));
      // A read asked for meanwhile is answered while the indexes are built (on
      // a worker thread), before the swap, from the current table.
      const read = store.get(things, { id: 'old' }).then((found) => ({ found, swapped }));
      await completing;
      assert.deepEqual(await read, { found: row('old', 0), swapped: false });
      assert.equal(await store.get(things, { id: 'old' }), undefined);

      const txs = transactions(trace);
      const swap = txs.find((tx) => tx.some((sql) => /^ALTER TABLE/i.test(sql)));
      assert.ok(swap !== undefined, 'a swap transaction');
      assert.deepEqual(
        swap.filter((sql) => /CREATE INDEX/i.test(sql)),
        [],
      );
      // Before it: one transaction per declared index, each on the new table
      // (the worker's connection: its statements are traced too).
      const builds = txs.slice(0, txs.indexOf(swap));
      const creates = builds.map((tx) => tx.filter((sql) => /^CREATE INDEX/i.test(sql)));
      assert.deepEqual(
        creates.filter((c) => c.length > 0).map((c) => c.length),
        [1, 1],
      );
      for (const [create] of creates.filter((c) => c.length > 0))
        assert.match(create ?? '', new RegExp(`ON "${shadowTableName(things.name)}"`));
      // The read did not wait for the builds.
      const lastCreate = trace.findLastIndex((sql) => /^CREATE INDEX/i.test(sql));
      const select = trace.findIndex((sql) => sql.startsWith('SELECT "id"'));
      assert.ok(select !== -1 && select < lastCreate, trace.join('\n'));
    } finally {
      await store.close();
    }
  });

  it('leaves every declared index after each of three rebuilds, under names that alternate; plans use them', async () => {
    const { store, path, trace } = traced();
    try {
      const s = schema();
      const { things } = s;
      await store.ensureProjection(s.schema);
      const names: string[][] = [indexesOn(path, things.name).map((i) => i.name)];
      // A fresh table's indexes have the names earlier releases gave them.
      assert.deepEqual(names[0], [`${things.name}_by_owner`, `${things.name}_by_seq`]);
      for (let round = 1; round <= 3; round++) {
        await rebuilding(store, s, 20 * round);
        trace.length = 0;
        await store.completeRebuild(s.schema.name);
        const swap = transactions(trace).find((tx) => tx.some((sql) => /^ALTER TABLE/i.test(sql)));
        assert.deepEqual(
          swap?.filter((sql) => /CREATE INDEX/i.test(sql)),
          [],
        );
        const indexes = indexesOn(path, things.name);
        assert.deepEqual(
          indexes.map((i) => i.columns),
          ['owner', 'seq'],
        );
        assert.deepEqual(indexesOn(path, shadowTableName(things.name)), []);
        names.push(indexes.map((i) => i.name));
        assert.notDeepEqual(names[round], names[round - 1]);
        const byOwner = indexes.find((i) => i.columns === 'owner')?.name ?? '';
        assert.match(planOf(path, things.name, 'owner'), new RegExp(`USING INDEX ${byOwner}\\b`));
        const bySeq = indexes.find((i) => i.columns === 'seq')?.name ?? '';
        assert.match(planOf(path, things.name, 'seq'), new RegExp(`USING INDEX ${bySeq}\\b`));
        assert.equal((await store.find(things, { owner: 'o3' })).rows[0]?.id, 'r3');
        assert.equal((await store.find(things)).rows.length, 20 * round);
        assert.equal(await store.getCheckpoint(s.schema.name), BigInt(20 * round));
      }
      // Two names per index, taken in turn.
      assert.deepEqual(names[2], names[0]);
      assert.deepEqual(names[3], names[1]);
      // A bulk load finds them whatever their names: all dropped, all built again.
      await store.deferIndexes(s.schema.name);
      assert.deepEqual(indexesOn(path, things.name), []);
      await store.buildIndexes(s.schema.name);
      assert.deepEqual(
        indexesOn(path, things.name).map((i) => i.columns),
        ['owner', 'seq'],
      );
      assert.equal(await store.ensureProjection(s.schema), 'unchanged');
      await store.dropProjection(s.schema.name);
      assert.deepEqual(indexesOn(path, things.name), []);
    } finally {
      await store.close();
    }
  });

  it('rebuilds and swaps a file written before (indexes under their old names, or any other)', async () => {
    const path = join(dir, `rm-old-${++n}.db`);
    await getSQLiteReadModelStore({ path, ...quiet }).close();
    const s = schema();
    const t = s.things.name;
    // What an earlier release left: the table, its indexes as it named them (one
    // renamed by hand since), its declaration, a row and its checkpoint.
    raw(path, (db) => {
      db.exec(`
        CREATE TABLE "${t}" ("id" TEXT, "seq" INTEGER, "score" REAL, "flag" INTEGER, "tags" TEXT, "owner" TEXT, PRIMARY KEY ("id"));
        CREATE INDEX IF NOT EXISTS "${t}_by_owner" ON "${t}" ("owner");
        CREATE INDEX "by_hand" ON "${t}" ("seq");
        INSERT INTO "${t}" ("id", "seq", "owner") VALUES ('old', 1, 'o');
        INSERT INTO rm_checkpoints (projection, position, updated_at) VALUES ('${s.schema.name}', 1, '2026-01-01T00:00:00.000Z');
      `);
      db.prepare('INSERT INTO rm_projections (name, version, tables) VALUES (?, ?, ?)').run(
        s.schema.name,
        s.schema.version,
        JSON.stringify(s.schema.tables),
      );
    });
    const { store } = traced(path);
    try {
      assert.equal(await store.ensureProjection(s.schema), 'unchanged');
      assert.deepEqual((await store.find(s.things)).rows, [row('old', 1, { owner: 'o' })]);
      // Found by their columns: nothing is missing, nothing is built twice.
      await store.buildIndexes(s.schema.name);
      assert.deepEqual(
        indexesOn(path, t).map((i) => i.name),
        ['by_hand', `${t}_by_owner`],
      );
      for (let round = 1; round <= 2; round++) {
        await rebuilding(store, s, 10);
        await store.completeRebuild(s.schema.name);
        assert.deepEqual(
          indexesOn(path, t)
            .map((i) => i.columns)
            .sort(),
          ['owner', 'seq'],
        );
        assert.match(planOf(path, t, 'owner'), /USING INDEX/);
        assert.equal((await store.find(s.things)).rows.length, 10);
      }
    } finally {
      await store.close();
    }
  });
});
