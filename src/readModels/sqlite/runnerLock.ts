// One projection runner per SQLite read-model file. The read models' rows and
// checkpoints are written by whichever runner applies the log; two at once (a
// second `serve`, a `projections run` beside a server with inline projections)
// would each commit from its own idea of the checkpoint, and a `projections
// rebuild` from the command line would swap new tables in under a running loop,
// which then goes on from its old position: rows lost, lag reported as 0.
//
// So the runner of a process holds a ProcessLock (eventStore/sqlite/processLock.ts:
// SQLite's own write lock, dropped by the operating system with its holder) on
// an empty file beside the read models, `<read-model file>.runner.lock`, while
// it runs. A process that finds it held serves its queries from the same file
// without projecting (its status reads the checkpoints the holder writes) and
// takes over within `pollMs` once the holder stops or dies, as the Merkle log's
// signer does (transparency/sqlite/signerLock.ts). `projections rebuild` holds
// it while it rebuilds, and refuses with READ_MODEL_RUNNER_RUNNING while a
// runner holds it. On PostgreSQL one elected leader per projection does the
// same (readModels/postgres/leader.ts).
import { ProvenantError } from '../../errors.js';
import { ProcessLock, whileLockFree } from '../../eventStore/sqlite/processLock.js';
import { wakeableSleep } from '../../wakeableSleep.js';
import {
  createProjectionRunner,
  type ProjectionRunnerOptions,
  type ProjectionStatus,
} from '../runner.js';

/** The lock file of the SQLite read models at `readModelPath`. */
export const runnerLockPath = (readModelPath: string): string => `${readModelPath}.runner.lock`;

/** The lock's name in metrics (`provenant_leadership_held{lock="read-models"}`). */
export const READ_MODELS_LOCK = 'read-models';

const inMemory = (path: string): boolean => path === ':memory:' || path === '';

/**
 * Runs `fn` while no runner can start on the read models at `readModelPath`
 * (`provenant projections rebuild`): holds the runner lock meanwhile, and
 * refuses with READ_MODEL_RUNNER_RUNNING when a runner holds it now.
 */
export async function whileNoSQLiteRunner<T>(
  readModelPath: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (inMemory(readModelPath)) return fn(); // no other process can open it
  return whileLockFree(
    runnerLockPath(readModelPath),
    (lockPath) =>
      new ProvenantError(
        'READ_MODEL_RUNNER_RUNNING',
        `A process runs the projections on ${readModelPath} (it holds ${lockPath}): stop every provenant serve with inline projections and every projections run on these read models first`,
      ),
    fn,
  );
}

export interface LockedRunnerOptions extends ProjectionRunnerOptions {
  /** The SQLite read-model file: the lock file is named after it. */
  path: string;
  /** How often a process standing by tries the lock (ms, default 1000). */
  pollMs?: number;
}

export interface LockedRunner {
  /** Resolves after the first try: running, or standing by. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every projection's checkpoint and lag; `state` is `stopped` while standing by. */
  status(): Promise<ProjectionStatus[]>;
  locks(): { lock: string; held: boolean }[];
}

/** The projection runner of a process that may share its SQLite read models with others. */
export function lockedProjectionRunner(options: LockedRunnerOptions): LockedRunner {
  const { path, pollMs = 1000, ...runnerOptions } = options;
  const log = options.log ?? (() => undefined);
  const runner = createProjectionRunner(runnerOptions);
  let lock: ProcessLock | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;
  const { sleep, wake } = wakeableSleep();

  /** Tries the lock until it holds it (then runs until `stop()`) or stops. */
  const stand = async (held: ProcessLock, firstTry: (error?: Error) => void): Promise<void> => {
    let warned = false;
    while (!stopping) {
      if (held.take()) {
        try {
          await runner.start();
        } catch (error) {
          held.release();
          // At the first try, `start()` fails as a runner's start does; later, on a takeover, it tries again.
          if (!warned) return firstTry(error instanceof Error ? error : new Error(String(error)));
          log('warn', 'the projections did not start; trying again later', {
            lock: held.path,
            error: error instanceof Error ? error.message : String(error),
          });
          await sleep(pollMs);
          continue;
        }
        if (warned) log('info', 'took over the projections', { lock: held.path });
        firstTry();
        return; // runs until stop()
      }
      if (!warned)
        log(
          'warn',
          'another process runs the projections on these read models (it holds the runner lock): this one answers queries from them without projecting, and takes over when that one stops',
          { lock: held.path },
        );
      warned = true;
      firstTry();
      await sleep(pollMs);
    }
  };

  return {
    async start() {
      if (inMemory(path)) return runner.start();
      if (running !== undefined) return;
      lock = new ProcessLock(runnerLockPath(path));
      let settle!: (error?: Error) => void;
      const firstTry = new Promise<void>((resolve, reject) => {
        settle = (error) => (error === undefined ? resolve() : reject(error));
      });
      running = stand(lock, settle);
      await firstTry;
    },
    async stop() {
      stopping = true;
      wake();
      await running;
      await runner.stop();
      lock?.close();
    },
    status: () => runner.status(),
    locks: () => (lock === undefined ? [] : [{ lock: READ_MODELS_LOCK, held: lock.held() }]),
  };
}
