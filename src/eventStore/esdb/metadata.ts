// How a port event is laid out in an EventStoreDB/KurrentDB event, and back.
// Data is the event's JSON (content type application/json, so the server's own
// projections and UI can read it). The custom metadata JSON is the caller's
// metadata plus the integrity fields (DESIGN.md §3), exactly as the port returns
// them, plus one reserved key `$provenant` with what only the adapter needs: the
// ULID, the recorded time and the idempotency key and digest. Pure functions.
import type { Position } from '@eventstore/db-client';
import { ProvenantError } from '../../errors.js';
import type {
  EventMetadata,
  IntegrityMetadata,
  RecordedEvent,
  RecordedMetadata,
} from '../types.js';
import { fromEsdbPosition, portEventId, toPortRevision } from './mapping.js';

/** The reserved metadata key; callers may not use it. */
export const PROVENANT_METADATA_KEY = '$provenant';

/** What the adapter records about each event beside the caller's metadata. */
export interface ProvenantRecord {
  /** Layout version of this record. */
  v: 1;
  /** The port's event id (ULID). */
  id: string;
  /** ISO 8601 time the adapter recorded the event. */
  recordedAt: string;
  idempotencyKey?: string;
  /** The digest that decides "same content" for the key (DESIGN.md §2, Idempotency). */
  idempotencyDigest?: string;
}

/** The custom metadata JSON stored with an event. */
export type StoredMetadata = RecordedMetadata & { [PROVENANT_METADATA_KEY]: ProvenantRecord };

/** Builds the stored metadata; integrity fields override any caller fields of the same name. */
export function encodeMetadata(
  metadata: EventMetadata | undefined,
  integrity: IntegrityMetadata,
  record: ProvenantRecord,
): StoredMetadata {
  if (metadata !== undefined && Object.hasOwn(metadata, PROVENANT_METADATA_KEY))
    throw new ProvenantError(
      'STORE_INVALID_EVENT',
      `Metadata key '${PROVENANT_METADATA_KEY}' is reserved by the EventStoreDB/KurrentDB adapter`,
    );
  return {
    ...metadata,
    contentDigest: integrity.contentDigest,
    prevDigest: integrity.prevDigest,
    [PROVENANT_METADATA_KEY]: record,
  };
}

/** The fields of the client's recorded event that decoding reads. */
export interface EsdbRecordedEventLike {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  created: Date;
  isJson: boolean;
  data: unknown;
  metadata: unknown;
  position?: Position;
}

/** A stored event as the port returns it, with the adapter's record beside it. */
export interface DecodedEvent {
  event: RecordedEvent;
  /** Absent for events that Provenant did not write. */
  record?: ProvenantRecord;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof Uint8Array);

function readRecord(value: unknown): ProvenantRecord | undefined {
  if (!isPlainObject(value) || value.v !== 1) return undefined;
  const { id, recordedAt, idempotencyKey, idempotencyDigest } = value;
  if (typeof id !== 'string' || typeof recordedAt !== 'string') return undefined;
  return {
    v: 1,
    id,
    recordedAt,
    ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}),
    ...(typeof idempotencyDigest === 'string' ? { idempotencyDigest } : {}),
  };
}

/**
 * The port's view of an event read from the server. Events written by other tools
 * decode too (id from their UUID, time from the server, no digests: a verification
 * walk reports them). Throws when the server did not send a position, which only
 * servers older than EventStoreDB 22.6 omit on stream reads.
 */
export function decodeRecordedEvent(raw: EsdbRecordedEventLike): DecodedEvent {
  if (raw.position === undefined)
    throw new ProvenantError(
      'ESDB_UNEXPECTED',
      `The server sent ${raw.streamId}@${raw.revision} without its $all position; EventStoreDB/KurrentDB 22.6 or later is required`,
    );
  const stored = isPlainObject(raw.metadata) ? raw.metadata : {};
  const { [PROVENANT_METADATA_KEY]: rawRecord, ...rest } = stored;
  const record = readRecord(rawRecord);
  const metadata: RecordedMetadata = {
    ...rest,
    contentDigest: typeof rest.contentDigest === 'string' ? rest.contentDigest : '',
    prevDigest: typeof rest.prevDigest === 'string' ? rest.prevDigest : '',
  };
  const data =
    raw.isJson || !(raw.data instanceof Uint8Array)
      ? raw.data
      : Buffer.from(raw.data).toString('base64');
  const event: RecordedEvent = {
    id: portEventId(record?.id, raw.id),
    type: raw.type,
    stream: raw.streamId,
    revision: toPortRevision(raw.revision),
    position: fromEsdbPosition(raw.position),
    recordedAt: record?.recordedAt ?? raw.created.toISOString(),
    data,
    metadata,
  };
  return record === undefined ? { event } : { event, record };
}
