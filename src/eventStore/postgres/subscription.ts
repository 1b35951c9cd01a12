// Subscriptions to `$all` on PostgreSQL, woken by LISTEN/NOTIFY. One
// connection per store listens on the log's channel (every commit of every
// node NOTIFYs it, in the committing transaction); each subscription catches
// up page by page, then sleeps until a notification, a local commit, or close.
// While the listening connection is down (the server restarts, the connection
// is terminated), sleeping subscriptions fall back to polling once a second
// and the listener reconnects with backoff; notifications missed meanwhile
// cost nothing, since every wake-up reads from the subscription's position.
import pg from 'pg';
import { ProvenantError } from '../../errors.js';
import type { RecordedEvent, SubscribeToAllOptions, Subscription } from '../types.js';
import { assertFilter } from '../validation.js';
import { readAllRows, readHeadPosition, toRecorded } from './reads.js';
import { isConnectionError, type Pool } from '../../postgres/index.js';

const SUBSCRIPTION_PAGE = 512;
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
  let seq = 0;
  const waiters = new Set<() => void>();
  const open = new Set<{ close(): Promise<void> }>();
  let listener: pg.Client | undefined;
  let connected = false;
  let connecting: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoff = 250;

  function wakeAll(): void {
    seq++;
    for (const wake of waiters) wake();
    waiters.clear();
  }

  function scheduleReconnect(): void {
    if (deps.isClosed() || open.size === 0 || retryTimer !== undefined) return;
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
    assertFilter(options.filter);
    const from = options.from ?? 'start';
    if (from !== 'start' && from !== 'end' && (typeof from !== 'bigint' || from < 0n))
      throw new ProvenantError(
        'STORE_INVALID_READ_OPTIONS',
        `from must be 'start', 'end' or a non-negative bigint position`,
      );
    // 'end' is resolved at once, so that it means "after what is committed now".
    const endAtStart =
      from === 'end' ? deps.ready().then(() => readHeadPosition(deps.pool)) : undefined;
    endAtStart?.catch(() => undefined);
    let closed = false;
    let wake: (() => void) | undefined;
    const filter = options.filter;

    const subscription = {
      close(): Promise<void> {
        closed = true;
        open.delete(subscription);
        wake?.();
        return Promise.resolve();
      },
      async *[Symbol.asyncIterator](): AsyncGenerator<RecordedEvent> {
        try {
          await deps.ready();
          void ensureListener();
          let after =
            from === 'start' ? 0n : from === 'end' ? await (endAtStart as Promise<bigint>) : from;
          while (!closed && !deps.isClosed()) {
            const seen = seq;
            let rows;
            try {
              rows = await readAllRows(deps.pool, {
                from: after,
                maxCount: SUBSCRIPTION_PAGE,
                ...(filter ? { filter } : {}),
              });
            } catch (error) {
              // A lost connection: wait and read on from the same position.
              if (!isConnectionError(error)) throw error;
              await new Promise((resolve) => setTimeout(resolve, POLL_WHILE_DISCONNECTED_MS));
              continue;
            }
            if (rows.length > 0) {
              for (const row of rows) {
                if (closed) return;
                const event = toRecorded(row);
                after = event.position;
                yield event;
              }
              continue;
            }
            if (seen !== seq) continue;
            // Closed while the page was being read: nothing would wake the wait below.
            if (closed) return;
            await new Promise<void>((resolve) => {
              const timer = connected ? undefined : setTimeout(done, POLL_WHILE_DISCONNECTED_MS);
              function done(): void {
                if (timer !== undefined) clearTimeout(timer);
                waiters.delete(done);
                wake = undefined;
                resolve();
              }
              wake = done;
              waiters.add(done);
            });
          }
        } finally {
          closed = true;
          open.delete(subscription);
        }
      },
    };
    open.add(subscription);
    return subscription;
  }

  return {
    subscribe,
    wakeAll,
    listening: () => connected,
    async closeAll() {
      await Promise.all([...open].map((s) => s.close()));
      wakeAll();
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
