// The event-store port (DESIGN.md §2). Every backend implements exactly this;
// nothing above it imports a driver. Option and result types are defined per
// operation (STYLE.md §1).
import type { ExpectedRevision } from './expectedRevision.js';

/** A JSON value as stored in event data and metadata. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The original CloudEvent context of an event derived from one. */
export interface EventContext {
  id?: string;
  source?: string;
  type?: string;
  subject?: string;
  time?: string;
}

/** Metadata a caller may attach to an event. Integrity fields are added by the store. */
export interface EventMetadata {
  /** The CloudEvent this event came from, if any. Covered by the content digest. */
  context?: EventContext;
  /** The authenticated principal that caused the event. */
  principal?: string;
  correlationId?: string;
  causationId?: string;
  /** W3C trace context `traceparent` header. */
  traceparent?: string;
  [key: string]: unknown;
}

/** Integrity fields the store adds to every stored event's metadata (DESIGN.md §3). */
export interface IntegrityMetadata {
  /** Hex SHA-256 of the RFC 8785 canonical JSON of `{ type, data, context }`. */
  contentDigest: string;
  /**
   * Hex digest of the previous event of the same stream (`eventDigest` of it),
   * or 64 zeros for the first event of a stream.
   */
  prevDigest: string;
}

export type RecordedMetadata = EventMetadata & IntegrityMetadata;

/** An event as handed to `append`. */
export interface EventToAppend<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  metadata?: EventMetadata;
  /**
   * Makes the append idempotent: a key already stored appends nothing and returns
   * the original event. Ingest passes the CloudEvent `source` + `id`.
   */
  idempotencyKey?: string;
  /**
   * What "the same content" means for the idempotency key; defaults to the event's
   * content digest. Ingest passes the digest of the original CloudEvent so that a
   * redelivery is recognised even when derived data differs.
   */
  idempotencyDigest?: string;
  /**
   * Keys by which this event can be found later with `findByKey` (e.g. `receipt:<receiptId>`).
   * A key names one event for ever: if a key is already stored, the first event keeps it
   * and the later one is stored without it (no error).
   */
  lookupKeys?: readonly string[];
}

/** An event as stored and read back. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  /** ULID, from one monotonic factory. */
  id: string;
  type: Type;
  stream: string;
  /** 0-based revision of the event in its stream. */
  revision: number;
  /** Global position in `$all`: strictly increasing, not necessarily contiguous. */
  position: bigint;
  /** ISO 8601 time the store recorded the event. */
  recordedAt: string;
  data: Data;
  metadata: RecordedMetadata;
}

/**
 * An event as the store keeps it, its data and metadata not parsed: for walks
 * that hash what is stored (`provenant log verify`).
 */
export interface StoredEvent {
  id: string;
  type: string;
  stream: string;
  revision: number;
  position: bigint;
  recordedAt: string;
  /** The data's stored JSON text: its RFC 8785 canonical form, as the content digest covers it. */
  dataJson: string;
  /** The metadata's stored JSON text, without the integrity fields. */
  metadataJson: string;
  contentDigest: string;
  prevDigest: string;
}

export interface AppendOptions {
  /** Defaults to `any`. */
  expectedRevision?: ExpectedRevision;
}

/** Where one stored event is. */
export interface EventLocation {
  id: string;
  stream: string;
  revision: number;
  position: bigint;
}

/** Where one appended event landed. */
export interface AppendedEvent {
  id: string;
  revision: number;
  position: bigint;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append: pass it as the next expected revision. */
  nextExpectedRevision: number;
  /** Global position of the last event written (or, for a duplicate, of the original). */
  position: bigint;
  /** One entry per event written; for a duplicate, the original events whose keys matched. */
  events: AppendedEvent[];
  /** True when every keyed event was already stored: nothing was appended. */
  duplicate: boolean;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  /** Revision to start at, inclusive. Defaults to `start` forwards and `end` backwards. */
  from?: 'start' | 'end' | number;
  direction?: Direction;
  /** Defaults to unbounded. */
  maxCount?: number;
}

export interface ReadStreamResult<E = RecordedEvent> {
  events: E[];
  /** Revision of the stream's last event when read, or `no_stream`. */
  currentRevision: number | 'no_stream';
}

/**
 * Selects events of `$all` by stream-name prefix or by event-type prefix (one kind
 * at a time, as server-side filters are in KurrentDB).
 */
export type EventFilter = { streamPrefix: string[] } | { eventTypePrefix: string[] };

/**
 * A position in `$all`. A number is exclusive: forwards reads return events after
 * it, backwards reads events before it; so the last position read is the cursor
 * for the next page and the checkpoint to resume from.
 */
export type AllPosition = 'start' | 'end' | bigint;

export interface ReadAllOptions {
  /** Defaults to `start` forwards and `end` backwards. Exclusive when a position. */
  from?: AllPosition;
  direction?: Direction;
  /** Defaults to `DEFAULT_READ_ALL_MAX_COUNT`. */
  maxCount?: number;
  filter?: EventFilter;
}

export const DEFAULT_READ_ALL_MAX_COUNT = 1000;

export interface SubscribeToAllOptions {
  /** Defaults to `start`. A position is exclusive: delivery resumes after it. */
  from?: AllPosition;
  filter?: EventFilter;
}

/**
 * Catch-up then live delivery of `$all`, with no gap and no duplicate at the
 * hand-over. Iterate it; `close()` (or leaving a `for await`) ends it.
 */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

/** The first broken link found by a verification walk, if any. */
export interface IntegrityProblem {
  stream: string;
  revision: number;
  position: bigint;
  eventId: string;
  kind: 'content-digest-mismatch' | 'prev-digest-mismatch' | 'revision-gap' | 'unreadable';
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Events checked before stopping. */
  checked: number;
  problem?: IntegrityProblem;
}

/** The port. */
export interface EventStore {
  append(
    stream: string,
    events: readonly EventToAppend[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): Promise<ReadStreamResult>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * A page of `$all` forwards, as stored (data and metadata not parsed).
   * Optional: a backend that keeps the text as written implements it.
   */
  readAllStored?(options?: Pick<ReadAllOptions, 'from' | 'maxCount'>): Promise<StoredEvent[]>;
  subscribeToAll(options?: SubscribeToAllOptions): Subscription;
  /** The event stored with `key` among its lookup keys, or undefined. Its cost does not grow with the log. */
  findByKey(key: string): Promise<EventLocation | undefined>;
  /** Position of the last event in `$all`, or `0n` for an empty log. */
  headPosition(): Promise<bigint>;
  /** Re-walks one stream's chain and digests; reports the first broken link. */
  verifyStream(stream: string): Promise<VerifyResult>;
  /** Re-walks every stream of the log in `$all` order; reports the first broken link. */
  verifyAll(options?: { onProgress?: (checked: number) => void }): Promise<VerifyResult>;
  /** True when the backend can serve reads and appends right now. */
  isReady(): Promise<boolean>;
  /** Why the backend is not ready, when it knows (shown by /readyz). Optional. */
  problem?(): string | undefined;
  /** Waits for in-flight appends, then releases the backend. Idempotent. */
  close(): Promise<void>;
}
