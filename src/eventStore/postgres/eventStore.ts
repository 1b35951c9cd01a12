// The PostgreSQL log (DESIGN.md §2, §9): the event-store port on a shared
// server, so that any number of API nodes and projection workers use one log.
// This module owns the lifecycle and composes the parts: the schema
// (migrations.ts, applied at first use under an advisory lock), group commit
// under the log's single-writer lock (writer.ts), reads (reads.ts),
// LISTEN/NOTIFY subscriptions (subscription.ts), and the integrity walks.
//
// The store opens without touching the server. The schema is checked at first
// use and again after a failure, so a node started while PostgreSQL is down
// serves 503s and recovers by itself; `start()` lets a server check it up
// front and refuse a schema newer than the code (POSTGRES_SCHEMA_NEWER).
import { ProvenantError } from '../../errors.js';
import { BackendUnavailableError, storeClosed } from '../errors.js';
import { ANY } from '../expectedRevision.js';
import { ChainWalker } from '../chainWalker.js';
import { preparedRow, verifyRows } from '../eventRow.js';
import { newEventId } from '../ids.js';
import type { AppendResult, EventStore, VerifyResult } from '../types.js';
import {
  assertLookupKey,
  assertMaxCount,
  assertReadAllOptions,
  assertStreamName,
  checkAppend,
  prepareEvent,
} from '../validation.js';
import {
  channelName,
  createPool,
  describeError,
  mapConnectionError,
  lockKey,
  migrate,
  quoteSchema,
  type PostgresOptions,
} from '../../postgres/index.js';
import { LOG_MIGRATIONS_TABLE, logMigrations } from './migrations.js';
import {
  COLUMNS,
  readAllRows,
  readHeadPosition,
  readKeyLocation,
  readStreamEvents,
  toRecorded,
  toStored,
  type PgEventRow,
} from './reads.js';
import { createPgSubscriptions } from './subscription.js';
import { createPgWriter } from './writer.js';

export interface PostgresEventStoreOptions extends PostgresOptions {
  /** Most events committed in one group transaction. Default 5000. */
  maxEventsPerCommit?: number;
  /** Source of recorded times (tests). */
  clock?: () => Date;
  /**
   * The log must be there already (commands that only read it): a schema
   * without it is STORE_NOT_FOUND, and nothing is created in it.
   */
  existing?: boolean;
}

export interface PostgresEventStore extends EventStore {
  readonly schema: string;
  /** Applies the migrations now; rejects with POSTGRES_SCHEMA_NEWER or STORE_BACKEND_UNAVAILABLE. */
  start(): Promise<void>;
  /** Why the store is not ready, when it is not (for /readyz). */
  problem(): string | undefined;
  stats(): { commits: number; appends: number; events: number };
}

const VERIFY_PAGE = 2000;

/** Runs `work`, turning a lost or refused connection into STORE_BACKEND_UNAVAILABLE (noted). */
const guarded = <T>(work: () => Promise<T>, note: (error: unknown) => void): Promise<T> =>
  mapConnectionError(work, (message, cause) => {
    note(cause);
    return new BackendUnavailableError(message, { cause });
  });

