// What the ingest use cases take and return. The HTTP layer hands over a request's
// headers and raw body (the CloudEvents HTTP binding is a format `src/ingest`
// parses) and shapes the reply from these outcomes.
import type { HttpHeaders } from '../../ingest/index.js';
import type { ProvenantError } from '../../errors.js';
import type { ProducerScope } from '../../security/scope.js';
import type { VerdictChange } from '../types.js';
import type { ChainPendingOutcome } from '../chains/recordChained.js';

/**
 * Who sends a request, as data (the HTTP edge authenticates): the principal the
 * stored events name, and the scope a producer is held to (none: not limited).
 */
export interface Actor {
  readonly principal: string;
  readonly scope?: ProducerScope | undefined;
}

/** Where a receipt landed: the receipt, its unit stream and the verdicts it caused. */
export interface ReceiptOutcome {
  readonly kind: 'receipt';
  /** Store id (ULID) of the `ReceiptRecorded.v1` event. */
  readonly eventId: string;
  readonly receiptId: string;
  readonly unit: string;
  readonly stream: string;
  readonly revision: number;
  /** `$all` position as a decimal string. */
  readonly position: string;
  /** True when this is a redelivery: nothing was appended, this is the original result. */
  readonly duplicate: boolean;
  readonly verdicts: readonly VerdictChange[];
}

/** Where a pipeline event (any non-receipt CloudEvent) landed. */
export interface PipelineEventOutcome {
  readonly kind: 'pipeline-event';
  /** Store id (ULID) of the `PipelineEventRecorded.v1` event. */
  readonly eventId: string;
  readonly stream: string;
  readonly revision: number;
  readonly position: string;
  readonly duplicate: boolean;
}

/** The result of one event accepted by ingest (a chained CDEvent may wait for its chain: 202). */
export type IngestOutcome = ReceiptOutcome | PipelineEventOutcome | ChainPendingOutcome;

/** One element of a batch: its index and CloudEvent identity, and its outcome or error. */
export type BatchItem = {
  readonly index: number;
  readonly id?: string;
  readonly source?: string;
} & (
  | { readonly ok: true; readonly outcome: IngestOutcome }
  | { readonly ok: false; readonly error: ProvenantError }
);

/** What ingesting one request did: one event, or a batch reported item by item. */
export type IngestEventsResult =
  | { readonly mode: 'structured' | 'binary'; readonly outcome: IngestOutcome }
  | { readonly mode: 'batch'; readonly items: readonly BatchItem[] };

/** A CloudEvents HTTP request: headers and raw body bytes (empty when there was none). */
export interface CloudEventsRequest {
  readonly headers: HttpHeaders;
  readonly body: Uint8Array;
  /** Who sends it; every event is checked against its scope and names its principal. */
  readonly actor?: Actor;
}

/** A JUnit/xUnit report posted for one unit and action. */
export interface JUnitReportRequest {
  /** Unit key, already URL-decoded (`openssl/3.2.1/2.el9/x86_64/rpm`). */
  readonly unit: string;
  readonly action: string;
  readonly contentType: string | undefined;
  readonly body: Uint8Array;
  readonly producer?: string;
  readonly correlationId?: string;
  /** W3C `traceparent` of the request, when valid. */
  readonly traceparent?: string;
  /** Who sends it; the receipt is checked against its scope and names its principal. */
  readonly actor?: Actor;
}
