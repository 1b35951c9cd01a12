// The ingest service: what the ingest routes do, without the framework. It takes
// the headers and raw body of a request, lets `src/ingest` parse, limit and
// classify it (docs/ingest.md), then executes each valid event: receipts through
// the domain service (one atomic append of the receipt and its verdicts to the
// unit's stream), other pipeline events straight through the event-store port to
// their source's stream (DESIGN.md §2 and §4). Both carry the CloudEvent's
// idempotency key and digest, so a redelivery appends nothing and returns the
// original result; different content under the same key is a 409.
//
// Routes (src/http/routes/events.ts and junit.ts) turn an `IngestResponse` into
// an HTTP reply; errors are thrown as `ProvenantError` and become problem+json.
import type {
  DomainService,
  RecordReceiptOptions,
  RecordReceiptResult,
  RecordReceiptsItem,
  VerdictChange,
} from '../application/index.js';
import { assertActionName, normalizeUnitKey } from '../domain/index.js';
import { ProvenantError, isProvenantError } from '../errors.js';
import type { EventMetadata, EventStore } from '../eventStore/types.js';
import {
  ingestRequest,
  junitToReceiptInput,
  parseJUnitXml,
  type HttpHeaders,
  type IngestCommand,
  type IngestLimits,
  type IngestResult,
  type PipelineEventCommand,
  type ReceiptCommand,
} from '../ingest/index.js';
import { isUtf8Charset, parseMediaType } from '../ingest/mediaType.js';
import { toProblem, type Problem } from './problem.js';

