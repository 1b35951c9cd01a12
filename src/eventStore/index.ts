// Public surface of the event-store port (hand-picked, STYLE.md §17).
export type {
  AllPosition,
  AppendOptions,
  AppendResult,
  AppendedEvent,
  Direction,
  EventContext,
  EventFilter,
  EventLocation,
  EventMetadata,
  EventStore,
  EventToAppend,
  IntegrityProblem,
  JsonValue,
  ReadAllOptions,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
  RecordedMetadata,
  SubscribeToAllOptions,
  Subscription,
  VerifyResult,
} from './types.js';
export { DEFAULT_READ_ALL_MAX_COUNT } from './types.js';
export {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  RevisionConflictError,
  isRevisionConflictError,
  type ExpectedRevision,
} from './expectedRevision.js';
export {
  BackendUnavailableError,
  IdempotencyConflictError,
  isBackendUnavailableError,
  isIdempotencyConflictError,
} from './errors.js';
export { ZERO_DIGEST } from './integrity.js';
export { MAX_LOOKUP_KEYS_PER_EVENT, MAX_LOOKUP_KEY_LENGTH } from './validation.js';
