// A consistent copy of a SQLite database that other processes may be writing.
// `VACUUM INTO` reads the whole database in one read transaction (in WAL mode
// writers go on meanwhile) and writes a new, compact file: the database as of
// one commit. A plain `cp` of a live WAL database is not that: the main file
// and its `-wal` are copied at different moments.
import { statSync } from 'node:fs';
import { openDatabase } from './database.js';

/** Copies the database at `source` to the new file `target`; returns its size in bytes. */
export function copySQLiteDatabase(source: string, target: string): number {
  const db = openDatabase(source, { readonly: true, fileMustExist: true });
  try {
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  return statSync(target).size;
}
