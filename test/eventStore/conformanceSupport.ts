// What the event-store conformance suite's parts (test/eventStore/conformance*.ts)
// share: the harness a backend's spec passes, a store per test with its own
// stream-name prefix, and small helpers to build events, check error codes and
// read a prefix back.
import { randomUUID } from 'node:crypto';
import type { EventStore, EventToAppend, RecordedEvent } from '../../src/eventStore/index.js';

export interface ConformanceQuirks {
  /**
   * Edits the stored data of `event` behind the store's back (e.g. a raw SQL
   * UPDATE with the guard triggers dropped). Omit when the backend cannot be
   * tampered with from a test; the tamper test is then reported as skipped.
   */
  tamper?: (store: EventStore, event: RecordedEvent, newData: unknown) => Promise<void>;
}

export interface ConformanceHarness {
  /** A store to test, called once per test. It may be shared and non-empty. */
  createStore(): Promise<EventStore>;
  /** Opens the same log again after `store` was closed. Defaults to `createStore()`. */
  reopen?(store: EventStore): Promise<EventStore>;
  quirks?: ConformanceQuirks;
}

/** What each part of the suite gets: the backend's name and harness, and `withStore`. */
export interface ConformanceContext {
  backend: string;
  harness: ConformanceHarness;
  /** Runs `fn` on a fresh store (closed after) with a stream-name prefix of its own. */
  withStore: (fn: (store: EventStore, prefix: string) => Promise<void>) => Promise<void>;
}

export function conformanceContext(
  backend: string,
  harness: ConformanceHarness,
): ConformanceContext {
  const withStore = async (
    fn: (store: EventStore, prefix: string) => Promise<void>,
  ): Promise<void> => {
    const store = await harness.createStore();
    const prefix = `conf${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    try {
      await fn(store, prefix);
    } finally {
      await store.close();
    }
  };
  return { backend, harness, withStore };
}

export const ev = (
  type: string,
  data: unknown,
  extra: Partial<EventToAppend> = {},
): EventToAppend => ({
  type,
  data,
  ...extra,
});

export { hasCode } from '../support/errors.js';

/** Reads all of a prefix's events from `$all`, paging with exclusive positions. */
export async function readPrefix(
  store: EventStore,
  prefix: string,
  pageSize = 7,
): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  let from: bigint | 'start' = 'start';
  for (;;) {
    const page = await store.readAll({
      from,
      maxCount: pageSize,
      filter: { streamPrefix: [prefix] },
    });
    out.push(...page);
    if (page.length < pageSize) return out;
    from = (page.at(-1) as RecordedEvent).position;
  }
}

export async function take(
  iterable: AsyncIterable<RecordedEvent>,
  count: number,
  timeoutMs = 10_000,
): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  const timeout = AbortSignal.timeout(timeoutMs);
  for await (const event of iterable) {
    out.push(event);
    if (out.length >= count) break;
    if (timeout.aborted) break;
  }
  return out;
}
