// Subscriptions to `$all`: each catches up page by page from its position, then
// sleeps until a commit (the writer calls `notifyCommitted`), a poll tick (events
// written by other processes) or close, and reads on.
import { ProvenantError } from '../../errors.js';
import type { RecordedEvent, SubscribeToAllOptions, Subscription } from '../types.js';
import { assertFilter } from '../validation.js';
import { readAllRows, readHeadPosition } from './reads.js';
import { toRecorded, type Statements } from './statements.js';

const SUBSCRIPTION_PAGE = 512;

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
  /** Bumped after every commit; subscriptions wait on it. */
  let commitSeq = 0;
  const waiters = new Set<() => void>();
  const subscriptions = new Set<{ close(): Promise<void> }>();

  function subscribe(options: SubscribeToAllOptions): Subscription {
    assertOpen();
    assertFilter(options.filter);
    const from = options.from ?? 'start';
    if (from !== 'start' && from !== 'end' && (typeof from !== 'bigint' || from < 0n))
      throw new ProvenantError(
        'STORE_INVALID_READ_OPTIONS',
        `from must be 'start', 'end' or a non-negative bigint position`,
      );
    // Resolved now, so 'end' means "after what is committed at subscription time".
    let after = from === 'start' ? 0n : from === 'end' ? readHeadPosition(stmt) : from;
    let closed = false;
    let wake: (() => void) | undefined;
    const filter = options.filter;

    const subscription = {
      close(): Promise<void> {
        closed = true;
        subscriptions.delete(subscription);
        wake?.();
        return Promise.resolve();
      },
      async *[Symbol.asyncIterator](): AsyncGenerator<RecordedEvent> {
        try {
          while (!closed && !isClosed()) {
            const seq = commitSeq;
            const rows = readAllRows(stmt, {
              from: after,
              maxCount: SUBSCRIPTION_PAGE,
              ...(filter ? { filter } : {}),
            });
            if (rows.length > 0) {
              for (const row of rows) {
                if (closed) return;
                const event = toRecorded(row);
                after = event.position;
                yield event;
              }
              continue;
            }
            if (seq !== commitSeq) continue;
            // Nothing new: sleep until a commit, a poll tick (other processes) or close.
            await new Promise<void>((resolve) => {
              const timer = setTimeout(done, pollIntervalMs);
              function done(): void {
                clearTimeout(timer);
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
          subscriptions.delete(subscription);
        }
      },
    };
    subscriptions.add(subscription);
    return subscription;
  }

  return {
    subscribe,
    notifyCommitted(): void {
      commitSeq++;
      for (const wake of waiters) wake();
      waiters.clear();
    },
    async closeAll(): Promise<void> {
      await Promise.all([...subscriptions].map((s) => s.close()));
      for (const wakeUp of waiters) wakeUp();
      waiters.clear();
    },
  };
}
