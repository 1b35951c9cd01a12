// The Merkle log's signer lock on SQLite: the counterpart of the PostgreSQL
// leader's advisory lock (transparency/postgres/leader.ts) for processes that
// share one SQLite tree store on one machine: a ProcessLock
// (eventStore/sqlite/processLock.ts, SQLite's own write lock, dropped by the
// operating system with its holder) on an empty file beside the tree store,
// `<tree file>.signer.lock`.
//
// Whoever runs the follower (`serve` with inline projections, `projections
// run`) holds the lock while it signs; a process that finds it held stands by,
// serving without signing, and takes over within `pollMs` once the holder
// stops. Metrics report it as `provenant_leadership_held{lock="merkle-log"}`,
// the name of the PostgreSQL leader's lock. `provenant log rotate-key` holds
// it while it rotates, and refuses with TLOG_SIGNER_RUNNING while a signer
// holds it.
import { ProvenantError } from '../../errors.js';
import { ProcessLock, whileLockFree } from '../../eventStore/sqlite/processLock.js';
import { wakeableSleep } from '../../wakeableSleep.js';
import {
  MERKLE_LOCK,
  startSigningFollower,
  type FollowerOptions,
  type TransparencyFollower,
} from '../follower.js';

/** The lock file of the SQLite tree store at `treePath`. */
export const signerLockPath = (treePath: string): string => `${treePath}.signer.lock`;

/**
 * Runs `fn` while no signer can start on the SQLite tree store at `treePath`
 * (`provenant log rotate-key`): holds the signer lock meanwhile, and refuses
 * with TLOG_SIGNER_RUNNING when a signer holds it now.
 */
export async function whileNoSQLiteSigner<T>(treePath: string, fn: () => Promise<T>): Promise<T> {
  if (treePath === ':memory:') return fn(); // no other process can open it
  return whileLockFree(
    signerLockPath(treePath),
    (lockPath) =>
      new ProvenantError(
        'TLOG_SIGNER_RUNNING',
        `A process signs checkpoints on ${treePath} (it holds ${lockPath}): stop every provenant serve and projections run on this store first`,
      ),
    fn,
  );
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
  let lock: ProcessLock | undefined;
  let current: TransparencyFollower | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;
  const { sleep, untilWoken, wake } = wakeableSleep();

  /** One try: leads until the follower fails or `stop()`, or returns 'busy' at once. */
  const attempt = async (held: ProcessLock, started: () => void): Promise<'busy' | 'done'> => {
    if (!held.take()) return 'busy';
    try {
      let failed!: () => void;
      const failure = new Promise<void>((resolve) => (failed = resolve));
      const follower = await startSigningFollower({ ...followerOptions, onFailure: failed });
      current = follower;
      log?.('info', 'signing checkpoints', { lock: held.path });
      started();
      if (!stopping) await Promise.race([failure, untilWoken()]);
      current = undefined;
      await follower.stop();
      return 'done';
    } finally {
      held.release();
    }
  };

  const stand = async (held: ProcessLock, started: () => void): Promise<void> => {
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
      lock = new ProcessLock(signerLockPath(treePath));
      let started!: () => void;
      const firstTry = new Promise<void>((resolve) => (started = resolve));
      running = stand(lock, started);
      await firstTry;
    },
    async stop() {
      stopping = true;
      wake();
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
