// The CloudEvents HTTP protocol binding, framework-free: the HTTP layer hands in
// headers and the raw body, this module decides the content mode, enforces the
// limits, parses with the `cloudevents` SDK and validates strictly with our own
// schema (DESIGN.md §4; https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md).
//
// Modes (§3 of the binding):
//   structured  Content-Type application/cloudevents+json: the body is one event.
//   batch       Content-Type application/cloudevents-batch+json: a JSON array of events.
//   binary      ce-* headers carry the attributes; the body is the data, of its own
//               Content-Type (JSON, text, or anything else as data_base64).
//
// Request-level problems (size, media type, malformed JSON, a structured or binary
// event that is invalid) throw a ProvenantError. In batch mode, each element gets
// its own result: valid ones go on, invalid ones carry their own typed error.
import { CloudEvent } from 'cloudevents';
import { ProvenantError, isProvenantError } from '../errors.js';
import type { JsonValue } from '../eventStore/types.js';
import { identity, validateCloudEventJson, type CloudEventJson } from './cloudEventSchema.js';
import {
  assertNoInlineBinary,
  decodeUtf8,
  needsSanitizing,
  parseJsonSafely,
  parseJsonText,
  sanitizeJson,
  scanJson,
} from './jsonGuard.js';
import { assertIJson } from './iJson.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './limits.js';
import { assertNoSecrets, mightHoldSecret, secretDetected, secretKindOf } from './secrets.js';
import {
  isJsonMediaType,
  isTextMediaType,
  isUtf8Charset,
  parseMediaType,
  type MediaType,
} from './mediaType.js';

/** Incoming HTTP headers as Node and fastify present them (names in any case). */
export type HttpHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What the HTTP layer hands to ingest: headers and the raw body bytes. */
export interface CloudEventsRequest {
  readonly headers: HttpHeaders;
  readonly body: Uint8Array;
}

/** The CloudEvents HTTP content mode of a request. */
export type CloudEventsMode = 'structured' | 'binary' | 'batch';

/** One event of a request: validated, or rejected with its own typed error. */
export type IngestItem =
  | {
      readonly ok: true;
      /** Position in the batch (0 for structured and binary requests). */
      readonly index: number;
      /** The validated event in the JSON event format: what is digested and stored. */
      readonly event: CloudEventJson;
      /** The same event as the `cloudevents` SDK's `CloudEvent` (see `sdkEvent`). */
      readonly cloudEvent: CloudEvent<unknown>;
    }
  | RejectedItem;

/** An event of a request that was rejected, with its own typed error. */
export interface RejectedItem {
  readonly ok: false;
  /** Position in the batch (0 for structured and binary requests). */
  readonly index: number;
  readonly error: ProvenantError;
  /** The rejected event's `id` and `source`, when it had them. */
  readonly id?: string;
  readonly source?: string;
}

/** The parsed request: its mode and one item per event. */
export interface ParsedCloudEventsRequest {
  readonly mode: CloudEventsMode;
  readonly items: readonly IngestItem[];
}

export const STRUCTURED_MEDIA_TYPE = 'application/cloudevents+json';
export const BATCH_MEDIA_TYPE = 'application/cloudevents-batch+json';

/**
 * Parses a CloudEvents HTTP request in structured, binary or batch mode. Throws a
 * `ProvenantError` for a request-level problem; returns one item per event. In
 * structured and binary mode the single item is always valid (an invalid event
 * is the request's problem and throws).
 */
export function parseCloudEventsRequest(
  request: CloudEventsRequest,
  limits: IngestLimits = DEFAULT_INGEST_LIMITS,
): ParsedCloudEventsRequest {
  const { body } = request;
  if (body.length > limits.maxBodyBytes)
    throw new ProvenantError(
      'INGEST_BODY_TOO_LARGE',
      `Request body is ${body.length} bytes; the limit is ${limits.maxBodyBytes}`,
      { details: { size: body.length, limit: limits.maxBodyBytes } },
    );
  const headers = lowerCaseHeaders(request.headers);
  const contentType = singleHeader(headers, 'content-type');
  const media = contentType === undefined ? undefined : parseMediaType(contentType);
  if (contentType !== undefined && media === undefined)
    throw unsupported(`Content-Type '${printable(contentType)}' is not a valid media type`);

  if (media?.essence === STRUCTURED_MEDIA_TYPE) {
    requireUtf8(media);
    return { mode: 'structured', items: [parseStructured(body, limits)] };
  }
  if (media?.essence === BATCH_MEDIA_TYPE) {
    requireUtf8(media);
    return { mode: 'batch', items: parseBatch(body, limits) };
  }
  if (media?.essence.startsWith('application/cloudevents') === true)
    throw unsupported(
      `Event format '${media.essence}' is not supported; use ${STRUCTURED_MEDIA_TYPE}, ${BATCH_MEDIA_TYPE} or binary mode`,
    );
  if (hasCeHeader(headers))
    return { mode: 'binary', items: [parseBinary(headers, contentType, media, body, limits)] };
  if (contentType === undefined)
    throw new ProvenantError(
      'INGEST_MISSING_CONTENT_TYPE',
      `Content-Type is missing: send ${STRUCTURED_MEDIA_TYPE}, ${BATCH_MEDIA_TYPE}, or ce-* headers for binary mode`,
    );
  throw unsupported(
    `Content-Type '${printable(contentType)}' is not a CloudEvents format and no ce-* headers were sent`,
  );
}

