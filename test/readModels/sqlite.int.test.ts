// The SQLite read-model adapter against the conformance suite, plus what only
// it has: its own file, WAL, and rebuilding a file it cannot trust.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase, readPragma } from '../../src/eventStore/sqlite/database.js';
import {
  getSQLiteReadModelStore,
  READ_MODEL_SCHEMA_VERSION,
  type SQLiteReadModelStore,
} from '../../src/readModels/sqlite/index.js';
import { readModelConformance } from './conformance.js';
import { row, schema } from './conformanceSupport.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-readmodels-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `rm-${++n}.db`);
const quiet = { onWarning: () => undefined };

readModelConformance('sqlite', {
  createStore: () => Promise.resolve(getSQLiteReadModelStore({ path: freshPath(), ...quiet })),
  reopen: (store) =>
    Promise.resolve(
      getSQLiteReadModelStore({ path: (store as SQLiteReadModelStore).path, ...quiet }),
    ),
  indexesOf: (store, table) => {
    const raw = openDatabase((store as SQLiteReadModelStore).path, { readonly: true });
    try {
      return Promise.resolve(
        raw
          .prepare(
            "SELECT (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno)) AS columns FROM pragma_index_list(?) AS l WHERE l.origin = 'c' ORDER BY columns",
          )
          .pluck()
          .all(table) as string[],
      );
    } finally {
      raw.close();
    }
  },
  exec: (store, sql) => {
    const raw = openDatabase((store as SQLiteReadModelStore).path);
    try {
      raw.exec(sql);
    } finally {
      raw.close();
    }
    return Promise.resolve();
  },
});

describe('sqlite read-model file', () => {
  const open = (path: string) => {
    const warnings: string[] = [];
    const store = getSQLiteReadModelStore({ path, onWarning: (m) => warnings.push(m) });
    return { store, warnings };
  };
  const markCheckpoint = async (path: string) => {
    const { store } = open(path);
    await store.transaction((tx) => tx.setCheckpoint('p', 7n));
    await store.close();
  };

  it('is created with a warning when missing, in WAL mode', async () => {
    const path = freshPath();
    const { store, warnings } = open(path);
    await store.close();
    assert.match(warnings.join('\n'), /is missing: creating it/);
    const raw = openDatabase(path, { readonly: true });
    try {
      assert.equal(readPragma(raw, 'journal_mode'), 'wal');
      assert.equal(readPragma(raw, 'user_version'), READ_MODEL_SCHEMA_VERSION);
    } finally {
      raw.close();
    }
  });

  it('is trusted when sound: no warning, checkpoints kept', async () => {
    const path = freshPath();
    await markCheckpoint(path);
    const { store, warnings } = open(path);
    assert.deepEqual(warnings, []);
    assert.equal(await store.getCheckpoint('p'), 7n);
    await store.close();
  });

  it('is moved aside and recreated when it is not a database', async () => {
    const path = freshPath();
    writeFileSync(path, 'this is not a database, just some text that is long enough '.repeat(100));
    const { store, warnings } = open(path);
    assert.match(warnings.join('\n'), /not trusted: it cannot be read .*moved to .*\.corrupt/);
    assert.equal(await store.getCheckpoint('p'), undefined);
    await store.close();
    assert.ok(existsSync(`${path}.corrupt`));
  });

  it('is moved aside when a page is damaged', async () => {
    const path = freshPath();
    await markCheckpoint(path);
    const raw = openDatabase(path);
    raw.exec('PRAGMA journal_mode = DELETE');
    raw.close();
    // Overwrite the second page (the first table's b-tree) with garbage.
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 4096);
    closeSync(fd);
    const { store, warnings } = open(path);
    assert.match(warnings.join('\n'), /not trusted/);
    assert.equal(await store.getCheckpoint('p'), undefined);
    await store.close();
  });

  it('is moved aside when written by a newer schema', async () => {
    const path = freshPath();
    await markCheckpoint(path);
    const raw = openDatabase(path);
    raw.exec(`PRAGMA user_version = ${READ_MODEL_SCHEMA_VERSION + 1}`);
    raw.close();
    const { store, warnings } = open(path);
    assert.match(warnings.join('\n'), /schema version 2 is newer/);
    assert.equal(await store.getCheckpoint('p'), undefined);
    await store.close();
  });
});

describe('sqlite read-model find', () => {
  it('binds a LIMIT only when given a limit (SQLite re-prepares a statement on each new LIMIT binding)', async () => {
    const trace: string[] = [];
    const store = getSQLiteReadModelStore({
      path: freshPath(),
      ...quiet,
      trace: (sql) => trace.push(sql),
    });
    try {
      const s = schema();
      await store.ensureProjection(s.schema);
      await store.transaction(async (tx) => {
        for (const seq of [3, 1, 2]) await tx.upsert(s.things, row(`r${seq}`, seq, { owner: 'a' }));
        await tx.upsert(s.things, row('other', 4, { owner: 'b' }));
      });
      trace.length = 0;
      const all = await store.find(s.things, { owner: 'a' }, { orderBy: ['seq'] });
      const page = await store.find(s.things, { owner: 'a' }, { orderBy: ['seq'], limit: 2 });
      assert.deepEqual(
        all.rows.map((r) => r.seq),
        [1, 2, 3],
      );
      assert.equal(all.next, undefined);
      assert.deepEqual(
        page.rows.map((r) => r.seq),
        [1, 2],
      );
      assert.notEqual(page.next, undefined);
      // The statements as SQLite ran them (parameters expanded).
      const [unlimited, limited, ...rest] = trace.filter((sql) => sql.startsWith('SELECT'));
      assert.deepEqual(rest, []);
      assert.doesNotMatch(unlimited ?? '', /LIMIT/);
      assert.match(limited ?? '', /LIMIT 2\b/);
    } finally {
      await store.close();
    }
  });
});
