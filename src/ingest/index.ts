// The ingest module's public surface (STYLE.md §17): CloudEvents HTTP parsing,
// classification into commands, CDEvents and JUnit mapping, and the limits.
export { parseCloudEventsRequest, STRUCTURED_MEDIA_TYPE, BATCH_MEDIA_TYPE } from './cloudEvents.js';
export type {
  CloudEventsMode,
  CloudEventsRequest,
  HttpHeaders,
  IngestItem,
  ParsedCloudEventsRequest,
} from './cloudEvents.js';
export { validateCloudEventJson } from './cloudEventSchema.js';
export type { CloudEventJson } from './cloudEventSchema.js';
export {
  ingestRequest,
  toIngestCommand,
  idempotencyKeyOf,
  idempotencyDigestOf,
  sourceStreamName,
  contextOf,
  PIPELINE_EVENT_RECORDED,
  SOURCE_STREAM_PREFIX,
} from './classify.js';
export type {
  ChainedCDEventCommand,
  IngestCommand,
  IngestResult,
  PipelineEventCommand,
  PipelineEventRecordedData,
  ReceiptCommand,
} from './classify.js';
export { RECEIPT_EVENT_TYPE, receiptFromCloudEvent } from './receipt.js';
export {
  cdeventChainId,
  cdeventToReceipt,
  isMappedCDEventType,
  MAPPED_CDEVENT_TYPES,
  UNIT_EXTENSION,
} from './cdevents.js';
export type { CDEventKind, CDEventsSpecVersion } from './cdevents.js';
export { parseJUnitXml, junitToReceiptInput } from './junit.js';
export type { JUnitFailure, JUnitReceiptOptions, JUnitSummary } from './junit.js';
export { DEFAULT_INGEST_LIMITS, resolveIngestLimits } from './limits.js';
export type { IngestLimits } from './limits.js';
export { traceparentOf } from './traceContext.js';
export { assertNoSecrets, secretKindOf, SECRET_PATTERNS } from './secrets.js';
export type { SecretKind } from './secrets.js';
export { createSignaturePolicy, globPattern } from './signaturePolicy.js';
export type { Producer, SignaturePolicy, SignatureRecord } from './signaturePolicy.js';
export { signEvent, verifyEventSignature, verificationMaterial } from './verifiability.js';
