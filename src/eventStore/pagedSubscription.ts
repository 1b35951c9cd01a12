// Subscriptions to `$all` for the backends that read their log in pages (SQLite,
// PostgreSQL): each catches up page by page from its position, then sleeps until
// a wake-up (a commit, a notification), a poll tick or close, and reads on from
// where it was. The adapter says how to read a page and when to poll; a wake-up
// that comes while a page is being read makes the subscription read again.
import type { RecordedEvent, Subscription } from './types.js';

const SUBSCRIPTION_PAGE = 512;

/** How one subscription reads the log. */
export interface PageSource {
  /** Called when iteration begins: the position to deliver after. */
  begin: () => bigint | Promise<bigint>;
  /**
   * Up to `maxCount` events after `after`, in `$all` order; `undefined` when the
   * read failed for a passing reason and was waited out (read again).
   */
  readPage: (
    after: bigint,
    maxCount: number,
  ) => RecordedEvent[] | undefined | Promise<RecordedEvent[] | undefined>;
}

export interface PagedSubscriptionsOptions {
  /** How long a sleeping subscription waits unwoken before it reads again (ms); `undefined`: until woken. */
  pollMs: () => number | undefined;
  /** True once the store has closed. */
  isClosed: () => boolean;
}

/** The open subscriptions of one store. */
export interface PagedSubscriptions {
  subscribe: (source: PageSource) => Subscription;
  /** Wakes the sleeping subscriptions; one reading a page reads again. */
  wakeAll: () => void;
  /** True while a subscription is open. */
  anyOpen: () => boolean;
  /** Closes every open subscription and wakes any still sleeping. */
  closeAll: () => Promise<void>;
}

export function createPagedSubscriptions(options: PagedSubscriptionsOptions): PagedSubscriptions {
  const { pollMs, isClosed } = options;
  /** Bumped by every wake-up; a subscription that saw it change while reading reads again. */
  let seq = 0;
  const waiters = new Set<() => void>();
  const open = new Set<Subscription>();

  function wakeAll(): void {
    seq++;
    for (const wake of waiters) wake();
    waiters.clear();
  }

  function subscribe(source: PageSource): Subscription {
    let closed = false;
    let wake: (() => void) | undefined;

    const subscription: Subscription = {
      close(): Promise<void> {
        closed = true;
        open.delete(subscription);
        wake?.();
        return Promise.resolve();
      },
      async *[Symbol.asyncIterator](): AsyncGenerator<RecordedEvent> {
        try {
          let after = await source.begin();
          while (!closed && !isClosed()) {
            const seen = seq;
            const events = await source.readPage(after, SUBSCRIPTION_PAGE);
            if (events === undefined) continue;
            if (events.length > 0) {
              for (const event of events) {
                if (closed) return;
                after = event.position;
                yield event;
              }
              continue;
            }
            if (seen !== seq) continue;
            // Closed while the page was being read: nothing would wake the wait below.
            if (closed) return;
            await new Promise<void>((resolve) => {
              const ms = pollMs();
              const timer = ms === undefined ? undefined : setTimeout(done, ms);
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
    anyOpen: () => open.size > 0,
    async closeAll(): Promise<void> {
      await Promise.all([...open].map((s) => s.close()));
      wakeAll();
    },
  };
}
