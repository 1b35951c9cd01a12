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
 * Default bound on the events folded into all cached states together (a stream at
 * revision r counts r + 1): about 100 MB of ~1 KiB receipts, whatever the mix of
 * short and long streams.
 */
export const DEFAULT_STREAM_CACHE_EVENTS = 100_000;

/** Bounds of a stream-state cache. */
export interface StreamStateCacheOptions {
  /** Most streams kept; 0 turns the cache off. Default `DEFAULT_STREAM_CACHE_SIZE`. */
  maxStreams?: number;
  /**
   * Most events folded into the kept states together; a stream longer than this is
   * never kept. Default `DEFAULT_STREAM_CACHE_EVENTS`.
   */
  maxEvents?: number;
}

const assertBound = (what: string, value: number): void => {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
};

/**
 * An LRU cache of stream states, bounded in streams and in events folded (the
 * least recently used go first). States must be treated as immutable by everyone
 * holding them: the deciders' `evolve` returns new states and never changes the one
 * it is given, and the data of decided events (which a state may hold by
 * reference, e.g. a receipt's `results`) must not be changed once the command has
 * been handed it.
 */
export function createStreamStateCache<State>({
  maxStreams = DEFAULT_STREAM_CACHE_SIZE,
  maxEvents = DEFAULT_STREAM_CACHE_EVENTS,
}: StreamStateCacheOptions = {}): StreamStateCache<State> {
  assertBound('maxStreams', maxStreams);
  assertBound('maxEvents', maxEvents);
  if (maxStreams === 0 || maxEvents === 0)
    return {
      get: () => undefined,
      set: () => undefined,
      delete: () => undefined,
      size: 0,
    };
  const lru = new LRUCache<string, CachedStream<State>>({
    max: maxStreams,
    maxSize: maxEvents,
    sizeCalculation: (entry) => entry.revision + 1,
  });
  return {
    get: (stream) => lru.get(stream),
    set: (stream, entry) => {
      // A stream too long to keep is not kept, and must not leave an older state behind.
      if (entry.revision + 1 > maxEvents) lru.delete(stream);
      else lru.set(stream, entry);
    },
    delete: (stream) => {
      lru.delete(stream);
    },
    get size() {
      return lru.size;
    },
  };
}
