// Page reads of `$all` shared by the subscriptions of one store (pagedSubscription.ts).
// A commit wakes every subscription, and those at the head all read the same
// page: the reads of one turn of the event loop with the same position, size and
// filter share one query (its rows, or the promise of them), not one each. What
// was read is forgotten at the end of the turn, and at each commit, whose page
// it may not show. Each subscriber makes its own events from the rows.
import type { EventFilter } from './types.js';

export interface TurnSharedReads<Rows> {
  read(after: bigint, maxCount: number, filter?: EventFilter): Rows;
  /** Called at each commit (before waking the subscriptions). */
  forget(): void;
}

export function turnSharedReads<Rows>(
  query: (after: bigint, maxCount: number, filter?: EventFilter) => Rows,
): TurnSharedReads<Rows> {
  const turn = new Map<string, Rows>();
  return {
    read(after, maxCount, filter) {
      const key = `${after}:${maxCount}:${filter === undefined ? '' : JSON.stringify(filter)}`;
      let rows = turn.get(key);
      if (rows === undefined) {
        rows = query(after, maxCount, filter);
        if (turn.size === 0) setImmediate(() => turn.clear());
        turn.set(key, rows);
      }
      return rows;
    },
    forget: () => turn.clear(),
  };
}
