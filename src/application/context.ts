// What every use case shares: the store, the definitions cache, per-stream locks,
// the unit-state cache, and how command metadata becomes stored metadata. Built
// once by `createDomainService`; each use case is a function of it.
import type { DomainEvent } from '../domain/events.js';
import type { UnitState } from '../domain/unit.js';
import type { EventMetadata, EventStore, EventToAppend } from '../eventStore/types.js';
import { handleCommand, type HandleOptions } from './commandHandler.js';
import { createDefinitionsStore, type DefinitionsStore } from './definitionsStore.js';
import { newReceiptId } from './receiptIds.js';
import { createStreamLocks, type StreamLocks } from './streamLocks.js';
import { createStreamStateCache, type StreamStateCache } from './streamStateCache.js';
import {
  DEFAULT_DEFINITIONS_MAX_STALENESS_MS,
  type CommandOptions,
  type DomainServiceDeps,
} from './types.js';

export interface ServiceContext {
  store: EventStore;
  definitions: DefinitionsStore;
  /** How receipts load definitions (the hot path may accept a slightly old snapshot). */
  receiptDefinitions: { maxStalenessMs: number };
  makeReceiptId: () => string;
  maxAttempts: number | undefined;
  locks: StreamLocks;
  unitCache: StreamStateCache<UnitState>;
  /** `handleCommand`, one command per stream at a time within this process. */
  handle: typeof handleCommand;
}

export function createServiceContext(deps: DomainServiceDeps): ServiceContext {
  const store = deps.eventStore;
  const locks = createStreamLocks();
  return {
    store,
    definitions: createDefinitionsStore(store),
    receiptDefinitions: {
      maxStalenessMs: deps.definitionsMaxStalenessMs ?? DEFAULT_DEFINITIONS_MAX_STALENESS_MS,
    },
    makeReceiptId: deps.newReceiptId ?? newReceiptId,
    maxAttempts: deps.maxAttempts,
    locks,
    unitCache: createStreamStateCache<UnitState>({
      ...(deps.unitCacheSize === undefined ? {} : { maxStreams: deps.unitCacheSize }),
      ...(deps.unitCacheMaxEvents === undefined ? {} : { maxEvents: deps.unitCacheMaxEvents }),
    }),
    handle: (eventStore, stream, fold, decide, options) =>
      locks.run(stream, () => handleCommand(eventStore, stream, fold, decide, options)),
  };
}

/** Metadata for derived (verdict) events: who and why, but not the CloudEvent context. */
const derivedMetadata = (metadata: EventMetadata | undefined): EventMetadata | undefined => {
  if (metadata === undefined) return undefined;
  const { context: _context, ...rest } = metadata;
  return rest;
};

/**
 * Turns decided events into events to append: the first carries `metadata` and
 * `first` (idempotency key, lookup keys), the verdicts that follow it the derived
 * metadata.
 */
export const withMetadata =
  (metadata: EventMetadata | undefined, first: Partial<EventToAppend> = {}) =>
  (events: readonly DomainEvent[]): EventToAppend[] =>
    events.map((event, index) => {
      const meta = index === 0 ? metadata : derivedMetadata(metadata);
      return {
        type: event.type,
        data: event.data,
        ...(meta === undefined ? {} : { metadata: meta }),
        ...(index === 0 ? first : {}),
      };
    });

/** The options every handler passes to `handle`: metadata on the appended events, retry bound. */
export const handleOptions = <Event extends DomainEvent, State>(
  ctx: ServiceContext,
  options: CommandOptions,
): HandleOptions<Event, State> => ({
  toAppend: withMetadata(options.metadata),
  ...(ctx.maxAttempts === undefined ? {} : { maxAttempts: ctx.maxAttempts }),
});

/**
 * Options of unit commands that must decide on exactly what is stored (revoke,
 * evaluate): they read the log, and leave the unit cache up to date.
 */
export const exactUnitOptions = (
  ctx: ServiceContext,
  options: CommandOptions,
): HandleOptions<DomainEvent, UnitState> => ({
  ...handleOptions(ctx, options),
  cache: ctx.unitCache,
  readFromCache: false,
});

/** The lookup key under which a receipt's event is found (see EventStore.findByKey). */
export const receiptLookupKey = (receiptId: string): string => `receipt:${receiptId}`;
