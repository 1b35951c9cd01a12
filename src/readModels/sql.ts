// What both read-model adapters' SQL shares, whatever the dialect: names are
// checked and quoted by one rule, secondary indexes named by one rule, a key
// narrowed to its primary-key columns, and page cursors encoded alike.
import { ProvenantError } from '../errors.js';
import type { ColumnType, Row, TableDefinition } from './port.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A quoted identifier; throws on a name that is not a plain identifier. */
export function quote(name: string): string {
  if (!IDENTIFIER.test(name))
    throw new ProvenantError('READ_MODEL_INVALID', `not a valid table or column name: '${name}'`);
  return `"${name}"`;
}

/**
 * The name of a secondary index (one rule for every adapter: at most 63
 * characters). PostgreSQL keeps its indexes under it; SQLite starts there and
 * alternates across rebuilds (sqlite/indexes.ts).
 */
export const indexName = (table: TableDefinition, index: readonly string[]): string =>
  `${table.name}_by_${index.join('_')}`.slice(0, 63);

/** The declared type of a column; throws when the table has no such column. */
export function columnType(table: TableDefinition, column: string): ColumnType {
  const type = (table.columns as Record<string, ColumnType | undefined>)[column];
  if (type === undefined)
    throw new ProvenantError('READ_MODEL_INVALID', `table ${table.name} has no column '${column}'`);
  return type;
}

/** The primary-key columns of `key`; throws when one is missing. */
export function keyColumns(table: TableDefinition, key: Row): Row {
  const only: Row = {};
  for (const column of table.primaryKey) {
    if (key[column] === undefined || key[column] === null)
      throw new ProvenantError(
        'READ_MODEL_INVALID',
        `${table.name}: key column '${column}' missing`,
      );
    only[column] = key[column];
  }
  return only;
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
