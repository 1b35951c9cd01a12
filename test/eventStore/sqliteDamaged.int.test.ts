// A SQLite log damaged past its header: the file opens (its header and schema
// are intact), and only the queries that reach the damaged pages fail. They
// failed with a bare SqliteError (a stack trace from `log verify`, 500 INTERNAL
// from ingest) while /readyz said ready. Now each is STORE_INTEGRITY_VIOLATION
// in one line that says to restore from a backup, the store is no longer ready
// and says why; and damage that opening reaches stops the opening with the same
// code. Nothing is repaired or moved: the file stays for the operator.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createDomainService } from '../../src/application/index.js';
import { readPragma } from '../../src/eventStore/sqlite/database.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import { raw } from '../support/sqliteFile.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-damaged-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A closed log of 200 events at `name`. */
async function filledLog(name: string): Promise<string> {
  const path = join(dir, name);
  const store = getSQLiteEventStore({ path });
  for (let i = 0; i < 20; i++)
    await store.append(
      `unit-s${i}`,
      Array.from({ length: 10 }, (_, n) => ({
        type: 'Noted.v1',
        data: { i, n, pad: 'x'.repeat(200) },
      })),
    );
  await store.close();
  return path;
}

/** Overwrites the pages that hold `table` (or every page but the first) with 0xAB. */
function damage(path: string, table?: string): Buffer {
  const { pageSize, pages } = raw(path, (db) => ({
    pageSize: readPragma(db, 'page_size') as number,
    pages: (
      db
        .prepare(
          table === undefined
            ? 'SELECT pageno FROM dbstat WHERE pageno > 1'
            : 'SELECT pageno FROM dbstat WHERE name = ?',
        )
        .all(...(table === undefined ? [] : [table])) as { pageno: number }[]
    ).map((p) => p.pageno),
  }));
  assert.ok(pages.length > 0);
  const file = readFileSync(path);
  for (const page of pages) file.fill(0xab, (page - 1) * pageSize, page * pageSize);
  writeFileSync(path, file);
  return file;
}

const DAMAGED =
  /^The log .*provenant-\w+\.db is damaged \(database disk image is malformed\); it is left as it is: restore it from a backup/;

describe('a SQLite log damaged past its header', () => {
  it('opens; what reaches the damage is STORE_INTEGRITY_VIOLATION, and the store is not ready', async () => {
    const path = await filledLog('provenant-events.db');
    const damaged = damage(path, 'events');
    const store = getSQLiteEventStore({ path });
    const domain = createDomainService({ eventStore: store });
    const app = await buildApp({
      auth: anonymousAuth(),
      store,
      domain,
      storeDescription: 'sqlite (damaged)',
      ownsStore: true,
    });
    try {
      assert.equal(await store.isReady(), true, 'nothing has reached the damage yet');
      await assert.rejects(store.headPosition(), {
        code: 'STORE_INTEGRITY_VIOLATION',
        message: DAMAGED,
      });
      await assert.rejects(store.readAll({ maxCount: 10 }), { code: 'STORE_INTEGRITY_VIOLATION' });
      await assert.rejects(store.verifyAll(), { code: 'STORE_INTEGRITY_VIOLATION' });
      const ingest = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'content-type': 'application/cloudevents+json' },
        payload: {
          specversion: '1.0',
          id: 'after-damage',
          source: 'https://ci.example.com/x',
          type: 'dev.provenant.receipt.v1',
          data: { unit: 'zlib/1.3/1.el9/x86_64/rpm', action: 'build', multipass: true },
        },
      });
      assert.equal(ingest.statusCode, 500, ingest.body);
      assert.equal(ingest.json<{ code: string }>().code, 'STORE_INTEGRITY_VIOLATION');
      assert.equal(await store.isReady(), false);
      assert.match(store.problem?.() ?? '', DAMAGED);
      const ready = await app.inject('/readyz');
      assert.equal(ready.statusCode, 503);
      assert.match(
        ready.json<{ reason: string }>().reason,
        /^event store not ready: The log .* is damaged/,
      );
    } finally {
      await app.close();
    }
    assert.deepEqual(readFileSync(path), damaged, 'left as it is');
  });

  it('stops the opening where opening reaches the damage, in one error of its own', async () => {
    const path = await filledLog('provenant-all.db');
    damage(path);
    assert.throws(() => getSQLiteEventStore({ path }), {
      code: 'STORE_INTEGRITY_VIOLATION',
      message: /is not a readable SQLite database \(database disk image is malformed\)/,
    });
  });
});
