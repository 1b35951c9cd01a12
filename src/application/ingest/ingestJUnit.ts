// Ingest a JUnit/xUnit XML report for one unit and action: it becomes a receipt
// (counts, the names of failing tests; `multipass` only when nothing failed or
// errored). The same report (same bytes) for the same unit and action is the same
// receipt: a redelivery returns the original result.
import { assertActionName, normalizeUnitKey } from '../../domain/index.js';
import { ProvenantError } from '../../errors.js';
import {
  RECEIPT_EVENT_TYPE,
  assertNoSecrets,
  junitToReceiptInput,
  parseJUnitXml,
  type IngestLimits,
} from '../../ingest/index.js';
import { unitAliases } from '../../domain/purl.js';
import { assertInScope } from '../../security/scope.js';
import { isUtf8Charset, parseMediaType } from '../../ingest/mediaType.js';
import type { ReceiptCommands } from '../types.js';
import { receiptOutcome } from './ingestCloudEvents.js';
import type { JUnitReportRequest, ReceiptOutcome } from './types.js';

/** Media types a JUnit/xUnit report may be posted as. */
export const JUNIT_MEDIA_TYPES: readonly string[] = [
  'application/xml',
  'text/xml',
  'application/junit+xml',
  'application/xunit+xml',
];

/** Prefix of the idempotency keys of JUnit receipts (no CloudEvent key starts with it). */
export const JUNIT_IDEMPOTENCY_PREFIX = 'junit:';

/**
 * The idempotency key of a JUnit receipt: unit, action and the SHA-256 of the exact
 * report bytes. Posting the same report again is a duplicate; posting it with
 * other receipt fields (producer, correlation id) is a 409 conflict.
 */
export const junitIdempotencyKey = (unit: string, action: string, reportSha256: string): string =>
  `${JUNIT_IDEMPOTENCY_PREFIX}${unit}#${action}#${reportSha256}`;

/** Refuses a report that is not sent as one of the JUnit media types, in UTF-8. */
function assertJUnitMediaType(contentType: string | undefined): void {
  if (contentType === undefined)
    throw new ProvenantError(
      'INGEST_MISSING_CONTENT_TYPE',
      `Content-Type is missing: send the report as one of ${JUNIT_MEDIA_TYPES.join(', ')}`,
    );
  const media = parseMediaType(contentType);
  if (media === undefined || !JUNIT_MEDIA_TYPES.includes(media.essence) || !isUtf8Charset(media))
    throw new ProvenantError(
      'INGEST_UNSUPPORTED_MEDIA_TYPE',
      `A JUnit report must be sent as UTF-8 ${JUNIT_MEDIA_TYPES.join(', ')}`,
      { details: { accepted: JUNIT_MEDIA_TYPES } },
    );
}

/** The `ingestJUnit` use case. */
export const ingestJUnit =
  (deps: { receipts: Pick<ReceiptCommands, 'recordReceipt'>; limits: IngestLimits }) =>
  async (request: JUnitReportRequest): Promise<ReceiptOutcome> => {
    // Cheap checks first: the URL, then the media type, then the report.
    const unit = normalizeUnitKey(request.unit);
    const action = assertActionName(request.action);
    // A JUnit report becomes a receipt for this unit and action; it has no CloudEvent source.
    const { actor } = request;
    if (actor !== undefined)
      assertInScope(actor.principal, actor.scope, {
        type: RECEIPT_EVENT_TYPE,
        action,
        unit: unitAliases(request.unit),
      });
    assertJUnitMediaType(request.contentType);
    const summary = parseJUnitXml(request.body, deps.limits);
    const input = junitToReceiptInput(summary, {
      unit,
      action,
      ...(request.producer === undefined ? {} : { producer: request.producer }),
      ...(request.correlationId === undefined ? {} : { correlationId: request.correlationId }),
    });
    const metadata = {
      ...(request.traceparent === undefined ? {} : { traceparent: request.traceparent }),
      ...(actor === undefined ? {} : { principal: actor.principal }),
    };
    // What would be stored: the report's test names and messages, the query's fields.
    assertNoSecrets(input, undefined);
    const result = await deps.receipts.recordReceipt(input, {
      idempotencyKey: junitIdempotencyKey(unit, action, summary.sha256),
      ...(Object.keys(metadata).length === 0 ? {} : { metadata }),
    });
    return receiptOutcome(result);
  };
