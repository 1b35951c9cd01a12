// The chain binder (docs/chains.md): a process manager that follows the log and
// binds CDEvents chains to units. It subscribes to `$all` through the port
// (filtered on the three event types it acts on) and resumes after the position
// kept in its own checkpoint stream `$checkpoint-chains` (after each event it
// recorded something for, and every 100 events it looked at).
//
//   ReceiptRecorded.v1 mapped from a CDEvent of a chain (origin type
//     `dev.cdevents.*`, correlationId = the chain id) → the chain names that unit:
//     unbound → `ChainBound.v1`; bound to another unit → `ChainConflict.v1`
//     (kind `unit`); another source than the chain's owner → `ChainConflict.v1`
//     (kind `source`).
//   ChainBound.v1 → a receipt for every event pending in the chain.
//   ChainEventPending.v1 in a bound chain → its receipt (a restart between the
//     binding and the receipts, or an event stored beside the binding).
//
// Everything it appends is keyed, so a redelivery or a restart records nothing
// twice: `ChainBound` by the chain id, a conflict by the chain id and the event,
// a pending event's receipt by `chain-receipt:<digest of the CloudEvent's key>`.
import { EventTypes, type ReceiptRecordedData } from '../../domain/events.js';
import { isProvenantError } from '../../errors.js';
import { isRevisionConflictError } from '../../eventStore/errors.js';
import type { EventStore, RecordedEvent } from '../../eventStore/types.js';
import { followLog, type FollowerLogger } from '../logFollower.js';
import { cdeventToReceipt } from '../../ingest/index.js';
import type { ReceiptCommands } from '../types.js';
import {
  assertReceiptInScope,
  chainReceiptKey,
  chainStreamName,
  ChainEventTypes,
  keyDigest,
  loadChain,
  type ChainBoundData,
  type ChainConflictData,
  type ChainEventPendingData,
  type ChainEventRef,
} from './chainStream.js';

/** The stream holding the binder's checkpoints. */
export const CHAIN_BINDER_CHECKPOINT_STREAM = '$checkpoint-chains';
export const CHAIN_BINDER_CHECKPOINT_TYPE = 'ChainBinderCheckpoint.v1';

export type ChainBinderLogger = FollowerLogger;

