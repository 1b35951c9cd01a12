// A unit's receipt chain (the input of the statement builders, src/provenance/chain.ts)
// from the events recorded in its stream: every ReceiptRecorded in log order, with
// the ReceiptRevoked that came later folded in. Pure over the recorded events.
import {
  EventTypes,
  type ReceiptRecordedData,
  type ReceiptRevokedData,
} from '../../domain/events.js';
import type { RecordedEvent } from '../../eventStore/types.js';
import type { ChainReceipt, UnitReceiptChain } from '../../provenance/index.js';

/**
 * The receipt chain of `unit` from its stream's events (in stream order).
 * Events of other types are skipped; a revocation of a receipt not seen is ignored.
 */
export function receiptChainOf(unit: string, events: readonly RecordedEvent[]): UnitReceiptChain {
  const receipts: ChainReceipt[] = [];
  const byId = new Map<string, ChainReceipt>();
  for (const event of events) {
    if (event.type === EventTypes.ReceiptRecorded) {
      const data = event.data as ReceiptRecordedData;
      const receipt: ChainReceipt = {
        eventId: event.id,
        position: event.position.toString(),
        recordedAt: event.recordedAt,
        data,
      };
      receipts.push(receipt);
      byId.set(data.receiptId, receipt);
    } else if (event.type === EventTypes.ReceiptRevoked) {
      const data = event.data as ReceiptRevokedData;
      const receipt = byId.get(data.receiptId);
      if (receipt !== undefined)
        receipt.revoked = {
          reason: data.reason,
          ...(data.revokedBy === undefined ? {} : { revokedBy: data.revokedBy }),
          eventId: event.id,
          recordedAt: event.recordedAt,
        };
    }
  }
  return { unit, receipts };
}
