// Looking into a SQLite file behind its store's back: a connection of its own,
// how SQLite would answer a lookup, rows filled in bulk, the indexes in its
// catalog.
import { openDatabase } from '../../src/eventStore/sqlite/database.js';

/** Runs `fn` on a connection of its own to the file. */
export function raw<T>(path: string, fn: (db: ReturnType<typeof openDatabase>) => T): T {
  const db = openDatabase(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** How SQLite would answer a lookup of `table` by `column`. */
export const planOf = (path: string, table: string, column: string): string =>
  raw(path, (db) =>
    (
      db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM "${table}" WHERE "${column}" = ?`).all('x') as {
        detail: string;
      }[]
    )
      .map((r) => r.detail)
      .join('; '),
  );

/** Fills `table` (of conformanceSupport's `schema()`) with `rows` rows, owner and seq in scrambled order. */
export function fill(path: string, table: string, rows: number): void {
  raw(path, (db) => {
    const insert = db.prepare(`INSERT INTO "${table}" ("id", "seq", "owner") VALUES (?, ?, ?)`);
    db.transaction(() => {
      for (let i = 0; i < rows; i++)
        insert.run(`r${i}`, (i * 7919) % rows, `o${(i * 104_729) % rows}`);
    })();
  });
}

/** Name and columns of each index made by CREATE INDEX on `table`, by name. */
export const indexesOn = (path: string, table: string): string[] =>
  raw(path, (db) =>
    (
      db
        .prepare(
          "SELECT l.name || ':' || (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno)) AS i FROM pragma_index_list(?) AS l WHERE l.origin = 'c' ORDER BY l.name",
        )
        .pluck()
        .all(table) as string[]
    ).sort(),
  );
