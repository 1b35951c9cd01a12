// Input checks every backend applies before touching storage, so that bad input
// gets the same typed error everywhere and nothing is appended.
import { ProvenantError } from '../errors.js';
import { CanonicalJsonError } from '../encoding/canonicalJson.js';
import { assertExpectedRevision, type ExpectedRevision } from './expectedRevision.js';
import { canonicalize } from '../encoding/canonicalJson.js';
import { contentDigestOfCanonical } from './integrity.js';
import type {
  AllPosition,
  EventFilter,
  EventToAppend,
  ReadAllOptions,
  SubscribeToAllOptions,
} from './types.js';

export const MAX_STREAM_NAME_LENGTH = 256;
export const MAX_EVENT_TYPE_LENGTH = 256;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 1024;
export const MAX_LOOKUP_KEY_LENGTH = 512;
export const MAX_LOOKUP_KEYS_PER_EVENT = 8;
// C0 and C1 control characters, DEL, and the Unicode line/paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function assertName(kind: string, value: unknown, max: number): asserts value is string {
  const code = kind === 'Stream name' ? 'STORE_INVALID_STREAM_NAME' : 'STORE_INVALID_EVENT';
  if (typeof value !== 'string' || value.length === 0)
    throw new ProvenantError(code, `${kind} must be a non-empty string`);
  if (value.length > max)
    throw new ProvenantError(
      code,
      `${kind} is ${value.length} characters long; the limit is ${max}`,
    );
  if (CONTROL.test(value)) throw new ProvenantError(code, `${kind} contains control characters`);
}

export function assertStreamName(stream: unknown): asserts stream is string {
  assertName('Stream name', stream, MAX_STREAM_NAME_LENGTH);
}

/** An event checked and serialised once: what every adapter stores. */
export interface PreparedEvent {
  type: string;
  /** RFC 8785 canonical JSON of `data`. */
  dataJson: string;
  /** JSON of the caller's metadata (`{}` when none). */
  metadataJson: string;
  /** Hex SHA-256 of the canonical `{ type, data, context }` (see integrity.ts). */
  contentDigest: string;
  event: EventToAppend;
}

/**
 * The cheap checks of an append, done before anything is serialised: stream
 * name, expected revision, a non-empty batch, each event's type, idempotency
 * key (unique within the append) and lookup keys. Throws a typed error.
 */
export function checkAppend(
  stream: unknown,
  events: unknown,
  expectedRevision: unknown,
): { stream: string; expectedRevision: ExpectedRevision; events: readonly EventToAppend[] } {
  assertStreamName(stream);
  assertExpectedRevision(expectedRevision);
  if (!Array.isArray(events) || events.length === 0)
    throw new ProvenantError('STORE_EMPTY_APPEND', `Append to '${stream}' contains no events`);
  const keys = new Set<string>();
  (events as unknown[]).forEach((raw, index) => {
    if (typeof raw !== 'object' || raw === null)
      throw new ProvenantError('STORE_INVALID_EVENT', `Event ${index} is not an object`);
    const event = raw as EventToAppend;
    assertName('Event type', event.type, MAX_EVENT_TYPE_LENGTH);
    if (event.data === undefined)
      throw new ProvenantError(
        'STORE_INVALID_EVENT',
        `Event ${index} (${String(event.type)}) has no data`,
      );
    if (event.idempotencyKey !== undefined) {
      assertName('Idempotency key', event.idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH);
      if (keys.has(event.idempotencyKey))
        throw new ProvenantError(
          'STORE_INVALID_EVENT',
          `Idempotency key '${event.idempotencyKey}' appears twice in one append`,
        );
      keys.add(event.idempotencyKey);
    }
    if (event.lookupKeys !== undefined) assertLookupKeys(event.lookupKeys, index);
  });
  return { stream, expectedRevision, events: events as EventToAppend[] };
}

/**
 * An event's lookup keys: an array of at most `MAX_LOOKUP_KEYS_PER_EVENT`
 * non-empty strings without control characters, each at most
 * `MAX_LOOKUP_KEY_LENGTH` long. (The same key twice in one append is allowed:
 * the first event keeps it, as with a key stored earlier.)
 */
export function assertLookupKeys(lookupKeys: unknown, index: number): void {
  if (!Array.isArray(lookupKeys))
    throw new ProvenantError('STORE_INVALID_EVENT', `Event ${index}: lookupKeys must be an array`);
  if (lookupKeys.length > MAX_LOOKUP_KEYS_PER_EVENT)
    throw new ProvenantError(
      'STORE_INVALID_EVENT',
      `Event ${index} has ${lookupKeys.length} lookup keys; the limit is ${MAX_LOOKUP_KEYS_PER_EVENT}`,
    );
  for (const key of lookupKeys as unknown[]) assertName('Lookup key', key, MAX_LOOKUP_KEY_LENGTH);
}

