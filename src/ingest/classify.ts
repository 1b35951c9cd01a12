// Classification of validated CloudEvents into what the application appends
// (DESIGN.md §2 and §4): our receipts and mapped CDEvents become RecordReceipt
// input for the unit's stream; any other event is stored as
// `PipelineEventRecorded.v1` in its source's stream. Every command carries the
// idempotency key and digest of the CloudEvent it came from (§2 "Idempotency").
import { hash } from 'node:crypto';
import type { ReceiptInput } from '../domain/receiptInput.js';
import { canonicalize } from '../encoding/canonicalJson.js';
import { isProvenantError } from '../errors.js';
import type { EventContext } from '../eventStore/types.js';
import { cdeventChainId, cdeventToReceipt, isMappedCDEventType } from './cdevents.js';
import type { CloudEventJson } from './cloudEventSchema.js';
import {
  parseCloudEventsRequest,
  type CloudEventsMode,
  type CloudEventsRequest,
  type RejectedItem,
} from './cloudEvents.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './limits.js';
import { RECEIPT_EVENT_TYPE, receiptFromCloudEvent } from './receipt.js';
import type { SignaturePolicy, SignatureRecord } from './signaturePolicy.js';

/** The event type of a stored pipeline event (schemas/events/PipelineEventRecorded.v1.json). */
export const PIPELINE_EVENT_RECORDED = 'PipelineEventRecorded.v1';
/** Stream prefix of pipeline events: `source-<hash of the CloudEvent source>`. */
export const SOURCE_STREAM_PREFIX = 'source-';

/** Data of `PipelineEventRecorded.v1`: the whole validated CloudEvent, as received. */
export interface PipelineEventRecordedData {
  readonly cloudEvent: CloudEventJson;
}

interface CommandBase {
  /** Unambiguous key from the CloudEvent `source` + `id`. */
  readonly idempotencyKey: string;
  /** SHA-256 of the RFC 8785 canonical JSON of the whole validated CloudEvent. */
  readonly idempotencyDigest: string;
  /** The CloudEvent context to store in the event metadata. */
  readonly context: EventContext;
  /** What the producer's signature showed (docs/security.md "Signed events"), when checked. */
  readonly signature?: SignatureRecord;
}

/** A receipt to record for a unit (our receipt type or a mapped CDEvent). */
export interface ReceiptCommand extends CommandBase {
  readonly kind: 'receipt';
  readonly input: ReceiptInput;
}

/** Any other pipeline event, appended as-is to its source's stream. */
export interface PipelineEventCommand extends CommandBase {
  readonly kind: 'pipeline-event';
  readonly stream: string;
  readonly eventType: typeof PIPELINE_EVENT_RECORDED;
  readonly data: PipelineEventRecordedData;
}

/**
 * A mapped CDEvent that names no unit of its own but belongs to a chain
 * (`context.chainId`, or a v0.5 link's): it takes the unit of its chain, now if the
 * chain is bound, else when it binds (docs/chains.md).
 */
export interface ChainedCDEventCommand extends CommandBase {
  readonly kind: 'chained-cdevent';
  readonly chainId: string;
  readonly event: CloudEventJson;
}

/** What the application does with one validated CloudEvent. */
export type IngestCommand = ReceiptCommand | PipelineEventCommand | ChainedCDEventCommand;

// One-shot hashing of the UTF-8 text (no Hash object per call).
const sha256Hex = (text: string): string => hash('sha256', text, 'hex');

/**
 * The idempotency key of a CloudEvent: `ce:<length of source>:<source>#<id>`. The
 * length prefix makes it unambiguous whatever characters source and id contain;
 * the schema bounds both so that the key stays within the store's 1024 characters.
 */
export const idempotencyKeyOf = (event: Pick<CloudEventJson, 'source' | 'id'>): string =>
  `ce:${event.source.length}:${event.source}#${event.id}`;

/**
 * SHA-256 (hex) of the RFC 8785 canonical JSON of the whole validated CloudEvent,
 * but for its `dssematerial` (docs/security.md "Signed events"): ECDSA signatures
 * differ each time, so a producer that signs its retry again is redelivering the
 * same event, not conflicting with it.
 */
export function idempotencyDigestOf(event: CloudEventJson): string {
  if (event['dssematerial'] === undefined) return sha256Hex(canonicalize(event));
  const { dssematerial: _signature, ...signed } = event;
  return sha256Hex(canonicalize(signed));
}

/** The stream of a source's pipeline events: `source-` + the first 32 hex chars of SHA-256(source). */
export const sourceStreamName = (source: string): string =>
  SOURCE_STREAM_PREFIX + sha256Hex(source).slice(0, 32);

/** The port's EventContext of a CloudEvent. */
export const contextOf = (event: CloudEventJson): EventContext => ({
  id: event.id,
  source: event.source,
  type: event.type,
  ...(event.subject === undefined ? {} : { subject: event.subject }),
  ...(event.time === undefined ? {} : { time: event.time }),
});

/**
 * Classifies one validated CloudEvent. Throws `INGEST_INVALID_RECEIPT`,
 * `INGEST_CDEVENT_INVALID` or `INGEST_CDEVENT_NO_UNIT` when a receipt cannot be made.
 */
export function toIngestCommand(event: CloudEventJson, policy?: SignaturePolicy): IngestCommand {
  const signature = policy?.(event);
  const base: CommandBase = {
    idempotencyKey: idempotencyKeyOf(event),
    idempotencyDigest: idempotencyDigestOf(event),
    context: contextOf(event),
    ...(signature === undefined ? {} : { signature }),
  };
  if (event.type === RECEIPT_EVENT_TYPE)
    return { kind: 'receipt', input: receiptFromCloudEvent(event), ...base };
  if (isMappedCDEventType(event.type)) {
    try {
      return { kind: 'receipt', input: cdeventToReceipt(event), ...base };
    } catch (error) {
      const chainId =
        isProvenantError(error) && error.code === 'INGEST_CDEVENT_NO_UNIT'
          ? cdeventChainId(event)
          : undefined;
      if (chainId === undefined) throw error;
      return { kind: 'chained-cdevent', chainId, event, ...base };
    }
  }
  return {
    kind: 'pipeline-event',
    stream: sourceStreamName(event.source),
    eventType: PIPELINE_EVENT_RECORDED,
    data: { cloudEvent: event },
    ...base,
  };
}

/** The outcome for one event of a request: a command to execute, or why it was rejected. */
export type IngestResult =
  { readonly ok: true; readonly index: number; readonly command: IngestCommand } | RejectedItem;

/**
 * Parses a CloudEvents HTTP request and classifies every valid event: what the
 * `POST /v1/events` route needs. Request-level problems throw; in batch mode each
 * event has its own result. In structured and binary mode a classification error
 * throws, since the single event is the request.
 */
export function ingestRequest(
  request: CloudEventsRequest,
  limits: IngestLimits = DEFAULT_INGEST_LIMITS,
  policy?: SignaturePolicy,
): { mode: CloudEventsMode; results: IngestResult[] } {
  const { mode, items } = parseCloudEventsRequest(request, limits);
  const results = items.map((item): IngestResult => {
    if (!item.ok) return item;
    try {
      return { ok: true, index: item.index, command: toIngestCommand(item.event, policy) };
    } catch (error) {
      if (mode !== 'batch' || !isProvenantError(error)) throw error;
      return { ok: false, index: item.index, error, id: item.event.id, source: item.event.source };
    }
  });
  return { mode, results };
}