function parseStructured(body: Uint8Array, limits: IngestLimits): IngestItem {
  assertEventSize(body.length, limits);
  const value = parseJsonSafely(body, limits);
  const event = validateCloudEventJson(value);
  return { ok: true, index: 0, event, cloudEvent: sdkEvent(event, 0) };
}

function parseBatch(body: Uint8Array, limits: IngestLimits): IngestItem[] {
  // Depth, bracket balance and element spans before any parsing.
  const scan = scanJson(body, limits.maxDepth);
  if (scan.elements === undefined)
    throw new ProvenantError(
      'INGEST_BATCH_NOT_ARRAY',
      'A batch body must be a JSON array of events',
    );
  if (scan.elements.length > limits.maxBatchItems)
    throw new ProvenantError(
      'INGEST_BATCH_TOO_LARGE',
      `Batch holds ${scan.elements.length} events; the limit is ${limits.maxBatchItems}`,
      { details: { count: scan.elements.length, limit: limits.maxBatchItems } },
    );
  // One decode and one JSON.parse for the whole batch; each element is then checked
  // on its own, with the facts the scan recorded for its byte span.
  const elements = scan.elements;
  const text = decodeUtf8(body);
  const parsed = parseJsonText(text);
  const secretsPossible = mightHoldSecret(text, scan.unicodeEscape);
  if (!Array.isArray(parsed) || parsed.length !== elements.length)
    throw new ProvenantError(
      'INGEST_BATCH_NOT_ARRAY',
      'A batch body must be a JSON array of events',
    );
  return parsed.map((value, index): IngestItem => {
    try {
      const span = elements[index];
      if (span !== undefined) assertEventSize(span.end - span.start, limits);
      if (span === undefined || needsSanitizing(span, limits))
        sanitizeJson(value, limits, `/${index}`);
      if (span !== undefined)
        assertIJson(value, span, body.subarray(span.start, span.end), `/${index}`);
      if (secretsPossible) assertNoSecrets(value, undefined, undefined, `/${index}`);
      const event = validateCloudEventJson(value);
      return { ok: true, index, event, cloudEvent: sdkEvent(event, index) };
    } catch (error) {
      if (!isProvenantError(error)) throw error;
      return { ok: false, index, error, ...identity(value) };
    }
  });
}

function parseBinary(
  headers: ReadonlyMap<string, string | readonly string[]>,
  contentType: string | undefined,
  media: MediaType | undefined,
  body: Uint8Array,
  limits: IngestLimits,
): IngestItem {
  const record: Record<string, JsonValue> = {};
  let headerBytes = 0;
  for (const [name, value] of headers) {
    if (!name.startsWith('ce-')) continue;
    const attribute = name.slice(3);
    if (typeof value !== 'string')
      throw badAttribute(`Header ${name} was sent more than once`, attribute);
    if (attribute === 'data' || attribute === 'data_base64' || attribute === 'datacontenttype')
      throw badAttribute(
        `Header ${name} is not allowed in binary mode: the body is the data and Content-Type its type`,
        attribute,
      );
    headerBytes += name.length + value.length;
    const decoded = percentDecode(value);
    record[attribute] = decoded;
    const kind = secretKindOf(decoded);
    if (kind !== undefined) throw secretDetected(kind, `/${attribute}`);
  }
  assertEventSize(body.length + headerBytes, limits);
  if (contentType !== undefined) record['datacontenttype'] = contentType.trim();
  // What the SDK's binary binding would hand its CloudEvent as data: the parsed
  // JSON, the text, or the raw bytes.
  let sdkData: unknown = undefined;
  if (body.length > 0) {
    if (media === undefined)
      throw new ProvenantError(
        'INGEST_MISSING_CONTENT_TYPE',
        'Binary-mode data needs a Content-Type that names its media type',
      );
    if (isJsonMediaType(media)) {
      requireUtf8(media);
      record['data'] = parseJsonSafely(body, limits);
      sdkData = record['data'];
    } else if (isTextMediaType(media)) {
      requireUtf8(media);
      const text = decodeUtf8(body);
      assertNoInlineBinary(text, limits.maxInlineBinaryChars, '/data');
      const kind = secretKindOf(text);
      if (kind !== undefined) throw secretDetected(kind, '/data');
      record['data'] = text;
      sdkData = text;
    } else {
      // A view of the body, not a copy.
      const bytes = Buffer.from(body.buffer, body.byteOffset, body.length);
      const base64 = bytes.toString('base64');
      assertNoInlineBinary(base64, limits.maxInlineBinaryChars, '/data_base64');
      record['data_base64'] = base64;
      sdkData = bytes;
    }
  }
  const event = validateCloudEventJson(record);
  return { ok: true, index: 0, event, cloudEvent: sdkEvent(event, 0, sdkData) };
}

