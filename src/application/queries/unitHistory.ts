// A unit's history as a timeline (for `provenant replay`): each event of its
// stream up to a point, with what it means — a receipt and its producer, a
// verdict change (before -> after, and its trigger), a revocation and why, an
// attestation issued (what, signed by whom, why), an export.
import {
  EventTypes,
  type AttestationIssuedData,
  type AttestationKind,
  type ReceiptRecordedData,
  type ReceiptRevokedData,
  type UnitExportedData,
  type VerdictTrigger,
} from '../../domain/events.js';
import { normalizeUnitKey } from '../../domain/unitKey.js';
import type { EventStore } from '../../eventStore/types.js';
import {
  assertNotFuture,
  atOrBefore,
  initialVerdict,
  readUnit,
  verdictOf,
  type LogPoint,
} from './timeTravel.js';

/** One entry of a unit's history. */
export interface HistoryEntry {
  position: string;
  revision: number;
  recordedAt: string;
  eventId: string;
  type: string;
  receiptId?: string;
  action?: string;
  /** A receipt: whether its action passed (`multipass`). */
  passed?: boolean;
  producer?: string;
  correlationId?: string;
  /** A verdict change: which gate or stage, from what to what. */
  verdict?: {
    gateId?: string;
    stageId?: string;
    before: string;
    after: string;
    trigger: VerdictTrigger;
  };
  /** A revocation: why and by whom. */
  revocation?: { receiptId: string; reason: string; revokedBy?: string };
  /** An attestation issued: which, on what, signed by whom, and why. */
  attestation?: {
    attestationId: string;
    kind: AttestationKind;
    /** VSA: the stage it summarises and that stage's verdict. */
    stage?: { stageId: string; passed: boolean };
    receipts: number;
    signer: string;
    trigger: AttestationIssuedData['trigger'];
  };
  /** An export of the unit's evidence: its manifest's digest, by whom. */
  export?: { manifestDigest: string; files: number; exportedBy?: string };
}

function attestationEntry(data: AttestationIssuedData): NonNullable<HistoryEntry['attestation']> {
  return {
    attestationId: data.attestationId,
    kind: data.kind,
    ...(data.stage === undefined
      ? {}
      : { stage: { stageId: data.stage.stageId, passed: data.stage.passed } }),
    receipts: data.receipts.length,
    signer:
      data.signer.kind === 'key'
        ? `key ${data.signer.keyId}`
        : `keyless ${data.signer.identity ?? '(identity unknown)'}`,
    trigger: data.trigger,
  };
}

/**
 * A unit's history as a timeline, up to `asOf` when given (for `provenant
 * replay`); `asOfName` is how the caller's user wrote it, for the refusal.
 */
export async function unitHistory(
  store: EventStore,
  unitKey: string,
  asOf?: LogPoint,
  asOfName = 'asOf',
): Promise<{ unit: string; entries: HistoryEntry[] }> {
  const unit = normalizeUnitKey(unitKey);
  if (asOf !== undefined) await assertNotFuture(store, asOf, asOfName);
  const events = await readUnit(store, unit);
  const inRange = asOf === undefined ? () => true : atOrBefore(asOf);
  const current = new Map<string, string>();
  const entries: HistoryEntry[] = [];
  for (const event of events) {
    if (!inRange(event)) break;
    const entry: HistoryEntry = {
      position: event.position.toString(),
      revision: event.revision,
      recordedAt: event.recordedAt,
      eventId: event.id,
      type: event.type,
    };
    const correlationId = event.metadata.correlationId;
    if (typeof correlationId === 'string') entry.correlationId = correlationId;
    if (event.type === EventTypes.ReceiptRecorded) {
      const data = event.data as ReceiptRecordedData;
      entry.receiptId = data.receiptId;
      entry.action = data.action;
      entry.passed = data.multipass;
      if (data.producer !== undefined) entry.producer = data.producer;
    } else if (event.type === EventTypes.ReceiptRevoked) {
      const data = event.data as ReceiptRevokedData;
      entry.receiptId = data.receiptId;
      entry.action = data.action;
      entry.revocation = {
        receiptId: data.receiptId,
        reason: data.reason,
        ...(data.revokedBy === undefined ? {} : { revokedBy: data.revokedBy }),
      };
    } else if (event.type === EventTypes.AttestationIssued) {
      entry.attestation = attestationEntry(event.data as AttestationIssuedData);
    } else if (event.type === EventTypes.UnitExported) {
      const data = event.data as UnitExportedData;
      entry.export = {
        manifestDigest: data.manifestDigest,
        files: data.files,
        ...(data.exportedBy === undefined ? {} : { exportedBy: data.exportedBy }),
      };
    } else {
      const verdict = verdictOf(event);
      if (verdict !== undefined) {
        const before = current.get(verdict.id) ?? initialVerdict(verdict.id);
        current.set(verdict.id, verdict.verdict);
        const id = verdict.id.slice(verdict.id.indexOf(':') + 1);
        entry.verdict = {
          ...(verdict.id.startsWith('gate:') ? { gateId: id } : { stageId: id }),
          before,
          after: verdict.verdict,
          trigger: (event.data as { trigger: VerdictTrigger }).trigger,
        };
      }
    }
    entries.push(entry);
  }
  return { unit, entries };
}
