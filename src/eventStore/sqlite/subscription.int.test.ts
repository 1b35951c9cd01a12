// The SQLite store's subscriptions share the page reads of one turn of the event
// loop: a commit wakes every subscription, and the N at the head read the same
// page with one query, not N. Each still receives every event once, in order,
// also after a commit that lands in the turn of a shared read.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RecordedEvent } from '../types.js';
import { openDatabase } from './database.js';
import { getSQLiteEventStore } from './eventStore.js';
import { prepareStatements, type Statements } from './statements.js';
import { createSubscriptions } from './subscription.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-subscriptions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The next `count` events of a subscription's iterator (left open for more). */
async function next(events: AsyncIterator<RecordedEvent>, count: number): Promise<unknown[]> {
  const got: unknown[] = [];
  while (got.length < count) {
    const result = await events.next();
    if (result.done === true) break;
    got.push((result.value.data as { i: unknown }).i);
  }
  return got;
}

describe('SQLite subscriptions', () => {
  it('read a page once for all the subscriptions at one position, and each gets every event', async () => {
    const path = join(dir, 'shared.db');
    const writer = getSQLiteEventStore({ path });
    for (let i = 0; i < 30; i++) await writer.append(`s-${i % 3}`, [{ type: 'T.v1', data: { i } }]);

    const db = openDatabase(path);
    const stmt = prepareStatements(db);
    let pageQueries = 0;
    const counted: Statements = {
      ...stmt,
      allPage: {
        all: (...args: [number, number]) => {
          pageQueries++;
          return stmt.allPage.all(...args);
        },
      } as Statements['allPage'],
    };
    const subscriptions = createSubscriptions({
      stmt: counted,
      pollIntervalMs: 60_000, // only the commits below wake them
      assertOpen: () => undefined,
      isClosed: () => false,
    });
    const subs = Array.from({ length: 20 }, () =>
      subscriptions.subscribe({ from: 'start' })[Symbol.asyncIterator](),
    );
    try {
      // Each reads the 30 events (one page), then an empty page at the head: two shared reads.
      for (const got of await Promise.all(subs.map((s) => next(s, 30))))
        assert.deepEqual(got, [...Array(30).keys()]);
      assert.ok(pageQueries <= 3, `${pageQueries} page queries for 20 subscriptions`);

      // Live: asleep at the head, every commit wakes them all; commits come while they read.
      const live = subs.map((s) => next(s, 10));
      await new Promise((resolve) => setImmediate(resolve));
      pageQueries = 0;
      for (let i = 30; i < 40; i++) {
        await writer.append('s-live', [{ type: 'T.v1', data: { i } }]);
        subscriptions.notifyCommitted();
      }
      for (const got of await Promise.all(live))
        assert.deepEqual(
          got,
          [...Array(10).keys()].map((k) => 30 + k),
        );
      // Unshared, 20 subscriptions would read at least 200 pages for 10 wake-ups.
      assert.ok(pageQueries <= 40, `${pageQueries} page queries for 10 commits`);
    } finally {
      await subscriptions.closeAll();
      db.close();
      await writer.close();
    }
  });
});
