// The embedded SQLite log (DESIGN.md §2): one file, WAL, durable commits, and
// group commit: appends that arrive while a commit is pending are written in one
// transaction, and each caller is acknowledged only after that transaction is
// durable. This module opens and migrates the database, checks the port's
// arguments, owns the lifecycle and composes the parts: the read statements and
// queries (statements.ts, reads.ts), subscriptions (subscription.ts), the
// integrity walks (verify.ts), and the submit path (submit.ts) in front of a
// writer (writers.ts): group commit on this thread, or a worker thread that
// owns the write connection.
import type Database from 'better-sqlite3';
import { ProvenantError } from '../../errors.js';
import { storeClosed } from '../errors.js';
import { ANY } from '../expectedRevision.js';
import {
  type AppendOptions,
  type AppendResult,
  type EventLocation,
  type EventStore,
  type EventToAppend,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
  type StoredEvent,
  type SubscribeToAllOptions,
  type Subscription,
} from '../types.js';
import {
  assertLookupKey,
  assertMaxCount,
  assertReadAllOptions,
  assertStreamName,
  checkAppend,
} from '../validation.js';
import { isUnreadableDatabase, openDatabase, readPragma, setPragmas } from './database.js';
import { migrate } from './migrate.js';
import { readAllRows, readHeadPosition, readKeyLocation, readStreamEvents } from './reads.js';
import { prepareStatements, toRecorded, toStored } from './statements.js';
import { createSubmit } from './submit.js';
import { createSubscriptions } from './subscription.js';
import { createVerifier } from './verify.js';
import { createInlineWriter, createWorkerWriter, type Writer } from './writers.js';

export interface SQLiteEventStoreOptions {
  /** Database file, or `:memory:`. The parent directory must exist. */
  path: string;
  /**
   * `FULL` (default): every acknowledged append survives power loss.
   * `NORMAL`: in WAL mode, survives a process crash but the last commits may be
   * lost on power loss or an OS crash; faster. See the README.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long a writer waits for another process's lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /** Subscriptions also poll this often (ms) for events written by other processes. Default 500. */
  pollIntervalMs?: number;
  /** Most events committed in one group-commit transaction (inline writer). Default 10000. */
  maxEventsPerCommit?: number;
  /**
   * `inline` (default): group commit on this thread. `worker`: a worker thread
   * owns the write connection, so commits (and their fsync) never block this
   * thread and serialising overlaps inserting — at the price of copying every
   * row to the worker; on this project's 2-core machines it measured slower
   * (see the README). `:memory:` databases need `inline`.
   */
  writer?: 'worker' | 'inline';
  /** Source of recorded times (tests). */
  clock?: () => Date;
}

