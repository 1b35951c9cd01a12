// Revoke a receipt, with a reason: the receipt stays in the log, a later
// `ReceiptRevoked` and the verdict changes it causes are appended to its unit's
// stream. The receipt's unit is found by key (the store keeps `receipt:<id>` as a
// lookup key of the receipt's event), so the cost does not grow with the log.
import { ProvenantError } from '../../errors.js';
import type { DomainEvent } from '../../domain/events.js';
import { isReceiptId } from '../../domain/names.js';
import { decideUnit } from '../../domain/unit.js';
import { exactUnitOptions, receiptLookupKey, type ServiceContext } from '../context.js';
import { unitFold } from '../folds.js';
import { verdictChange } from '../queries/views.js';
import type { CommandOptions, RevokeReceiptResult } from '../types.js';

const notFound = (receiptId: string): ProvenantError =>
  new ProvenantError('DOMAIN_RECEIPT_NOT_FOUND', `Receipt '${receiptId}' does not exist`, {
    details: { receiptId },
  });

/** The `revokeReceipt` use case. */
export const revokeReceipt =
  (ctx: ServiceContext) =>
  async (
    receiptId: string,
    reason: string,
    options: CommandOptions & { revokedBy?: string } = {},
  ): Promise<RevokeReceiptResult> => {
    if (!isReceiptId(receiptId)) throw notFound(String(receiptId));
    const location = await ctx.store.findByKey(receiptLookupKey(receiptId));
    if (location === undefined) throw notFound(receiptId);
    const revokedBy = options.revokedBy ?? options.metadata?.principal;
    const result = await ctx.handle(
      ctx.store,
      location.stream,
      unitFold,
      async (state) => {
        const { definitions } = await ctx.definitions.load();
        return decideUnit(
          {
            type: 'RevokeReceipt',
            receiptId,
            reason,
            definitions,
            ...(revokedBy === undefined ? {} : { revokedBy }),
          },
          state,
        );
      },
      exactUnitOptions(ctx, options),
    );
    const [revocation, ...verdictEvents] = result.appendResult?.events ?? [];
    return {
      receiptId,
      unit: result.newState.unit ?? '',
      eventId: revocation?.id ?? '',
      position: (revocation?.position ?? 0n).toString(),
      verdicts: verdictEvents.map((a, i) =>
        verdictChange(result.events[i + 1] as DomainEvent, a.id, a.position),
      ),
    };
  };
