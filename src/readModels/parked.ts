// The dead-letter rows both read-model adapters keep (rm_dead_letters, and
// rm_rebuild_dead_letters during an out-of-sight rebuild): the columns an entry
// is inserted with and how a row read back becomes a `ParkedEvent`. Pure
// helpers, no driver: each adapter gives its own placeholders.
import type { ParkedEvent, ParkedEventInput } from './port.js';

/** The columns of an insert, in the order of `parkedValues`. */
export const PARKED_INSERT_COLUMNS =
  '(projection, position, event_id, type, error, attempts, parked_at)';

/** An entry's values in the order of `PARKED_INSERT_COLUMNS`. */
export const parkedValues = (entry: ParkedEventInput): unknown[] => [
  entry.projection,
  entry.position,
  entry.eventId,
  entry.type,
  entry.error,
  entry.attempts,
  entry.parkedAt,
];

/** A row as a driver returns it (numbers as numbers, bigints or text). */
export interface ParkedRow {
  id: number | bigint | string;
  projection: string;
  position: number | bigint | string;
  event_id: string;
  type: string;
  error: string;
  attempts: number | bigint;
  parked_at: string;
}

export const toParked = (r: ParkedRow): ParkedEvent => ({
  id: Number(r.id),
  projection: r.projection,
  position: BigInt(r.position),
  eventId: r.event_id,
  type: r.type,
  error: r.error,
  attempts: Number(r.attempts),
  parkedAt: r.parked_at,
});