/** The SQLite store: the port, plus what only this backend offers. */
export interface SQLiteEventStore extends EventStore {
  readonly path: string;
  /** Which writer the store uses. */
  readonly writerMode: 'worker' | 'inline';
  /** Statistics about group commit since open. */
  stats(): { commits: number; appends: number; events: number };
  /** The durability settings in force on the store's connection. */
  settings(): { synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA'; journalMode: string };
}

/** Runs synchronous work and reports its outcome as a promise (throws become rejections). */
function settleWork<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Why the log's file cannot be opened. Unlike read models and the Merkle log,
 * the log is never rebuilt, moved aside or overwritten: a file that is not a
 * database, or is corrupt, stops the store until it is restored.
 */
function cannotOpen(path: string, error: unknown): ProvenantError {
  if (error instanceof ProvenantError) return error; // a migration's own refusal
  const reason = error instanceof Error ? error.message : String(error);
  if (isUnreadableDatabase(error))
    return new ProvenantError(
      'STORE_INTEGRITY_VIOLATION',
      `The log ${path} is not a readable SQLite database (${reason}); it is left as it is: restore it from a backup`,
      { cause: error, details: { path } },
    );
  return new ProvenantError(
    'STORE_CONFIGURATION',
    `Cannot open SQLite database at ${path}: ${reason}`,
    { cause: error, details: { path } },
  );
}

/**
 * The log's file damaged past what opening it reads: a page a query reaches is
 * corrupt. Nothing is repaired or moved; the store says so from then on.
 */
const damagedLog = (path: string, error: unknown): ProvenantError =>
  new ProvenantError(
    'STORE_INTEGRITY_VIOLATION',
    `The log ${path} is damaged (${error instanceof Error ? error.message : String(error)}); it is left as it is: restore it from a backup (docs/backup.md)`,
    { cause: error, details: { path } },
  );

/** Opens (creating and migrating if needed) a SQLite event store. */
export function getSQLiteEventStore(options: SQLiteEventStoreOptions): SQLiteEventStore {
  const synchronous = options.synchronous ?? 'FULL';
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL')
    throw new ProvenantError(
      'STORE_CONFIGURATION',
      `synchronous must be FULL or NORMAL, got ${String(synchronous)}`,
    );
  const clock = options.clock ?? (() => new Date());
  const maxEventsPerCommit = options.maxEventsPerCommit ?? 10_000;
  const writerMode = options.writer ?? 'inline';
  if (writerMode === 'worker' && options.path === ':memory:')
    throw new ProvenantError(
      'STORE_CONFIGURATION',
      'An in-memory database needs the inline writer',
    );
  const pollIntervalMs = options.pollIntervalMs ?? 500;

  let db: Database.Database | undefined;
  try {
    db = openDatabase(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    // SQLite reads the file at its first statement: a file that is no database fails here.
    setPragmas(db, {
      ...(options.path === ':memory:' ? {} : { journal_mode: 'WAL' }),
      synchronous,
      foreign_keys: 'ON',
    });
    // Its tables are read here: a file damaged past its header can fail here too.
    migrate(db);
  } catch (error) {
    db?.close();
    throw cannotOpen(options.path, error);
  }

  const stmt = prepareStatements(db);

  let state: 'open' | 'closing' | 'closed' = 'open';
  let closing: Promise<void> | undefined;
  const assertOpen = (): void => {
    if (state !== 'open') throw storeClosed();
  };
  const subscriptions = createSubscriptions({
    stmt,
    pollIntervalMs,
    assertOpen,
    isClosed: () => state === 'closed',
  });
  const { notifyCommitted } = subscriptions;
  const verifier = createVerifier(stmt, assertOpen);

  const writer: Writer =
    writerMode === 'worker'
      ? createWorkerWriter({
          path: options.path,
          synchronous,
          busyTimeoutMs: options.busyTimeoutMs ?? 5000,
          onCommitted: notifyCommitted,
        })
      : createInlineWriter(db, notifyCommitted, maxEventsPerCommit);

  const submit = createSubmit(writer, clock);

  // Once a query meets a damaged page, every operation that fails on one says
  // so in one line, and the store is no longer ready (/readyz names why).
  let damage: ProvenantError | undefined;
  const settle = <T>(work: () => T | Promise<T>): Promise<T> =>
    settleWork(work).catch((error: unknown) => {
      if (!isUnreadableDatabase(error)) throw error;
      damage ??= damagedLog(options.path, error);
      throw damage;
    });

  const store: SQLiteEventStore = {
    path: options.path,

    append(
      stream: string,
      events: readonly EventToAppend[],
      appendOptions: AppendOptions = {},
    ): Promise<AppendResult> {
      return settle(() => {
        assertOpen();
        const checked = checkAppend(
          stream,
          events,
          appendOptions.expectedRevision === undefined ? ANY : appendOptions.expectedRevision,
        );
        return submit(checked.stream, checked.expectedRevision, checked.events);
      });
    },

    readStream(stream: string, readOptions: ReadStreamOptions = {}): Promise<ReadStreamResult> {
      return settle(() => {
        assertOpen();
        assertStreamName(stream);
        assertMaxCount(readOptions.maxCount);
        return readStreamEvents(stmt, stream, readOptions);
      });
    },

    readAll(readOptions: ReadAllOptions = {}): Promise<RecordedEvent[]> {
      return settle(() => {
        assertOpen();
        assertReadAllOptions(readOptions);
        return readAllRows(stmt, readOptions).map(toRecorded);
      });
    },

    readAllStored(readOptions = {}): Promise<StoredEvent[]> {
      return settle(() => {
        assertOpen();
        const options = { from: readOptions.from, maxCount: readOptions.maxCount };
        assertReadAllOptions(options);
        return readAllRows(stmt, options).map(toStored);
      });
    },

    subscribeToAll(subscribeOptions: SubscribeToAllOptions = {}): Subscription {
      return subscriptions.subscribe(subscribeOptions);
    },

    findByKey(key: string): Promise<EventLocation | undefined> {
      return settle(() => {
        assertOpen();
        assertLookupKey(key);
        return readKeyLocation(stmt, key);
      });
    },

    headPosition(): Promise<bigint> {
      return settle(() => {
        assertOpen();
        return readHeadPosition(stmt);
      });
    },

    verifyStream: (stream) => settle(() => verifier.verifyStream(stream)),

    verifyAll: (verifyOptions) => settle(() => verifier.verifyAll(verifyOptions)),

    isReady(): Promise<boolean> {
      if (state !== 'open' || !writer.healthy() || damage !== undefined)
        return Promise.resolve(false);
      try {
        stmt.ping.get();
        return Promise.resolve(true);
      } catch {
        return Promise.resolve(false);
      }
    },

    close(): Promise<void> {
      closing ??= (async () => {
        state = 'closing';
        // In-flight appends finish and are acknowledged; new ones are refused.
        await writer.close();
        await subscriptions.closeAll();
        db.close();
        state = 'closed';
      })();
      return closing;
    },

    problem: () => damage?.message,

    stats: () => writer.stats(),

    writerMode,

    settings: () => ({
      synchronous:
        (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[readPragma(db, 'synchronous') as number] ??
        'OFF',
      journalMode: String(readPragma(db, 'journal_mode')),
    }),
  };
  return store;
}
