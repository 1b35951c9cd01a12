// Building secondary indexes off the event loop: better-sqlite3 is synchronous,
// so a CREATE INDEX on the store's own connection would hold the process's
// event loop for its whole duration (0.47 s for one index of 1,000,000 rows).
// A worker thread (indexWorker.ts, one per store) builds them on a connection
// of its own to the same file instead; WAL lets the store's connection keep
// reading meanwhile. The store makes its own writes wait until the build has
// ended (readModelStore.ts), so its connection never waits on the worker's lock.
//
// A build always ends: with the worker's answer, or, when the thread dies
// without one (it crashed, or was ended), with READ_MODEL_UNAVAILABLE saying so.
// A thread that dies closes its connection (better-sqlite3 closes a thread's
// databases as the thread ends), which rolls back the index it was building and
// releases the file's write lock; the next build starts another thread.
import type { Worker } from 'node:worker_threads';
import { ProvenantError } from '../../errors.js';
import { startWorker } from '../../workerThread.js';
import type {
  IndexTarget,
  IndexWorkerData,
  IndexWorkerReply,
  IndexWorkerRequest,
} from './indexWorker.js';

export type { IndexTarget, IndexWorkerData } from './indexWorker.js';

/**
 * How long the worker waits for the file's write lock when a writer of another
 * process holds it (a runner, `projections rebuild`). It waits on its own
 * thread, blocking nobody, so longer than the store's connection does (5 s).
 * When it expires the build fails, saying so (indexWorker.ts).
 */
export const WORKER_BUSY_TIMEOUT_MS = 60_000;

/** Starts the thread that runs the builds (indexWorker.ts) with `workerData`. */
export type IndexWorkerStarter = (workerData: IndexWorkerData) => Worker;

/** The thread of indexWorker.ts: what every store starts unless told otherwise. */
export const startIndexWorker: IndexWorkerStarter = (workerData) =>
  startWorker(import.meta.url, 'indexWorker', workerData);

export interface IndexBuilderOptions {
  /** Called with the text of every statement the worker runs. */
  trace?: (sql: string) => void;
  /**
   * Starts the worker thread (default `startIndexWorker`). The one injection
   * point for tests: a thread that dies mid-build, or one given a shorter wait
   * for the write lock than WORKER_BUSY_TIMEOUT_MS.
   */
  startWorker?: IndexWorkerStarter;
}

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

/** A started worker and the build it owes an answer to. */
interface Running {
  worker: Worker;
  pending?: { resolve: (built: number) => void; reject: (error: Error) => void };
}

/**
 * The index builds of the read-model file at `path`, on one worker thread
 * started at the first build; idle, it does not keep the process alive.
 */
export function indexBuilder(path: string, options: IndexBuilderOptions = {}): IndexBuilder {
  const { trace, startWorker: startThread = startIndexWorker } = options;
  let current: Running | undefined;

  const failed = (why: string, cause?: Error) =>
    new ProvenantError('READ_MODEL_UNAVAILABLE', `building read-model indexes failed: ${why}`, {
      cause,
    });

  const start = (): Running => {
    const worker = startThread({
      path,
      busyTimeoutMs: WORKER_BUSY_TIMEOUT_MS,
      trace: trace !== undefined,
    });
    // Each worker answers only its own build: one that ends late never settles another's.
    const running: Running = { worker };
    let crash: Error | undefined;
    worker.on('message', (reply: IndexWorkerReply) => {
      if (reply.t === 'trace') return trace?.(reply.sql);
      const settle = running.pending;
      delete running.pending;
      worker.unref();
      if (reply.t === 'done') settle?.resolve(reply.built);
      else settle?.reject(failed(reply.message));
    });
    worker.on('error', (error) => (crash = error));
    worker.on('exit', (code) => {
      if (current === running) current = undefined; // the next build starts another
      const settle = running.pending;
      delete running.pending;
      settle?.reject(
        failed(
          crash === undefined
            ? `the index worker thread exited (code ${code}) before it answered`
            : `the index worker thread crashed before it answered: ${crash.message}`,
          crash,
        ),
      );
    });
    return running;
  };

  return {
    build(targets) {
      const running = (current ??= start());
      running.worker.ref(); // a build under way keeps the process alive
      return new Promise((resolve, reject) => {
        running.pending = { resolve, reject };
        running.worker.postMessage({ targets } satisfies IndexWorkerRequest);
      });
    },
    async close() {
      const running = current;
      current = undefined;
      await running?.worker.terminate();
    },
  };
}
