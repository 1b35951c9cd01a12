// Idempotency keys on EventStoreDB/KurrentDB (DESIGN.md §2, Idempotency). The
// server has no lookup by key, so each stored key gets a one-event index stream
// `$idem-<sha256(key)>` (mapping.ts names it, indexStreams.ts reads and writes
// it) written right after the event; the decision itself is the rule every
// backend applies (../idempotency.ts), given the records found for the keys.
import { storedOriginals, type KeyedEvent } from '../idempotency.js';
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

export type IdempotencyDecision =
  { kind: 'append' } | { kind: 'duplicate'; originals: AppendedEvent[] };

/** Decides what an append with keyed events must do, given the records found for its keys. */
export function decideIdempotency(
  stream: string,
  keyed: readonly KeyedEvent[],
  found: ReadonlyMap<string, IdempotencyRecord>,
): IdempotencyDecision {
  const originals = storedOriginals(stream, keyed, (key) => {
    const record = found.get(key);
    return (
      record && {
        id: record.eventId,
        stream: record.stream,
        revision: record.revision,
        position: BigInt(record.position),
        digest: record.digest,
      }
    );
  });
  return originals === undefined ? { kind: 'append' } : { kind: 'duplicate', originals };
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
