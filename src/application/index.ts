// The application layer's public surface (hand-picked).
export { createDomainService, DEFAULT_DEFINITIONS_MAX_STALENESS_MS } from './domainService.js';
export type {
  DomainService,
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
} from './domainService.js';
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
