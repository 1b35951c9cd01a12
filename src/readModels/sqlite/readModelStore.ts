// The SQLite read-model store: its own database file, apart from the log's
// (DESIGN.md §5). One connection; transactions are serialised through a queue,
// so an async transaction never interleaves with another or with a read. The
// statements are in operations.ts, out-of-sight rebuilds in rebuild.ts.
// Secondary indexes of filled tables are built on a worker thread
// (indexBuild.ts): reads go on meanwhile, writes wait for the build to end.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ProvenantError } from '../../errors.js';
import type { Database } from '../../eventStore/sqlite/database.js';
import type {
  EnsureResult,
  ProjectionSchema,
  ReadModelSnapshot,
  ReadModelStore,
  ReadModelTarget,
  ReadModelTransaction,
  TableDefinition,
} from '../port.js';
import { guarded, routedReads, routedTransaction, type Routing } from '../routed.js';
import { servesSameQueries, shadowRouting } from '../shadow.js';
import { openReadModelFile, type OpenReadModelOptions } from './file.js';
import { sqliteOperations } from './operations.js';
import { sqliteIndexes } from './indexes.js';
import { indexBuilder, type IndexTarget, type IndexWorkerStarter } from './indexBuild.js';
import { sqliteRebuilds } from './rebuild.js';
import { createTableSql, quote } from './sql.js';

export interface SQLiteReadModelStore extends ReadModelStore {
  readonly path: string;
}

export interface SQLiteReadModelStoreOptions extends OpenReadModelOptions {
  path: string;
  /**
   * Starts the thread that builds secondary indexes (indexBuild.ts; default
   * `startIndexWorker`). An injection point for tests only: a thread that dies
   * mid-build, or a shorter wait for the write lock.
   */
  indexWorker?: IndexWorkerStarter;
}

/** Which tables, checkpoints and dead letters a transaction uses (rebuilds: see shadow.ts). */
const CURRENT: Routing = shadowRouting([]);

