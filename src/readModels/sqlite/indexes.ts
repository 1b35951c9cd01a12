// The secondary indexes of read-model tables in the SQLite file, found in the
// catalog by their table and columns whatever their names. SQLite cannot rename
// an index, and an index keeps its name when its table is renamed: the indexes
// of a rebuild's new tables are built before the swap under names the current
// tables' indexes do not hold, and come out of the swap under those names. So
// the names alternate from one rebuild to the next (`<table>_by_<columns>`,
// then `..._2`, then the first again); nothing looks an index up by its name.
import type { Database } from '../../eventStore/sqlite/database.js';
import type { TableDefinition } from '../port.js';
import { indexName, quote } from './sql.js';

/** Longest index name (one rule for both adapters, see shadow.ts). */
const MAX_NAME = 63;

/** The index operations on one connection (`stmt` prepares once per text). */
export function sqliteIndexes(db: Database.Database, stmt: (sql: string) => Database.Statement) {
  /** The names of the indexes made by CREATE INDEX on table `on` (not its key's). */
  const namesOn = (on: string): string[] =>
    stmt("SELECT name FROM pragma_index_list(?) WHERE origin = 'c' ORDER BY name")
      .pluck()
      .all(on) as string[];

  const columnsOf = (index: string): string[] =>
    stmt('SELECT name FROM pragma_index_info(?) ORDER BY seqno').pluck().all(index) as string[];

  /** Whether an index or table of that name exists (SQLite names ignore case). */
  const taken = (name: string): boolean =>
    stmt('SELECT 1 FROM sqlite_schema WHERE name = ? COLLATE NOCASE').pluck().get(name) !==
    undefined;

  /** `indexName(table, index)`, or when another object has it, the first free `<it>_<n>`. */
  const freeName = (table: TableDefinition, index: readonly string[]): string => {
    const base = indexName(table, index);
    let name = base;
    for (let n = 2; taken(name); n++)
      name = `${base.slice(0, MAX_NAME - String(n).length - 1)}_${n}`;
    return name;
  };

  /** The declared indexes of `table` that table `on` lacks (an index is its column list). */
  const missing = (table: TableDefinition, on: string): (readonly string[])[] => {
    const present = new Set(namesOn(on).map((name) => JSON.stringify(columnsOf(name))));
    return (table.indexes ?? []).filter((index) => {
      const key = JSON.stringify(index);
      if (present.has(key)) return false;
      present.add(key); // an index declared twice is built once
      return true;
    });
  };

  /** Builds one index of `table` on table `on` (itself, or its rebuild's), under a free name. */
  const create = (table: TableDefinition, index: readonly string[], on: string): void => {
    db.exec(
      `CREATE INDEX ${quote(freeName(table, index))} ON ${quote(on)} (${index.map(quote).join(', ')})`,
    );
  };

  return {
    missing,
    create,
    /** Builds the declared indexes of `table` that table `on` lacks. */
    createMissing(table: TableDefinition, on: string = table.name): void {
      for (const index of missing(table, on)) create(table, index, on);
    },
    /** Drops every index made by CREATE INDEX on table `on`, whatever its name. */
    dropAll(on: string): void {
      for (const name of namesOn(on)) db.exec(`DROP INDEX "${name.replaceAll('"', '""')}"`);
    },
  };
}

export type SQLiteIndexes = ReturnType<typeof sqliteIndexes>;
