// The statements of the SQLite read-model store on its one connection: reads of
// declared tables, the writes of a transaction, checkpoints and dead letters.
// All synchronous (better-sqlite3); the store (readModelStore.ts) queues them.
// Statements are prepared once per distinct SQL text and reused (see
// eventStore/sqlite/database.ts on why they must stay reachable).
import { ProvenantError } from '../../errors.js';
import type { Database } from '../../eventStore/sqlite/database.js';
import type {
  FindOptions,
  FindResult,
  ParkedEvent,
  ParkedEventInput,
  Row,
  TableDefinition,
  Where,
} from '../port.js';
import {
  columnType,
  decodeCursor,
  decodeRow,
  encode,
  encodeCursor,
  encoderOf,
  keySql,
  quote,
  selectFrom,
  valueIndex,
  whereSql,
} from './sql.js';
import { PARKED_INSERT_COLUMNS, parkedValues, toParked, type ParkedRow } from '../parked.js';

const PARKED = 'id, projection, position, event_id, type, error, attempts, parked_at';

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

/** The store's statements on `db`. */
export function sqliteOperations(db: Database.Database) {
  const statements = new Map<string, Database.Statement>();
  const stmt = (sql: string): Database.Statement => {
    let s = statements.get(sql);
    if (s === undefined) statements.set(sql, (s = db.prepare(sql)));
    return s;
  };
  const bigStmt = (sql: string): Database.Statement => stmt(sql).safeIntegers(true);
  /** Statements that read table rows, each row as its values in column order (`raw` mode). */
  const rowStatements = new Map<string, Database.Statement>();
  const rowStmt = (sql: string): Database.Statement => {
    let s = rowStatements.get(sql);
    if (s === undefined) rowStatements.set(sql, (s = db.prepare(sql).raw(true)));
    return s;
  };

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

  const get = <R extends Row>(table: TableDefinition<R>, key: Partial<R>): R | undefined => {
    const k = keySql(table, key);
    const values = rowStmt(`${selectFrom(table)} WHERE ${k.sql}`).get(...k.params);
    return values === undefined ? undefined : decodeRow(table, values as unknown[]);
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
    // No LIMIT clause without a limit: SQLite reads a bound LIMIT's value while
    // planning, so each new binding of it re-prepares the statement (~15 us of a
    // five-row find; docs/projections.md, "Where the unit read's time goes").
    if (limit !== undefined) params.push(limit);
    const sql =
      selectFrom(table) +
      (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
      ` ORDER BY ${sort.map((c) => `${quote(c)} ${dir}`).join(', ')}` +
      (limit === undefined ? '' : ' LIMIT ?');
    const stored = rowStmt(sql).all(...params) as unknown[][];
    const rows = stored.map((values) => decodeRow(table, values));
    const last = stored.at(-1);
    return limit !== undefined && rows.length === limit && last !== undefined
      ? { rows, next: encodeCursor(sort.map((c) => last[valueIndex(table, c)])) }
      : { rows };
  };

  const getCheckpoint = (projection: string): bigint | undefined => {
    const value = bigStmt('SELECT position FROM rm_checkpoints WHERE projection = ?')
      .pluck()
      .get(projection) as bigint | undefined;
    return value === undefined ? undefined : BigInt(value);
  };

  const getParked = (id: number): ParkedEvent | undefined => {
    const row = bigStmt(`SELECT ${PARKED} FROM rm_dead_letters WHERE id = ?`).get(id);
    return row === undefined ? undefined : toParked(row as ParkedRow);
  };

  const listParked = (projection?: string): ParkedEvent[] =>
    (projection === undefined
      ? bigStmt(`SELECT ${PARKED} FROM rm_dead_letters ORDER BY id`).all()
      : bigStmt(`SELECT ${PARKED} FROM rm_dead_letters WHERE projection = ? ORDER BY id`).all(
          projection,
        )
    ).map((r) => toParked(r as ParkedRow));

  /** The tables a projection was created with. */
  const storedTables = (name: string): TableDefinition[] => {
    const stored = stmt('SELECT tables FROM rm_projections WHERE name = ?').pluck().get(name);
    return stored === undefined ? [] : (JSON.parse(stored as string) as TableDefinition[]);
  };

  const writes = {
    upsert: (table: TableDefinition, row: Row): void => {
      const plan = upsertPlan(table);
      for (const column in row) if (!plan.columns.has(column)) columnType(table, column); // throws: no such column
      for (const column of table.primaryKey)
        if (row[column] === undefined || row[column] === null) keySql(table, row); // throws
      plan.statement.run(...plan.encode(row));
    },
    update: (table: TableDefinition, key: Row, patch: Row): void => {
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
    },
    delete: (table: TableDefinition, key: Row): void => {
      const k = keySql(table, key);
      stmt(`DELETE FROM ${quote(table.name)} WHERE ${k.sql}`).run(...k.params);
    },
    setCheckpoint: (projection: string, position: bigint): void => {
      stmt(
        'INSERT INTO rm_checkpoints (projection, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (projection) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
      ).run(projection, position, new Date().toISOString());
    },
    park: (entry: ParkedEventInput): number => {
      const info = stmt(
        `INSERT INTO rm_dead_letters ${PARKED_INSERT_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(...parkedValues(entry));
      return Number(info.lastInsertRowid);
    },
    takeParked: (id: number): ParkedEvent | undefined => {
      const parked = getParked(id);
      if (parked !== undefined) stmt('DELETE FROM rm_dead_letters WHERE id = ?').run(id);
      return parked;
    },
  };

  return {
    stmt,
    bigStmt,
    get,
    find,
    getCheckpoint,
    getParked,
    listParked,
    storedTables,
    writes,
  };
}
