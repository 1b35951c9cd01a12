// What both read-model adapters agree on for an out-of-sight rebuild: the
// names of its new tables, and when the current tables can keep serving the
// queries of a new declaration meanwhile. Pure helpers, no driver.
import { createHash } from 'node:crypto';
import type { ProjectionSchema, TableDefinition } from './port.js';

/** Longest table or index name (PostgreSQL's limit; the SQLite adapter keeps to it). */
const MAX_NAME = 63;
const PREFIX = 'rm_next_';

/**
 * The name of a table's counterpart while its projection is rebuilt out of
 * sight: `rm_next_<name>` (reserved: no projection may own an `rm_` table),
 * shortened with a hash when that is too long.
 */
export function shadowTableName(name: string): string {
  const plain = `${PREFIX}${name}`;
  if (plain.length <= MAX_NAME) return plain;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${PREFIX}${name.slice(0, MAX_NAME - PREFIX.length - hash.length - 1)}_${hash}`;
}

/** The table under its rebuild name (same columns, key and indexes). */
export const shadowTable = (table: TableDefinition): TableDefinition => ({
  ...table,
  name: shadowTableName(table.name),
});

/**
 * Whether tables declared as `stored` answer every query of `declared`: the
 * same table names, and for each the same columns (names and types) and
 * primary key. Secondary indexes may differ (a query answers without one).
 */
export function servesSameQueries(
  stored: readonly TableDefinition[],
  declared: readonly TableDefinition[],
): boolean {
  if (stored.length !== declared.length) return false;
  const byName = new Map(stored.map((t) => [t.name, t]));
  return declared.every((table) => {
    const old = byName.get(table.name);
    return (
      old !== undefined &&
      JSON.stringify(Object.entries(old.columns)) ===
        JSON.stringify(Object.entries(table.columns)) &&
      JSON.stringify(old.primaryKey) === JSON.stringify(table.primaryKey)
    );
  });
}

/**
 * Maps the tables of the projections being rebuilt to their rebuild tables
 * (one definition object per table, so adapters may cache per object); other
 * tables map to themselves.
 */
export function shadowRouting(schemas: readonly ProjectionSchema[]): {
  table: <T extends TableDefinition>(table: T) => T;
  rebuilding: (projection: string) => boolean;
} {
  const names = new Set(schemas.map((s) => s.name));
  const tables = new Map<string, TableDefinition>();
  for (const schema of schemas)
    for (const table of schema.tables) tables.set(table.name, shadowTable(table));
  return {
    table: <T extends TableDefinition>(table: T): T => (tables.get(table.name) as T) ?? table,
    rebuilding: (projection) => names.has(projection),
  };
}
