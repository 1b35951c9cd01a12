// The PostgreSQL read-model store (DESIGN.md §5, §9): read models on a shared
// server, so that any number of API nodes query what the projection workers
// (one leader per projection, see src/readModels/postgres/leader.ts) write.
// The store's own tables come from versioned migrations applied at first use
// under an advisory lock; projection tables are created by `ensureProjection`
// under a transaction-scoped advisory lock, so nodes starting together agree.
// Transactions of one store run one at a time on one pooled connection; reads
// outside a transaction use the pool and see committed state.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ProvenantError } from '../../errors.js';
import {
  createPool,
  inTransaction,
  mapConnectionError,
  lockKey,
  migrateOnce,
  type Pool,
  type PostgresOptions,
} from '../../postgres/index.js';
import { dropTables, operations, storedTables, type Connection } from './operations.js';
import type {
  EnsureResult,
  ProjectionSchema,
  ReadModelSnapshot,
  ReadModelStore,
  ReadModelTarget,
  ReadModelTransaction,
  TableDefinition,
} from '../port.js';
import { servesSameQueries, shadowRouting } from '../shadow.js';
import {
  beginRebuild,
  buildRebuildIndexes,
  completeRebuild,
  dropRebuild,
  rebuildState,
} from './rebuild.js';
import { guarded } from '../routed.js';
import { pgRoutedReads, pgRoutedTransaction, type Routing } from './routing.js';
import { createIndexSql, createTableSql, dropIndexSql, quote } from './sql.js';

export interface PostgresReadModelStore extends ReadModelStore {
  readonly schema: string;
  /** Applies the migrations now; rejects with POSTGRES_SCHEMA_NEWER or READ_MODEL_UNAVAILABLE. */
  start(): Promise<void>;
  /** The connection settings (the leader election opens its own connections with them). */
  readonly options: PostgresOptions;
  /**
   * The same store with every transaction run on `connection` (which the
   * caller owns): the projection leader's connection, so that a leader whose
   * lock session ends can commit nothing more (see leader.ts).
   */
  pinnedTo(connection: Connection): ReadModelStore;
}

export const READ_MODEL_MIGRATIONS_TABLE = 'read_model_migrations';

export const readModelMigrations = [
  {
    version: 1,
    name: 'store tables',
    up: `
CREATE TABLE rm_projections (name text PRIMARY KEY, version integer NOT NULL, tables text NOT NULL);
CREATE TABLE rm_checkpoints (
  projection text PRIMARY KEY, position bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE rm_dead_letters (
  id bigserial PRIMARY KEY, projection text NOT NULL, position bigint NOT NULL,
  event_id text NOT NULL, type text NOT NULL, error text NOT NULL,
  attempts integer NOT NULL, parked_at text NOT NULL);
CREATE INDEX rm_dead_letters_by_projection ON rm_dead_letters (projection, id);
`,
  },
  {
    version: 2,
    name: 'out-of-sight rebuilds',
    up: `
CREATE TABLE rm_rebuilds (
  projection text PRIMARY KEY, version integer NOT NULL, tables text NOT NULL, position bigint,
  started_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE rm_rebuild_dead_letters (
  id bigserial PRIMARY KEY, projection text NOT NULL, position bigint NOT NULL,
  event_id text NOT NULL, type text NOT NULL, error text NOT NULL,
  attempts integer NOT NULL, parked_at text NOT NULL);
`,
  },
  {
    version: 3,
    name: 'the log the read models are built from',
    up: `
CREATE TABLE rm_source_logs (projection text PRIMARY KEY, first_event_id text NOT NULL);
`,
  },
] as const;

const CURRENT: Routing = shadowRouting([]);

export function getPostgresReadModelStore(options: PostgresOptions): PostgresReadModelStore {
  const schema = options.schema ?? 'public';
  const pool = createPool(options, 'readmodels');
  let closed = false;
  let closing: Promise<void> | undefined;

  const ready = migrateOnce(pool, {
    schema,
    table: READ_MODEL_MIGRATIONS_TABLE,
    component: 'read-model',
    migrations: readModelMigrations,
  });

  const base = buildStore({
    pool,
    schema,
    ready,
    isClosed: () => closed,
    acquire: async () => {
      const c = await pool.connect();
      return { c, release: (error?: Error) => c.release(error) };
    },
  });
  return {
    ...base,
    schema,
    options,
    start: () => base.run(() => Promise.resolve()),
    pinnedTo: (connection) =>
      buildStore({
        pool,
        schema,
        ready,
        isClosed: () => closed,
        acquire: () => Promise.resolve({ c: connection, release: () => undefined }),
      }),
    close() {
      if (!closed) {
        closed = true;
        closing = base.idle().then(() => pool.end().catch(() => undefined));
      }
      return closing ?? Promise.resolve();
    },
  };
}

