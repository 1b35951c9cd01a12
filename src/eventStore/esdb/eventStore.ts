// The EventStoreDB/KurrentDB log (DESIGN.md §2, "Backends"): the whole port on
// @eventstore/db-client 6.x, composed from the modules beside this one (client,
// append, reads, subscription; the pure rules in mapping, metadata, idempotency,
// errors), plus what is the store's own: lifecycle, readiness and verification.
// docs/kurrentdb.md explains the layout, the guarantees and their limits.
import { BACKWARDS, END, FORWARDS } from '@eventstore/db-client';
import { storeClosed } from '../errors.js';
import type {
  AppendOptions,
  AppendResult,
  EventLocation,
  EventStore,
  EventToAppend,
  ReadAllOptions,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
  SubscribeToAllOptions,
  Subscription,
  VerifyResult,
} from '../types.js';
import { assertLookupKey, assertStreamName } from '../validation.js';
import { ChainWalker } from '../chainWalker.js';
import { createAppend } from './append.js';
import { createEsdbClient, type EsdbClient, type EsdbEventStoreOptions } from './client.js';
import { redactConnectionString } from './connectionString.js';
import { checkAppend } from './eventData.js';
import { findLookupKey } from './lookupKeys.js';
import {
  PAGE,
  collect,
  createReadAll,
  decodeAll,
  readStream,
  readStreamRaw,
  walkAll,
} from './reads.js';
import { subscribeToAll } from './subscription.js';

/** The EventStoreDB/KurrentDB store: the port, plus a safe description of where it points. */
export interface EsdbEventStore extends EventStore {
  /** The connection string with credentials redacted. */
  readonly description: string;
  /** The same, for logs and string templates. */
  toString(): string;
}

/** Settings the adapter itself needs, after the connection details are resolved. */
export interface EsdbAdapterSettings {
  description: string;
  readinessTimeoutMs?: number;
  subscriptionRetry?: { initialDelayMs?: number; maxDelayMs?: number };
  clock?: () => Date;
  /** Appends retried on a concurrent write when the caller asked for `any`/`stream_exists`. Default 20. */
  maxAppendAttempts?: number;
  /** Operational warnings (category reads falling back to the walk). Default `process.emitWarning`. */
  warn?: (message: string) => void;
}

/**
 * Connects (lazily: the first call opens the channel) to EventStoreDB/KurrentDB
 * and returns the port. Throws `STORE_CONFIGURATION` for a malformed connection
 * string or an unreadable TLS file (client.ts); an unreachable server is not an
 * error here — `isReady()` is false and calls fail with
 * `STORE_BACKEND_UNAVAILABLE` until it answers.
 */
export function getEventStoreDBEventStore(options: EsdbEventStoreOptions): EsdbEventStore {
  const client = createEsdbClient(options);
  return createEsdbEventStore(client, {
    description: redactConnectionString(options.connectionString.trim()),
    ...(options.readinessTimeoutMs !== undefined && {
      readinessTimeoutMs: options.readinessTimeoutMs,
    }),
    ...(options.subscriptionRetry !== undefined && {
      subscriptionRetry: options.subscriptionRetry,
    }),
    ...(options.clock !== undefined && { clock: options.clock }),
  });
}

