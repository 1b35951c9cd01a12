// Record one receipt: decide the receipt event and the verdict changes it causes
// on the unit's stream, and append them in one append at the exact revision. A
// redelivery (same receipt id and content, or the same idempotency key) appends
// nothing and reports the original result.
import { unitStream } from '../unitStreams.js';
import { ProvenantError } from '../../errors.js';
import {
  EventTypes,
  type DomainEvent,
  type ReceiptRecordedData,
  type UnitEvent,
} from '../../domain/events.js';
import type { ReceiptInput } from '../../domain/receiptInput.js';
import { decideUnit } from '../../domain/unit.js';
import type {
  AppendedEvent,
  EventMetadata,
  EventToAppend,
  RecordedEvent,
} from '../../eventStore/types.js';
import { handleCommand } from '../commandHandler.js';
import { receiptLookupKey, withMetadata, type ServiceContext } from '../context.js';
import { unitFold } from '../folds.js';
import { followingVerdicts, verdictChange } from '../queries/views.js';
import { canonicalDigest, receiptIdFromCloudEvent } from '../receiptIds.js';
import type { RecordReceiptOptions, RecordReceiptResult } from '../types.js';

/** A receipt command with everything chosen once, before any attempt: stream, id, metadata, keys. */
export interface PreparedReceipt {
  input: ReceiptInput;
  stream: string;
  receiptId: string;
  metadata: EventMetadata | undefined;
  /** What the receipt event carries besides its data: idempotency and lookup keys. */
  keyed: Partial<EventToAppend>;
  idempotencyKey: string | undefined;
}

export function prepareReceipt(
  ctx: ServiceContext,
  input: ReceiptInput,
  options: RecordReceiptOptions,
): PreparedReceipt {
  const stream = unitStream(String(input?.unit));
  const receiptId =
    input.origin !== undefined
      ? receiptIdFromCloudEvent(String(input.origin.source), String(input.origin.id))
      : ctx.makeReceiptId();
  const metadata: EventMetadata | undefined =
    options.metadata === undefined && input.correlationId === undefined
      ? undefined
      : {
          ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
          ...options.metadata,
        };
  const keyed: Partial<EventToAppend> = {
    lookupKeys: [receiptLookupKey(receiptId)],
    ...(options.idempotencyKey === undefined
      ? {}
      : {
          idempotencyKey: options.idempotencyKey,
          idempotencyDigest: options.idempotencyDigest ?? canonicalDigest({ receipt: input }),
        }),
  };
  return { input, stream, receiptId, metadata, keyed, idempotencyKey: options.idempotencyKey };
}

/** The original result of a receipt found in `events`, the stream's stored events. */
export function originalResultIn(
  events: readonly RecordedEvent[],
  stream: string,
  receiptId: string,
): RecordReceiptResult {
  const index = events.findIndex(
    (e) =>
      e.type === EventTypes.ReceiptRecorded &&
      (e.data as ReceiptRecordedData).receiptId === receiptId,
  );
  const event = events[index];
  if (event === undefined)
    throw new ProvenantError(
      'INTERNAL',
      `Receipt '${receiptId}' was reported stored but is not in '${stream}'`,
    );
  const data = event.data as ReceiptRecordedData;
  return {
    receiptId,
    unit: data.unit,
    stream,
    eventId: event.id,
    revision: event.revision,
    position: event.position.toString(),
    duplicate: true,
    verdicts: followingVerdicts(events, index, { kind: 'receipt-recorded', receiptId }),
  };
}

/** The original result of a receipt already in `stream`. */
async function originalReceiptResult(
  ctx: ServiceContext,
  stream: string,
  receiptId: string,
): Promise<RecordReceiptResult> {
  const { events } = await ctx.store.readStream(stream);
  return originalResultIn(events, stream, receiptId);
}

/** The result of a receipt appended as `events` (receipt first, then verdicts) at `appended`. */
export const appendedResult = (
  stream: string,
  receiptId: string,
  events: readonly UnitEvent[],
  appended: readonly AppendedEvent[],
): RecordReceiptResult => {
  const [receiptEvent, ...verdictEvents] = appended;
  return {
    receiptId,
    unit: (events[0]?.data as ReceiptRecordedData).unit,
    stream,
    eventId: receiptEvent?.id ?? '',
    revision: receiptEvent?.revision ?? -1,
    position: (receiptEvent?.position ?? 0n).toString(),
    duplicate: false,
    verdicts: verdictEvents.map((a, i) =>
      verdictChange(events[i + 1] as DomainEvent, a.id, a.position),
    ),
  };
};

/** Records one prepared receipt; the caller holds the stream's lock. */
export async function recordPrepared(
  ctx: ServiceContext,
  receipt: PreparedReceipt,
): Promise<RecordReceiptResult> {
  const { stream, receiptId } = receipt;
  const result = await handleCommand(
    ctx.store,
    stream,
    unitFold,
    async (state) => {
      const { definitions } = await ctx.definitions.load(ctx.receiptDefinitions);
      return decideUnit(
        { type: 'RecordReceipt', receiptId, receipt: receipt.input, definitions },
        state,
      );
    },
    {
      toAppend: withMetadata(receipt.metadata, receipt.keyed),
      cache: ctx.unitCache,
      ...(ctx.maxAttempts === undefined ? {} : { maxAttempts: ctx.maxAttempts }),
    },
  );
  const append = result.appendResult;
  if (append === undefined) return originalReceiptResult(ctx, stream, receiptId); // same id, same content
  if (append.duplicate) {
    // The idempotency key was stored before: report the original receipt.
    const original = append.events[0];
    const { events } = await ctx.store.readStream(stream, {
      from: original?.revision ?? 0,
      maxCount: 1,
    });
    const data = events[0]?.data as ReceiptRecordedData | undefined;
    if (data === undefined || events[0]?.type !== EventTypes.ReceiptRecorded)
      throw new ProvenantError(
        'INTERNAL',
        `Idempotency key '${receipt.idempotencyKey}' does not name a receipt`,
      );
    return originalReceiptResult(ctx, stream, data.receiptId);
  }
  return appendedResult(stream, receiptId, result.events, append.events);
}

/** The `recordReceipt` use case. */
export const recordReceipt =
  (ctx: ServiceContext) =>
  async (input: ReceiptInput, options: RecordReceiptOptions = {}): Promise<RecordReceiptResult> => {
    const receipt = prepareReceipt(ctx, input, options);
    return ctx.locks.run(receipt.stream, () => recordPrepared(ctx, receipt));
  };
