// Subscriptions to `$all`: each catches up page by page from its position, then
// sleeps until a commit (the writer calls `notifyCommitted`), a poll tick (events
// written by other processes) or close, and reads on (../pagedSubscription.ts).
import { createPagedSubscriptions } from '../pagedSubscription.js';
import type { EventFilter, SubscribeToAllOptions, Subscription } from '../types.js';
import { subscribeFrom } from '../validation.js';
import { readAllRows, readHeadPosition } from './reads.js';
import { toRecorded, type Statements } from './statements.js';
import { turnSharedReads } from '../turnSharedReads.js';

export interface SubscriptionDeps {
  stmt: Statements;
  /** How often a sleeping subscription polls for other processes' events (ms). */
  pollIntervalMs: number;
  /** Throws when the store is not open. */
  assertOpen: () => void;
  /** True once the store has closed its connection. */
  isClosed: () => boolean;
}

export interface Subscriptions {
  subscribe: (options: SubscribeToAllOptions) => Subscription;
  /** Called after every commit: wakes the sleeping subscriptions. */
  notifyCommitted: () => void;
  /** Closes every open subscription and wakes any still sleeping. */
  closeAll: () => Promise<void>;
}

export function createSubscriptions(deps: SubscriptionDeps): Subscriptions {
  const { stmt, pollIntervalMs, assertOpen, isClosed } = deps;
  const paged = createPagedSubscriptions({ pollMs: () => pollIntervalMs, isClosed });
  const pages = turnSharedReads((after: bigint, maxCount: number, filter?: EventFilter) =>
    readAllRows(stmt, { from: after, maxCount, ...(filter ? { filter } : {}) }),
  );

  function subscribe(options: SubscribeToAllOptions): Subscription {
    assertOpen();
    const from = subscribeFrom(options);
    const filter = options.filter;
    // Resolved now, so 'end' means "after what is committed at subscription time".
    const after = from === 'start' ? 0n : from === 'end' ? readHeadPosition(stmt) : from;
    return paged.subscribe({
      begin: () => after,
      readPage: (position, maxCount) => pages.read(position, maxCount, filter).map(toRecorded),
    });
  }

  const notifyCommitted = (): void => {
    pages.forget();
    paged.wakeAll();
  };

  return { subscribe, notifyCommitted, closeAll: paged.closeAll };
}
