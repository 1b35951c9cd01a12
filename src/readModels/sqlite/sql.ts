// SQL text and value mapping for declared read-model tables: names are checked
// and quoted, values are encoded per column type and decoded back. Pure string
// building, so every distinct statement is a distinct, cacheable text.
import { ProvenantError } from '../../errors.js';
import type { ColumnType, Row, TableDefinition } from '../port.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A quoted identifier; throws on a name that is not a plain identifier. */
export function quote(name: string): string {
  if (!IDENTIFIER.test(name))
    throw new ProvenantError('READ_MODEL_INVALID', `not a valid table or column name: '${name}'`);
  return `"${name}"`;
}

const sqlType: Record<ColumnType, string> = {
  TEXT: 'TEXT',
  INTEGER: 'INTEGER',
  REAL: 'REAL',
  BOOLEAN: 'INTEGER',
  JSON: 'TEXT',
};

/**
 * CREATE TABLE and CREATE INDEX statements of a table. Ordinary rowid tables, the
 * declared key a unique index: rows are appended in insert order, and the key
 * index stays small. Read-model rows can be large (a receipt's data, ~1 KB),
 * which SQLite advises against in WITHOUT ROWID tables (rows stored in the key's
 * B-tree, so random keys split and rewrite big pages); the rebuild measured less
 * CPU and I/O this way (docs/projections.md, "Costs, measured").
 */
export function createTableSql(table: TableDefinition): string[] {
  const columns = Object.entries<ColumnType>(table.columns);
  if (table.primaryKey.length === 0)
    throw new ProvenantError('READ_MODEL_INVALID', `table ${table.name} has no primary key`);
  for (const column of [...table.primaryKey, ...(table.indexes ?? []).flat()])
    columnType(table, column);
  const t = quote(table.name);
  const statements = [
    `CREATE TABLE ${t} (${columns.map(([name, type]) => `${quote(name)} ${sqlType[type]}`).join(', ')}, PRIMARY KEY (${table.primaryKey.map(quote).join(', ')}))`,
  ];
  for (const index of table.indexes ?? [])
    statements.push(
      `CREATE INDEX ${quote(`${table.name}_by_${index.join('_')}`)} ON ${t} (${index.map(quote).join(', ')})`,
    );
  return statements;
}

/** The declared type of a column; throws when the table has no such column. */
export function columnType(table: TableDefinition, column: string): ColumnType {
  const type = (table.columns as Record<string, ColumnType | undefined>)[column];
  if (type === undefined)
    throw new ProvenantError('READ_MODEL_INVALID', `table ${table.name} has no column '${column}'`);
  return type;
}

const wrongType = (table: TableDefinition, column: string, type: ColumnType, value: unknown) =>
  new ProvenantError(
    'READ_MODEL_INVALID',
    `${table.name}.${column} is ${type}; got ${typeof value} ${JSON.stringify(value) ?? ''}`.trim(),
  );

/** A JS value as stored in a column of `type`. */
export function encode(table: TableDefinition, column: string, value: unknown): unknown {
  const type = columnType(table, column);
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'TEXT':
      if (typeof value !== 'string') throw wrongType(table, column, type, value);
      return value;
    case 'INTEGER':
      if (typeof value === 'bigint') return value;
      if (typeof value !== 'number' || !Number.isInteger(value))
        throw wrongType(table, column, type, value);
      return value;
    case 'REAL':
      if (typeof value !== 'number') throw wrongType(table, column, type, value);
      return value;
    case 'BOOLEAN':
      if (typeof value !== 'boolean') throw wrongType(table, column, type, value);
      return value ? 1 : 0;
    case 'JSON':
      return JSON.stringify(value);
  }
}

/** A stored value read back as the JS value of its column type. */
export function decode(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'BOOLEAN') return value === 1 || value === 1n;
  if (type === 'JSON') return JSON.parse(value as string) as unknown;
  if (type === 'INTEGER' && typeof value === 'bigint') return Number(value);
  return value;
}

/** A stored row (columns in declaration order) as the table's row type. */
export function decodeRow<R extends Row>(table: TableDefinition<R>, raw: Row): R {
  const row: Row = {};
  for (const [name, type] of columnsOf(table)) row[name] = decode(type, raw[name]);
  return row as R;
}

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
  for (const column of table.primaryKey)
    if (key[column] === undefined || key[column] === null)
      throw new ProvenantError(
        'READ_MODEL_INVALID',
        `${table.name}: key column '${column}' missing`,
      );
  const only: Row = {};
  for (const column of table.primaryKey) only[column] = key[column];
  return whereSql(table, only);
}

/** An opaque page cursor from the sort-column values of the last row. */
export const encodeCursor = (values: unknown[]): string =>
  Buffer.from(
    JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)),
  ).toString('base64url');

export function decodeCursor(cursor: string, length: number): unknown[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  if (!Array.isArray(values) || values.length !== length)
    throw new ProvenantError('READ_MODEL_INVALID', 'the page cursor is not valid for this query');
  return values as unknown[];
}
