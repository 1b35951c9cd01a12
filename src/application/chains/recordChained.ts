// Ingest of a mapped CDEvent that names no unit but belongs to a chain
// (docs/chains.md). If the chain is bound, the event becomes a receipt for the
// chain's unit now; if not, it is stored whole in the chain stream
// (`ChainEventPending.v1`) and answered 202 with `unit: null`: the chain binder
// records its receipt when the chain binds. The append carries the chain's
// revision as read, so an event can never slip in beside a concurrent binding.
import { ProvenantError } from '../../errors.js';
import { isRevisionConflictError } from '../../eventStore/errors.js';
import type { EventMetadata, EventStore } from '../../eventStore/types.js';
import { cdeventToReceipt, type ChainedCDEventCommand } from '../../ingest/index.js';
import type { ReceiptCommands, RecordReceiptResult } from '../types.js';
import {
  assertReceiptInScope,
  chainStreamName,
  ChainEventTypes,
  loadChain,
  type ChainEventPendingData,
  type PendingScope,
} from './chainStream.js';

/** A scoped producer: who, and the actions and units it may record. */
export interface ChainedProducer {
  principal: string;
  scope: PendingScope;
}

/** Where a chained event without a unit of its own went: pending in its chain. */
export interface ChainPendingOutcome {
  readonly kind: 'chain-pending';
  /** Always null: the chain is not bound yet. */
  readonly unit: null;
  readonly chainId: string;
  readonly eventId: string;
  readonly stream: string;
  readonly revision: number;
  readonly position: string;
  readonly duplicate: boolean;
}

const MAX_ATTEMPTS = 8;

/**
 * Records a chained CDEvent: a receipt when its chain is bound (`receipt` is
 * called), else a pending chain event. Throws `INGEST_CHAIN_SOURCE_CONFLICT` when
 * the chain belongs to another source (nothing is stored). A scoped `producer`
 * records a receipt only within its actions and units (AUTH_PRODUCER_SCOPE
 * otherwise); a pending event keeps that scope, which the chain binder applies
 * when the chain binds (chainBinder.ts).
 */
export async function recordChainedEvent(
  store: EventStore,
  receipts: Pick<ReceiptCommands, 'recordReceipt'>,
  command: ChainedCDEventCommand,
  metadata: EventMetadata,
  producer?: ChainedProducer,
): Promise<ChainPendingOutcome | RecordReceiptResult> {
  const stream = chainStreamName(command.chainId);
  for (let attempt = 1; ; attempt++) {
    const { state, revision } = await loadChain(store, command.chainId);
    const pending = state.pending.get(command.idempotencyKey);
    if (pending !== undefined) {
      // A redelivery of an event already waiting in the chain: the original answer.
      if (pending.idempotencyDigest !== command.idempotencyDigest)
        throw new ProvenantError(
          'STORE_IDEMPOTENCY_CONFLICT',
          `CloudEvent ${command.event.source} ${command.event.id} was stored with other content`,
        );
      const { events } = await store.readStream(stream);
      const original = events.find(
        (e) =>
          e.type === ChainEventTypes.Pending &&
          (e.data as ChainEventPendingData).idempotencyKey === command.idempotencyKey,
      );
      if (original === undefined)
        throw new ProvenantError('INTERNAL', `Pending chain event vanished from '${stream}'`);
      return pendingOutcome(command.chainId, stream, original, true);
    }
    if (state.owner !== undefined && state.owner !== command.event.source)
      throw new ProvenantError(
        'INGEST_CHAIN_SOURCE_CONFLICT',
        `Chain '${command.chainId}' belongs to source '${state.owner}', not '${command.event.source}'`,
        { details: { chainId: command.chainId, owner: state.owner, source: command.event.source } },
      );
    if (state.unit !== undefined) {
      const receipt = cdeventToReceipt(command.event, state.unit);
      if (producer !== undefined) assertReceiptInScope(producer.principal, producer.scope, receipt);
      return receipts.recordReceipt(receipt, {
        idempotencyKey: command.idempotencyKey,
        idempotencyDigest: command.idempotencyDigest,
        metadata,
      });
    }
    const data: ChainEventPendingData = {
      chainId: command.chainId,
      cloudEvent: command.event,
      idempotencyKey: command.idempotencyKey,
      idempotencyDigest: command.idempotencyDigest,
      ...(producer === undefined ? {} : { producerScope: producer.scope }),
    };
    try {
      const result = await store.append(
        stream,
        [
          {
            type: ChainEventTypes.Pending,
            data,
            metadata,
            idempotencyKey: command.idempotencyKey,
            idempotencyDigest: command.idempotencyDigest,
          },
        ],
        { expectedRevision: revision },
      );
      const event = result.events[0];
      if (event === undefined)
        throw new ProvenantError('INTERNAL', `Append to '${stream}' reported no event`);
      return pendingOutcome(command.chainId, stream, event, result.duplicate);
    } catch (error) {
      if (!isRevisionConflictError(error) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

const pendingOutcome = (
  chainId: string,
  stream: string,
  event: { id: string; revision: number; position: bigint },
  duplicate: boolean,
): ChainPendingOutcome => ({
  kind: 'chain-pending',
  unit: null,
  chainId,
  eventId: event.id,
  stream,
  revision: event.revision,
  position: event.position.toString(),
  duplicate,
});