interface StoreParts {
  pool: Pool;
  schema: string;
  ready: () => Promise<void>;
  isClosed: () => boolean;
  acquire: () => Promise<{ c: Connection; release: (error?: Error) => void }>;
}

/** The port over `parts`: reads on the pool, transactions on connections from `acquire`. */
function buildStore(parts: StoreParts): ReadModelStore & {
  run: <T>(work: () => Promise<T>) => Promise<T>;
  idle: () => Promise<unknown>;
} {
  const { pool, schema, ready } = parts;
  const ddlLock = lockKey(schema, 'read-model-ddl');
  const reads = operations(pool);
  let queue: Promise<unknown> = Promise.resolve();
  const inside = new AsyncLocalStorage<boolean>();

  /** Runs `work` once the store is open and its schema in place; maps a lost server to READ_MODEL_UNAVAILABLE. */
  const run = async <T>(work: () => Promise<T>): Promise<T> => {
    if (parts.isClosed())
      throw new ProvenantError('READ_MODEL_CLOSED', 'read-model store is closed');
    return mapConnectionError(
      async () => {
        await ready();
        return work();
      },
      (message, cause) => new ProvenantError('READ_MODEL_UNAVAILABLE', message, { cause }),
    );
  };

  /** One transaction at a time per store, on one pooled connection. */
  const transact = <T>(fn: (c: Connection) => Promise<T>): Promise<T> => {
    if (inside.getStore() === true)
      return Promise.reject(
        new ProvenantError(
          'READ_MODEL_INVALID',
          'the store was called inside its own transaction: use the transaction object',
        ),
      );
    const exec = () =>
      run(async () => {
        const { c, release } = await parts.acquire();
        return inTransaction(c, () => inside.run(true, () => fn(c)), { release });
      });
    const next = queue.then(exec, exec);
    queue = next.catch(() => undefined);
    return next;
  };

  const assertOwnTables = async (c: Connection, s: ProjectionSchema): Promise<void> => {
    const owners = new Map<string, string>();
    const { rows } = await c.query<{ name: string; tables: string }>(
      'SELECT name, tables FROM rm_projections WHERE name <> $1',
      [s.name],
    );
    for (const { name, tables } of rows)
      for (const table of JSON.parse(tables) as TableDefinition[]) owners.set(table.name, name);
    for (const { name } of s.tables) {
      const owner = owners.get(name);
      if (
        /^(rm_|pg_|merkle_|events$|event_keys$|log_migrations$|read_model_migrations$)/i.test(
          name,
        ) ||
        owner !== undefined
      )
        throw new ProvenantError(
          'READ_MODEL_INVALID',
          `projection ${s.name} cannot own table ${name}${owner ? ` (it belongs to ${owner})` : ' (reserved)'}`,
        );
    }
  };

  const deferIndexes = (name: string) =>
    transact(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [ddlLock]);
      for (const table of await storedTables(c, name))
        for (const statement of dropIndexSql(table)) await c.query(statement);
    });
  const buildIndexes = (name: string) =>
    transact(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [ddlLock]);
      for (const table of await storedTables(c, name))
        for (const statement of createIndexSql(table)) await c.query(statement);
    });

  const transaction = <T>(fn: (tx: ReadModelTransaction) => Promise<T>, routing: Routing) =>
    transact(async (c) => {
      let open = true;
      try {
        return await fn(pgRoutedTransaction(c, routing, () => open));
      } finally {
        open = false;
      }
    });

  return {
    run,
    idle: () => queue,
    get: (table, key) => run(() => reads.get(table, key)),
    find: (table, where, opts) => run(() => reads.find(table, where, opts)),
    getCheckpoint: (projection) => run(() => reads.getCheckpoint(projection)),
    getParked: (id) => run(() => reads.getParked(id)),
    listParked: (projection) => run(() => reads.listParked(projection)),
    getSourceLog: (projection) =>
      run(async () => {
        const { rows } = await pool.query<{ first_event_id: string }>(
          'SELECT first_event_id FROM rm_source_logs WHERE projection = $1',
          [projection],
        );
        return rows[0]?.first_event_id;
      }),
    setSourceLog: (projection, firstEventId) =>
      transact(async (c) => {
        await c.query(
          'INSERT INTO rm_source_logs (projection, first_event_id) VALUES ($1, $2) ON CONFLICT (projection) DO UPDATE SET first_event_id = EXCLUDED.first_event_id',
          [projection, firstEventId],
        );
      }),
    ensureProjection: (s) =>
      transact(async (c): Promise<EnsureResult> => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [ddlLock]);
        const declaration = JSON.stringify(s.tables);
        const { rows } = await c.query<{ version: number; tables: string }>(
          'SELECT version, tables FROM rm_projections WHERE name = $1',
          [s.name],
        );
        const stored = rows[0];
        if (stored?.version === s.version && stored.tables === declaration) return 'unchanged';
        await assertOwnTables(c, s);
        // The current tables answer the new declaration's queries: they serve until the rebuild swaps.
        if (
          stored !== undefined &&
          servesSameQueries(JSON.parse(stored.tables) as TableDefinition[], s.tables)
        ) {
          if ((await rebuildState(c, s))?.current !== true) await beginRebuild(c, s);
          return 'rebuilding';
        }
        await dropRebuild(c, s.name);
        await dropTables(c, s.name);
        for (const table of s.tables) {
          await c.query(`DROP TABLE IF EXISTS ${quote(table.name)}`);
          for (const statement of createTableSql(table)) await c.query(statement);
        }
        await c.query('INSERT INTO rm_projections (name, version, tables) VALUES ($1, $2, $3)', [
          s.name,
          s.version,
          declaration,
        ]);
        return stored === undefined ? 'created' : 'rebuilt';
      }),
    dropProjection: (name) =>
      transact(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [ddlLock]);
        await dropRebuild(c, name);
        await dropTables(c, name);
      }),
    deferIndexes,
    buildIndexes,
    beginRebuild: (schema) =>
      transact(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [ddlLock]);
        await assertOwnTables(c, schema);
        await beginRebuild(c, schema);
      }),
    requestRebuilds: (schemas) =>
      transact(async (c) => {
        // The lock every begin takes: no rebuild can begin between the look and the begin.
        await c.query('SELECT pg_advisory_xact_lock($1)', [ddlLock]);
        const begun: string[] = [];
        for (const schema of schemas) {
          if ((await rebuildState(c, schema)) !== undefined) continue;
          await assertOwnTables(c, schema);
          await beginRebuild(c, schema);
          begun.push(schema.name);
        }
        return begun;
      }),
    getRebuild: (schema) => run(() => rebuildState(pool, schema)),
    rebuildView: (schemas): ReadModelTarget => {
      const routing = shadowRouting(schemas);
      const routed = pgRoutedReads(pool, routing);
      return {
        get: (table, key) => run(async () => routed.get(table, key)),
        find: (table, where, opts) => run(async () => routed.find(table, where, opts)),
        getCheckpoint: (projection) => run(async () => routed.getCheckpoint(projection)),
        transaction: (fn) => transaction(fn, routing),
        deferIndexes: (name) =>
          routing.rebuilding(name) ? run(() => Promise.resolve()) : deferIndexes(name),
        buildIndexes: (name) =>
          routing.rebuilding(name) ? run(() => Promise.resolve()) : buildIndexes(name),
      };
    },
    // The indexes first, in a transaction of their own: the swap then only renames.
    completeRebuild: async (name) => {
      await transact(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [ddlLock]);
        await buildRebuildIndexes(c, name);
      });
      await transact(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [ddlLock]);
        await completeRebuild(c, name);
      });
    },
    abortRebuild: (name) =>
      transact(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [ddlLock]);
        await dropRebuild(c, name);
      }),
    transaction: (fn) => transaction(fn, CURRENT),
    // On a pooled connection of its own (not the transaction queue): a
    // repeatable-read, read-only transaction sees one snapshot for all its reads.
    read: <T>(fn: (snapshot: ReadModelSnapshot) => Promise<T>) =>
      run(async () => {
        const c = await pool.connect();
        let open = true;
        const guard = guarded(() => open);
        const own = operations(c);
        return inTransaction(
          c,
          () =>
            fn({
              get: guard(own.get),
              find: guard(own.find),
              getCheckpoint: guard(own.getCheckpoint),
            }),
          {
            begin: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
            release: (broken) => {
              open = false;
              c.release(broken);
            },
          },
        );
      }),
    close: () => Promise.resolve(),
  };
}
