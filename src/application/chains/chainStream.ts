// CDEvents chains (issue 18; docs/chains.md): the events of one chain stream
// `chain-<sha256 of the chain id>` and their fold. A chain is bound to the unit
// named by its first unit-naming event; the events that came before wait in the
// chain stream until then.
//
// - `ChainEventPending.v1`: a mapped CDEvent of the chain that names no unit,
//   stored whole (appended by ingest, keyed by the CloudEvent's idempotency key).
// - `ChainBound.v1`: the chain's unit, and the event that named it (appended by
//   the chain binder, once: its idempotency key is the chain's).
// - `ChainConflict.v1`: the chain named a second unit, or another source used its
//   id; recorded, never merged.
import { createHash } from 'node:crypto';
import type { EventStore, RecordedEvent } from '../../eventStore/types.js';
import { unitAliases } from '../../domain/purl.js';
import type { ReceiptInput } from '../../domain/receiptInput.js';
import type { CloudEventJson } from '../../ingest/index.js';
import { assertInScope } from '../../security/scope.js';

export const CHAIN_STREAM_PREFIX = 'chain-';

export const ChainEventTypes = {
  Pending: 'ChainEventPending.v1',
  Bound: 'ChainBound.v1',
  Conflict: 'ChainConflict.v1',
} as const;

/** The CloudEvent that named or joined a chain. */
export interface ChainEventRef {
  source: string;
  id: string;
  type: string;
}

/**
 * The actions and units a producer was limited to (its scope, docs/security.md)
 * when it sent a chained event whose unit was not known yet.
 */
export interface PendingScope {
  readonly actions: readonly string[];
  readonly units: readonly string[];
}

export interface ChainEventPendingData {
  chainId: string;
  /** The whole validated CloudEvent, as received. */
  cloudEvent: CloudEventJson;
  /** The CloudEvent's idempotency key and digest (the receipt made later is keyed by them). */
  idempotencyKey: string;
  idempotencyDigest: string;
  /** Its producer's scope: the receipt is recorded at binding only within it. Absent: unscoped. */
  producerScope?: PendingScope;
}

/**
 * Throws AUTH_PRODUCER_SCOPE when the receipt a chained event becomes lies
 * outside the actions or units its producer may record (a unit matches by any
 * of its names).
 */
export function assertReceiptInScope(
  principal: string,
  scope: PendingScope,
  receipt: Pick<ReceiptInput, 'action' | 'unit'>,
): void {
  assertInScope(
    principal,
    { sources: ['*'], types: ['*'], ...scope },
    { action: receipt.action, unit: unitAliases(receipt.unit) },
  );
}

export interface ChainBoundData {
  chainId: string;
  unit: string;
  /** The source that owns the chain: the one of its first event. */
  source: string;
  boundBy: ChainEventRef;
}

export interface ChainConflictData {
  chainId: string;
  /** `unit`: a second unit was named; `source`: another source used the chain id. */
  kind: 'unit' | 'source';
  /** The unit the chain is bound to, when bound. */
  boundUnit?: string;
  /** The other unit the event named (kind `unit`). */
  otherUnit?: string;
  /** The chain's owner (kind `source`). */
  ownerSource?: string;
  event: ChainEventRef;
}

/** The stream of a chain: bounded whatever the chain id's length. */
export const chainStreamName = (chainId: string): string =>
  CHAIN_STREAM_PREFIX + createHash('sha256').update(chainId).digest('hex');

/** A chain folded from its stream. */
export interface ChainState {
  chainId: string;
  /** Source of the chain's first event: the only one that may add pending events. */
  owner?: string;
  unit?: string;
  boundBy?: ChainEventRef;
  /** Pending events by CloudEvent idempotency key, in arrival order. */
  pending: Map<string, ChainEventPendingData>;
  /** Who sent each pending event (its `metadata.principal`), by idempotency key. */
  senders: Map<string, string>;
  conflicts: ChainConflictData[];
  lastRecordedAt?: string;
}

export function foldChain(chainId: string, events: readonly RecordedEvent[]): ChainState {
  const state: ChainState = { chainId, pending: new Map(), senders: new Map(), conflicts: [] };
  for (const event of events) {
    state.lastRecordedAt = event.recordedAt;
    switch (event.type) {
      case ChainEventTypes.Pending: {
        const data = event.data as ChainEventPendingData;
        state.owner ??= data.cloudEvent.source;
        state.pending.set(data.idempotencyKey, data);
        if (event.metadata.principal !== undefined)
          state.senders.set(data.idempotencyKey, event.metadata.principal);
        break;
      }
      case ChainEventTypes.Bound: {
        const data = event.data as ChainBoundData;
        state.owner ??= data.source;
        state.unit ??= data.unit;
        state.boundBy ??= data.boundBy;
        break;
      }
      case ChainEventTypes.Conflict:
        state.conflicts.push(event.data as ChainConflictData);
        break;
    }
  }
  return state;
}

/** Reads and folds a chain: its state and the revision to append at. */
export async function loadChain(
  store: EventStore,
  chainId: string,
): Promise<{ state: ChainState; revision: number | 'no_stream' }> {
  const { events, currentRevision } = await store.readStream(chainStreamName(chainId));
  return { state: foldChain(chainId, events), revision: currentRevision };
}

/** A digest short enough for idempotency keys, of any text. */
export const keyDigest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Idempotency key of the receipt made for a pending event when its chain binds. */
export const chainReceiptKey = (idempotencyKey: string): string =>
  `chain-receipt:${keyDigest(idempotencyKey)}`;
