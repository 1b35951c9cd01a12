// Record many receipts (a CloudEvents batch): the outcome, receipt by receipt, of
// recording each in order, but with one read, one decision and one append per
// unit. Never rejects: each item carries its result or its error.
import type { Definitions } from '../../domain/definitions.js';
import type { UnitEvent } from '../../domain/events.js';
import { decideUnit, evolveUnit, type UnitState } from '../../domain/unit.js';
import { NO_STREAM, isRevisionConflictError } from '../../eventStore/expectedRevision.js';
import type { AppendResult, EventToAppend, RecordedEvent } from '../../eventStore/types.js';
import {
  DEFAULT_MAX_ATTEMPTS,
  loadCachedStream,
  rememberAppend,
  type LoadedStream,
} from '../commandHandler.js';
import { withMetadata, type ServiceContext } from '../context.js';
import { unitFold } from '../folds.js';
import type { RecordReceiptRequest, RecordReceiptResult, RecordReceiptsItem } from '../types.js';
import {
  appendedResult,
  originalResultIn,
  prepareReceipt,
  recordPrepared,
  type PreparedReceipt,
} from './recordReceipt.js';

/** What the grouped decision made of one receipt. */
type GroupPlan =
  | { kind: 'failed'; error: unknown }
  /** Already recorded with the same content (before, or earlier in the group). */
  | { kind: 'recorded-before'; receiptId: string }
  /** Appended as `events`, starting at index `first` of the group's append. */
  | { kind: 'append'; receiptId: string; first: number; events: UnitEvent[] };

/** A group's decision: one plan per receipt and what to append. */
interface GroupDecision {
  plans: GroupPlan[];
  decided: UnitEvent[];
  toAppend: EventToAppend[];
  /** Two receipts of the group share an idempotency key: record them one by one. */
  sharedKey: boolean;
}

const settle = async (work: () => Promise<RecordReceiptResult>): Promise<RecordReceiptsItem> => {
  try {
    return { ok: true, result: await work() };
  } catch (error) {
    return { ok: false, error };
  }
};

/** Decides each receipt on the state the previous ones left. */
function decideGroup(
  receipts: readonly PreparedReceipt[],
  initial: UnitState,
  definitions: Definitions,
): GroupDecision {
  let state = initial;
  const decision: GroupDecision = { plans: [], decided: [], toAppend: [], sharedKey: false };
  const keys = new Set<string>();
  for (const receipt of receipts) {
    let events: UnitEvent[];
    try {
      events = decideUnit(
        {
          type: 'RecordReceipt',
          receiptId: receipt.receiptId,
          receipt: receipt.input,
          definitions,
        },
        state,
      );
    } catch (error) {
      decision.plans.push({ kind: 'failed', error });
      continue;
    }
    if (events.length === 0) {
      decision.plans.push({ kind: 'recorded-before', receiptId: receipt.receiptId });
      continue;
    }
    if (receipt.idempotencyKey !== undefined) {
      if (keys.has(receipt.idempotencyKey)) decision.sharedKey = true;
      keys.add(receipt.idempotencyKey);
    }
    decision.plans.push({
      kind: 'append',
      receiptId: receipt.receiptId,
      first: decision.decided.length,
      events,
    });
    decision.decided.push(...events);
    decision.toAppend.push(...withMetadata(receipt.metadata, receipt.keyed)(events));
    state = events.reduce(evolveUnit, state);
  }
  return decision;
}