/** The port on a given client. Exported for tests that drive it with a fake client. */
export function createEsdbEventStore(
  client: EsdbClient,
  settings: EsdbAdapterSettings,
): EsdbEventStore {
  const clock = settings.clock ?? (() => new Date());
  const readinessTimeoutMs = settings.readinessTimeoutMs ?? 2000;
  const initialDelayMs = settings.subscriptionRetry?.initialDelayMs ?? 100;
  const maxDelayMs = settings.subscriptionRetry?.maxDelayMs ?? 5000;
  const maxAppendAttempts = settings.maxAppendAttempts ?? 20;

  let state: 'open' | 'closing' | 'closed' = 'open';
  let closing: Promise<void> | undefined;
  const inFlight = new Set<Promise<unknown>>();
  const subscriptions = new Set<{ close(): Promise<void> }>();
  const assertOpen = (): void => {
    if (state !== 'open') throw storeClosed();
  };
  const append = createAppend({ client, clock, maxAppendAttempts });
  const readAll = createReadAll(
    client,
    assertOpen,
    settings.warn ?? ((message) => process.emitWarning(message, 'ProvenantWarning')),
  );

  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    const untrack = (): void => void inFlight.delete(work);
    work.then(untrack, untrack);
    return work;
  }

  const store: EsdbEventStore = {
    description: settings.description,

    append(
      stream: string,
      events: readonly EventToAppend[],
      appendOptions: AppendOptions = {},
    ): Promise<AppendResult> {
      try {
        assertOpen();
        return track(append(checkAppend(stream, events, appendOptions.expectedRevision)));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    async readStream(
      stream: string,
      readOptions: ReadStreamOptions = {},
    ): Promise<ReadStreamResult> {
      assertOpen();
      return readStream(client, stream, readOptions);
    },

    async readAll(readOptions: ReadAllOptions = {}): Promise<RecordedEvent[]> {
      assertOpen();
      return readAll(readOptions);
    },

    subscribeToAll(subscribeOptions: SubscribeToAllOptions = {}): Subscription {
      return subscribeToAll(
        {
          client,
          assertOpen,
          retry: { initialDelayMs, maxDelayMs, jitter: 'equal' },
          open: subscriptions,
        },
        subscribeOptions,
      );
    },

    async findByKey(key: string): Promise<EventLocation | undefined> {
      assertOpen();
      assertLookupKey(key);
      return findLookupKey(client, key);
    },

    async headPosition(): Promise<bigint> {
      assertOpen();
      let head = 0n;
      await walkAll(
        client,
        assertOpen,
        'end',
        'backwards',
        (event) => {
          head = event.position;
          return false;
        },
        100,
      );
      return head;
    },

    async verifyStream(stream: string): Promise<VerifyResult> {
      assertOpen();
      assertStreamName(stream);
      const walker = new ChainWalker();
      let from = 0n;
      for (;;) {
        const resolved = await readStreamRaw(client, stream, {
          direction: FORWARDS,
          fromRevision: from,
          maxCount: PAGE,
        });
        const page = decodeAll(resolved ?? []);
        for (const { event } of page) {
          const problem = walker.check(event);
          if (problem) return { ok: false, checked: walker.checked, problem };
        }
        if (page.length < PAGE) return { ok: true, checked: walker.checked };
        from = BigInt((page.at(-1)?.event.revision ?? 0) + 1);
        assertOpen();
      }
    },

    async verifyAll(verifyOptions = {}): Promise<VerifyResult> {
      assertOpen();
      const walker = new ChainWalker();
      let result: VerifyResult | undefined;
      await walkAll(client, assertOpen, 'start', 'forwards', (event) => {
        const problem = walker.check(event);
        if (problem) {
          result = { ok: false, checked: walker.checked, problem };
          return false;
        }
        if (walker.checked % PAGE === 0) verifyOptions.onProgress?.(walker.checked);
        return true;
      });
      if (result) return result;
      verifyOptions.onProgress?.(walker.checked);
      return { ok: true, checked: walker.checked };
    },

    async isReady(): Promise<boolean> {
      if (state !== 'open') return false;
      const read = client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), readinessTimeoutMs);
      });
      try {
        return await Promise.race([collect(read).then(() => true), timeout]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
        void read.cancel().catch(() => undefined);
      }
    },

    close(): Promise<void> {
      closing ??= (async () => {
        state = 'closing';
        // In-flight appends finish and are acknowledged (or fail); new ones are refused.
        await Promise.allSettled([...inFlight]);
        await Promise.allSettled([...subscriptions].map((s) => s.close()));
        await client.dispose().catch(() => undefined);
        state = 'closed';
      })();
      return closing;
    },

    toString(): string {
      return `EventStoreDB/KurrentDB event store (${settings.description})`;
    },
  };
  return store;
}
