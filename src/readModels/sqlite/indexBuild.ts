// Building secondary indexes off the event loop: better-sqlite3 is synchronous,
// so a CREATE INDEX on the store's own connection would hold the process's
// event loop for its whole duration (0.47 s for one index of 1,000,000 rows).
// A worker thread (indexWorker.ts, one per store) builds them on a connection
// of its own to the same file instead; WAL lets the store's connection keep
// reading meanwhile. The store makes its own writes wait until the build has
// ended (readModelStore.ts), so its connection never waits on the worker's lock.
import type { Worker } from 'node:worker_threads';
import { ProvenantError } from '../../errors.js';
import { startWorker } from '../../workerThread.js';
import type {
  IndexTarget,
  IndexWorkerData,
  IndexWorkerReply,
  IndexWorkerRequest,
} from './indexWorker.js';

export type { IndexTarget } from './indexWorker.js';

/**
 * How long the worker waits for the file's write lock when a writer of another
 * process holds it (a runner, `projections rebuild`). It waits on its own
 * thread, blocking nobody, so longer than the store's connection does (5 s).
 */
const WORKER_BUSY_TIMEOUT_MS = 60_000;

export interface IndexBuilder {
  /**
   * Builds every declared index that each target's table lacks, one per
   * transaction, on the worker's connection to the file (closed again before
   * this resolves, with how many were built). One build at a time.
   */
  build(targets: IndexTarget[]): Promise<number>;
  /** Ends the worker (between builds). */
  close(): Promise<void>;
}

/**
 * The index builds of the read-model file at `path`, on one worker thread
 * started at the first build; idle, it does not keep the process alive.
 */
export function indexBuilder(path: string, trace?: (sql: string) => void): IndexBuilder {
  let worker: Worker | undefined;
  let pending: { resolve: (built: number) => void; reject: (error: Error) => void } | undefined;

  const failed = (why: string, cause?: Error) =>
    new ProvenantError('READ_MODEL_UNAVAILABLE', `building read-model indexes failed: ${why}`, {
      cause,
    });

  const start = (): Worker => {
    const workerData: IndexWorkerData = {
      path,
      busyTimeoutMs: WORKER_BUSY_TIMEOUT_MS,
      trace: trace !== undefined,
    };
    const started = startWorker(import.meta.url, 'indexWorker', workerData);
    let crash: Error | undefined;
    started.on('message', (reply: IndexWorkerReply) => {
      if (reply.t === 'trace') return trace?.(reply.sql);
      const settle = pending;
      pending = undefined;
      started.unref();
      if (reply.t === 'done') settle?.resolve(reply.built);
      else settle?.reject(failed(reply.message));
    });
    started.on('error', (error) => (crash = error));
    started.on('exit', (code) => {
      if (worker === started) worker = undefined; // the next build starts another
      pending?.reject(failed(crash?.message ?? `the thread exited with code ${code}`, crash));
      pending = undefined;
    });
    return started;
  };

  return {
    build(targets) {
      const running = (worker ??= start());
      running.ref(); // a build under way keeps the process alive
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        running.postMessage({ targets } satisfies IndexWorkerRequest);
      });
    },
    async close() {
      const running = worker;
      worker = undefined;
      await running?.terminate();
    },
  };
}
