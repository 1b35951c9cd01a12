// Queries over read models (hand-picked exports).
export { createReadModelQueries } from './queries.js';
export { createAttestationQueries, parseDigest } from './attestations.js';
export type {
  AttestationFilter,
  AttestationIndexView,
  AttestationQueries,
} from './attestations.js';
export type {
  Answer,
  PageRequest,
  ReadModelQueries,
  ReadModelQueryDeps,
  ReceiptFilter,
  Since,
  UnitFilter,
} from './queries.js';
export type {
  GateUnitView,
  LedgerReceiptView,
  ReceiptDetailView,
  StageUnitView,
  TraceItem,
  UnitSummaryView,
} from './listViews.js';
export type { Page } from './scan.js';
export { DEFAULT_QUERY_WAIT_MS, RETRY_AFTER_SECONDS, positionOf } from './position.js';
export type { ProjectionName } from './position.js';
