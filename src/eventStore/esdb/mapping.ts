// Pure mappings between the port's vocabulary and EventStoreDB/KurrentDB's
// (DESIGN.md §2, "Backend quirks … are mapped at the adapter boundary"):
// expected revisions, `$all` positions, event ids, system-event exclusion and
// server-side filters. No I/O and no client calls here, so all of it is unit-tested.
import { createHash } from 'node:crypto';
import {
  ANY as CLIENT_ANY,
  NO_STREAM as CLIENT_NO_STREAM,
  STREAM_EXISTS as CLIENT_STREAM_EXISTS,
  eventTypeFilter,
  excludeSystemEvents,
  streamNameFilter,
  type AppendExpectedRevision,
  type CurrentRevision,
  type Filter,
  type Position,
} from '@eventstore/db-client';
import { ProvenantError } from '../../errors.js';
import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  type ActualRevision,
  type ExpectedRevision,
} from '../expectedRevision.js';
import { isUlid, ulidToUuid, uuidToUlid, uuidV5 } from '../ids.js';
import type { EventFilter } from '../types.js';

// ---------------------------------------------------------------- revisions

/**
 * The client's expected revision for a port expected revision. Both number the
 * events of a stream from 0, so a number maps to the same bigint.
 */
export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case ANY:
      return CLIENT_ANY;
    case NO_STREAM:
      return CLIENT_NO_STREAM;
    case STREAM_EXISTS:
      return CLIENT_STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
}

/** A revision the client reports (bigint, `no_stream`) as a port revision. */
export function fromEsdbRevision(revision: CurrentRevision): ActualRevision {
  if (revision === CLIENT_NO_STREAM) return NO_STREAM;
  return toPortRevision(revision);
}

/** The revision of a stored event as a port revision (a safe integer). */
export const toPortRevision = (revision: bigint): number =>
  bigintToSafeNumber(revision, 'stream revision');

/** A port expected revision from what the client reports as expected (for error details). */
export function fromEsdbExpectedRevision(expected: AppendExpectedRevision): ExpectedRevision {
  switch (expected) {
    case CLIENT_ANY:
      return ANY;
    case CLIENT_NO_STREAM:
      return NO_STREAM;
    case CLIENT_STREAM_EXISTS:
      return STREAM_EXISTS;
    default:
      return bigintToSafeNumber(expected, 'expected revision');
  }
}

function bigintToSafeNumber(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ProvenantError(
      'STORE_INTEGRITY_VIOLATION',
      `The server reported a ${what} out of range: ${value}`,
    );
  return Number(value);
}

// ---------------------------------------------------------------- positions

/**
 * The port's global position of an event read from `$all`: its commit position.
 *
 * Sound because every Provenant append is a non-transactional gRPC append: on
 * EventStoreDB ≥ 20 / KurrentDB each such event is a self-committed record whose
 * commit position equals its prepare position, unique and increasing in `$all`
 * order. (Only legacy explicit TCP transactions share one commit position among
 * events; Provenant never writes those.)
 */
export const fromEsdbPosition = (position: Position): bigint => position.commit;

/** The `$all` position for a port position (commit = prepare, see `fromEsdbPosition`). */
export const toEsdbPosition = (position: bigint): Position => ({
  commit: position,
  prepare: position,
});

/**
 * Whether an event at `eventPosition` lies strictly past `from` in the read
 * direction. The port's positions are exclusive; the server's are inclusive, so
 * reads start at `from` and drop the event found exactly there.
 */
export function isPastPosition(
  eventPosition: bigint,
  from: bigint,
  direction: 'forwards' | 'backwards',
): boolean {
  return direction === 'forwards' ? eventPosition > from : eventPosition < from;
}

// ---------------------------------------------------------------- event ids

/** Namespace of the deterministic event ids (a fixed random UUID, RFC 9562 §5.5). */
export const IDEMPOTENCY_NAMESPACE = '6f1f3c1e-6b0e-4c55-9f5e-2f7a4f0d8a31';

/**
 * The UUID under which an event is stored: the lossless image of its ULID, or —
 * for an event with an idempotency key (a CloudEvent's `source` + `id`) — a UUIDv5
 * of the key, so that a retried append carries the same id and the server's own
 * idempotency check (same id at the same expected revision) recognises it.
 */
export function esdbEventId(ulid: string, idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined
    ? ulidToUuid(ulid)
    : uuidV5(IDEMPOTENCY_NAMESPACE, idempotencyKey);
}

/**
 * The port id (ULID) of a stored event: the ULID Provenant recorded in the
 * metadata when there is one, otherwise the lossless image of the server's UUID
 * (events written by other tools).
 */
export function portEventId(recordedUlid: unknown, esdbUuid: string): string {
  if (typeof recordedUlid === 'string' && isUlid(recordedUlid)) return recordedUlid;
  return uuidToUlid(esdbUuid);
}

// ---------------------------------------------------------------- streams and filters

/**
 * Stream holding the idempotency record of one key. `$`-prefixed (a system
 * stream, hidden from `$all` reads by its event type) and named by a digest so
 * that any key fits in a stream name.
 */
export const idempotencyStreamName = (key: string): string =>
  `$idem-${createHash('sha256').update(key, 'utf8').digest('hex')}`;

/** Type of the events in idempotency streams: `$`-prefixed, hence a system event. */
export const IDEMPOTENCY_EVENT_TYPE = '$provenant-idempotency';

/**
 * Whether an event read from `$all` is Provenant's to return. EventStoreDB's own
 * events (`$metadata`, `$>` links, `$statsCollected`, projection state, our
 * idempotency records…) all have `$`-prefixed types; Provenant's own `$`-streams
 * (checkpoints, key rotations) carry ordinary types and pass.
 */
export const isVisibleInAll = (type: string): boolean => !type.startsWith('$');

/**
 * Rejects what this backend cannot store faithfully: `$`-prefixed event types
 * (indistinguishable from system events, so invisible in `$all`), `$$` streams
 * (the server's stream-metadata streams) and our own idempotency and lookup-key
 * streams.
 */
export function assertStorableOnEsdb(stream: string, types: readonly string[]): void {
  if (
    stream.startsWith('$$') ||
    stream.startsWith('$idem-') ||
    stream.startsWith('$key-') ||
    stream === '$all'
  )
    throw new ProvenantError(
      'STORE_INVALID_STREAM_NAME',
      `Stream name '${stream}' is reserved by EventStoreDB/KurrentDB or by the adapter`,
    );
  const reserved = types.find((type) => type.startsWith('$'));
  if (reserved !== undefined)
    throw new ProvenantError(
      'STORE_INVALID_EVENT',
      `Event type '${reserved}' starts with '$', which EventStoreDB/KurrentDB reserves for system events`,
    );
}

/**
 * The server-side filter for a `$all` subscription: the port's prefix filter when
 * given (KurrentDB filters on one property at a time, hence the port's shape),
 * otherwise `excludeSystemEvents()`. System events that a stream-prefix filter
 * lets through are dropped by `isVisibleInAll` on our side.
 */
export function toEsdbFilter(filter: EventFilter | undefined): Filter {
  if (filter === undefined) return excludeSystemEvents();
  if ('streamPrefix' in filter) return streamNameFilter({ prefixes: [...filter.streamPrefix] });
  return eventTypeFilter({ prefixes: [...filter.eventTypePrefix] });
}
