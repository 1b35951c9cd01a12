// SQL text and value mapping of declared read-model tables on PostgreSQL:
// values are encoded per column type with `$n` parameters (names, cursors:
// ../sql.ts, one rule for both adapters).
import { ProvenantError } from '../../errors.js';
import type { ColumnType, Row, TableDefinition } from '../port.js';
import { columnType, indexName, keyColumns, quote } from '../sql.js';

export { columnType, decodeCursor, encodeCursor, indexName, quote } from '../sql.js';

const pgType: Record<ColumnType, string> = {
  TEXT: 'text',
  INTEGER: 'bigint',
  REAL: 'double precision',
  BOOLEAN: 'boolean',
  // The JSON text as written: jsonb would reorder keys and drop duplicates.
  JSON: 'text',
};

/** Collects parameters and hands out their `$n` placeholders. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * CREATE INDEX IF NOT EXISTS of each secondary index of a table. On PostgreSQL
 * the indexes of a table always have these names: a swap renames the new
 * tables' indexes to them (rebuild.ts).
 */
export const createIndexSql = (table: TableDefinition): string[] =>
  (table.indexes ?? []).map(
    (index) =>
      `CREATE INDEX IF NOT EXISTS ${quote(indexName(table, index))} ON ${quote(table.name)} (${index.map(quote).join(', ')})`,
  );

/** DROP INDEX IF EXISTS of each secondary index of a table. */
export const dropIndexSql = (table: TableDefinition): string[] =>
  (table.indexes ?? []).map((index) => `DROP INDEX IF EXISTS ${quote(indexName(table, index))}`);

/** CREATE TABLE and CREATE INDEX statements of a table. */
export function createTableSql(table: TableDefinition): string[] {
  const columns = Object.entries<ColumnType>(table.columns);
  if (table.primaryKey.length === 0)
    throw new ProvenantError('READ_MODEL_INVALID', `table ${table.name} has no primary key`);
  for (const column of [...table.primaryKey, ...(table.indexes ?? []).flat()])
    columnType(table, column);
  const t = quote(table.name);
  return [
    `CREATE TABLE ${t} (${columns.map(([name, type]) => `${quote(name)} ${pgType[type]}`).join(', ')}, PRIMARY KEY (${table.primaryKey.map(quote).join(', ')}))`,
    ...createIndexSql(table),
  ];
}

const wrongType = (table: TableDefinition, column: string, type: ColumnType, value: unknown) =>
  new ProvenantError(
    'READ_MODEL_INVALID',
    `${table.name}.${column} is ${type}; got ${typeof value} ${JSON.stringify(value) ?? ''}`.trim(),
  );

/** A JS value as a parameter for a column of its declared type. */
export function encode(table: TableDefinition, column: string, value: unknown): unknown {
  const type = columnType(table, column);
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'TEXT':
      if (typeof value !== 'string') throw wrongType(table, column, type, value);
      return value;
    case 'INTEGER':
      if (typeof value === 'bigint') return value.toString();
      if (typeof value !== 'number' || !Number.isInteger(value))
        throw wrongType(table, column, type, value);
      return value;
    case 'REAL':
      if (typeof value !== 'number') throw wrongType(table, column, type, value);
      return value;
    case 'BOOLEAN':
      if (typeof value !== 'boolean') throw wrongType(table, column, type, value);
      return value;
    case 'JSON':
      return JSON.stringify(value);
  }
}

/** A stored value read back as the JS value of its column type. */
export function decode(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'JSON') return JSON.parse(value as string) as unknown;
  if (type === 'INTEGER') return Number(value);
  return value;
}

export function decodeRow<R extends Row>(table: TableDefinition<R>, raw: Row): R {
  const row: Row = {};
  for (const [name, type] of Object.entries<ColumnType>(table.columns))
    row[name] = decode(type, raw[name]);
  return row as R;
}

/** `"a" = $1 AND "b" IS NULL`, columns in declaration order. */
export function whereSql(table: TableDefinition, where: Row, params: Params): string {
  const order = Object.keys(table.columns);
  return Object.keys(where)
    .filter((c) => where[c] !== undefined)
    .sort((a, b) => order.indexOf(a) - order.indexOf(b))
    .map((column) => {
      const value = encode(table, column, where[column]);
      return value === null
        ? `${quote(column)} IS NULL`
        : `${quote(column)} = ${params.add(value)}`;
    })
    .join(' AND ');
}

/** The primary-key filter of `key`; throws when a key column is missing. */
export function keySql(table: TableDefinition, key: Row, params: Params): string {
  return whereSql(table, keyColumns(table, key), params);
}
