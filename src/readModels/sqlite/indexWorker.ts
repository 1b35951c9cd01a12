// The thread that builds secondary indexes of read-model tables (indexBuild.ts
// starts it, one per store, and sends it the builds one at a time): for each
// build, a connection of its own to the read-model file builds every missing
// index of the tables it is given, one per transaction, and is closed again,
// while the thread that sent it keeps answering reads from the file (WAL). It
// waits for the write lock on this thread, so only a writer of another process
// can hold it up, for `busyTimeoutMs` at most: then the build fails, saying so.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase, setPragmas, type Database } from '../../eventStore/sqlite/database.js';
import type { TableDefinition } from '../port.js';
import { sqliteIndexes } from './indexes.js';

/** A table whose declared indexes are built on table `on` (itself, or its rebuild's). */
export interface IndexTarget {
  table: TableDefinition;
  on: string;
}

export interface IndexWorkerData {
  path: string;
  busyTimeoutMs: number;
  /** Whether to send the text of every statement (the store's `trace`). */
  trace: boolean;
}

/** A build: every missing index of the targets' tables. */
export interface IndexWorkerRequest {
  targets: IndexTarget[];
}

export type IndexWorkerReply =
  { t: 'trace'; sql: string } | { t: 'done'; built: number } | { t: 'failed'; message: string };

const port = parentPort;
if (port === null) throw new Error('indexWorker must run in a worker thread');
const { path, busyTimeoutMs, trace } = workerData as IndexWorkerData;
const post = (reply: IndexWorkerReply): void => port.postMessage(reply);

/** Builds every missing index of `targets`, one per transaction; how many it built. */
function build(db: Database.Database, targets: readonly IndexTarget[]): number {
  const statements = new Map<string, Database.Statement>();
  const stmt = (sql: string): Database.Statement => {
    let statement = statements.get(sql);
    if (statement === undefined) statements.set(sql, (statement = db.prepare(sql)));
    return statement;
  };
  const indexes = sqliteIndexes(db, stmt);
  /** Builds one missing index of the target, in a transaction of its own; false when none is. */
  const buildOne = ({ table, on }: IndexTarget): boolean => {
    stmt('BEGIN IMMEDIATE').run();
    try {
      const [index] = indexes.missing(table, on);
      if (index !== undefined) indexes.create(table, index, on);
      stmt('COMMIT').run();
      return index !== undefined;
    } catch (error) {
      if (db.inTransaction) stmt('ROLLBACK').run();
      throw error;
    }
  };
  setPragmas(db, { synchronous: 'NORMAL' });
  let built = 0;
  for (const target of targets) while (buildOne(target)) built++;
  return built;
}

/** What a failed build says: for a write lock held too long, whose wait ran out. */
function failure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')) return message;
  return `the write lock of ${path} stayed held by another connection (a writer of another process: a runner, \`projections rebuild\`) for longer than the ${busyTimeoutMs} ms a build waits for it (${message})`;
}

// A connection per build, closed before the reply: between builds the file has
// no second connection. (database.ts keeps each connection's few statements
// reachable for the thread's life; builds are rare: one per projection at the
// end of a bulk load or before a swap.)
port.on('message', ({ targets }: IndexWorkerRequest) => {
  let db: Database.Database | undefined;
  try {
    db = openDatabase(path, {
      fileMustExist: true,
      timeout: busyTimeoutMs,
      ...(trace ? { verbose: (sql?: unknown) => post({ t: 'trace', sql: String(sql) }) } : {}),
    });
    const built = build(db, targets);
    db.close();
    post({ t: 'done', built });
  } catch (error) {
    db?.close();
    post({ t: 'failed', message: failure(error) });
  }
});
