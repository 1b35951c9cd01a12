// Looking into a SQLite file behind its store's back: a connection of its own,
// and how SQLite would answer a lookup.
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
