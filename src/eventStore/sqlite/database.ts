// Opening better-sqlite3 connections safely on every supported Node line.
//
// better-sqlite3 12 wraps its Database and Statement objects in the raw
// node::ObjectWrap. On Node 24 that wrapper's destructor requires a current
// Node environment, which a garbage-collection weak callback does not always
// have: collecting a Database or Statement can abort the process with
// `Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook
// (WiseLibs/better-sqlite3#1515, closed without a fix in 12.x; 13.x moved to
// Node-API but crashes on Node 20). The work-around: these wrappers are never
// left for the garbage collector. Every connection and every statement prepared
// through `openDatabase` is kept reachable for the life of the process, so the
// code must prepare statements once and reuse them (a few hundred bytes each).
import Database from 'better-sqlite3';

const retained: object[] = [];

/** Keeps a better-sqlite3 object reachable for the life of the process. */
export function retain<T extends object>(value: T): T {
  retained.push(value);
  return value;
}

/** Opens a connection whose statements are never garbage-collected (see above). */
export function openDatabase(path: string, options?: Database.Options): Database.Database {
  const db = retain(new Database(path, options));
  const prepare = db.prepare.bind(db);
  const retainingPrepare = (source: string): Database.Statement => retain(prepare(source));
  db.prepare = retainingPrepare as Database.Database['prepare'];
  return db;
}

/** Reads one pragma through a retained statement (`db.pragma()` makes a throw-away one). */
export function readPragma(db: Database.Database, name: string): unknown {
  return db.prepare(`PRAGMA ${name}`).pluck().get();
}

/** Sets pragmas without creating statements. */
export function setPragmas(db: Database.Database, pragmas: Record<string, string | number>): void {
  for (const [name, value] of Object.entries(pragmas)) db.exec(`PRAGMA ${name} = ${value}`);
}

/**
 * What `PRAGMA quick_check` finds wrong with the file, in one line (its first
 * problem), or undefined when it answers `ok`. It reads every page, so damage
 * past the header, which opening the file does not reach, shows here.
 */
export function quickCheckProblem(db: Database.Database): string | undefined {
  const check = db.prepare('PRAGMA quick_check').pluck().all() as string[];
  if (check[0] === 'ok') return undefined;
  // The first row may be a header line (`*** in database main ***`) before the problems.
  const lines = check.flatMap((row) => row.split('\n')).filter((line) => !line.startsWith('***'));
  return lines[0] ?? String(check[0]);
}

/** Whether SQLite refused a file as no database, or as a corrupt one (not: missing, locked, no permission). */
export function isUnreadableDatabase(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
}

export type { Database };