export interface ChainBinderOptions {
  store: EventStore;
  receipts: Pick<ReceiptCommands, 'recordReceipt'>;
  logger?: ChainBinderLogger;
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface ChainBinder {
  /** Stops the subscription and waits for the event in hand. Idempotent. */
  stop(): Promise<void>;
  /** Events acted on since the start (tests). */
  readonly handled: number;
  /** Position of the last event seen (acted on or not). */
  readonly position: bigint;
}

const MAX_ATTEMPTS = 8;
const CHECKPOINT_EVERY = 100;

/** The chain a recorded receipt names its unit for, if it came from a chained CDEvent. */
function chainNaming(
  event: RecordedEvent,
): { chainId: string; unit: string; by: ChainEventRef } | undefined {
  const data = event.data as ReceiptRecordedData;
  const origin = data.origin;
  if (data.correlationId === undefined || origin === undefined) return undefined;
  if (!origin.type.startsWith('dev.cdevents.')) return undefined;
  return {
    chainId: data.correlationId,
    unit: data.unit,
    by: { source: origin.source, id: origin.id, type: origin.type },
  };
}

/** Appends to a chain at the revision read; retries when the chain moved meanwhile. */
async function onChain(
  store: EventStore,
  chainId: string,
  decide: (
    state: Awaited<ReturnType<typeof loadChain>>['state'],
  ) => { type: string; data: object; idempotencyKey: string } | undefined,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const { state, revision } = await loadChain(store, chainId);
    const event = decide(state);
    if (event === undefined) return false;
    try {
      const result = await store.append(chainStreamName(chainId), [event], {
        expectedRevision: revision,
      });
      return !result.duplicate;
    } catch (error) {
      if (!isRevisionConflictError(error) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** Binds, or records a conflict, for a receipt that names a chain's unit. Exported for tests. */
export async function chainNamesUnit(
  store: EventStore,
  naming: { chainId: string; unit: string; by: ChainEventRef },
): Promise<'bound' | 'conflict' | 'unchanged'> {
  const { chainId, unit, by } = naming;
  let outcome: 'bound' | 'conflict' | 'unchanged' = 'unchanged';
  await onChain(store, chainId, (state) => {
    const conflictKey = `chain-conflict:${keyDigest(`${chainId}\n${by.source}\n${by.id}`)}`;
    if (state.owner !== undefined && state.owner !== by.source) {
      outcome = 'conflict';
      const data: ChainConflictData = {
        chainId,
        kind: 'source',
        ownerSource: state.owner,
        ...(state.unit === undefined ? {} : { boundUnit: state.unit }),
        otherUnit: unit,
        event: by,
      };
      return { type: ChainEventTypes.Conflict, data, idempotencyKey: conflictKey };
    }
    if (state.unit === undefined) {
      outcome = 'bound';
      const data: ChainBoundData = { chainId, unit, source: by.source, boundBy: by };
      return {
        type: ChainEventTypes.Bound,
        data,
        idempotencyKey: `chain-bound:${keyDigest(chainId)}`,
      };
    }
    if (state.unit === unit) return undefined;
    outcome = 'conflict';
    const data: ChainConflictData = {
      chainId,
      kind: 'unit',
      boundUnit: state.unit,
      otherUnit: unit,
      event: by,
    };
    return { type: ChainEventTypes.Conflict, data, idempotencyKey: conflictKey };
  });
  return outcome;
}

/**
 * Records the receipt of one pending event for its chain's unit (idempotent),
 * naming who sent the event (`principal`) as a receipt recorded at ingest does.
 */
async function recordPending(
  receipts: Pick<ReceiptCommands, 'recordReceipt'>,
  pending: ChainEventPendingData,
  unit: string,
  principal: string | undefined,
): Promise<boolean> {
  const input = cdeventToReceipt(pending.cloudEvent, unit);
  // A scoped producer's event becomes a receipt only within its scope; outside it,
  // it stays pending (recordPendingSafely), as when a receipt is refused for good.
  if (pending.producerScope !== undefined)
    assertReceiptInScope(
      `the producer of ${pending.cloudEvent.source} ${pending.cloudEvent.id}`,
      pending.producerScope,
      input,
    );
  const result = await receipts.recordReceipt(
    { ...input, results: { ...input.results, chain: { id: pending.chainId, unit } } },
    {
      idempotencyKey: chainReceiptKey(pending.idempotencyKey),
      idempotencyDigest: pending.idempotencyDigest,
      metadata: {
        context: {
          id: pending.cloudEvent.id,
          source: pending.cloudEvent.source,
          type: pending.cloudEvent.type,
          ...(pending.cloudEvent.subject === undefined
            ? {}
            : { subject: pending.cloudEvent.subject }),
          ...(pending.cloudEvent.time === undefined ? {} : { time: pending.cloudEvent.time }),
        },
        ...(principal === undefined ? {} : { principal }),
      },
    },
  );
  return !result.duplicate;
}

/**
 * Handles one event of the log: `ignored` when it is none of the binder's,
 * `appended` when the binder recorded something for it, `seen` otherwise.
 * Exported for tests.
 */
export async function handleChainEvent(
  store: EventStore,
  receipts: Pick<ReceiptCommands, 'recordReceipt'>,
  event: RecordedEvent,
): Promise<'ignored' | 'seen' | 'appended'> {
  if (event.type === EventTypes.ReceiptRecorded) {
    const naming = chainNaming(event);
    if (naming === undefined) return 'ignored';
    return (await chainNamesUnit(store, naming)) === 'unchanged' ? 'seen' : 'appended';
  }
  if (event.type === ChainEventTypes.Bound) {
    const { chainId, unit } = event.data as ChainBoundData;
    const { state } = await loadChain(store, chainId);
    let appended = false;
    for (const pending of state.pending.values()) {
      const sender = state.senders.get(pending.idempotencyKey);
      appended = (await recordPendingSafely(receipts, pending, unit, sender)) || appended;
    }
    return appended ? 'appended' : 'seen';
  }
  if (event.type === ChainEventTypes.Pending) {
    const pending = event.data as ChainEventPendingData;
    const { state } = await loadChain(store, pending.chainId);
    if (state.unit === undefined) return 'seen';
    const sender = event.metadata.principal;
    return (await recordPendingSafely(receipts, pending, state.unit, sender)) ? 'appended' : 'seen';
  }
  return 'ignored';
}

// A pending event that cannot become a receipt for good (a gate schema refuses
// its custom section, say) stays pending in the log; anything else is retried.
async function recordPendingSafely(
  receipts: Pick<ReceiptCommands, 'recordReceipt'>,
  pending: ChainEventPendingData,
  unit: string,
  principal: string | undefined,
): Promise<boolean> {
  try {
    return await recordPending(receipts, pending, unit, principal);
  } catch (error) {
    if (!isProvenantError(error) || error.status >= 500) throw error;
    return false;
  }
}

/** Starts the binder; it runs until `stop()`. */
export function startChainBinder(options: ChainBinderOptions): ChainBinder {
  const { store, receipts } = options;
  let handled = 0;
  let position = 0n;
  let sinceCheckpoint = 0;

  // Everything is idempotent, so a checkpoint only saves work on restart:
  // after each event that recorded something, and every 100 events acted on.
  async function handle(event: RecordedEvent): Promise<boolean> {
    const outcome = await handleChainEvent(store, receipts, event);
    position = event.position;
    if (outcome === 'ignored') return false;
    handled++;
    sinceCheckpoint++;
    if (outcome !== 'appended' && sinceCheckpoint < CHECKPOINT_EVERY) return false;
    sinceCheckpoint = 0;
    return true;
  }

  const follower = followLog({
    store,
    name: 'chain binder',
    checkpoint: { stream: CHAIN_BINDER_CHECKPOINT_STREAM, type: CHAIN_BINDER_CHECKPOINT_TYPE },
    eventTypePrefixes: [
      EventTypes.ReceiptRecorded.replace(/v1$/, ''),
      ChainEventTypes.Bound.replace(/v1$/, ''),
      ChainEventTypes.Pending.replace(/v1$/, ''),
    ],
    handle,
    logger: options.logger,
    backoffMs: options.backoffMs,
    maxBackoffMs: options.maxBackoffMs,
  });
  return {
    get handled() {
      return handled;
    },
    get position() {
      return position;
    },
    stop: () => follower.stop(),
  };
}
