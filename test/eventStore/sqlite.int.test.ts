// What only the SQLite adapter has: its schema, its guard triggers, durability
// settings, group commit, migrations and indexed reads. The conformance suite runs
// on it in sqliteConformance.int.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase, readPragma } from '../../src/eventStore/sqlite/database.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { filteredReadSql } from '../../src/eventStore/sqlite/filteredReads.js';
import { migrate } from '../../src/eventStore/sqlite/migrate.js';
import { migrations } from '../../src/eventStore/sqlite/migrations/index.js';
import { matchesFilter } from '../../src/eventStore/validation.js';
import type { EventFilter, EventToAppend, RecordedEvent } from '../../src/eventStore/index.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `store-${++n}.db`);

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

  it('migration 0002 backfills receipt:<receiptId> keys of logs written before it', async () => {
    const path = freshPath();
    const raw = openDatabase(path);
    try {
      migrate(raw, migrations.slice(0, 1));
      const insert = raw.prepare(
        `INSERT INTO events (id, stream, revision, type, data, metadata, content_digest, prev_digest, recorded_at)
         VALUES (?, ?, ?, ?, ?, '{}', 'c', 'p', '2026-01-01T00:00:00.000Z')`,
      );
      const rows: [string, string, number, string, unknown][] = [
        ['01A', 'unit-1', 0, 'ReceiptRecorded.v1', { receiptId: 'r1', unit: 'u1' }],
        ['01B', 'unit-1', 1, 'UnitOpened.v1', { receiptId: 'not-a-receipt' }],
        ['01C', 'unit-2', 0, 'ReceiptRecorded.v1', { receiptId: 'r2' }],
        ['01D', 'unit-2', 1, 'ReceiptRecorded.v2', { receiptId: 'r1' }], // later: r1 stays on 01A
        ['01E', 'unit-3', 0, 'ReceiptRecorded.v1', { receiptId: 7 }],
        ['01F', 'unit-3', 1, 'ReceiptRecorded.v1', { receiptId: '' }],
      ];
      for (const [id, stream, revision, type, data] of rows)
        insert.run(id, stream, revision, type, JSON.stringify(data));
    } finally {
      raw.close();
    }
    const store = getSQLiteEventStore({ path });
    try {
      assert.deepEqual(await store.findByKey('receipt:r1'), {
        id: '01A',
        stream: 'unit-1',
        revision: 0,
        position: 1n,
      });
      assert.deepEqual(await store.findByKey('receipt:r2'), {
        id: '01C',
        stream: 'unit-2',
        revision: 0,
        position: 3n,
      });
      for (const key of ['receipt:not-a-receipt', 'receipt:7', 'receipt:'])
        assert.equal(await store.findByKey(key), undefined);
    } finally {
      await store.close();
    }
    const check = openDatabase(path, { readonly: true });
    try {
      assert.equal(check.prepare('SELECT count(*) FROM event_keys').pluck().get(), 2);
      assert.equal(check.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get(), 2);
    } finally {
      check.close();
    }
  });

  it('writes lookup keys in the append transaction, once, and guards them append-only', async () => {
    for (const writer of ['inline', 'worker'] as const) {
      const store = getSQLiteEventStore({ path: freshPath(), writer });
      const event: EventToAppend = {
        type: 'A',
        data: 1,
        idempotencyKey: 'src#1',
        lookupKeys: ['k1', 'k2'],
      };
      await store.append('unit-a', [event]);
      await store.append('unit-a', [event]); // redelivery
      await store.append('unit-a', [{ type: 'A', data: 2 }]); // no keys
      // A rejected append (stale expected revision) records none of its keys.
      await assert.rejects(
        store.append('unit-a', [{ type: 'A', data: 3, lookupKeys: ['k3'] }], {
          expectedRevision: 0,
        }),
      );
      await store.close();
      const raw = openDatabase(store.path);
      try {
        assert.deepEqual(raw.prepare('SELECT key, position FROM event_keys ORDER BY key').all(), [
          { key: 'k1', position: 1 },
          { key: 'k2', position: 1 },
        ]);
        assert.throws(
          () => raw.prepare("UPDATE event_keys SET position = 2 WHERE key = 'k1'").run(),
          /append-only: UPDATE/,
        );
        assert.throws(() => raw.prepare('DELETE FROM event_keys').run(), /append-only: DELETE/);
      } finally {
        raw.close();
      }
    }
  });

  it('serves filtered reads and key lookups from indexes, never by scanning events', async () => {
    const store = getSQLiteEventStore({ path: freshPath() });
    await store.close();
    const raw = openDatabase(store.path, { readonly: true });
    try {
      const sql: Record<string, string> = {
        ...filteredReadSql('*'),
        byKey:
          'SELECT e.id FROM event_keys k JOIN events e ON e.position = k.position WHERE k.key = ?',
      };
      const planOf = (text: string): string[] => {
        const params = (text.match(/\?/g) ?? []).map(() => null);
        return (
          raw.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...params) as { detail: string }[]
        ).map((r) => r.detail);
      };
      // An index seek, or a seek by a whole key: not a range of `$all` positions.
      const seeks = (plan: string[]): boolean =>
        plan.every((d) =>
          /^SEARCH \w+ USING (COVERING INDEX \w+|INDEX \w+|PRIMARY KEY \(key=\?\)|INTEGER PRIMARY KEY \(rowid=\?\))/.test(
            d,
          ),
        ) && !plan.some((d) => /TEMP B-TREE/.test(d));
      for (const [name, text] of Object.entries(sql))
        assert.ok(seeks(planOf(text)), `${name}: ${planOf(text).join('; ')}`);
      // The statement before migration 0002 walked `$all` by position: the check rejects it.
      assert.equal(
        seeks(
          planOf(
            'SELECT * FROM events WHERE position > ? AND (substr(stream, 1, ?) = ?) ORDER BY position ASC LIMIT ?',
          ),
        ),
        false,
      );
    } finally {
      raw.close();
    }
  });

  it('filtered reads return exactly the matching events among 20,000 others, in order, with paging', async () => {
    const store = getSQLiteEventStore({ path: freshPath(), maxEventsPerCommit: 100_000 });
    try {
      // Matching events sit between batches of noise; near-misses share a
      // category (`gate`, `gatehouse-…`) or a type prefix (`GateOpenedLate`).
      const matchingAt = new Set([0, 3, 7, 12, 19]);
      for (let batch = 0; batch < 20; batch++) {
        await store.append(
          `noise-${batch % 7}`,
          Array.from({ length: 1000 }, (_, i) => ({ type: `Noise${i % 5}.v1`, data: { i } })),
        );
        await store.append('gate', [{ type: 'GateOpenedLate.v1', data: batch }]);
        await store.append('gatehouse-1', [{ type: 'Noise0.v1', data: batch }]);
        if (matchingAt.has(batch)) {
          await store.append(`gate-${batch % 2}`, [
            { type: 'GateOpened.v1', data: { batch } },
            { type: 'GateClosed.v1', data: { batch } },
          ]);
          await store.append('unit-x', [{ type: 'GateOpened.v1', data: { batch } }]);
        }
      }
      const all: RecordedEvent[] = [];
      for (let from: bigint | 'start' = 'start'; ;) {
        const page = await store.readAll({ from, maxCount: 5000 });
        all.push(...page);
        if (page.length < 5000) break;
        from = page.at(-1)!.position;
      }
      assert.ok(all.length > 20_000);
      const filters: EventFilter[] = [
        { streamPrefix: ['gate-'] },
        { streamPrefix: ['gate-1', 'gate-0', 'gate-'] },
        { streamPrefix: ['gate-0', 'unit-'] },
        { eventTypePrefix: ['GateOpened.', 'GateClosed.v1'] },
        { eventTypePrefix: ['GateC'] },
      ];
      for (const filter of filters) {
        const expected = all
          .filter((e) => matchesFilter(filter, e.stream, e.type))
          .map((e) => e.position);
        assert.ok(expected.length >= 5 && expected.length <= 30, JSON.stringify(filter));
        const reversed = [...expected].reverse();
        const ids = (events: RecordedEvent[]) => events.map((e) => e.position);
        assert.deepEqual(ids(await store.readAll({ filter })), expected);
        assert.deepEqual(ids(await store.readAll({ filter, direction: 'backwards' })), reversed);
        for (const direction of ['forwards', 'backwards'] as const) {
          const paged: bigint[] = [];
          let from: bigint | undefined;
          for (;;) {
            const page = await store.readAll({
              filter,
              direction,
              maxCount: 3,
              ...(from === undefined ? {} : { from }),
            });
            paged.push(...ids(page));
            if (page.length < 3) break;
            from = page.at(-1)!.position;
          }
          assert.deepEqual(paged, direction === 'forwards' ? expected : reversed);
        }
        // A position in the middle of the log, exclusive.
        const middle = expected[2]!;
        assert.deepEqual(
          ids(await store.readAll({ filter, from: middle, maxCount: 2 })),
          expected.slice(3, 5),
        );
        assert.deepEqual(
          ids(await store.readAll({ filter, from: middle, direction: 'backwards' })),
          expected.slice(0, 2).reverse(),
        );
      }
    } finally {
      await store.close();
    }
  });
});
