// The statements of the PostgreSQL read-model store: the port's reads on any
// connection (or the pool), the writes of a transaction, and dropping a
// projection's tables. Values are mapped by sql.ts.
import { ProvenantError } from '../../errors.js';
import type { Pool, PoolClient } from '../../postgres/index.js';
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
  Params,
  columnType,
  decodeCursor,
  decodeRow,
  encode,
  encodeCursor,
  keySql,
  quote,
  whereSql,
} from './sql.js';
import { PARKED_INSERT_COLUMNS, parkedValues, toParked, type ParkedRow } from '../parked.js';

/** A connection a store can run its transactions on. */
export type Connection = Pick<PoolClient, 'query'>;

type Queryable = Pick<Pool, 'query'>;

const PARKED =
  'id::text AS id, projection, position::text AS position, event_id, type, error, attempts, parked_at';

/** The reads and writes of the port on one connection (or the pool). */
export function operations(q: Queryable) {
  const get = async <R extends Row>(table: TableDefinition<R>, key: Partial<R>) => {
    const params = new Params();
    const where = keySql(table, key, params);
    const columns = Object.keys(table.columns).map(quote).join(', ');
    const { rows } = await q.query(
      `SELECT ${columns} FROM ${quote(table.name)} WHERE ${where}`,
      params.values,
    );
    return rows[0] === undefined ? undefined : decodeRow(table, rows[0] as Row);
  };

  const find = async <R extends Row>(
    table: TableDefinition<R>,
    where: Where<R> = {},
    options: FindOptions<R> = {},
  ): Promise<FindResult<R>> => {
    const params = new Params();
    const w = whereSql(table, where, params);
    const sort = [...(options.orderBy ?? [])];
    for (const column of table.primaryKey) if (!sort.includes(column)) sort.push(column);
    for (const column of sort) columnType(table, column);
    const desc = options.direction === 'desc';
    const conditions = w === '' ? [] : [w];
    if (options.after !== undefined) {
      const values = decodeCursor(options.after, sort.length);
      const placeholders = sort.map((c, i) => `${params.add(encode(table, c, values[i]))}`);
      conditions.push(
        `(${sort.map(quote).join(', ')}) ${desc ? '<' : '>'} (${placeholders.join(', ')})`,
      );
    }
    const limit = options.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
      throw new ProvenantError(
        'READ_MODEL_INVALID',
        `limit must be a positive integer, got ${limit}`,
      );
    const columns = Object.keys(table.columns).map(quote).join(', ');
    const sql =
      `SELECT ${columns} FROM ${quote(table.name)}` +
      (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
      ` ORDER BY ${sort.map((c) => `${quote(c)} ${desc ? 'DESC NULLS LAST' : 'ASC NULLS FIRST'}`).join(', ')}` +
      (limit === undefined ? '' : ` LIMIT ${params.add(limit)}`);
    const { rows: raws } = await q.query(sql, params.values);
    const rows = raws.map((raw) => decodeRow(table, raw as Row));
    const last = rows.at(-1);
    return limit !== undefined && rows.length === limit && last !== undefined
      ? { rows, next: encodeCursor(sort.map((c) => last[c])) }
      : { rows };
  };

  const getCheckpoint = async (projection: string): Promise<bigint | undefined> => {
    const { rows } = await q.query<{ p: string }>(
      'SELECT position::text AS p FROM rm_checkpoints WHERE projection = $1',
      [projection],
    );
    return rows[0] === undefined ? undefined : BigInt(rows[0].p);
  };

  const getParked = async (id: number): Promise<ParkedEvent | undefined> => {
    if (!Number.isSafeInteger(id)) return undefined;
    const { rows } = await q.query<ParkedRow>(
      `SELECT ${PARKED} FROM rm_dead_letters WHERE id = $1`,
      [id],
    );
    return rows[0] === undefined ? undefined : toParked(rows[0]);
  };

  const listParked = async (projection?: string): Promise<ParkedEvent[]> => {
    const { rows } =
      projection === undefined
        ? await q.query<ParkedRow>(`SELECT ${PARKED} FROM rm_dead_letters ORDER BY id`)
        : await q.query<ParkedRow>(
            `SELECT ${PARKED} FROM rm_dead_letters WHERE projection = $1 ORDER BY id`,
            [projection],
          );
    return rows.map(toParked);
  };

  return { get, find, getCheckpoint, getParked, listParked };
}

/** Writes of a transaction on its connection. */
export function writes(c: Connection) {
  return {
    upsert: async (table: TableDefinition, row: Row) => {
      const params = new Params();
      keySql(table, row, new Params());
      for (const column of Object.keys(row)) columnType(table, column);
      const columns = Object.keys(table.columns);
      const values = columns.map((col) => params.add(encode(table, col, row[col])));
      const rest = columns.filter((col) => !table.primaryKey.includes(col));
      const onConflict =
        rest.length === 0
          ? 'DO NOTHING'
          : `DO UPDATE SET ${rest.map((col) => `${quote(col)} = EXCLUDED.${quote(col)}`).join(', ')}`;
      await c.query(
        `INSERT INTO ${quote(table.name)} (${columns.map(quote).join(', ')}) VALUES (${values.join(', ')})
         ON CONFLICT (${table.primaryKey.map(quote).join(', ')}) ${onConflict}`,
        params.values,
      );
    },
    update: async (table: TableDefinition, key: Row, patch: Row) => {
      const params = new Params();
      const order = Object.keys(table.columns);
      const columns = Object.keys(patch)
        .filter((col) => patch[col] !== undefined)
        .sort((a, b) => order.indexOf(a) - order.indexOf(b));
      const sets = columns.map(
        (col) => `${quote(col)} = ${params.add(encode(table, col, patch[col]))}`,
      );
      const where = keySql(table, key, params);
      if (sets.length === 0) return;
      await c.query(
        `UPDATE ${quote(table.name)} SET ${sets.join(', ')} WHERE ${where}`,
        params.values,
      );
    },
    delete: async (table: TableDefinition, key: Row) => {
      const params = new Params();
      const where = keySql(table, key, params);
      await c.query(`DELETE FROM ${quote(table.name)} WHERE ${where}`, params.values);
    },
    setCheckpoint: async (projection: string, position: bigint) => {
      await c.query(
        `INSERT INTO rm_checkpoints (projection, position, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
        [projection, position.toString()],
      );
    },
    park: async (entry: ParkedEventInput) => {
      const { rows } = await c.query<{ id: string }>(
        `INSERT INTO rm_dead_letters ${PARKED_INSERT_COLUMNS} VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id::text AS id`,
        parkedValues(entry),
      );
      return Number(rows[0]?.id);
    },
    takeParked: async (id: number) => {
      const { rows } = await c.query<ParkedRow>(
        `DELETE FROM rm_dead_letters WHERE id = $1 RETURNING ${PARKED}`,
        [id],
      );
      return rows[0] === undefined ? undefined : toParked(rows[0]);
    },
  };
}

/** The tables a projection was created with. */
export async function storedTables(c: Connection, name: string): Promise<TableDefinition[]> {
  const { rows } = await c.query<{ tables: string }>(
    'SELECT tables FROM rm_projections WHERE name = $1',
    [name],
  );
  return rows[0] === undefined ? [] : (JSON.parse(rows[0].tables) as TableDefinition[]);
}

/** Drops a projection's tables and forgets it (inside the caller's transaction). */
export async function dropTables(c: Connection, name: string): Promise<void> {
  const tables = await storedTables(c, name);
  for (const table of tables) await c.query(`DROP TABLE IF EXISTS ${quote(table.name)}`);
  await c.query('DELETE FROM rm_projections WHERE name = $1', [name]);
  await c.query('DELETE FROM rm_checkpoints WHERE projection = $1', [name]);
  await c.query('DELETE FROM rm_dead_letters WHERE projection = $1', [name]);
}