/** Opens (creating, or rebuilding when unusable) the read-model database at `path`. */
export function getSQLiteReadModelStore(
  options: SQLiteReadModelStoreOptions,
): SQLiteReadModelStore {
  const db: Database.Database = openReadModelFile(options.path, options);
  const ops = sqliteOperations(db);
  const { stmt, get, find, getCheckpoint, storedTables } = ops;
  const indexes = sqliteIndexes(db, stmt);
  const rebuilds = sqliteRebuilds({ db, stmt, bigStmt: ops.bigStmt, indexes, storedTables });

  let queue: Promise<unknown> = Promise.resolve();
  const insideTransaction = new AsyncLocalStorage<boolean>();
  let closed = false;
  let closing: Promise<void> = Promise.resolve();
  /** Why the store cannot take a call now, if it cannot. */
  const refusal = (): ProvenantError | undefined => {
    if (closed) return new ProvenantError('READ_MODEL_CLOSED', 'read-model store is closed');
    // Queued behind the transaction it is called from, it would wait for ever.
    if (insideTransaction.getStore() === true)
      return new ProvenantError(
        'READ_MODEL_INVALID',
        'the store was called inside its own transaction: use the transaction object',
      );
    return undefined;
  };
  const enqueue = <T>(fn: () => Promise<T> | T): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  /** Runs `fn` after everything queued before it. */
  const exclusive = <T>(fn: () => Promise<T> | T): Promise<T> => {
    const refused = refusal();
    return refused === undefined ? enqueue(fn) : Promise.reject(refused);
  };

  // While a worker builds indexes (indexBuild.ts) this connection keeps
  // reading, but does not write: waiting on the worker's write lock would be a
  // busy wait (busy_timeout) on the event loop. Writes asked for meanwhile wait
  // until the build ends, in the order asked (reads asked after them may pass).
  /** Settles when the index build under way ends; undefined when none is. */
  let building: Promise<void> | undefined;
  const afterBuild = <T>(start: () => Promise<T>): Promise<T> =>
    building === undefined ? start() : building.then(() => afterBuild(start));
  /** Runs the write `fn` after everything queued before it and after the index build under way. */
  const writing = <T>(fn: () => Promise<T> | T): Promise<T> => {
    const refused = refusal();
    return refused === undefined ? afterBuild(() => enqueue(fn)) : Promise.reject(refused);
  };

  const dropTables = (name: string): void => {
    const tables = storedTables(name);
    for (const table of tables) db.exec(`DROP TABLE IF EXISTS ${quote(table.name)}`);
    stmt('DELETE FROM rm_projections WHERE name = ?').run(name);
    stmt('DELETE FROM rm_checkpoints WHERE projection = ?').run(name);
    stmt('DELETE FROM rm_dead_letters WHERE projection = ?').run(name);
  };

  /** Refuses table names of the store itself or of another projection. */
  const assertOwnTables = (schema: ProjectionSchema): void => {
    const others = new Map<string, string>();
    const rows = stmt('SELECT name, tables FROM rm_projections WHERE name <> ?').all(schema.name);
    for (const { name, tables } of rows as { name: string; tables: string }[])
      for (const table of JSON.parse(tables) as TableDefinition[]) others.set(table.name, name);
    for (const { name } of schema.tables) {
      const owner = others.get(name);
      if (/^(rm_|sqlite_)/i.test(name) || owner !== undefined)
        throw new ProvenantError(
          'READ_MODEL_INVALID',
          `projection ${schema.name} cannot own table ${name}${owner ? ` (it belongs to ${owner})` : ' (reserved)'}`,
        );
    }
  };

  const inTransaction = <T>(fn: () => T): T => {
    stmt('BEGIN IMMEDIATE').run();
    try {
      const result = fn();
      stmt('COMMIT').run();
      return result;
    } catch (error) {
      if (db.inTransaction) stmt('ROLLBACK').run();
      throw error;
    }
  };

  // ------------------------------------------------------ transaction and snapshot objects
  const makeSnapshot = (isOpen: () => boolean): ReadModelSnapshot => {
    const guard = guarded(isOpen);
    return { get: guard(get), find: guard(find), getCheckpoint: guard(getCheckpoint) };
  };

  const transaction = <T>(fn: (tx: ReadModelTransaction) => Promise<T>, routing: Routing) =>
    writing(async () => {
      let open = true;
      stmt('BEGIN IMMEDIATE').run();
      try {
        const tx = routedTransaction(ops, ops.writes, rebuilds, routing, () => open);
        const result = await insideTransaction.run(true, () => fn(tx));
        stmt('COMMIT').run();
        return result;
      } catch (error) {
        if (db.inTransaction) stmt('ROLLBACK').run();
        throw error;
      } finally {
        open = false;
      }
    });

  /**
   * Settles once no index build is under way and nothing is queued (a write
   * that waited for a build is queued as the build ends).
   */
  const idle = async (): Promise<void> => {
    for (;;) {
      const [build, queued] = [building, queue];
      await build;
      await queued;
      if (build === building && queued === queue) return;
    }
  };

  // Indexes are found by their table and columns, whatever their names (indexes.ts).
  const deferIndexes = (name: string) =>
    writing(() =>
      inTransaction(() => {
        for (const table of storedTables(name)) indexes.dropAll(table.name);
      }),
    );

  // An in-memory database is this connection's alone: no worker can open it.
  const inMemory = options.path === ':memory:' || options.path === '';
  const builder = indexBuilder(options.path, {
    ...(options.trace === undefined ? {} : { trace: options.trace }),
    ...(options.indexWorker === undefined ? {} : { startWorker: options.indexWorker }),
  });
  /**
   * Builds the indexes that the tables `targets()` lists (read after everything
   * queued before it) lack, one per transaction: on a worker thread, or on this
   * one for an in-memory database. No worker is started when none is missing.
   */
  const buildMissing = (targets: () => IndexTarget[]): Promise<void> => {
    const lacking = () => targets().filter((t) => indexes.missing(t.table, t.on).length > 0);
    if (inMemory)
      return writing(() => {
        for (const { table, on } of lacking())
          for (const index of indexes.missing(table, on))
            inTransaction(() => indexes.create(table, index, on));
      });
    const refused = refusal();
    if (refused !== undefined) return Promise.reject(refused);
    return afterBuild(() => {
      const run = enqueue(lacking).then((list) => (list.length === 0 ? 0 : builder.build(list)));
      // Writes asked for from now on wait until the build has ended.
      building = run.then(
        () => (building = undefined),
        () => (building = undefined),
      );
      return run.then(() => undefined);
    });
  };
  const buildIndexes = (name: string) =>
    buildMissing(() => storedTables(name).map((table) => ({ table, on: table.name })));

  return {
    path: options.path,
    get: (table, key) => exclusive(() => get(table, key)),
    find: (table, where, opts) => exclusive(() => find(table, where, opts)),
    getCheckpoint: (projection) => exclusive(() => getCheckpoint(projection)),
    getParked: (id) => exclusive(() => ops.getParked(id)),
    listParked: (projection) => exclusive(() => ops.listParked(projection)),
    getSourceLog: (projection) =>
      exclusive(
        () =>
          (
            stmt('SELECT first_event_id FROM rm_source_logs WHERE projection = ?').get(
              projection,
            ) as { first_event_id: string } | undefined
          )?.first_event_id,
      ),
    setSourceLog: (projection, firstEventId) =>
      writing(() =>
        inTransaction(() => {
          stmt(
            'INSERT INTO rm_source_logs (projection, first_event_id) VALUES (?, ?) ON CONFLICT (projection) DO UPDATE SET first_event_id = excluded.first_event_id',
          ).run(projection, firstEventId);
        }),
      ),
    ensureProjection: (schema: ProjectionSchema) =>
      writing(() =>
        inTransaction((): EnsureResult => {
          const declaration = JSON.stringify(schema.tables);
          const stored = stmt('SELECT version, tables FROM rm_projections WHERE name = ?').get(
            schema.name,
          ) as { version: number; tables: string } | undefined;
          if (stored?.version === schema.version && stored.tables === declaration)
            return 'unchanged';
          assertOwnTables(schema);
          // The current tables answer the new declaration's queries: they serve until the rebuild swaps.
          if (
            stored !== undefined &&
            servesSameQueries(JSON.parse(stored.tables) as TableDefinition[], schema.tables)
          ) {
            if (rebuilds.state(schema)?.current !== true) rebuilds.begin(schema);
            return 'rebuilding';
          }
          rebuilds.drop(schema.name);
          dropTables(schema.name);
          for (const table of schema.tables) {
            db.exec(`DROP TABLE IF EXISTS ${quote(table.name)}`);
            db.exec(createTableSql(table));
            indexes.createMissing(table);
          }
          stmt('INSERT INTO rm_projections (name, version, tables) VALUES (?, ?, ?)').run(
            schema.name,
            schema.version,
            declaration,
          );
          return stored === undefined ? 'created' : 'rebuilt';
        }),
      ),
    dropProjection: (name) =>
      writing(() =>
        inTransaction(() => {
          rebuilds.drop(name);
          dropTables(name);
        }),
      ),
    deferIndexes,
    buildIndexes,
    beginRebuild: (schema) =>
      writing(() =>
        inTransaction(() => {
          assertOwnTables(schema);
          rebuilds.begin(schema);
        }),
      ),
    requestRebuilds: (schemas) =>
      writing(() =>
        inTransaction(() => {
          const begun = schemas.filter((schema) => rebuilds.state(schema) === undefined);
          for (const schema of begun) {
            assertOwnTables(schema);
            rebuilds.begin(schema);
          }
          return begun.map((schema) => schema.name);
        }),
      ),
    getRebuild: (schema) => exclusive(() => rebuilds.state(schema)),
    rebuildView: (schemas): ReadModelTarget => {
      const routing = shadowRouting(schemas);
      const reads = routedReads(ops, rebuilds, routing);
      return {
        get: (table, key) => exclusive(() => reads.get(table, key)),
        find: (table, where, opts) => exclusive(() => reads.find(table, where, opts)),
        getCheckpoint: (projection) => exclusive(() => reads.getCheckpoint(projection)),
        transaction: (fn) => transaction(fn, routing),
        deferIndexes: (name) =>
          routing.rebuilding(name) ? exclusive(() => undefined) : deferIndexes(name),
        buildIndexes: (name) =>
          routing.rebuilding(name) ? exclusive(() => undefined) : buildIndexes(name),
      };
    },
    // The new tables' indexes first (on a worker: reads go on meanwhile); the
    // swap then only renames.
    completeRebuild: async (name) => {
      await buildMissing(() => rebuilds.indexTargets(name));
      await writing(() => inTransaction(() => rebuilds.complete(name)));
    },
    abortRebuild: (name) => writing(() => inTransaction(() => rebuilds.drop(name))),
    transaction: (fn) => transaction(fn, CURRENT),
    // A deferred transaction: its first read fixes the snapshot (WAL), so a
    // runner of another process committing meanwhile is not seen half-way.
    read: <T>(fn: (snapshot: ReadModelSnapshot) => Promise<T>) =>
      exclusive(async () => {
        let open = true;
        stmt('BEGIN').run();
        try {
          return await insideTransaction.run(true, () => fn(makeSnapshot(() => open)));
        } finally {
          open = false;
          if (db.inTransaction) stmt('COMMIT').run();
        }
      }),
    close: () => {
      if (!closed) {
        closed = true;
        closing = idle()
          .then(() => builder.close())
          .then(() => {
            db.close();
          });
      }
      return closing;
    },
  };
}
