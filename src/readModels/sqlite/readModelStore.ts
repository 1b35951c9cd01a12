// The SQLite read-model store: its own database file, apart from the log's
// (DESIGN.md §5). One connection; transactions are serialised through a queue,
// so an async transaction never interleaves with another or with a read.
// Statements are prepared once per distinct SQL text and reused (see
// eventStore/sqlite/database.ts on why they must stay reachable).
import { AsyncLocalStorage } from 'node:async_hooks';
import { ProvenantError } from '../../errors.js';
import type { Database } from '../../eventStore/sqlite/database.js';
import type {
  EnsureResult,
  FindOptions,
  FindResult,
  ParkedEvent,
  ParkedEventInput,
  ProjectionSchema,
  ReadModelSnapshot,
  ReadModelStore,
  ReadModelTransaction,
  Row,
  TableDefinition,
  Where,
} from '../port.js';
import { openReadModelFile, type OpenReadModelOptions } from './file.js';
import {
  columnType,
  createIndexSql,
  createTableSql,
  dropIndexSql,
  decodeCursor,
  decodeRow,
  encode,
  encodeCursor,
  encoderOf,
  keySql,
  quote,
  selectFrom,
  whereSql,
} from './sql.js';

export interface SQLiteReadModelStore extends ReadModelStore {
  readonly path: string;
}

interface ParkedRow {
  id: number;
  projection: string;
  position: bigint;
  event_id: string;
  type: string;
  error: string;
  attempts: number;
  parked_at: string;
}

const toParked = (r: ParkedRow): ParkedEvent => ({
  id: Number(r.id),
  projection: r.projection,
  position: BigInt(r.position),
  eventId: r.event_id,
  type: r.type,
  error: r.error,
  attempts: Number(r.attempts),
  parkedAt: r.parked_at,
});

