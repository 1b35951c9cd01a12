// Idempotency keys on EventStoreDB/KurrentDB (DESIGN.md §2, Idempotency). The
// server has no lookup by key, so each stored key gets a one-event index stream
// `$idem-<sha256(key)>` (mapping.ts names it, indexStreams.ts reads and writes
// it) written right after the event; the decision itself is this pure function,
// the same rules as every backend: all keys stored with the same digest →
// duplicate; any different digest, other stream, or a mix of stored and new
// keys → conflict; none stored → append.
import { IdempotencyConflictError } from '../errors.js';
import type { AppendedEvent } from '../types.js';
import { parseIndexedLocation } from './indexStreams.js';

/** The content of an index event: where a key was stored and with which digest. */
export interface IdempotencyRecord {
  key: string;
  digest: string;
  stream: string;
  /** Port id (ULID) of the event stored under the key. */
  eventId: string;
  revision: number;
  /** Decimal string: JSON has no bigint. */
  position: string;
}

/** One keyed event of an append. */
export interface KeyedEvent {
  key: string;
  digest: string;
}

export type IdempotencyDecision =
  { kind: 'append' } | { kind: 'duplicate'; originals: AppendedEvent[] };

/** Decides what an append with keyed events must do, given the records found for its keys. */
export function decideIdempotency(
  stream: string,
  keyed: readonly KeyedEvent[],
  found: ReadonlyMap<string, IdempotencyRecord>,
): IdempotencyDecision {
  const originals: AppendedEvent[] = [];
  for (const { key, digest } of keyed) {
    const record = found.get(key);
    if (record === undefined) continue;
    if (record.stream !== stream)
      throw new IdempotencyConflictError(
        key,
        record.eventId,
        `already stored in stream '${record.stream}'`,
      );
    if (record.digest !== digest)
      throw new IdempotencyConflictError(key, record.eventId, 'stored with different content');
    originals.push({
      id: record.eventId,
      revision: record.revision,
      position: BigInt(record.position),
    });
  }
  if (originals.length === 0) return { kind: 'append' };
  if (originals.length !== keyed.length)
    throw new IdempotencyConflictError(
      keyed[0]?.key ?? '',
      originals[0]?.id,
      'some keys of this append are stored and some are not',
    );
  return { kind: 'duplicate', originals };
}

/** Reads an index event's data back, or `undefined` when it is not one of ours. */
export function parseIdempotencyRecord(data: unknown): IdempotencyRecord | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const r = data as Record<string, unknown>;
  const at = parseIndexedLocation(r);
  if (typeof r.key !== 'string' || typeof r.digest !== 'string' || at === undefined)
    return undefined;
  return { key: r.key, digest: r.digest, ...at };
}
