// What the query API over read models answers (queries.ts): a view of each kind
// of row, and the mapping from the read models' rows to it.
import type {
  GateStatusRow,
  PipelineEventRow,
  ReceiptRow,
  StageStatusRow,
  UnitArtifact,
  UnitSummaryRow,
} from '../../../../projections/index.js';
import type { GateVerdict, ReceiptRecordedData } from '../../../domain/events.js';
import { unitNamesOf } from '../../../domain/purl.js';

export interface UnitSummaryView {
  unit: string;
  /** The unit's canonical purl (issue 18). */
  purl?: string;
  /** Its NVRPP short form, where it has one. */
  nvrpp?: string;
  currentStage: string | null;
  openGates: string[];
  gateVerdicts: Record<string, GateVerdict>;
  receiptCount: number;
  artifacts: UnitArtifact[];
  lastPosition: string;
  lastRecordedAt: string;
}

export interface LedgerReceiptView {
  receiptId: string;
  unit: string;
  action: string;
  multipass: boolean;
  producer: string | null;
  correlationId: string | null;
  eventId: string;
  position: string;
  recordedAt: string;
  revoked: boolean;
  revocation?: { reason: string | null; revokedBy: string | null; position: string | null };
}

/** The fields of a recorded receipt that only `GET /v1/receipts/{id}` shows in full. */
const RECORD_FIELDS = [
  'results',
  'custom',
  'artifacts',
  'evidence',
  'startedAt',
  'finishedAt',
  'origin',
] as const;

/** One receipt: the ledger's view and what the receipt recorded (results, artifacts, origin…). */
export type ReceiptDetailView = LedgerReceiptView &
  Pick<ReceiptRecordedData, (typeof RECORD_FIELDS)[number]>;

export interface GateUnitView {
  unit: string;
  gateId: string;
  verdict: GateVerdict;
  gateVersion: number;
  receiptIds: string[];
  missingActions: string[];
  position: string;
  recordedAt: string;
}

export interface StageUnitView {
  unit: string;
  stageId: string;
  passed: boolean;
  stageVersion: number;
  position: string;
  recordedAt: string;
}

export type TraceItem =
  | ({ kind: 'receipt' } & LedgerReceiptView)
  | {
      kind: 'pipelineEvent';
      eventId: string;
      position: string;
      recordedAt: string;
      source: string | null;
      type: string | null;
      subject: string | null;
      time: string | null;
      stream: string;
      correlationId: string | null;
    };

export const unitView = (row: UnitSummaryRow, artifacts: UnitArtifact[]): UnitSummaryView => ({
  unit: row.unit,
  ...unitNamesOf(row.unit),
  currentStage: row.currentStage,
  openGates: row.openGates,
  gateVerdicts: row.gateVerdicts,
  receiptCount: row.receiptCount,
  artifacts,
  lastPosition: String(row.lastPosition),
  lastRecordedAt: row.lastRecordedAt,
});

export const receiptView = (row: ReceiptRow): LedgerReceiptView => ({
  receiptId: row.receiptId,
  unit: row.unit,
  action: row.action,
  multipass: row.multipass,
  producer: row.producer,
  correlationId: row.correlationId,
  eventId: row.eventId,
  position: String(row.position),
  recordedAt: row.recordedAt,
  revoked: row.revoked,
  ...(row.revoked
    ? {
        revocation: {
          reason: row.revokedReason,
          revokedBy: row.revokedBy,
          position: row.revokedAt === null ? null : String(row.revokedAt),
        },
      }
    : {}),
});

export const gateUnitView = (row: GateStatusRow): GateUnitView => ({
  ...row,
  position: String(row.position),
});

export const stageUnitView = (row: StageStatusRow): StageUnitView => ({
  ...row,
  position: String(row.position),
});

export const pipelineView = (row: PipelineEventRow): TraceItem => ({
  kind: 'pipelineEvent',
  eventId: row.eventId,
  position: String(row.position),
  recordedAt: row.recordedAt,
  source: row.source,
  type: row.type,
  subject: row.subject,
  time: row.time,
  stream: row.stream,
  correlationId: row.correlationId,
});

export function receiptDetailView(row: ReceiptRow): ReceiptDetailView {
  const detail: ReceiptDetailView = receiptView(row);
  for (const field of RECORD_FIELDS)
    if (row.data[field] !== undefined) Object.assign(detail, { [field]: row.data[field] });
  return detail;
}
