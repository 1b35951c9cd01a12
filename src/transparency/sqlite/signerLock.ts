// The Merkle log's signer lock on SQLite: the counterpart of the PostgreSQL
// leader's advisory lock (transparency/postgres/leader.ts) for processes that
// share one SQLite tree store on one machine.
//
// The lock is a write lock of SQLite's own, on a small empty database beside
// the tree store (`<tree file>.signer.lock`): the holder keeps a transaction
// open (`BEGIN IMMEDIATE`, SQLite's RESERVED lock, an fcntl lock on the file)
// and writes nothing. Another connection's `BEGIN IMMEDIATE` fails at once
// with SQLITE_BUSY, in another process as in the same one. The operating
// system drops the lock with the process, SIGKILL included, so a stale lock
// cannot outlive its holder: no PID file, no liveness check (no PID reuse to
// fear), no heartbeat, and no new dependency. The lock file stays behind,
// empty; it holds nothing and may be deleted while no process runs. With
// `journal_mode = MEMORY` the open transaction leaves no journal file either.
// Network filesystems, whose fcntl locks may not hold, are not supported (as
// for the SQLite files themselves).
//
// Whoever runs the follower (`serve` with inline projections, `projections
// run`) holds the lock while it signs; a process that finds it held stands by,
// serving without signing, and takes over within `pollMs` once the holder
// stops. Metrics report it as `provenant_leadership_held{lock="merkle-log"}`,
// the name of the PostgreSQL leader's lock. `provenant log rotate-key` holds
// it while it rotates, and refuses with TLOG_SIGNER_RUNNING while a signer
// holds it.
import { ProvenantError } from '../../errors.js';
import { openDatabase, type Database } from '../../eventStore/sqlite/database.js';
import {
  MERKLE_LOCK,
  startSigningFollower,
  type FollowerOptions,
  type TransparencyFollower,
} from '../follower.js';

/** The lock file of the SQLite tree store at `treePath`. */
export const signerLockPath = (treePath: string): string => `${treePath}.signer.lock`;

/** One connection to the lock file; `take()` holds the lock until `release()`. */
class SignerLock {
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
 * Runs `fn` while no signer can start on the SQLite tree store at `treePath`
 * (`provenant log rotate-key`): holds the signer lock meanwhile, and refuses
 * with TLOG_SIGNER_RUNNING when a signer holds it now.
 */
export async function whileNoSQLiteSigner<T>(treePath: string, fn: () => Promise<T>): Promise<T> {
  if (treePath === ':memory:') return fn(); // no other process can open it
  const lock = new SignerLock(signerLockPath(treePath));
  try {
    if (!lock.take())
      throw new ProvenantError(
        'TLOG_SIGNER_RUNNING',
        `A process signs checkpoints on ${treePath} (it holds ${lock.path}): stop every provenant serve and projections run on this store first`,
      );
    return await fn();
  } finally {
    lock.close();
  }
}

export interface LockedFollowerOptions extends FollowerOptions {
  /** The SQLite tree store's file (`tree` opens it): the lock file is named after it. */
  treePath: string;
  /** How often a process standing by tries the lock (ms, default 1000). */
  pollMs?: number;
}

/**
 * The Merkle log follower of a process that shares its SQLite tree store with
 * others: it runs while this process holds the signer lock. `start()` resolves
 * after the first try; a process that finds the lock held logs that it stands
 * by and tries again every `pollMs`. A key that does not continue the log (a
 * rotation replaced it) or a follower that fails gives the lock up and tries
 * again later, waiting longer each time (up to 30 s), as on PostgreSQL.
 */
export function lockedMerkleFollower(options: LockedFollowerOptions): TransparencyFollower {
  const { treePath, pollMs = 1000, ...followerOptions } = options;
  const log = options.log;
  let lock: SignerLock | undefined;
  let current: TransparencyFollower | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });

  /** One try: leads until the follower fails or `stop()`, or returns 'busy' at once. */
  const attempt = async (held: SignerLock, started: () => void): Promise<'busy' | 'done'> => {
    if (!held.take()) return 'busy';
    try {
      let failed!: () => void;
      const failure = new Promise<void>((resolve) => (failed = resolve));
      const follower = await startSigningFollower({ ...followerOptions, onFailure: failed });
      current = follower;
      log?.('info', 'signing checkpoints', { lock: held.path });
      started();
      if (!stopping)
        await Promise.race([failure, new Promise<void>((resolve) => (wake = resolve))]);
      current = undefined;
      await follower.stop();
      return 'done';
    } finally {
      held.release();
    }
  };

  const stand = async (held: SignerLock, started: () => void): Promise<void> => {
    let failures = 0;
    let standingBy = false;
    while (!stopping) {
      try {
        const outcome = await attempt(held, () => {
          failures = 0;
          started();
        });
        if (outcome === 'busy' && !standingBy)
          log?.(
            'warn',
            'another process signs checkpoints on this Merkle log (it holds the signer lock): this one serves without signing, and takes over when that one stops',
            { lock: held.path },
          );
        standingBy = outcome === 'busy';
        if (outcome === 'done' && !stopping) {
          failures++;
          log?.('warn', 'the Merkle log follower stopped; gave up the signer lock', {
            lock: held.path,
          });
        }
      } catch (error) {
        failures++;
        standingBy = false;
        if (!stopping)
          log?.('warn', 'not signing checkpoints; trying again later', {
            lock: held.path,
            error: error instanceof Error ? error.message : String(error),
          });
      }
      started(); // the first try is over, whatever it gave
      if (!stopping) await sleep(Math.min(pollMs * 2 ** Math.min(failures, 5), 30_000));
    }
  };

  return {
    async start() {
      if (running !== undefined) return;
      lock = new SignerLock(signerLockPath(treePath));
      let started!: () => void;
      const firstTry = new Promise<void>((resolve) => (started = resolve));
      running = stand(lock, started);
      await firstTry;
    },
    async stop() {
      stopping = true;
      wake?.();
      await running;
      lock?.close();
    },
    size: () => current?.size() ?? 0,
    witness: () => current?.witness(),
    witnesses: () => current?.witnesses() ?? [],
    // Reported as the PostgreSQL leader's lock is: 1 in the process that signs, 0 in one standing by.
    locks: () => (lock === undefined ? [] : [{ lock: MERKLE_LOCK, held: lock.held() }]),
  };
}
