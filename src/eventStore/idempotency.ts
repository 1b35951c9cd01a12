// The idempotency rule every backend applies (DESIGN.md §2, Idempotency), given
// what each found stored under the keys of an append: all keys stored with the
// same digest → a redelivery of the originals; any different digest, other
// stream, or a mix of stored and new keys → conflict; none stored → append.
// Pure: each adapter looks the keys up in its own way and passes the finding in.
import { IdempotencyConflictError } from './errors.js';
import type { AppendResult, AppendedEvent } from './types.js';

/** One keyed event of an append, with the digest that defines "same content". */
export interface KeyedEvent {
  key: string;
  digest: string;
}

/** What a backend found stored under an idempotency key. */
export interface StoredKey {
  /** Port id (ULID) of the event stored under the key. */
  id: string;
  stream: string;
  revision: number;
  position: bigint;
  digest: string;
}

/**
 * The original events of an append whose keys are all stored, or `undefined`
 * when none is (append it). Throws `IdempotencyConflictError` on a conflict.
 */
export function storedOriginals(
  stream: string,
  keyed: readonly KeyedEvent[],
  lookup: (key: string) => StoredKey | undefined,
): AppendedEvent[] | undefined {
  const originals: AppendedEvent[] = [];
  for (const { key, digest } of keyed) {
    const found = lookup(key);
    if (found === undefined) continue;
    if (found.stream !== stream)
      throw new IdempotencyConflictError(
        key,
        found.id,
        `already stored in stream '${found.stream}'`,
      );
    if (found.digest !== digest)
      throw new IdempotencyConflictError(key, found.id, 'stored with different content');
    originals.push({ id: found.id, revision: found.revision, position: found.position });
  }
  if (originals.length === 0) return undefined;
  if (originals.length !== keyed.length)
    throw new IdempotencyConflictError(
      keyed[0]?.key ?? '',
      originals[0]?.id,
      'some keys of this append are stored and some are not',
    );
  return originals;
}

/** The result of a redelivery: the originals, and the stream's head (or the last original's revision). */
export function redeliveryResult(
  originals: AppendedEvent[],
  headRevision: number | undefined,
): AppendResult {
  const last = originals.reduce((a, b) => (b.position > a.position ? b : a));
  return {
    duplicate: true,
    events: originals,
    position: last.position,
    nextExpectedRevision: headRevision ?? last.revision,
  };
}
