// The SQLite adapter against the conformance suite, plus what only SQLite has:
// its schema, its guard triggers, durability settings and group commit.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase, readPragma } from '../../src/eventStore/sqlite/database.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { eventStoreConformance, type ConformanceQuirks } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `store-${++n}.db`);

/** Edits an event through a raw connection, with the UPDATE guard dropped. */
const tamper: NonNullable<ConformanceQuirks['tamper']> = (store, event, newData) => {
  const raw = openDatabase((store as SQLiteEventStore).path);
  try {
    raw.exec('DROP TRIGGER events_append_only_update');
    raw.prepare('UPDATE events SET data = ? WHERE id = ?').run(JSON.stringify(newData), event.id);
  } finally {
    raw.close();
  }
  return Promise.resolve();
};

// The default writer: inline (group commit on the caller's thread).
eventStoreConformance('sqlite', {
  createStore: () =>
    Promise.resolve(getSQLiteEventStore({ path: freshPath(), pollIntervalMs: 50 })),
  reopen: (store) =>
    Promise.resolve(getSQLiteEventStore({ path: (store as SQLiteEventStore).path })),
  quirks: { tamper },
});

// The same suite with the opt-in worker-thread writer (PROVENANT_SQLITE_WRITER=worker).
eventStoreConformance('sqlite (worker writer)', {
  createStore: () =>
    Promise.resolve(
      getSQLiteEventStore({ path: freshPath(), pollIntervalMs: 50, writer: 'worker' }),
    ),
  reopen: (store) =>
    Promise.resolve(
      getSQLiteEventStore({ path: (store as SQLiteEventStore).path, writer: 'worker' }),
    ),
  quirks: { tamper },
});