/** Opens (creating, or rebuilding when unusable) the read-model database at `path`. */
export function getSQLiteReadModelStore(
  options: { path: string } & OpenReadModelOptions,
): SQLiteReadModelStore {
  const db: Database.Database = openReadModelFile(options.path, options);
  const statements = new Map<string, Database.Statement>();
  const stmt = (sql: string): Database.Statement => {
    let s = statements.get(sql);
    if (s === undefined) statements.set(sql, (s = db.prepare(sql)));
    return s;
  };
  const bigStmt = (sql: string): Database.Statement => stmt(sql).safeIntegers(true);

  type Encoder = (value: unknown) => unknown;
  /**
   * How rows of a table are upserted, worked out once per table: the statement and
   * an encoder per column (the hot path of a rebuild writes hundreds of thousands).
   */
  interface UpsertPlan {
    columns: ReadonlySet<string>;
    statement: Database.Statement;
    encode: (row: Row) => unknown[];
  }
  const upsertPlans = new WeakMap<TableDefinition, UpsertPlan>();
  const upsertPlan = (table: TableDefinition): UpsertPlan => {
    let plan = upsertPlans.get(table);
    if (plan === undefined) {
      const columns = Object.keys(table.columns);
      const encoders = columns.map((column) => encoderOf(table, column));
      plan = {
        columns: new Set(columns),
        statement: stmt(
          `INSERT OR REPLACE INTO ${quote(table.name)} (${columns.map(quote).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
        ),
        encode: (row) => columns.map((column, i) => (encoders[i] as Encoder)(row[column])),
      };
      upsertPlans.set(table, plan);
    }
    return plan;
  };

  let queue: Promise<unknown> = Promise.resolve();
  const insideTransaction = new AsyncLocalStorage<boolean>();
  let closed = false;
  let closing: Promise<void> = Promise.resolve();
  /** Runs `fn` after everything queued before it. */
  const exclusive = <T>(fn: () => Promise<T> | T): Promise<T> => {
    if (closed)
      return Promise.reject(new ProvenantError('READ_MODEL_CLOSED', 'read-model store is closed'));
    // Queued behind the transaction it is called from, it would wait for ever.
    if (insideTransaction.getStore() === true)
      return Promise.reject(
        new ProvenantError(
          'READ_MODEL_INVALID',
          'the store was called inside its own transaction: use the transaction object',
        ),
      );
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  // ------------------------------------------------------------ synchronous operations
  const get = <R extends Row>(table: TableDefinition<R>, key: Partial<R>): R | undefined => {
    const k = keySql(table, key);
    const raw = stmt(`${selectFrom(table)} WHERE ${k.sql}`).get(...k.params);
    return raw === undefined ? undefined : decodeRow(table, raw as Row);
  };

  const find = <R extends Row>(
    table: TableDefinition<R>,
    where: Where<R> = {},
    options: FindOptions<R> = {},
  ): FindResult<R> => {
    const w = whereSql(table, where);
    const sort = [...(options.orderBy ?? [])];
    for (const column of table.primaryKey) if (!sort.includes(column)) sort.push(column);
    const dir = options.direction === 'desc' ? 'DESC' : 'ASC';
    const conditions = w.sql === '' ? [] : [w.sql];
    const params = [...w.params];
    if (options.after !== undefined) {
      const values = decodeCursor(options.after, sort.length);
      conditions.push(
        `(${sort.map(quote).join(', ')}) ${dir === 'ASC' ? '>' : '<'} (${sort.map(() => '?').join(', ')})`,
      );
      params.push(...values);
    }
    const limit = options.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
      throw new ProvenantError(
        'READ_MODEL_INVALID',
        `limit must be a positive integer, got ${limit}`,
      );
    const sql =
      selectFrom(table) +
      (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
      ` ORDER BY ${sort.map((c) => `${quote(c)} ${dir}`).join(', ')} LIMIT ?`;
    const raws = stmt(sql).all(...params, limit ?? -1) as Row[];
    const rows = raws.map((raw) => decodeRow(table, raw));
    const last = raws.at(-1);
    return limit !== undefined && rows.length === limit && last !== undefined
      ? { rows, next: encodeCursor(sort.map((c) => last[c])) }
      : { rows };
  };

  const getCheckpoint = (projection: string): bigint | undefined => {
    const value = bigStmt('SELECT position FROM rm_checkpoints WHERE projection = ?')
      .pluck()
      .get(projection) as bigint | undefined;
    return value === undefined ? undefined : BigInt(value);
  };

  const parkedColumns = 'id, projection, position, event_id, type, error, attempts, parked_at';
  const getParked = (id: number): ParkedEvent | undefined => {
    const row = bigStmt(`SELECT ${parkedColumns} FROM rm_dead_letters WHERE id = ?`).get(id);
    return row === undefined ? undefined : toParked(row as ParkedRow);
  };

  /** The tables a projection was created with. */
  const storedTables = (name: string): TableDefinition[] => {
    const stored = stmt('SELECT tables FROM rm_projections WHERE name = ?').pluck().get(name);
    return stored === undefined ? [] : (JSON.parse(stored as string) as TableDefinition[]);
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
  /** `fn` as a promise-returning operation that refuses to run once `isOpen()` is false. */
  const guarded =
    (isOpen: () => boolean) =>
    <A extends unknown[], T>(fn: (...args: A) => T) =>
    (...args: A): Promise<T> => {
      if (!isOpen())
        return Promise.reject(new ProvenantError('READ_MODEL_CLOSED', 'the transaction has ended'));
      try {
        return Promise.resolve(fn(...args));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    };

  const makeSnapshot = (isOpen: () => boolean): ReadModelSnapshot => {
    const guard = guarded(isOpen);
    return { get: guard(get), find: guard(find), getCheckpoint: guard(getCheckpoint) };
  };

  const makeTransaction = (isOpen: () => boolean): ReadModelTransaction => {
    const guard = guarded(isOpen);
    return {
      get: guard(get),
      find: guard(find),
      getCheckpoint: guard(getCheckpoint),
      upsert: guard((table: TableDefinition, row: Row) => {
        const plan = upsertPlan(table);
        for (const column in row) if (!plan.columns.has(column)) columnType(table, column); // throws: no such column
        for (const column of table.primaryKey)
          if (row[column] === undefined || row[column] === null) keySql(table, row); // throws
        plan.statement.run(...plan.encode(row));
      }),
      update: guard((table: TableDefinition, key: Row, patch: Row) => {
        const k = keySql(table, key);
        const order = Object.keys(table.columns);
        const columns = Object.keys(patch)
          .filter((c) => patch[c] !== undefined)
          .sort((a, b) => order.indexOf(a) - order.indexOf(b));
        if (columns.length === 0) return;
        const values = columns.map((c) => encode(table, c, patch[c]));
        stmt(
          `UPDATE ${quote(table.name)} SET ${columns.map((c) => `${quote(c)} = ?`).join(', ')} WHERE ${k.sql}`,
        ).run(...values, ...k.params);
      }),
      delete: guard((table: TableDefinition, key: Row) => {
        const k = keySql(table, key);
        stmt(`DELETE FROM ${quote(table.name)} WHERE ${k.sql}`).run(...k.params);
      }),
      setCheckpoint: guard((projection: string, position: bigint) => {
        stmt(
          'INSERT INTO rm_checkpoints (projection, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (projection) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
        ).run(projection, position, new Date().toISOString());
      }),
      park: guard((entry: ParkedEventInput) => {
        const info = stmt(
          'INSERT INTO rm_dead_letters (projection, position, event_id, type, error, attempts, parked_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        ).run(
          entry.projection,
          entry.position,
          entry.eventId,
          entry.type,
          entry.error,
          entry.attempts,
          entry.parkedAt,
        );
        return Number(info.lastInsertRowid);
      }),
      takeParked: guard((id: number) => {
        const parked = getParked(id);
        if (parked !== undefined) stmt('DELETE FROM rm_dead_letters WHERE id = ?').run(id);
        return parked;
      }),
    };
  };

  return {
    path: options.path,
    get: (table, key) => exclusive(() => get(table, key)),
    find: (table, where, opts) => exclusive(() => find(table, where, opts)),
    getCheckpoint: (projection) => exclusive(() => getCheckpoint(projection)),
    getParked: (id) => exclusive(() => getParked(id)),
    listParked: (projection) =>
      exclusive(() =>
        (projection === undefined
          ? bigStmt(`SELECT ${parkedColumns} FROM rm_dead_letters ORDER BY id`).all()
          : bigStmt(
              `SELECT ${parkedColumns} FROM rm_dead_letters WHERE projection = ? ORDER BY id`,
            ).all(projection)
        ).map((r) => toParked(r as ParkedRow)),
      ),
    ensureProjection: (schema: ProjectionSchema) =>
      exclusive(() =>
        inTransaction((): EnsureResult => {
          const declaration = JSON.stringify(schema.tables);
          const stored = stmt('SELECT version, tables FROM rm_projections WHERE name = ?').get(
            schema.name,
          ) as { version: number; tables: string } | undefined;
          if (stored?.version === schema.version && stored.tables === declaration)
            return 'unchanged';
          assertOwnTables(schema);
          dropTables(schema.name);
          for (const table of schema.tables) {
            db.exec(`DROP TABLE IF EXISTS ${quote(table.name)}`);
            for (const sql of createTableSql(table)) db.exec(sql);
          }
          stmt('INSERT INTO rm_projections (name, version, tables) VALUES (?, ?, ?)').run(
            schema.name,
            schema.version,
            declaration,
          );
          return stored === undefined ? 'created' : 'rebuilt';
        }),
      ),
    dropProjection: (name) => exclusive(() => inTransaction(() => dropTables(name))),
    deferIndexes: (name) =>
      exclusive(() =>
        inTransaction(() => {
          for (const table of storedTables(name))
            for (const sql of dropIndexSql(table)) db.exec(sql);
        }),
      ),
    buildIndexes: (name) =>
      exclusive(() =>
        inTransaction(() => {
          for (const table of storedTables(name))
            for (const sql of createIndexSql(table)) db.exec(sql);
        }),
      ),
    transaction: <T>(fn: (tx: ReadModelTransaction) => Promise<T>) =>
      exclusive(async () => {
        let open = true;
        stmt('BEGIN IMMEDIATE').run();
        try {
          const tx = makeTransaction(() => open);
          const result = await insideTransaction.run(true, () => fn(tx));
          stmt('COMMIT').run();
          return result;
        } catch (error) {
          if (db.inTransaction) stmt('ROLLBACK').run();
          throw error;
        } finally {
          open = false;
        }
      }),
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
        closing = queue.then(() => {
          db.close();
        });
      }
      return closing;
    },
  };
}