/** The per-receipt outcomes of a grouped decision, once its append (if any) is done. */
async function resolveGroup(
  ctx: ServiceContext,
  stream: string,
  plans: readonly GroupPlan[],
  appended: AppendResult | undefined,
): Promise<RecordReceiptsItem[]> {
  const inGroup = new Map<string, RecordReceiptResult>();
  let stored: readonly RecordedEvent[] | undefined;
  const results: RecordReceiptsItem[] = [];
  for (const plan of plans) {
    if (plan.kind === 'failed') {
      results.push({ ok: false, error: plan.error });
      continue;
    }
    if (plan.kind === 'append') {
      const events = appended?.events.slice(plan.first, plan.first + plan.events.length) ?? [];
      const result = appendedResult(stream, plan.receiptId, plan.events, events);
      inGroup.set(plan.receiptId, result);
      results.push({ ok: true, result });
      continue;
    }
    const earlier = inGroup.get(plan.receiptId);
    if (earlier !== undefined) {
      results.push({ ok: true, result: { ...earlier, duplicate: true } });
      continue;
    }
    try {
      stored ??= (await ctx.store.readStream(stream)).events;
      results.push({ ok: true, result: originalResultIn(stored, stream, plan.receiptId) });
    } catch (error) {
      results.push({ ok: false, error });
    }
  }
  return results;
}

/**
 * Records the receipts of one unit stream (the caller holds its lock): one load,
 * one decision, one append, retried on a revision conflict. When the store refuses
 * the grouped append for any other reason (an idempotency key stored before, a
 * conflict, a limit), or two receipts share an idempotency key, the receipts are
 * recorded one by one instead, which gives each its own outcome.
 */
async function recordGroup(
  ctx: ServiceContext,
  stream: string,
  receipts: readonly PreparedReceipt[],
): Promise<RecordReceiptsItem[]> {
  const [only] = receipts;
  if (only !== undefined && receipts.length === 1)
    return [await settle(() => recordPrepared(ctx, only))];
  const attempts = ctx.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let loaded: LoadedStream<UnitState>;
    let definitions: Definitions;
    try {
      loaded = await loadCachedStream(ctx.store, stream, unitFold, ctx.unitCache);
      definitions = (await ctx.definitions.load(ctx.receiptDefinitions)).definitions;
    } catch (error) {
      return receipts.map(() => ({ ok: false, error }));
    }
    const { plans, decided, toAppend, sharedKey } = decideGroup(
      receipts,
      loaded.state,
      definitions,
    );
    if (sharedKey) break;
    let appended: AppendResult | undefined;
    if (toAppend.length > 0) {
      try {
        appended = await ctx.store.append(stream, toAppend, {
          expectedRevision:
            loaded.currentRevision === NO_STREAM ? NO_STREAM : loaded.currentRevision,
        });
      } catch (error) {
        ctx.unitCache.delete(stream);
        if (isRevisionConflictError(error)) continue;
        break;
      }
      if (appended.duplicate) {
        ctx.unitCache.delete(stream);
        break;
      }
      rememberAppend(ctx.unitCache, stream, unitFold, loaded, decided, appended);
    }
    return resolveGroup(ctx, stream, plans, appended);
  }
  const results: RecordReceiptsItem[] = [];
  for (const receipt of receipts) results.push(await settle(() => recordPrepared(ctx, receipt)));
  return results;
}

/** The `recordReceipts` use case. */
export const recordReceipts =
  (ctx: ServiceContext) =>
  async (requests: readonly RecordReceiptRequest[]): Promise<RecordReceiptsItem[]> => {
    const outcomes: RecordReceiptsItem[] = new Array<RecordReceiptsItem>(requests.length);
    const groups = new Map<string, { index: number; receipt: PreparedReceipt }[]>();
    requests.forEach((request, index) => {
      try {
        const receipt = prepareReceipt(ctx, request.input, request.options ?? {});
        const group = groups.get(receipt.stream);
        if (group === undefined) groups.set(receipt.stream, [{ index, receipt }]);
        else group.push({ index, receipt });
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    });
    await Promise.all(
      [...groups].map(async ([stream, group]) => {
        let results: RecordReceiptsItem[];
        try {
          results = await ctx.locks.run(stream, () =>
            recordGroup(
              ctx,
              stream,
              group.map((g) => g.receipt),
            ),
          );
        } catch (error) {
          results = group.map(() => ({ ok: false, error }));
        }
        group.forEach((g, i) => {
          outcomes[g.index] = results[i] ?? { ok: false, error: new Error('no outcome') };
        });
      }),
    );
    return outcomes;
  };
