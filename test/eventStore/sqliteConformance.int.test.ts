// The SQLite adapter against the event-store conformance suite, with the default
// writer and with the worker-thread writer. What only SQLite has (its schema, its
// guard triggers, durability settings, group commit, indexed reads) is in
// sqlite.int.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { openDatabase } from '../../src/eventStore/sqlite/database.js';
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
