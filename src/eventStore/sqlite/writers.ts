// The two ways the SQLite store writes, behind one small interface:
//
// - the inline writer (the default): group commit on the caller's thread,
//   committed on the next turn of the event loop;
// - the worker writer (opt-in): a worker thread owns the write connection. The
//   caller's thread serialises events and streams them over in chunks while the
//   worker inserts; commits (and their fsync) never block the thread that serves
//   requests, but every row is copied between threads.
//
// Both acknowledge an append only after the transaction that holds it committed.
import { ProvenantError } from '../../errors.js';
import type { AppendResult } from '../types.js';
import type Database from 'better-sqlite3';
import {
  createWriterCore,
  deserializeError,
  type AppendHeader,
  type PreparedRow,
} from './writerCore.js';
import {
  createGroupApplier,
  type Outcome,
  type WriterMessage,
  type WriterReply,
} from './writerGroup.js';
import { startWorker } from '../../workerThread.js';
import type { WriterWorkerData } from './writerWorker.js';

export interface WriterStats {
  commits: number;
  appends: number;
  events: number;
}

export interface Writer {
  /**
   * Appends the rows of `chunkCount` chunks, each prepared on demand by
   * `prepareChunk(i)` (serialising may throw; then nothing of the append is
   * kept). Resolves once the append is durable.
   */
  submit(
    header: AppendHeader,
    chunkCount: number,
    prepareChunk: (index: number) => PreparedRow[],
  ): Promise<AppendResult>;
  /** Waits for submitted appends to settle, then releases the writer. */
  close(): Promise<void>;
  /** False once the writer failed for good (e.g. the worker died). */
  healthy(): boolean;
  stats(): WriterStats;
}

interface Pending {
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/** Tracks submitted appends and settles them from outcomes. */
function createPendingTable(onCommitted: () => void) {
  const pending = new Map<number, Pending>();
  const counters: WriterStats = { commits: 0, appends: 0, events: 0 };
  let nextId = 1;
  let drained: (() => void) | undefined;
  return {
    counters,
    add(entry: Pending): number {
      const id = nextId++;
      pending.set(id, entry);
      return id;
    },
    /** Settles locally (the caller gave up, e.g. bad input in a later chunk). */
    drop(id: number, error: unknown): void {
      pending.get(id)?.reject(error);
      pending.delete(id);
      if (pending.size === 0) drained?.();
    },
    settle(outcomes: readonly Outcome[], committed: boolean): void {
      if (committed) counters.commits++;
      for (const outcome of outcomes) {
        const entry = pending.get(outcome.id);
        if (entry === undefined) continue; // dropped earlier
        pending.delete(outcome.id);
        if (outcome.ok) {
          counters.appends++;
          if (!outcome.result.duplicate) counters.events += outcome.result.events.length;
          entry.resolve(outcome.result);
        } else entry.reject(deserializeError(outcome.error));
      }
      if (committed) onCommitted();
      if (pending.size === 0) drained?.();
    },
    failAll(error: unknown): void {
      for (const entry of pending.values()) entry.reject(error);
      pending.clear();
      drained?.();
    },
    get size(): number {
      return pending.size;
    },
    whenDrained(): Promise<void> {
      if (pending.size === 0) return Promise.resolve();
      return new Promise((resolve) => {
        drained = () => {
          if (pending.size === 0) {
            drained = undefined;
            resolve();
          }
        };
      });
    },
  };
}

/** Group commit on the caller's thread, on the next turn of the event loop. */
export function createInlineWriter(
  db: Database.Database,
  onCommitted: () => void,
  maxEventsPerCommit = 10_000,
): Writer {
  const applier = createGroupApplier(createWriterCore(db));
  const table = createPendingTable(onCommitted);
  let queue: { id: number; header: AppendHeader; rows: PreparedRow[] }[] = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    let events = 0;
    let cut = 0;
    while (
      cut < queue.length &&
      (cut === 0 || events + (queue[cut]?.rows.length ?? 0) <= maxEventsPerCommit)
    ) {
      events += queue[cut]?.rows.length ?? 0;
      cut++;
    }
    const batch = queue.slice(0, cut);
    queue = queue.slice(cut);
    for (const { id, header, rows } of batch)
      applier.apply({ t: 'append', id, header, rows, end: true });
    const { committed, outcomes } = applier.commit();
    table.settle(outcomes, committed);
    if (queue.length > 0) schedule();
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  }

  return {
    submit(header, chunkCount, prepareChunk) {
      const rows: PreparedRow[] = [];
      for (let i = 0; i < chunkCount; i++) rows.push(...prepareChunk(i)); // may throw: nothing queued yet
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ id: table.add({ resolve, reject }), header, rows });
        schedule();
      });
    },
    close: () => table.whenDrained(),
    healthy: () => true,
    stats: () => ({ ...table.counters }),
  };
}

export interface WorkerWriterOptions extends WriterWorkerData {
  onCommitted: () => void;
}

/** Group commit on a worker thread that owns the write connection. */
export function createWorkerWriter(options: WorkerWriterOptions): Writer {
  const { onCommitted, ...workerData } = options;
  const table = createPendingTable(onCommitted);
  const worker = startWorker(import.meta.url, 'writerWorker', workerData);
  worker.unref(); // an idle store does not keep the process alive
  let failure: ProvenantError | undefined;
  let closed = false;

  const fail = (message: string, cause?: unknown): void => {
    failure ??= new ProvenantError('STORE_BACKEND_UNAVAILABLE', message, { cause });
    table.failAll(failure);
  };
  worker.on('message', (reply: WriterReply) => {
    table.settle(reply.outcomes, reply.t === 'committed');
    if (table.size === 0) worker.unref();
  });
  worker.on('error', (error) => fail(`SQLite writer thread failed: ${error.message}`, error));
  const exited = new Promise<void>((resolve) =>
    worker.on('exit', (code) => {
      if (!closed) fail(`SQLite writer thread exited unexpectedly (code ${code})`);
      resolve();
    }),
  );

  const post = (message: WriterMessage): void => worker.postMessage(message);

  return {
    submit(header, chunkCount, prepareChunk) {
      if (failure !== undefined) return Promise.reject(failure);
      // The first chunk is prepared before anything is sent: bad input there sends nothing.
      let rows: PreparedRow[];
      try {
        rows = prepareChunk(0);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      let id = 0;
      const promise = new Promise<AppendResult>((resolve, reject) => {
        id = table.add({ resolve, reject });
      });
      worker.ref();
      post({ t: 'append', id, header, rows, end: chunkCount === 1 });
      // Each later chunk is serialised here while the worker inserts the one before.
      for (let i = 1; i < chunkCount; i++) {
        try {
          rows = prepareChunk(i);
        } catch (error) {
          post({ t: 'abort', id });
          table.drop(id, error);
          break;
        }
        post({ t: 'rows', id, rows, end: i === chunkCount - 1 });
      }
      return promise;
    },
    async close() {
      await table.whenDrained();
      if (closed) return;
      closed = true;
      worker.ref();
      post({ t: 'close' });
      await exited;
    },
    healthy: () => failure === undefined,
    stats: () => ({ ...table.counters }),
  };
}
