// CDEvents chains (issue 18; docs/chains.md): the chain streams, ingest of chained
// events, the chain binder (a process manager following the log), and the queries.
export {
  CHAIN_STREAM_PREFIX,
  ChainEventTypes,
  chainStreamName,
  foldChain,
  loadChain,
} from './chainStream.js';
export type {
  ChainBoundData,
  ChainConflictData,
  ChainEventPendingData,
  ChainState,
} from './chainStream.js';
export { recordChainedEvent } from './recordChained.js';
export type { ChainPendingOutcome } from './recordChained.js';
export {
  startChainBinder,
  handleChainEvent,
  chainNamesUnit,
  CHAIN_BINDER_CHECKPOINT_STREAM,
} from './chainBinder.js';
export type { ChainBinder, ChainBinderOptions, ChainBinderLogger } from './chainBinder.js';
export { listChains, getChain } from './queries.js';
export type { ChainView, ChainFilter } from './queries.js';
