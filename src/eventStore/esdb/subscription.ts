// `subscribeToAll` on EventStoreDB/KurrentDB, apart from the store (as emmett
// keeps its consumers): a live subscription to `$all` that, when the server goes
// away, resumes after the last event delivered with a jittered, capped backoff.
import {
  END,
  START,
  type AllStreamSubscription,
  type SubscribeToAllOptions as EsdbSubscribeToAllOptions,
} from '@eventstore/db-client';
import type { EventFilter, RecordedEvent, SubscribeToAllOptions, Subscription } from '../types.js';
import { matchesFilter, subscribeFrom } from '../validation.js';
import type { EsdbClient } from './client.js';
import { isTransientEsdbError, translateEsdbError } from './errors.js';
import { fromEsdbPosition, isVisibleInAll, toEsdbFilter, toEsdbPosition } from './mapping.js';
import { decodeRecordedEvent } from './metadata.js';
import { readAllPage } from './reads.js';
import { backoff, sleep, type BackoffPolicy } from './retry.js';

/** What a subscription needs from the store that opens it. */
export interface SubscriptionDeps {
  client: Pick<EsdbClient, 'readAll' | 'subscribeToAll'>;
  /** Throws when the store is closing or closed. */
  assertOpen: () => void;
  /** Waits between reconnects. */
  retry: BackoffPolicy;
  /** The store's open subscriptions: this one joins it, and leaves it on close. */
  open: Set<{ close(): Promise<void> }>;
}

/** A subscription to `$all` from `options.from`, filtered, that outlives server outages. */
export function subscribeToAll(
  deps: SubscriptionDeps,
  options: SubscribeToAllOptions,
): Subscription {
  const { client, assertOpen, open } = deps;
  assertOpen();
  const from = subscribeFrom(options);
  const filter: EventFilter | undefined = options.filter;
  const abort = new AbortController();
  let closed = false;
  let current: AllStreamSubscription | undefined;

  async function* deliver(): AsyncGenerator<RecordedEvent> {
    // 'end' is resolved once, to the last record of $all (system records
    // included), so that a reconnect resumes there rather than at a later "end".
    let cursor: bigint | undefined;
    const wait = backoff(deps.retry);
    let resolvedEnd = from !== 'end';
    if (typeof from === 'bigint') cursor = from;
    while (!closed) {
      try {
        if (!resolvedEnd) {
          const [lastRecord] = await readAllPage(client, END, 'backwards', 1);
          cursor = lastRecord?.event ? fromEsdbPosition(lastRecord.event.position) : undefined;
          resolvedEnd = true;
        }
        const subscribeOptions: EsdbSubscribeToAllOptions = {
          fromPosition: cursor === undefined ? START : toEsdbPosition(cursor),
          filter: toEsdbFilter(filter),
        };
        current = client.subscribeToAll(subscribeOptions);
        for await (const resolved of current) {
          const raw = resolved.event;
          if (raw === undefined) continue;
          const at = fromEsdbPosition(raw.position);
          if (cursor !== undefined && at <= cursor) continue;
          cursor = at;
          if (!isVisibleInAll(raw.type) || !matchesFilter(filter, raw.streamId, raw.type)) continue;
          const { event } = decodeRecordedEvent(raw);
          wait.reset();
          yield event;
          if (closed) return;
        }
      } catch (error) {
        if (closed) return;
        if (!isTransientEsdbError(error))
          throw translateEsdbError(error, { operation: 'subscribe to $all' });
      } finally {
        const sub = current;
        current = undefined;
        await sub?.unsubscribe().catch(() => undefined);
      }
      if (closed) return;
      // The server went away (or ended the subscription): resume after the last
      // event delivered, with exponential backoff and jitter.
      await sleep(wait.next(), abort.signal);
    }
  }

  let generator: AsyncGenerator<RecordedEvent> | undefined;
  const subscription: Subscription = {
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      open.delete(subscription);
      abort.abort();
      await current?.unsubscribe().catch(() => undefined);
      await generator?.return(undefined);
    },
    [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
      generator ??= deliver();
      return generator;
    },
  };
  open.add(subscription);
  return subscription;
}
