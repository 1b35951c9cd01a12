// The application layer's public surface (hand-picked).
export { createDomainService } from './domainService.js';
export { DEFAULT_DEFINITIONS_MAX_STALENESS_MS } from './types.js';
export type {
  DomainService,
  ReceiptCommands,
  DefinitionCommands,
  DefinitionQueries,
  UnitQueries,
  DomainServiceDeps,
  CommandOptions,
  RecordReceiptOptions,
  RecordReceiptRequest,
  RecordReceiptResult,
  RecordReceiptsItem,
  RevokeReceiptResult,
  EvaluateUnitResult,
  DefinitionResult,
  GateView,
  StageView,
  ReceiptView,
  GateStatus,
  StageStatus,
  UnitStatus,
  VerdictChange,
} from './types.js';
export { handleCommand, loadStream, DEFAULT_MAX_ATTEMPTS } from './commandHandler.js';
export type { StreamFold, LoadedStream, HandleResult, HandleOptions } from './commandHandler.js';
export { createDefinitionsStore } from './definitionsStore.js';
export type {
  DefinitionsStore,
  DefinitionsSnapshot,
  DefinitionsStoreOptions,
  LoadDefinitionsOptions,
} from './definitionsStore.js';
export {
  createStreamStateCache,
  DEFAULT_STREAM_CACHE_SIZE,
  DEFAULT_STREAM_CACHE_EVENTS,
} from './streamStateCache.js';
export type {
  StreamStateCache,
  StreamStateCacheOptions,
  CachedStream,
} from './streamStateCache.js';
export { receiptIdFromCloudEvent, newReceiptId, RECEIPT_ID_NAMESPACE } from './receiptIds.js';
export { ingestCloudEvents, receiptOutcome } from './ingest/ingestCloudEvents.js';
export type { IngestDeps } from './ingest/ingestCloudEvents.js';
export {
  ingestJUnit,
  JUNIT_MEDIA_TYPES,
  JUNIT_IDEMPOTENCY_PREFIX,
  junitIdempotencyKey,
} from './ingest/ingestJUnit.js';
export type {
  BatchItem,
  CloudEventsRequest,
  IngestEventsResult,
  IngestOutcome,
  JUnitReportRequest,
  PipelineEventOutcome,
  ReceiptOutcome,
} from './ingest/types.js';
