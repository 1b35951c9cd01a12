// Receipts ledger: one row per receipt, as recorded; a revocation marks the row
// (the receipt stays in the ledger, as it stays in the log).
import {
  EventTypes,
  type ReceiptRecordedData,
  type ReceiptRevokedData,
} from '../src/domain/events.js';
import { defineProjection, defineTable, update, upsert } from '../src/readModels/index.js';
import type { ReadModelChange } from '../src/readModels/index.js';

export interface ReceiptRow extends Record<string, unknown> {
  receiptId: string;
  unit: string;
  action: string;
  multipass: boolean;
  producer: string | null;
  correlationId: string | null;
  eventId: string;
  position: number;
  recordedAt: string;
  revoked: boolean;
  revokedReason: string | null;
  revokedBy: string | null;
  /** Position of the ReceiptRevoked event. */
  revokedAt: number | null;
  /** The receipt as recorded (what `GET /v1/units/{key}` lists). */
  data: ReceiptRecordedData;
}

export const receipts = defineTable<ReceiptRow>({
  name: 'receipts_ledger',
  columns: {
    receiptId: 'TEXT',
    unit: 'TEXT',
    action: 'TEXT',
    multipass: 'BOOLEAN',
    producer: 'TEXT',
    correlationId: 'TEXT',
    eventId: 'TEXT',
    position: 'INTEGER',
    recordedAt: 'TEXT',
    revoked: 'BOOLEAN',
    revokedReason: 'TEXT',
    revokedBy: 'TEXT',
    revokedAt: 'INTEGER',
    data: 'JSON',
  },
  primaryKey: ['receiptId'],
  indexes: [
    ['unit', 'position'],
    ['action', 'position'],
    ['producer', 'position'],
  ],
});

export const receiptsLedger = defineProjection({
  name: 'receiptsLedger',
  version: 2,
  tables: [receipts],
  canHandle: [EventTypes.ReceiptRecorded, EventTypes.ReceiptRevoked],
  handle: (events) =>
    events.map((event): ReadModelChange => {
      if (event.type === EventTypes.ReceiptRevoked) {
        const data = event.data as ReceiptRevokedData;
        return update(
          receipts,
          { receiptId: data.receiptId },
          {
            revoked: true,
            revokedReason: data.reason,
            revokedBy: data.revokedBy ?? null,
            revokedAt: Number(event.position),
          },
        );
      }
      const data = event.data as ReceiptRecordedData;
      return upsert(receipts, {
        receiptId: data.receiptId,
        unit: data.unit,
        action: data.action,
        multipass: data.multipass,
        producer: data.producer ?? null,
        correlationId: data.correlationId ?? event.metadata.correlationId ?? null,
        eventId: event.id,
        position: Number(event.position),
        recordedAt: event.recordedAt,
        revoked: false,
        revokedReason: null,
        revokedBy: null,
        revokedAt: null,
        data,
      });
    }),
});
