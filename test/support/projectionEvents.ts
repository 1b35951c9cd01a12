// Recorded domain events for projection tests: receipts, revocations, gate and
// stage verdicts, pipeline events and attestations, with sensible defaults.
import {
  EventTypes,
  type AttestationIssuedData,
  type GateVerdict,
  type GateVerdictData,
  type ReceiptRecordedData,
  type ReceiptRevokedData,
  type StageVerdictData,
} from '../../src/domain/events.js';
import type { RecordedEvent } from '../../src/eventStore/types.js';
import { recorded } from './projection.js';

export const receiptRecorded = (
  receiptId: string,
  unit: string,
  extra: Partial<ReceiptRecordedData> = {},
): RecordedEvent =>
  recorded<ReceiptRecordedData>(
    EventTypes.ReceiptRecorded,
    { receiptId, unit, action: 'build', multipass: true, ...extra },
    { stream: `unit-${unit}` },
  );

export const receiptRevoked = (
  receiptId: string,
  unit: string,
  extra: Partial<ReceiptRevokedData> = {},
): RecordedEvent =>
  recorded<ReceiptRevokedData>(
    EventTypes.ReceiptRevoked,
    { receiptId, unit, action: 'build', reason: 'flaky', ...extra },
    { stream: `unit-${unit}` },
  );

const gateTypes = {
  passed: EventTypes.GatePassed,
  failed: EventTypes.GateFailed,
  pending: EventTypes.GateReopened,
} as const;

export const gateVerdict = (
  unit: string,
  gateId: string,
  verdict: GateVerdict,
  extra: Partial<GateVerdictData> = {},
): RecordedEvent =>
  recorded<GateVerdictData>(
    gateTypes[verdict],
    {
      unit,
      gateId,
      gateVersion: 1,
      verdict,
      previousVerdict: 'pending',
      counted: [],
      receiptIds: verdict === 'passed' ? ['r1'] : [],
      missingActions: verdict === 'passed' ? [] : ['build'],
      trigger: { kind: 'evaluation' },
      ...extra,
    },
    { stream: `unit-${unit}` },
  );

export const stageVerdict = (unit: string, stageId: string, passed: boolean): RecordedEvent =>
  recorded<StageVerdictData>(
    passed ? EventTypes.StagePassed : EventTypes.StageReopened,
    {
      unit,
      stageId,
      stageVersion: 1,
      passed,
      gates: [],
      prerequisites: [],
      receiptIds: [],
      trigger: { kind: 'evaluation' },
    },
    { stream: `unit-${unit}` },
  );

export const pipelineEvent = (source: string, type: string, extra: Record<string, string> = {}) =>
  recorded(
    'PipelineEventRecorded.v1',
    { cloudEvent: { specversion: '1.0', id: `ce-${source}-${type}`, source, type, ...extra } },
    { stream: 'source-abc', metadata: { context: { source, type } } },
  );

export const attestationIssued = (
  attestationId: string,
  unit: string,
  extra: Partial<AttestationIssuedData> = {},
): RecordedEvent =>
  recorded<AttestationIssuedData>(
    EventTypes.AttestationIssued,
    {
      attestationId,
      unit,
      kind: 'provenance',
      predicateType: 'https://slsa.dev/provenance/v1',
      statementDigest: 'a'.repeat(64),
      bundleDigest: 'b'.repeat(64),
      subjects: [{ name: 'openssl.rpm', digest: { sha256: 'c'.repeat(64) } }],
      receipts: [{ receiptId: 'r1', digest: 'd'.repeat(64) }],
      signer: { kind: 'key', keyId: 'k1' },
      trigger: { kind: 'request', requestedBy: 'alice' },
      ...extra,
    },
    { stream: `unit-${unit}` },
  );