/** What the ingest service needs: the port, the domain service and the limits. */
export interface IngestServiceDeps {
  readonly store: EventStore;
  readonly domain: DomainService;
  readonly limits: IngestLimits;
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

/** The result of one event accepted by ingest. */
export type IngestOutcome = ReceiptOutcome | PipelineEventOutcome;

/** One element of a batch report: the CloudEvent's index, and its outcome or its problem. */
export type BatchItemReport =
  | {
      readonly index: number;
      readonly ok: true;
      /** 201 when appended, 200 for a redelivery. */
      readonly status: 200 | 201;
      /** The CloudEvent's `id` and `source`. */
      readonly id: string;
      readonly source: string;
      readonly result: IngestOutcome;
    }
  | {
      readonly index: number;
      readonly ok: false;
      /** The status the problem would have had as a single request. */
      readonly status: number;
      /** The rejected CloudEvent's `id` and `source`, when it had them. */
      readonly id?: string;
      readonly source?: string;
      readonly problem: Problem;
    };

/** The whole answer to a batch: counts, then one report per element in request order. */
export interface BatchReport {
  readonly mode: 'batch';
  readonly total: number;
  /** Appended now. */
  readonly accepted: number;
  /** Already stored (redeliveries): nothing appended. */
  readonly duplicates: number;
  /** Rejected: nothing appended for them. */
  readonly rejected: number;
  readonly results: readonly BatchItemReport[];
}

/** What a route sends back: an HTTP status and a JSON body. */
export type IngestResponse =
  | { readonly status: 200 | 201; readonly body: IngestOutcome }
  | { readonly status: 200; readonly body: BatchReport };

/** A CloudEvents HTTP request as the route hands it over. */
export interface CloudEventsHttpRequest {
  readonly headers: HttpHeaders;
  /** Raw body bytes; empty when there was none. */
  readonly body: Uint8Array;
}

/** A JUnit/xUnit report posted for one unit and action. */
export interface JUnitHttpRequest {
  /** Unit key, already URL-decoded (`openssl/3.2.1/2.el9/x86_64/rpm`). */
  readonly unit: string;
  readonly action: string;
  readonly contentType: string | undefined;
  readonly body: Uint8Array;
  readonly producer?: string;
  readonly correlationId?: string;
  /** W3C `traceparent` of the request, when valid. */
  readonly traceparent?: string;
}

/** The operations behind `POST /v1/events` and `POST /v1/units/{key}/actions/{action}/junit`. */
export interface IngestService {
  ingestCloudEvents(request: CloudEventsHttpRequest): Promise<IngestResponse>;
  ingestJUnit(request: JUnitHttpRequest): Promise<{ status: 200 | 201; body: ReceiptOutcome }>;
}

/** Media types a JUnit/xUnit report may be posted as. */
export const JUNIT_MEDIA_TYPES: readonly string[] = [
  'application/xml',
  'text/xml',
  'application/junit+xml',
  'application/xunit+xml',
];

/** Prefix of the idempotency keys of JUnit receipts (no CloudEvent key starts with it). */
export const JUNIT_IDEMPOTENCY_PREFIX = 'junit:';

// W3C Trace Context §3.2: version-traceid-parentid-flags, lower-case hex.
const TRACEPARENT_RE = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The `traceparent` header when it is well formed (W3C Trace Context), else undefined. */
export function traceparentOf(headers: HttpHeaders): string | undefined {
  const value = headers['traceparent'];
  return typeof value === 'string' && TRACEPARENT_RE.test(value) ? value : undefined;
}

const statusOf = (outcome: IngestOutcome): 200 | 201 => (outcome.duplicate ? 200 : 201);

const receiptOutcome = (result: RecordReceiptResult): ReceiptOutcome => ({
  kind: 'receipt',
  eventId: result.eventId,
  receiptId: result.receiptId,
  unit: result.unit,
  stream: result.stream,
  revision: result.revision,
  position: result.position,
  duplicate: result.duplicate,
  verdicts: result.verdicts,
});

/**
 * Builds the ingest service. `onUnexpectedError` hears about errors that are not
 * `ProvenantError`s inside a batch (they are reported to the client as `INTERNAL`
 * without details, so the server log is where they can be read).
 */
export function createIngestService(
  deps: IngestServiceDeps,
  onUnexpectedError: (error: unknown) => void = () => undefined,
): IngestService {
  const { store, domain, limits } = deps;

  const metadataOf = (command: IngestCommand, traceparent: string | undefined): EventMetadata => ({
    context: command.context,
    ...(traceparent === undefined ? {} : { traceparent }),
  });

  const receiptOptions = (
    command: ReceiptCommand,
    metadata: EventMetadata,
  ): RecordReceiptOptions => ({
    idempotencyKey: command.idempotencyKey,
    idempotencyDigest: command.idempotencyDigest,
    metadata,
  });

  async function recordReceipt(
    command: ReceiptCommand,
    metadata: EventMetadata,
  ): Promise<ReceiptOutcome> {
    const result = await domain.recordReceipt(command.input, receiptOptions(command, metadata));
    return receiptOutcome(result);
  }

  async function appendPipelineEvent(
    command: PipelineEventCommand,
    metadata: EventMetadata,
  ): Promise<PipelineEventOutcome> {
    const result = await store.append(command.stream, [
      {
        type: command.eventType,
        data: command.data,
        metadata,
        idempotencyKey: command.idempotencyKey,
        idempotencyDigest: command.idempotencyDigest,
      },
    ]);
    const event = result.events[0];
    if (event === undefined)
      throw new ProvenantError('INTERNAL', `Append to '${command.stream}' reported no event`);
    return {
      kind: 'pipeline-event',
      eventId: event.id,
      stream: command.stream,
      revision: event.revision,
      position: event.position.toString(),
      duplicate: result.duplicate,
    };
  }

  /** Executes one validated command. */
  function execute(
    command: IngestCommand,
    traceparent: string | undefined,
  ): Promise<IngestOutcome> {
    const metadata = metadataOf(command, traceparent);
    return command.kind === 'receipt'
      ? recordReceipt(command, metadata)
      : appendPipelineEvent(command, metadata);
  }

  const identityOf = (command: IngestCommand): { id: string; source: string } => ({
    id: command.context.id ?? '',
    source: command.context.source ?? '',
  });

  /** The report of an item that was executed: its outcome, or its error as a problem. */
  function executedItem(
    index: number,
    identity: { id: string; source: string },
    outcome: { ok: true; result: IngestOutcome } | { ok: false; error: unknown },
  ): BatchItemReport {
    if (outcome.ok)
      return {
        index,
        ok: true,
        status: statusOf(outcome.result),
        ...identity,
        result: outcome.result,
      };
    if (isProvenantError(outcome.error)) return rejected(index, identity, outcome.error);
    onUnexpectedError(outcome.error);
    return rejected(
      index,
      identity,
      new ProvenantError('INTERNAL', 'An internal error occurred; see the server log'),
    );
  }

  /**
   * Executes a batch and reports each item. Receipts go to the domain together
   * (`recordReceipts`: one read, one decision and one append per unit, in request
   * order within a unit); pipeline events are appended one by one. Everything
   * starts at once, so group commit gathers the appends.
   */
  async function executeBatch(
    results: readonly IngestResult[],
    traceparent: string | undefined,
  ): Promise<BatchItemReport[]> {
    const receipts: { index: number; command: ReceiptCommand }[] = [];
    for (const result of results)
      if (result.ok && result.command.kind === 'receipt')
        receipts.push({ index: result.index, command: result.command });
    const recorded: Promise<RecordReceiptsItem[]> =
      receipts.length === 0
        ? Promise.resolve([])
        : domain
            .recordReceipts(
              receipts.map(({ command }) => ({
                input: command.input,
                options: receiptOptions(command, metadataOf(command, traceparent)),
              })),
            )
            .catch((error: unknown) => receipts.map(() => ({ ok: false as const, error })));
    const receiptSlot = new Map(receipts.map((r, slot) => [r.index, slot]));
    return Promise.all(
      results.map(async (result): Promise<BatchItemReport> => {
        if (!result.ok)
          return rejected(
            result.index,
            {
              ...(result.id === undefined ? {} : { id: result.id }),
              ...(result.source === undefined ? {} : { source: result.source }),
            },
            result.error,
          );
        const { command } = result;
        const identity = identityOf(command);
        if (command.kind !== 'receipt') {
          const outcome = await appendPipelineEvent(command, metadataOf(command, traceparent)).then(
            (r) => ({ ok: true as const, result: r }),
            (error: unknown) => ({ ok: false as const, error }),
          );
          return executedItem(result.index, identity, outcome);
        }
        const item = (await recorded)[receiptSlot.get(result.index) ?? -1];
        const outcome: { ok: true; result: IngestOutcome } | { ok: false; error: unknown } =
          item === undefined
            ? { ok: false, error: new Error(`No outcome for batch item ${result.index}`) }
            : item.ok
              ? { ok: true, result: receiptOutcome(item.result) }
              : item;
        return executedItem(result.index, identity, outcome);
      }),
    );
  }

  const rejected = (
    index: number,
    identity: { id?: string; source?: string },
    error: ProvenantError,
  ): BatchItemReport => ({
    index,
    ok: false,
    status: error.status,
    ...identity,
    problem: toProblem(error),
  });

  return {
    async ingestCloudEvents(request) {
      const { mode, results } = ingestRequest(request, limits);
      const traceparent = traceparentOf(request.headers);
      if (mode !== 'batch') {
        const [only] = results;
        // Structured and binary requests carry one event; ingest throws when it is invalid.
        if (only === undefined || !only.ok || results.length !== 1)
          throw only !== undefined && !only.ok
            ? only.error
            : new ProvenantError('INTERNAL', `A ${mode} request must yield exactly one event`);
        const outcome = await execute(only.command, traceparent);
        return { status: statusOf(outcome), body: outcome };
      }
      const reports = await executeBatch(results, traceparent);
      let accepted = 0;
      let duplicates = 0;
      for (const r of reports)
        if (r.ok) {
          if (r.result.duplicate) duplicates++;
          else accepted++;
        }
      return {
        status: 200,
        body: {
          mode: 'batch',
          total: reports.length,
          accepted,
          duplicates,
          rejected: reports.length - accepted - duplicates,
          results: reports,
        },
      };
    },

    async ingestJUnit(request) {
      // Cheap checks first: the URL, then the media type, then the report.
      const unit = normalizeUnitKey(request.unit);
      const action = assertActionName(request.action);
      if (request.contentType === undefined)
        throw new ProvenantError(
          'INGEST_MISSING_CONTENT_TYPE',
          `Content-Type is missing: send the report as one of ${JUNIT_MEDIA_TYPES.join(', ')}`,
        );
      const media = parseMediaType(request.contentType);
      if (
        media === undefined ||
        !JUNIT_MEDIA_TYPES.includes(media.essence) ||
        !isUtf8Charset(media)
      )
        throw new ProvenantError(
          'INGEST_UNSUPPORTED_MEDIA_TYPE',
          `A JUnit report must be sent as UTF-8 ${JUNIT_MEDIA_TYPES.join(', ')}`,
          { details: { accepted: JUNIT_MEDIA_TYPES } },
        );
      const summary = parseJUnitXml(request.body, limits);
      const input = junitToReceiptInput(summary, {
        unit,
        action,
        ...(request.producer === undefined ? {} : { producer: request.producer }),
        ...(request.correlationId === undefined ? {} : { correlationId: request.correlationId }),
      });
      const result = await domain.recordReceipt(input, {
        // The same report for the same unit and action is the same receipt.
        idempotencyKey: junitIdempotencyKey(unit, action, summary.sha256),
        ...(request.traceparent === undefined
          ? {}
          : { metadata: { traceparent: request.traceparent } }),
      });
      const outcome = receiptOutcome(result);
      return { status: statusOf(outcome), body: outcome };
    },
  };
}

/**
 * The idempotency key of a JUnit receipt: unit, action and the SHA-256 of the exact
 * report bytes. Posting the same report again is a duplicate; posting it with
 * other receipt fields (producer, correlation id) is a 409 conflict.
 */
export const junitIdempotencyKey = (unit: string, action: string, reportSha256: string): string =>
  `${JUNIT_IDEMPOTENCY_PREFIX}${unit}#${action}#${reportSha256}`;
