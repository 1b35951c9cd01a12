// A bounded in-process cache of folded stream states (LRU), so that a command on
// a stream this process wrote recently does not read and fold the whole stream
// again. The log stays the truth: an entry says "the stream was at `revision` and
// folded to `state`", and the command handler appends with exactly that expected
// revision. If another writer (another API node) appended meanwhile, the append
// fails with a revision conflict, the handler drops the entry and reloads from the
// log (DESIGN.md §2, optimistic concurrency). Queries that must reflect the log
// exactly (unit status, time travel) do not use it.
import { LRUCache } from 'lru-cache';

/** A folded stream as of one revision. */
export interface CachedStream<State> {
  state: State;
  /** Revision of the stream's last event folded into `state`. */
  revision: number;
}

/** The cache as the command handler uses it. */
export interface StreamStateCache<State> {
  get(stream: string): CachedStream<State> | undefined;
  set(stream: string, entry: CachedStream<State>): void;
  delete(stream: string): void;
  /** Entries held now. */
  readonly size: number;
}

/** Default number of streams kept. */
export const DEFAULT_STREAM_CACHE_SIZE = 10_000;

/**
 * An LRU cache of at most `max` stream states (0 disables caching). States must be
 * treated as immutable by everyone holding them: the deciders' `evolve` returns new
 * states and never changes the one it is given, and the data of decided events
 * (which a state may hold by reference, e.g. a receipt's `results`) must not be
 * changed once the command has been handed it.
 */
export function createStreamStateCache<State>(
  max: number = DEFAULT_STREAM_CACHE_SIZE,
): StreamStateCache<State> {
  if (!Number.isSafeInteger(max) || max < 0)
    throw new RangeError(`Stream cache size must be a non-negative integer, got ${max}`);
  if (max === 0)
    return {
      get: () => undefined,
      set: () => undefined,
      delete: () => undefined,
      size: 0,
    };
  const lru = new LRUCache<string, CachedStream<State>>({ max });
  return {
    get: (stream) => lru.get(stream),
    set: (stream, entry) => {
      lru.set(stream, entry);
    },
    delete: (stream) => {
      lru.delete(stream);
    },
    get size() {
      return lru.size;
    },
  };
}
