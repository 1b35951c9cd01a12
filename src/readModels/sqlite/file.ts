// Opening the read-model database file. Read models are derived data: a file
// that is missing, is not a database, fails `PRAGMA quick_check` or was written
// by a newer schema is never trusted; it is moved aside and a fresh one is
// created, so every projection replays from the log (with a warning).
import { existsSync, renameSync, rmSync } from 'node:fs';
import {
  openDatabase,
  quickCheckProblem,
  readPragma,
  setPragmas,
  type Database,
} from '../../eventStore/sqlite/database.js';

/**
 * Version of the store's own tables (checkpoints, dead letters, projection
 * versions). The rebuild tables (`rm_rebuilds`, `rm_rebuild_dead_letters`) and
 * `rm_source_logs` were added without a new version: they are created when
 * missing, and a release without them ignores them (its projections stay as
 * they were).
 */
export const READ_MODEL_SCHEMA_VERSION = 1;

export interface OpenReadModelOptions {
  /** Told why the file is being rebuilt. Defaults to `console.warn`. */
  onWarning?: (message: string) => void;
  /**
   * Called with the text of every statement the connection runs (better-sqlite3's
   * `verbose`): to see what a transaction does, for debugging and tests.
   */
  trace?: (sql: string) => void;
}

/** Why the file at `path` cannot be trusted, or undefined when it can. */
function problemWith(path: string): string | undefined {
  let db: Database.Database | undefined;
  try {
    db = openDatabase(path, { fileMustExist: true });
    const problem = quickCheckProblem(db);
    if (problem !== undefined) return `it fails PRAGMA quick_check (${problem})`;
    const version = Number(readPragma(db, 'user_version'));
    if (version > READ_MODEL_SCHEMA_VERSION)
      return `its schema version ${version} is newer than this release's (${READ_MODEL_SCHEMA_VERSION})`;
    return undefined;
  } catch (error) {
    return `it cannot be read (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    try {
      db?.close();
    } catch {
      // already unusable
    }
  }
}

/** Moves the file (and its WAL and shared-memory files) aside as `<path>.corrupt`. */
function moveAside(path: string): void {
  renameSync(path, `${path}.corrupt`);
  for (const suffix of ['-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}

/** Opens the read-model file, creating or rebuilding it as needed; sets WAL and the store's tables. */
export function openReadModelFile(
  path: string,
  options: OpenReadModelOptions = {},
): Database.Database {
  const warn = options.onWarning ?? ((message: string) => console.warn(message));
  if (path !== ':memory:') {
    if (!existsSync(path)) {
      warn(`read-model file ${path} is missing: creating it; projections rebuild from the log`);
    } else {
      const problem = problemWith(path);
      if (problem !== undefined) {
        warn(
          `read-model file ${path} is not trusted: ${problem}; moved to ${path}.corrupt, projections rebuild from the log`,
        );
        moveAside(path);
      }
    }
  }
  const trace = options.trace;
  const db = openDatabase(
    path,
    trace === undefined ? {} : { verbose: (sql?: unknown) => trace(String(sql)) },
  );
  setPragmas(db, { journal_mode: 'WAL', synchronous: 'NORMAL', busy_timeout: 5000 });
  db.exec(`
    CREATE TABLE IF NOT EXISTS rm_projections (
      name TEXT PRIMARY KEY, version INTEGER NOT NULL, tables TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS rm_checkpoints (
      projection TEXT PRIMARY KEY, position INTEGER NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS rm_dead_letters (
      id INTEGER PRIMARY KEY AUTOINCREMENT, projection TEXT NOT NULL, position INTEGER NOT NULL,
      event_id TEXT NOT NULL, type TEXT NOT NULL, error TEXT NOT NULL,
      attempts INTEGER NOT NULL, parked_at TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS rm_dead_letters_by_projection ON rm_dead_letters (projection, id);
    CREATE TABLE IF NOT EXISTS rm_rebuilds (
      projection TEXT PRIMARY KEY, version INTEGER NOT NULL, tables TEXT NOT NULL,
      position INTEGER, started_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS rm_source_logs (
      projection TEXT PRIMARY KEY, first_event_id TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS rm_rebuild_dead_letters (
      id INTEGER PRIMARY KEY AUTOINCREMENT, projection TEXT NOT NULL, position INTEGER NOT NULL,
      event_id TEXT NOT NULL, type TEXT NOT NULL, error TEXT NOT NULL,
      attempts INTEGER NOT NULL, parked_at TEXT NOT NULL);
  `);
  setPragmas(db, { user_version: READ_MODEL_SCHEMA_VERSION });
  return db;
}