export function getPostgresEventStore(options: PostgresEventStoreOptions): PostgresEventStore {
  const schema = options.schema ?? 'public';
  const pool = createPool(options, 'log');
  const clock = options.clock ?? (() => new Date());
  let state: 'open' | 'closing' | 'closed' = 'open';
  let closing: Promise<void> | undefined;
  let lastProblem: string | undefined;
  const note = (error: unknown): void => {
    lastProblem = `PostgreSQL is unavailable: ${describeError(error)}`;
  };
  const assertOpen = (): void => {
    if (state !== 'open') throw storeClosed();
  };

  const assertLogExists = async (): Promise<void> => {
    const { rows } = await pool.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [
      `${quoteSchema(schema)}.${LOG_MIGRATIONS_TABLE}`,
    ]);
    if (rows[0]?.found === null)
      throw new ProvenantError(
        'STORE_NOT_FOUND',
        `no log in the PostgreSQL schema ${schema}: set PROVENANT_POSTGRES_SCHEMA (and PROVENANT_POSTGRES_URL) to the store's; only 'provenant serve' and 'projections run' create a log`,
        { details: { schema } },
      );
  };
  let schemaReady: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    schemaReady ??= guarded(async () => {
      if (options.existing === true) await assertLogExists();
      await migrate(pool, {
        schema,
        table: LOG_MIGRATIONS_TABLE,
        component: 'event log',
        migrations: logMigrations,
      });
    }, note).catch((error: unknown) => {
      // A connection problem is retried at the next call; a newer schema is final.
      if (!(error instanceof ProvenantError && error.code === 'POSTGRES_SCHEMA_NEWER'))
        schemaReady = undefined;
      else lastProblem = error.message;
      throw error;
    });
    return schemaReady;
  };

  /** An operation: open, schema in place, connection errors mapped. */
  const op = async <T>(work: () => Promise<T>): Promise<T> => {
    assertOpen();
    await ready();
    const result = await guarded(work, note);
    lastProblem = undefined;
    return result;
  };

  const subscriptions = createPgSubscriptions({
    pool,
    connectionString: options.connectionString,
    applicationName: `${options.applicationName ?? 'provenant'}-listen`,
    channel: channelName(schema, 'log'),
    ready,
    assertOpen,
    isClosed: () => state === 'closed',
  });
  const writer = createPgWriter({
    pool,
    lockKey: lockKey(schema, 'log-writer'),
    channel: channelName(schema, 'log'),
    maxEventsPerCommit: options.maxEventsPerCommit ?? 5000,
    beforeGroup: ready,
    onCommitted: () => {
      lastProblem = undefined;
      subscriptions.wakeAll();
    },
  });

  async function walk(
    query: (after: number | string) => Promise<PgEventRow[]>,
    cursor: (row: PgEventRow) => number | string,
    start: number | string,
    onProgress?: (checked: number) => void,
  ): Promise<VerifyResult> {
    const walker = new ChainWalker();
    let after = start;
    for (;;) {
      const rows = await op(() => query(after));
      const problem = verifyRows(rows, walker);
      if (problem) return { ok: false, checked: walker.checked, problem };
      onProgress?.(walker.checked);
      const last = rows.at(-1);
      if (rows.length < VERIFY_PAGE || last === undefined)
        return { ok: true, checked: walker.checked };
      after = cursor(last);
    }
  }

  const store: PostgresEventStore = {
    schema,
    async append(stream, events, appendOptions = {}): Promise<AppendResult> {
      assertOpen();
      const checked = checkAppend(
        stream,
        events,
        appendOptions.expectedRevision === undefined ? ANY : appendOptions.expectedRevision,
      );
      const prepared = checked.events.map(prepareEvent);
      const now = clock();
      const recordedAt = now.toISOString();
      const rows = prepared.map((p) => preparedRow(p, newEventId(now.getTime()), recordedAt));
      const keyed = rows.flatMap((r) =>
        r.idempotencyKey === null || r.idempotencyDigest === null
          ? []
          : [{ key: r.idempotencyKey, digest: r.idempotencyDigest }],
      );
      return writer.submit({
        stream: checked.stream,
        expectedRevision: checked.expectedRevision,
        keyed,
        rows,
      });
    },

    async readStream(stream, readOptions = {}) {
      assertOpen();
      assertStreamName(stream);
      assertMaxCount(readOptions.maxCount);
      return op(() => readStreamEvents(pool, stream, readOptions));
    },

    async readAll(readOptions = {}) {
      assertOpen();
      assertReadAllOptions(readOptions);
      return (await op(() => readAllRows(pool, readOptions))).map(toRecorded);
    },

    async readAllStored(readOptions = {}) {
      assertOpen();
      const options = { from: readOptions.from, maxCount: readOptions.maxCount };
      assertReadAllOptions(options);
      return (await op(() => readAllRows(pool, options))).map(toStored);
    },

    subscribeToAll: (subscribeOptions = {}) => subscriptions.subscribe(subscribeOptions),

    async findByKey(key) {
      assertOpen();
      assertLookupKey(key);
      return op(() => readKeyLocation(pool, key));
    },

    headPosition: () => op(() => readHeadPosition(pool)),

    async verifyStream(stream) {
      assertOpen();
      assertStreamName(stream);
      return walk(
        async (after) =>
          (
            await pool.query<PgEventRow>(
              `SELECT ${COLUMNS} FROM events WHERE stream = $1 AND revision > $2 ORDER BY revision LIMIT ${VERIFY_PAGE}`,
              [stream, after],
            )
          ).rows,
        (row) => row.revision,
        -1,
      );
    },

    async verifyAll(verifyOptions = {}) {
      return walk(
        async (after) =>
          (
            await pool.query<PgEventRow>(
              `SELECT ${COLUMNS} FROM events WHERE position > $1 ORDER BY events.position LIMIT ${VERIFY_PAGE}`,
              [after],
            )
          ).rows,
        (row) => row.position,
        '0',
        verifyOptions.onProgress,
      );
    },

    async isReady() {
      if (state !== 'open') return false;
      try {
        await op(() => pool.query('SELECT 1'));
        return true;
      } catch (error) {
        if (lastProblem === undefined) note(error);
        return false;
      }
    },

    async start() {
      assertOpen();
      await ready();
    },

    problem: () => (state !== 'open' ? 'the store is closed' : lastProblem),

    stats: () => writer.stats(),

    close() {
      closing ??= (async () => {
        state = 'closing';
        await writer.drain();
        state = 'closed';
        await subscriptions.closeAll();
        await pool.end().catch(() => undefined);
      })();
      return closing;
    },
  };
  return store;
}
