// Public surface of the read-model side (hand-picked, STYLE.md §17).
export type {
  ColumnType,
  EnsureResult,
  FindOptions,
  FindResult,
  ParkedEvent,
  ParkedEventInput,
  ProjectionSchema,
  ReadModelReader,
  ReadModelSnapshot,
  ReadModelStore,
  ReadModelTarget,
  ReadModelTransaction,
  RebuildState,
  Row,
  TableDefinition,
  Where,
} from './port.js';
export { defineTable } from './port.js';
export {
  applyChanges,
  defineProjection,
  remove,
  update,
  upsert,
  type PoisonPolicy,
  type ProjectionDefinition,
  type ReadModelChange,
} from './projection.js';
export { DEFAULT_RETRY, type Log, type RetryPolicy } from './applyBatch.js';
export {
  createProjectionRunner,
  type ProjectionRunner,
  type ProjectionRunnerOptions,
  type ProjectionStatus,
  type RebuildProgress,
  type RebuildResult,
} from './runner.js';
export type { ProjectionState } from './loop.js';
