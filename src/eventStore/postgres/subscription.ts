// Subscriptions to `$all` on PostgreSQL, woken by LISTEN/NOTIFY. One
// connection per store listens on the log's channel (every commit of every
// node NOTIFYs it, in the committing transaction); each subscription catches
// up page by page, then sleeps until a notification, a local commit, or close.
// While the listening connection is down (the server restarts, the connection
// is terminated), sleeping subscriptions fall back to polling once a second
// and the listener reconnects with backoff; notifications missed meanwhile
// cost nothing, since every wake-up reads from the subscription's position.
import pg from 'pg';
import { createPagedSubscriptions } from '../pagedSubscription.js';
import type { EventFilter, SubscribeToAllOptions, Subscription } from '../types.js';
import { turnSharedReads } from '../turnSharedReads.js';
import { subscribeFrom } from '../validation.js';
import { readAllRows, readHeadPosition, toRecorded } from './reads.js';
import { isConnectionError, type Pool } from '../../postgres/index.js';
const POLL_WHILE_DISCONNECTED_MS = 1000;

export interface PgSubscriptionDeps {
  pool: Pool;
  connectionString: string;
  /** `application_name` of the listening connection. */
  applicationName: string;
  channel: string;
  /** Waits for the schema; throws when the store is not open. */
  ready: () => Promise<void>;
  assertOpen: () => void;
  isClosed: () => boolean;
}

export interface PgSubscriptions {
  subscribe(options: SubscribeToAllOptions): Subscription;
  /** Wakes the sleeping subscriptions (a local commit, or a notification). */
  wakeAll(): void;
  closeAll(): Promise<void>;
  /** True while the LISTEN connection is up. */
  listening(): boolean;
}

export function createPgSubscriptions(deps: PgSubscriptionDeps): PgSubscriptions {
  let listener: pg.Client | undefined;
  let connected = false;
  let connecting: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoff = 250;

  const paged = createPagedSubscriptions({
    // While nobody listens, no notification comes: poll.
    pollMs: () => (connected ? undefined : POLL_WHILE_DISCONNECTED_MS),
    isClosed: deps.isClosed,
  });
  const pages = turnSharedReads((after: bigint, maxCount: number, filter?: EventFilter) =>
    readAllRows(deps.pool, { from: after, maxCount, ...(filter ? { filter } : {}) }),
  );
  /** A local commit or a notification: what was read may not show it. */
  const wakeAll = (): void => {
    pages.forget();
    paged.wakeAll();
  };

  function scheduleReconnect(): void {
    if (deps.isClosed() || !paged.anyOpen() || retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void ensureListener();
    }, backoff);
    backoff = Math.min(backoff * 2, 5000);
  }

  function ensureListener(): Promise<void> {
    if (connected || deps.isClosed()) return Promise.resolve();
    connecting ??= (async () => {
      const client = new pg.Client({
        connectionString: deps.connectionString,
        application_name: deps.applicationName,
        connectionTimeoutMillis: 5000,
      });
      const lost = (): void => {
        if (listener !== client) return;
        listener = undefined;
        connected = false;
        client.removeAllListeners('notification');
        void client.end().catch(() => undefined);
        wakeAll();
        scheduleReconnect();
      };
      client.on('error', lost);
      client.on('end', lost);
      client.on('notification', () => wakeAll());
      try {
        listener = client;
        await client.connect();
        await client.query(`LISTEN ${deps.channel}`);
        connected = true;
        backoff = 250;
        // Commits made while nobody listened are read by waking everyone.
        wakeAll();
      } catch {
        lost();
      }
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  function subscribe(options: SubscribeToAllOptions): Subscription {
    deps.assertOpen();
    const from = subscribeFrom(options);
    const filter = options.filter;
    // 'end' is resolved at once, so that it means "after what is committed now".
    const endAtStart =
      from === 'end' ? deps.ready().then(() => readHeadPosition(deps.pool)) : undefined;
    endAtStart?.catch(() => undefined);
    return paged.subscribe({
      async begin() {
        await deps.ready();
        void ensureListener();
        if (from === 'end') return endAtStart as Promise<bigint>;
        return from === 'start' ? 0n : from;
      },
      async readPage(after, maxCount) {
        try {
          const rows = await pages.read(after, maxCount, filter);
          return rows.map(toRecorded);
        } catch (error) {
          // A lost connection: wait and read on from the same position.
          if (!isConnectionError(error)) throw error;
          await new Promise((resolve) => setTimeout(resolve, POLL_WHILE_DISCONNECTED_MS));
          return undefined;
        }
      },
    });
  }

  return {
    subscribe,
    wakeAll,
    listening: () => connected,
    async closeAll() {
      await paged.closeAll();
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
      await connecting;
      const client = listener;
      listener = undefined;
      connected = false;
      if (client !== undefined) await client.end().catch(() => undefined);
    },
  };
}
