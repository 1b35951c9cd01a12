// Gate status: the latest verdict of every gate for every unit, with the
// receipts it counted and the actions still missing.
import { EventTypes, type GateVerdict, type GateVerdictData } from '../src/domain/events.js';
import { defineProjection, defineTable, upsert } from '../src/readModels/index.js';

export interface GateStatusRow extends Record<string, unknown> {
  unit: string;
  gateId: string;
  verdict: GateVerdict;
  gateVersion: number;
  receiptIds: string[];
  missingActions: string[];
  position: number;
  recordedAt: string;
}

export const gateStatusTable = defineTable<GateStatusRow>({
  name: 'gate_status',
  columns: {
    unit: 'TEXT',
    gateId: 'TEXT',
    verdict: 'TEXT',
    gateVersion: 'INTEGER',
    receiptIds: 'JSON',
    missingActions: 'JSON',
    position: 'INTEGER',
    recordedAt: 'TEXT',
  },
  primaryKey: ['unit', 'gateId'],
  indexes: [['gateId', 'verdict']],
});

export const gateStatus = defineProjection({
  name: 'gateStatus',
  version: 1,
  tables: [gateStatusTable],
  canHandle: [EventTypes.GatePassed, EventTypes.GateFailed, EventTypes.GateReopened],
  handle: (events) =>
    events.map((event) => {
      const data = event.data as GateVerdictData;
      return upsert(gateStatusTable, {
        unit: data.unit,
        gateId: data.gateId,
        verdict: data.verdict,
        gateVersion: data.gateVersion,
        receiptIds: data.receiptIds,
        missingActions: data.missingActions,
        position: Number(event.position),
        recordedAt: event.recordedAt,
      });
    }),
});
