// A lock between processes on one machine, made of SQLite's own write lock:
// the holder keeps a transaction open (`BEGIN IMMEDIATE`, SQLite's RESERVED
// lock, an fcntl lock on the file) on a small empty database and writes
// nothing; another connection's `BEGIN IMMEDIATE` fails at once with
// SQLITE_BUSY, in another process as in the same one. The operating system
// drops the lock with the process, SIGKILL included, so a stale lock cannot
// outlive its holder: no PID file, no liveness check, no heartbeat, and no new
// dependency. The file stays behind, empty; it may be deleted while no process
// runs. With `journal_mode = MEMORY` the open transaction leaves no journal
// file either. Network filesystems, whose fcntl locks may not hold, are not
// supported (as for the SQLite files themselves).
//
// Used for the Merkle log's signer (transparency/sqlite/signerLock.ts) and the
// projection runner of a SQLite read-model file (readModels/sqlite/runnerLock.ts).
import { openDatabase, type Database } from './database.js';

/** One connection to the lock file; `take()` holds the lock until `release()`. */
export class ProcessLock {
  private readonly db: Database.Database;
  constructor(readonly path: string) {
    this.db = openDatabase(path, { timeout: 0 });
    this.db.exec('PRAGMA journal_mode = MEMORY');
  }
  /** Takes the lock; false when another connection holds it. */
  take(): boolean {
    if (this.db.inTransaction) return true;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return false;
      throw error;
    }
  }
  /** Whether this connection holds the lock now. */
  held(): boolean {
    return this.db.open && this.db.inTransaction;
  }
  release(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }
  close(): void {
    this.release();
    this.db.close();
  }
}

/**
 * Runs `fn` holding the lock at `path` (so that no holder can start meanwhile);
 * throws `busy(path)` at once, without running it, when another connection
 * holds the lock now.
 */
export async function whileLockFree<T>(
  path: string,
  busy: (lockPath: string) => Error,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = new ProcessLock(path);
  try {
    if (!lock.take()) throw busy(path);
    return await fn();
  } finally {
    lock.close();
  }
}
