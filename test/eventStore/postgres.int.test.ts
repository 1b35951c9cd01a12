// The PostgreSQL log against the event-store conformance suite, on the real
// server named by PROVENANT_TEST_POSTGRES_URL, plus what only it has: the
// append-only triggers, migrations under a lock, a refused newer schema,
// gap-free positions under concurrent writers, and lost connections.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  getPostgresEventStore,
  type PostgresEventStore,
} from '../../src/eventStore/postgres/index.js';
import { isProvenantError } from '../../src/errors.js';
import { eventStoreConformance } from './conformance.js';
import { requirePostgres, sql, testSchema } from '../support/postgres.js';

const url = requirePostgres('event store: postgres');
if (url !== undefined) {
  const schema = testSchema(url, 'log');
  const open = (s = schema) =>
    getPostgresEventStore({ connectionString: url, schema: s, maxConnections: 4 });

  eventStoreConformance('postgres', {
    createStore: () => Promise.resolve(open()),
    quirks: {
      tamper: async (_store, event, newData) => {
        await sql(
          url,
          schema,
          `ALTER TABLE events DISABLE TRIGGER events_append_only;
           UPDATE events SET data = '${JSON.stringify(newData).replaceAll("'", "''")}' WHERE id = '${event.id}';
           ALTER TABLE events ENABLE TRIGGER events_append_only;`,
        );
      },
    },
  });

  describe('postgres log specifics', () => {
    it('refuses UPDATE, DELETE and TRUNCATE of events and keys', async () => {
      const store = open();
      try {
        await store.append('specifics-a', [{ type: 'A', data: 1, lookupKeys: ['spec:k'] }]);
      } finally {
        await store.close();
      }
      for (const statement of [
        "UPDATE events SET data = '2'",
        'DELETE FROM events',
        'TRUNCATE events CASCADE',
        "UPDATE event_keys SET key = 'x'",
        'DELETE FROM event_keys',
      ])
        await assert.rejects(sql(url, schema, statement), /append-only/, statement);
    });

    it('applies migrations once when several nodes start together, and refuses a newer schema', async () => {
      const fresh = testSchema(url, 'mig');
      const stores = Array.from({ length: 4 }, () => open(fresh));
      await Promise.all(stores.map((s) => s.start()));
      const { rows } = await sql(url, fresh, 'SELECT version FROM log_migrations');
      assert.deepEqual(
        rows.map((r: { version: number }) => r.version),
        [1],
      );
      await Promise.all(stores.map((s) => s.close()));
      await sql(url, fresh, "INSERT INTO log_migrations (version, name) VALUES (99, 'future')");
      const newer = open(fresh);
      try {
        await assert.rejects(newer.start(), (error: unknown) => {
          assert.ok(isProvenantError(error));
          assert.equal(error.code, 'POSTGRES_SCHEMA_NEWER');
          assert.match(error.message, /version 99, newer than this Provenant's 1/);
          return true;
        });
        await assert.rejects(newer.append('x-a', [{ type: 'A', data: 1 }]), /newer/);
      } finally {
        await newer.close();
      }
    });

    it('keeps positions gap-free and in commit order with writers in several stores', async () => {
      const stores = [open(), open(), open()];
      try {
        const prefix = `gapfree${Date.now()}`;
        const start = await stores[0]!.headPosition();
        await Promise.all(
          stores.flatMap((store, s) =>
            Array.from({ length: 30 }, (_, i) =>
              store.append(`${prefix}-${(s + i) % 5}`, [{ type: 'G', data: { s, i } }]),
            ),
          ),
        );
        const events = await stores[1]!.readAll({ from: start, maxCount: 1000 });
        const positions = events.map((e) => e.position);
        assert.equal(positions.length, 90);
        positions.forEach((p, i) => assert.equal(p, start + BigInt(i) + 1n));
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    // Bounded, so that a hang names this test instead of timing out the whole file.
    it(
      'answers STORE_BACKEND_UNAVAILABLE when its connections are killed, then recovers',
      { timeout: 60_000 },
      async (t) => {
        const applicationName = `pvtkill${Date.now().toString(36)}`;
        const store = getPostgresEventStore({
          connectionString: url,
          schema,
          maxConnections: 4,
          applicationName,
        });
        try {
          await store.append('kill-a', [{ type: 'A', data: 0 }]);
          const sub = store.subscribeToAll({ from: 'end', filter: { streamPrefix: ['kill-'] } });
          const received: unknown[] = [];
          const consumer = (async () => {
            for await (const e of sub) received.push(e.data);
          })();
          await new Promise((r) => setTimeout(r, 100));
          // Kill every connection of this store (ours only: its own application name).
          const killed = await sql(
            url,
            schema,
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE pid <> pg_backend_pid() AND starts_with(application_name, $1)`,
            [applicationName],
          );
          assert.ok(killed.rows.length >= 2, 'the pool and the listening connection were killed');
          let failures = 0;
          let ok = false;
          for (let i = 0; i < 50 && !ok; i++) {
            try {
              await store.append('kill-a', [{ type: 'A', data: i + 1 }]);
              ok = true;
            } catch (error) {
              assert.ok(isProvenantError(error));
              assert.equal(error.code, 'STORE_BACKEND_UNAVAILABLE');
              failures++;
              await new Promise((r) => setTimeout(r, 50));
            }
          }
          assert.ok(ok, 'the store recovered');
          assert.equal(await store.isReady(), true);
          const deadline = Date.now() + 5000;
          while (received.length === 0 && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 20));
          await sub.close();
          await consumer;
          assert.equal(received.length, 1, 'the subscription survived the lost connection');
          t.diagnostic(`${failures} appends refused before the pool reconnected`);
        } finally {
          await store.close();
        }
      },
    );

    it('is not ready and answers 503-class errors for a server that does not answer', async () => {
      const store = getPostgresEventStore({
        connectionString: 'postgres://postgres@127.0.0.1:1/none',
        schema,
        connectTimeoutMs: 500,
      });
      try {
        assert.equal(await store.isReady(), false);
        assert.match(store.problem() ?? '', /PostgreSQL is unavailable: .*ECONNREFUSED/);
        await assert.rejects(store.append('x-a', [{ type: 'A', data: 1 }]), (error: unknown) => {
          assert.ok(isProvenantError(error));
          assert.equal(error.code, 'STORE_BACKEND_UNAVAILABLE');
          assert.equal(error.status, 503);
          return true;
        });
      } finally {
        await store.close();
      }
    });
  });
  void (undefined as unknown as PostgresEventStore);
}
