// The PostgreSQL read-model adapter against the read-model conformance suite,
// on the real server named by PROVENANT_TEST_POSTGRES_URL, plus migrations
// applied once under a lock, a refused newer schema, a server that is gone, and
// a rebuild refused while a process leads a projection, and one requested of
// the leader.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isProvenantError } from '../../src/errors.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import {
  electProjectionLeaders,
  getPostgresReadModelStore,
  readModelMigrations,
  whileNoProjectionLeaders,
  type PostgresReadModelStore,
} from '../../src/readModels/postgres/index.js';
import { requestRebuilds } from '../../src/readModels/rebuildRequest.js';
import { readModelConformance } from './conformance.js';
import { positionsProjection, row, schema as projectionSchema } from './conformanceSupport.js';
import { requirePostgres, sql, testSchema } from '../support/postgres.js';

const url = requirePostgres('read-model store: postgres');
if (url !== undefined) {
  const schema = testSchema(url, 'rm');
  const open = (s = schema) =>
    getPostgresReadModelStore({ connectionString: url, schema: s, maxConnections: 4 });

  readModelConformance('postgres', {
    createStore: () => Promise.resolve(open()),
    reopen: (store) => Promise.resolve(open((store as PostgresReadModelStore).schema)),
    indexesOf: async (store, table) => {
      const { rows } = await sql(
        url,
        (store as PostgresReadModelStore).schema,
        `SELECT columns FROM (
           SELECT string_agg(a.attname, ',' ORDER BY k.n) AS columns
           FROM pg_index i
           JOIN pg_class t ON t.oid = i.indrelid AND t.relnamespace = current_schema()::regnamespace
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
           WHERE t.relname = $1 AND NOT i.indisprimary
           GROUP BY i.indexrelid) AS x
         ORDER BY columns COLLATE "C"`,
        [table],
      );
      return rows.map((r) => (r as { columns: string }).columns);
    },
    exec: async (store, statement) => {
      await sql(url, (store as PostgresReadModelStore).schema, statement);
    },
  });

  describe('postgres read-model specifics', () => {
    it('applies its migrations once when nodes start together, and refuses a newer schema', async () => {
      const fresh = testSchema(url, 'rmmig');
      const stores = Array.from({ length: 4 }, () => open(fresh));
      const projection = {
        name: 'p',
        version: 1,
        tables: [{ name: 'p_rows', columns: { id: 'TEXT' as const }, primaryKey: ['id'] as const }],
      };
      await Promise.all(stores.map((s) => s.start()));
      const results = await Promise.all(stores.map((s) => s.ensureProjection(projection)));
      assert.deepEqual(results.sort(), ['created', 'unchanged', 'unchanged', 'unchanged']);
      const { rows } = await sql(url, fresh, 'SELECT version FROM read_model_migrations');
      assert.equal(rows.length, readModelMigrations.length); // each once
      await Promise.all(stores.map((s) => s.close()));
      await sql(url, fresh, "INSERT INTO read_model_migrations (version, name) VALUES (7, 'x')");
      const newer = open(fresh);
      try {
        await assert.rejects(newer.start(), (error: unknown) => {
          assert.ok(isProvenantError(error));
          assert.equal(error.code, 'POSTGRES_SCHEMA_NEWER');
          return true;
        });
      } finally {
        await newer.close();
      }
    });

    it('keeps indexes under their own names across swaps (deferIndexes drops them by name)', async () => {
      const store = open();
      const { schema: s, things } = projectionSchema();
      const names = async () => {
        const { rows } = await sql(
          url,
          schema,
          'SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 AND indexname NOT LIKE \'%_pkey\' ORDER BY indexname COLLATE "C"',
          [things.name],
        );
        return rows.map((r) => (r as { indexname: string }).indexname);
      };
      const own = [`${things.name}_by_owner`, `${things.name}_by_seq`];
      try {
        await store.ensureProjection(s);
        for (let round = 1; round <= 2; round++) {
          await store.beginRebuild(s);
          await store
            .rebuildView([s])
            .transaction((tx) => tx.upsert(things, row(`r${round}`, round)));
          await store.completeRebuild(s.name);
          assert.deepEqual(await names(), own);
        }
        await store.deferIndexes(s.name);
        assert.deepEqual(await names(), []);
        await store.buildIndexes(s.name);
        assert.deepEqual(await names(), own);
      } finally {
        await store.close();
      }
    });

    it('answers READ_MODEL_UNAVAILABLE (503) for a server that does not answer', async () => {
      const store = getPostgresReadModelStore({
        connectionString: 'postgres://postgres@127.0.0.1:1/none',
        schema,
        connectTimeoutMs: 500,
      });
      try {
        await assert.rejects(store.getCheckpoint('p'), (error: unknown) => {
          assert.ok(isProvenantError(error));
          assert.equal(error.code, 'READ_MODEL_UNAVAILABLE');
          assert.equal(error.status, 503);
          return true;
        });
      } finally {
        await store.close();
      }
    });

    it('refuses a rebuild while a process leads a projection, and holds off a leader while it rebuilds', async () => {
      const fresh = testSchema(url, 'rmlead');
      const store = open(fresh);
      const log = getSQLiteEventStore({ path: ':memory:' });
      const s = projectionSchema();
      const projection = positionsProjection(s);
      const elect = () =>
        electProjectionLeaders({
          eventStore: log,
          readModels: store,
          projections: [projection],
          pollMs: 50,
        });
      const leading = async (leaders: ReturnType<typeof elect>) => {
        const deadline = Date.now() + 10_000;
        while (leaders.leading().length === 0) {
          if (Date.now() > deadline) assert.fail('no leader');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      try {
        await store.start();
        const leader = elect();
        await leader.start();
        await leading(leader);
        await assert.rejects(
          whileNoProjectionLeaders(store, [projection.name], () => Promise.resolve('rebuilt')),
          (error: unknown) => {
            assert.ok(isProvenantError(error));
            assert.equal(error.code, 'READ_MODEL_RUNNER_RUNNING');
            assert.match(error.message, new RegExp(`projection:${projection.name} lock`));
            return true;
          },
        );
        await leader.stop();

        const late = elect();
        try {
          const value = await whileNoProjectionLeaders(store, [projection.name], async () => {
            await late.start();
            await new Promise((resolve) => setTimeout(resolve, 300)); // six tries of the lock
            assert.deepEqual(late.leading(), [], 'no leader while the rebuild holds the lock');
            return 'rebuilt';
          });
          assert.equal(value, 'rebuilt');
          await leading(late);
        } finally {
          await late.stop();
        }
      } finally {
        await store.close();
        await log.close();
      }
    });

    it('a rebuild requested while a process leads the projection is replayed by that leader', async () => {
      const fresh = testSchema(url, 'rmreq');
      const store = open(fresh);
      const elsewhere = open(fresh);
      const log = getSQLiteEventStore({ path: ':memory:' });
      const s = projectionSchema();
      const projection = positionsProjection(s);
      for (let i = 0; i < 20; i++) await log.append('s', [{ type: 'T.v1', data: {} }]);
      const leader = electProjectionLeaders({
        eventStore: log,
        readModels: store,
        projections: [projection],
        pollMs: 50,
      });
      try {
        await store.start();
        await leader.start();
        const deadline = Date.now() + 10_000;
        while ((await store.getCheckpoint(projection.name)) !== 20n) {
          if (Date.now() > deadline) assert.fail('the leader did not catch up');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        // A row lost behind the leader's back: only a replay of the log brings it back.
        await elsewhere.transaction((tx) => tx.delete(s.things, { id: 'e5' }));
        const result = await requestRebuilds({
          eventStore: log,
          readModels: elsewhere,
          definitions: [projection],
          pollMs: 20,
        });
        assert.deepEqual(result.requested, [projection.name]);
        assert.equal(result.checkpoints[projection.name], 20n);
        assert.equal(await store.getRebuild(projection), undefined);
        const rows = (await store.find(s.things)).rows;
        assert.equal(rows.length, 20);
        assert.ok(
          rows.some((r) => r.id === 'e5'),
          'the lost row is back',
        );
        // The leader is still live.
        await log.append('s', [{ type: 'T.v1', data: {} }]);
        while ((await store.getCheckpoint(projection.name)) !== 21n) {
          if (Date.now() > deadline) assert.fail('the leader did not go on');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        await leader.stop();
        await elsewhere.close();
        await store.close();
        await log.close();
      }
    });
  });
}
