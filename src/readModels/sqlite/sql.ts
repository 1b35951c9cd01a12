// SQL text and value mapping of declared read-model tables on SQLite: values
// are encoded per column type and decoded back (names, cursors: ../sql.ts).
// Pure string building, so every distinct statement is a distinct, cacheable text.
import { ProvenantError } from '../../errors.js';
import type { ColumnType, Row, TableDefinition } from '../port.js';
import { columnType, keyColumns, quote } from '../sql.js';

export { columnType, decodeCursor, encodeCursor, indexName, quote } from '../sql.js';

const sqlType: Record<ColumnType, string> = {
  TEXT: 'TEXT',
  INTEGER: 'INTEGER',
  REAL: 'REAL',
  BOOLEAN: 'INTEGER',
  JSON: 'TEXT',
};

/**
 * The CREATE TABLE statement of a table (its secondary indexes: indexes.ts).
 * Ordinary rowid tables, the declared key a unique index: rows are appended in
 * insert order, and the key index stays small. Read-model rows can be large (a receipt's data, ~1 KB),
 * which SQLite advises against in WITHOUT ROWID tables (rows stored in the key's
 * B-tree, so random keys split and rewrite big pages); the rebuild measured less
 * CPU and I/O this way (docs/projections.md, "Costs, measured"). A table whose
 * every column is in its key is a set of small keys: WITHOUT ROWID, so that
 * each row is stored once, in the key's B-tree, rather than twice.
 */
export function createTableSql(table: TableDefinition): string {
  const columns = Object.entries<ColumnType>(table.columns);
  if (table.primaryKey.length === 0)
    throw new ProvenantError('READ_MODEL_INVALID', `table ${table.name} has no primary key`);
  for (const column of [...table.primaryKey, ...(table.indexes ?? []).flat()])
    columnType(table, column);
  const keyOnly = columns.every(([name]) => table.primaryKey.includes(name));
  const create = `CREATE TABLE ${quote(table.name)} (${columns.map(([name, type]) => `${quote(name)} ${sqlType[type]}`).join(', ')}, PRIMARY KEY (${table.primaryKey.map(quote).join(', ')}))`;
  return keyOnly ? `${create} WITHOUT ROWID` : create;
}

const wrongType = (table: TableDefinition, column: string, type: ColumnType, value: unknown) =>
  new ProvenantError(
    'READ_MODEL_INVALID',
    `${table.name}.${column} is ${type}; got ${typeof value} ${JSON.stringify(value) ?? ''}`.trim(),
  );

/** How values of a column are stored: checked against its type and encoded. */
export function encoderOf(table: TableDefinition, column: string): (value: unknown) => unknown {
  const type = columnType(table, column);
  const check =
    (ok: (value: unknown) => boolean, stored: (value: never) => unknown = (v) => v) =>
    (value: unknown): unknown => {
      if (value === undefined || value === null) return null;
      if (!ok(value)) throw wrongType(table, column, type, value);
      return stored(value as never);
    };
  switch (type) {
    case 'TEXT':
      return check((v) => typeof v === 'string');
    case 'INTEGER':
      return check((v) => typeof v === 'bigint' || Number.isInteger(v));
    case 'REAL':
      return check((v) => typeof v === 'number');
    case 'BOOLEAN':
      return check(
        (v) => typeof v === 'boolean',
        (v: boolean) => (v ? 1 : 0),
      );
    case 'JSON':
      return check(
        () => true,
        (v: unknown) => JSON.stringify(v),
      );
  }
}

/** A JS value as stored in a column of its declared type. */
export const encode = (table: TableDefinition, column: string, value: unknown): unknown =>
  encoderOf(table, column)(value);

/** A stored value read back as the JS value of its column type. */
export function decode(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'BOOLEAN') return value === 1 || value === 1n;
  if (type === 'JSON') return JSON.parse(value as string) as unknown;
  if (type === 'INTEGER' && typeof value === 'bigint') return Number(value);
  return value;
}

/**
 * A stored row as the table's row type, from its values in declaration order (as
 * `selectFrom` lists the columns): read as an array, not an object keyed by column
 * name that would be built only to be read into this one.
 */
export function decodeRow<R extends Row>(table: TableDefinition<R>, values: readonly unknown[]): R {
  const row: Row = {};
  columnsOf(table).forEach(([name, type], i) => (row[name] = decode(type, values[i])));
  return row as R;
}

/** Where `column` is in a stored row's values (declaration order). */
export const valueIndex = (table: TableDefinition, column: string): number =>
  columnsOf(table).findIndex(([name]) => name === column);

const columnLists = new WeakMap<TableDefinition, readonly [string, ColumnType][]>();
const selectLists = new WeakMap<TableDefinition, string>();

/** The table's columns and types in declaration order (worked out once per table). */
function columnsOf(table: TableDefinition): readonly [string, ColumnType][] {
  let columns = columnLists.get(table);
  if (columns === undefined)
    columnLists.set(table, (columns = Object.entries<ColumnType>(table.columns)));
  return columns;
}

/** `SELECT "a", "b" FROM "table"` (worked out once per table). */
export function selectFrom(table: TableDefinition): string {
  let sql = selectLists.get(table);
  if (sql === undefined) {
    const columns = columnsOf(table).map(([name]) => quote(name));
    selectLists.set(table, (sql = `SELECT ${columns.join(', ')} FROM ${quote(table.name)}`));
  }
  return sql;
}

/** `"a" = ? AND "b" IS NULL` and its parameters, columns in declaration order. */
export function whereSql(table: TableDefinition, where: Row): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const order = Object.keys(table.columns);
  const columns = Object.keys(where)
    .filter((c) => where[c] !== undefined)
    .sort((a, b) => order.indexOf(a) - order.indexOf(b));
  for (const column of columns) {
    const value = encode(table, column, where[column]);
    if (value === null) parts.push(`${quote(column)} IS NULL`);
    else {
      parts.push(`${quote(column)} = ?`);
      params.push(value);
    }
  }
  return { sql: parts.join(' AND '), params };
}

/** The primary-key filter of `key`; throws when a key column is missing. */
export function keySql(table: TableDefinition, key: Row): { sql: string; params: unknown[] } {
  return whereSql(table, keyColumns(table, key));
}