describe('sqlite adapter specifics', () => {
  it('creates exactly the expected schema', async () => {
    const store = getSQLiteEventStore({ path: freshPath() });
    await store.close();
    const raw = openDatabase(store.path, { readonly: true });
    try {
      const schema = raw
        .prepare(
          "SELECT type, name, tbl_name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .all();
      assert.deepEqual(schema, [
        { type: 'index', name: 'events_by_category', tbl_name: 'events' },
        { type: 'index', name: 'events_by_type', tbl_name: 'events' },
        { type: 'index', name: 'events_idempotency_key', tbl_name: 'events' },
        { type: 'table', name: 'event_keys', tbl_name: 'event_keys' },
        { type: 'table', name: 'events', tbl_name: 'events' },
        { type: 'table', name: 'schema_migrations', tbl_name: 'schema_migrations' },
        { type: 'trigger', name: 'event_keys_append_only_delete', tbl_name: 'event_keys' },
        { type: 'trigger', name: 'event_keys_append_only_update', tbl_name: 'event_keys' },
        { type: 'trigger', name: 'events_append_only_delete', tbl_name: 'events' },
        { type: 'trigger', name: 'events_append_only_update', tbl_name: 'events' },
      ]);
      const columns = raw
        .prepare('SELECT name, type, "notnull", pk FROM pragma_table_info(\'events\')')
        .all();
      assert.deepEqual(columns, [
        { name: 'position', type: 'INTEGER', notnull: 0, pk: 1 },
        { name: 'id', type: 'TEXT', notnull: 1, pk: 0 },
        { name: 'stream', type: 'TEXT', notnull: 1, pk: 0 },
        { name: 'revision', type: 'INTEGER', notnull: 1, pk: 0 },
        { name: 'type', type: 'TEXT', notnull: 1, pk: 0 },
        { name: 'data', type: 'TEXT', notnull: 1, pk: 0 },
        { name: 'metadata', type: 'TEXT', notnull: 1, pk: 0 },
        { name: 'content_digest', type: 'TEXT', notnull: 1, pk: 0 },
        { name: 'prev_digest', type: 'TEXT', notnull: 1, pk: 0 },
        { name: 'recorded_at', type: 'TEXT', notnull: 1, pk: 0 },
        { name: 'idempotency_key', type: 'TEXT', notnull: 0, pk: 0 },
        { name: 'idempotency_digest', type: 'TEXT', notnull: 0, pk: 0 },
      ]);
      const uniques = raw
        .prepare(
          "SELECT il.name AS name, ii.name AS col FROM pragma_index_list('events') il, pragma_index_info(il.name) ii WHERE il.[unique] = 1 ORDER BY il.name, ii.seqno",
        )
        .all() as { name: string; col: string }[];
      const byIndex = new Map<string, string[]>();
      for (const u of uniques) byIndex.set(u.name, [...(byIndex.get(u.name) ?? []), u.col]);
      assert.deepEqual([...byIndex.values()].map((c) => c.join(',')).sort(), [
        'id',
        'idempotency_key',
        'stream,revision',
      ]);
      assert.deepEqual(raw.prepare('SELECT version, name FROM schema_migrations').all(), [
        { version: 1, name: 'initial' },
        { version: 2, name: 'lookup keys and filter indexes' },
      ]);
      assert.equal(readPragma(raw, 'journal_mode'), 'wal');
    } finally {
      raw.close();
    }
  });

  it('aborts UPDATE and DELETE on the events table', async () => {
    const store = getSQLiteEventStore({ path: freshPath() });
    await store.append('unit-a', [{ type: 'A', data: 1 }]);
    await store.close();
    const raw = openDatabase(store.path);
    try {
      assert.throws(() => raw.prepare("UPDATE events SET data = '2'").run(), /append-only: UPDATE/);
      assert.throws(() => raw.prepare('DELETE FROM events').run(), /append-only: DELETE/);
      assert.throws(
        () =>
          raw
            .prepare(
              "INSERT INTO events (id, stream, revision, type, data, metadata, content_digest, prev_digest, recorded_at) SELECT 'x', stream, revision, type, data, metadata, content_digest, prev_digest, recorded_at FROM events",
            )
            .run(),
        /UNIQUE constraint failed: events.stream, events.revision/,
      );
    } finally {
      raw.close();
    }
  });

  it('is synchronous=FULL by default and NORMAL when configured', async () => {
    for (const [option, expected] of [
      [undefined, 'FULL'],
      ['NORMAL', 'NORMAL'],
    ] as const) {
      const store = getSQLiteEventStore({
        path: freshPath(),
        ...(option ? { synchronous: option } : {}),
      });
      assert.deepEqual(store.settings(), { synchronous: expected, journalMode: 'wal' });
      await store.close();
    }
    assert.throws(
      () => getSQLiteEventStore({ path: freshPath(), synchronous: 'OFF' as 'FULL' }),
      /synchronous must be FULL or NORMAL/,
    );
  });

  it('group-commits concurrent appends into fewer transactions, acknowledging each', async () => {
    const store = getSQLiteEventStore({ path: freshPath() });
    try {
      const results = await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          store.append(`unit-${i % 8}`, [{ type: 'A', data: { i } }]),
        ),
      );
      assert.equal(results.length, 64);
      const stats = store.stats();
      assert.equal(stats.appends, 64);
      assert.equal(stats.events, 64);
      assert.ok(
        stats.commits < 64 / 4,
        `expected grouped commits, got ${stats.commits} for 64 appends`,
      );
      assert.equal((await store.verifyAll()).ok, true);
    } finally {
      await store.close();
    }
  });

  it('a rejected append in a group does not affect the others', async () => {
    const store = getSQLiteEventStore({ path: freshPath() });
    try {
      await store.append('unit-a', [{ type: 'A', data: 0 }]);
      const settled = await Promise.allSettled([
        store.append('unit-b', [{ type: 'B', data: 1 }]),
        store.append('unit-a', [{ type: 'A', data: 1 }], { expectedRevision: 'no_stream' }),
        store.append('unit-c', [{ type: 'C', data: 1 }]),
      ]);
      assert.deepEqual(
        settled.map((s) => s.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal(store.stats().commits, 2);
      assert.equal((await store.readAll()).length, 3);
    } finally {
      await store.close();
    }
  });

  it('reports a clear error for a database it cannot open', () => {
    assert.throws(
      () => getSQLiteEventStore({ path: join(dir, 'missing-dir', 'x.db') }),
      (error: unknown) =>
        error instanceof Error && /Cannot open SQLite database/.test(error.message),
    );
  });
});