/** Checks a key handed to `findByKey`; a key that could not be stored is invalid input. */
export function assertLookupKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0)
    throw new ProvenantError(
      'STORE_INVALID_READ_OPTIONS',
      'A lookup key must be a non-empty string',
    );
}

/** Serialises one checked event: canonical data, metadata JSON, content digest. */
export function prepareEvent(event: EventToAppend, index: number): PreparedEvent {
  try {
    const dataJson = canonicalize(event.data);
    const metadataJson =
      event.metadata === undefined ? '{}' : jsonOrThrow(event.metadata, 'metadata');
    const contentDigest = contentDigestOfCanonical(event.type, dataJson, event.metadata?.context);
    return { type: event.type, dataJson, metadataJson, contentDigest, event };
  } catch (error) {
    if (error instanceof ProvenantError) throw error;
    const reason = error instanceof CanonicalJsonError ? error.message : String(error);
    throw new ProvenantError(
      'STORE_INVALID_EVENT',
      `Event ${index} (${event.type}) is not JSON-serialisable: ${reason}`,
      { cause: error },
    );
  }
}

/**
 * Validates an append and serialises each event once. Throws a typed error for an
 * empty batch, a bad expected revision, a bad stream name, or data and metadata
 * that are not JSON.
 */
export function prepareAppend(
  stream: unknown,
  events: unknown,
  expectedRevision: unknown,
): { stream: string; expectedRevision: ExpectedRevision; prepared: PreparedEvent[] } {
  const checked = checkAppend(stream, events, expectedRevision);
  return {
    stream: checked.stream,
    expectedRevision: checked.expectedRevision,
    prepared: checked.events.map(prepareEvent),
  };
}

function jsonOrThrow(value: unknown, what: string): string {
  // canonicalize is strict about cycles, BigInt and functions where JSON.stringify is not.
  try {
    return canonicalize(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProvenantError(
      'STORE_INVALID_EVENT',
      `Event ${what} is not JSON-serialisable: ${reason}`,
      {
        cause: error,
      },
    );
  }
}

export function assertMaxCount(maxCount: unknown): void {
  if (maxCount === undefined) return;
  if (typeof maxCount !== 'number' || !Number.isSafeInteger(maxCount) || maxCount < 1)
    throw new ProvenantError('STORE_INVALID_READ_OPTIONS', 'maxCount must be a positive integer');
}

export function assertFilter(filter: EventFilter | undefined): void {
  if (filter === undefined) return;
  const prefixes = 'streamPrefix' in filter ? filter.streamPrefix : filter.eventTypePrefix;
  if (
    !Array.isArray(prefixes) ||
    prefixes.length === 0 ||
    prefixes.some((p) => typeof p !== 'string' || p === '')
  )
    throw new ProvenantError(
      'STORE_INVALID_READ_OPTIONS',
      'A filter needs at least one non-empty prefix',
    );
}

export function assertReadAllOptions(options: ReadAllOptions): void {
  assertMaxCount(options.maxCount);
  assertFilter(options.filter);
  const { from, direction } = options;
  if (direction !== undefined && direction !== 'forwards' && direction !== 'backwards')
    throw new ProvenantError(
      'STORE_INVALID_READ_OPTIONS',
      `Unknown direction ${String(direction)}`,
    );
  if (from !== undefined) assertAllPosition(from);
}

function assertAllPosition(from: unknown): asserts from is AllPosition {
  if (from !== 'start' && from !== 'end' && (typeof from !== 'bigint' || from < 0n))
    throw new ProvenantError(
      'STORE_INVALID_READ_OPTIONS',
      `from must be 'start', 'end' or a non-negative bigint position`,
    );
}

/** Checks the options of `subscribeToAll`; returns where it starts (`start` by default). */
export function subscribeFrom(options: SubscribeToAllOptions): AllPosition {
  assertFilter(options.filter);
  const from = options.from ?? 'start';
  assertAllPosition(from);
  return from;
}

/** Whether an event passes a filter (for backends that filter client-side). */
export function matchesFilter(
  filter: EventFilter | undefined,
  stream: string,
  type: string,
): boolean {
  if (filter === undefined) return true;
  if ('streamPrefix' in filter) return filter.streamPrefix.some((p) => stream.startsWith(p));
  return filter.eventTypePrefix.some((p) => type.startsWith(p));
}