/**
 * The event as the `cloudevents` SDK's `CloudEvent` (DESIGN.md §4: the SDK parses).
 * Its HTTP binding (`HTTP.toEvent`) ends every structured and binary parse with
 * `new CloudEvent(attributes, false)`. What it does before that (mapping headers,
 * parsing the body) ingest has already done, more strictly; and on the way it
 * builds up to three `ValidationError`s with stack traces per call, even for a
 * valid event (`parseStructured` and `JSONParser.parse` create them up front as
 * the value to throw), and capturing stack traces is costly. So ingest calls the
 * constructor itself, the same way, with the validated attributes. The SDK still
 * rejects what it rejects there (e.g. a `schemaurl` attribute on a 1.0 event):
 * `INGEST_INVALID_CLOUDEVENT`.
 * `data` is what the SDK's binary binding would pass: the parsed JSON, the text,
 * or the body bytes. See docs/ingest.md, step 4.
 */
function sdkEvent(event: CloudEventJson, index: number, data?: unknown): CloudEvent<unknown> {
  try {
    return new CloudEvent<unknown>(
      data instanceof Uint8Array ? { ...event, data_base64: undefined, data } : event,
      false,
    );
  } catch (error) {
    throw new ProvenantError(
      'INGEST_INVALID_CLOUDEVENT',
      `The CloudEvents SDK rejected event ${index}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: identity(event) },
    );
  }
}

function assertEventSize(size: number, limits: IngestLimits): void {
  if (size > limits.maxEventBytes)
    throw new ProvenantError(
      'INGEST_EVENT_TOO_LARGE',
      `Event is ${size} bytes; the per-event limit is ${limits.maxEventBytes}. Send large evidence by reference (uri + digest)`,
      { details: { size, limit: limits.maxEventBytes } },
    );
}

function requireUtf8(media: MediaType): void {
  if (!isUtf8Charset(media))
    throw unsupported(`charset '${media.parameters['charset'] ?? ''}' is not supported; use utf-8`);
}

const unsupported = (message: string): ProvenantError =>
  new ProvenantError('INGEST_UNSUPPORTED_MEDIA_TYPE', message);

const badAttribute = (message: string, attribute: string): ProvenantError =>
  new ProvenantError('INGEST_BAD_ATTRIBUTE', message, { details: { attribute } });

function lowerCaseHeaders(headers: HttpHeaders): Map<string, string | readonly string[]> {
  const map = new Map<string, string | readonly string[]>();
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const previous = map.get(key);
    map.set(key, previous === undefined ? value : [previous, value].flat());
  }
  return map;
}

function hasCeHeader(headers: ReadonlyMap<string, unknown>): boolean {
  for (const name of headers.keys()) if (name.startsWith('ce-')) return true;
  return false;
}

function singleHeader(
  headers: ReadonlyMap<string, string | readonly string[]>,
  name: string,
): string | undefined {
  const value = headers.get(name);
  if (value === undefined || typeof value === 'string') return value;
  throw unsupported(`Header ${name} was sent more than once`);
}

/**
 * Binding §3.1.3.2: header values are percent-encoded UTF-8. Valid `%XX` runs are
 * decoded; a stray `%` (senders that do not encode) is kept as it is.
 */
function percentDecode(value: string): string {
  if (!value.includes('%')) return value;
  return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

const printable = (value: string): string =>
  // eslint-disable-next-line no-control-regex
  value.slice(0, 200).replace(/[\u0000-\u001f\u007f]/g, '?');
