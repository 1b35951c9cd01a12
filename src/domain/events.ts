// Domain event types and their data (DESIGN.md §2: versioned names). Each type has
// a JSON Schema in `schemas/events/<Type>.json`; a unit test checks that what the
// deciders emit satisfies those schemas.
import { EventTypes, type DomainEvent } from './eventTypes.js';
import type { ReceiptInput } from './receiptInput.js';

export { EventTypes, type DomainEvent, type EventTypeName } from './eventTypes.js';
export * from './logEvents.js';

// ---------------------------------------------------------------- receipts

/**
 * `ReceiptRecorded.v1`: the immutable record of one action's outcome for one unit:
 * the receipt as it came in, with its id and the unit key in canonical form.
 */
export interface ReceiptRecordedData extends ReceiptInput {
  receiptId: string;
}

/** `ReceiptRevoked.v1`: a receipt no longer counts; it stays in the log. */
export interface ReceiptRevokedData {
  receiptId: string;
  unit: string;
  action: string;
  reason: string;
  /** Principal that revoked it, when known. */
  revokedBy?: string;
}

// ---------------------------------------------------------------- definitions

/** The definition of a gate, as given by its owner. */
export interface GateDefinitionBody {
  name?: string;
  description?: string;
  /** Actions whose latest non-revoked receipts decide the gate. Non-empty, unique. */
  requiredActions: string[];
  /** JSON Schema (draft 2020-12) for the custom section of receipts of the required actions. */
  customSchema?: Record<string, unknown>;
  /** True when the gate is owned by another team and fed through the same API. */
  external?: boolean;
  /** The owning team; required for an external gate. */
  owner?: string;
}

/** `GateDefined.v1`: a new version of a gate (1, 2, 3 …). Defining a disabled gate enables it again. */
export interface GateDefinedData extends GateDefinitionBody {
  gateId: string;
  version: number;
}

/** `GateDisabled.v1`: the gate stops counting from now on; it is never deleted. */
export interface GateDisabledData {
  gateId: string;
  /** The definition version that was current when the gate was disabled. */
  version: number;
  reason?: string;
}

/** The definition of a stage, as given by its owner. */
export interface StageDefinitionBody {
  name?: string;
  description?: string;
  /** Ordered, unique gate ids. Non-empty. */
  gates: string[];
  /** Stages that must have passed first. */
  prerequisites?: string[];
}

/** `StageDefined.v1`: a new version of a stage. */
export interface StageDefinedData extends StageDefinitionBody {
  stageId: string;
  version: number;
  prerequisites: string[];
}

/** `StageDisabled.v1`: the stage stops being evaluated from now on. */
export interface StageDisabledData {
  stageId: string;
  version: number;
  reason?: string;
}

// ---------------------------------------------------------------- verdicts

/** A gate's verdict for a unit (DESIGN.md §1). */
export type GateVerdict = 'pending' | 'passed' | 'failed';

/** What made the verdict change: a receipt recorded, a receipt revoked, or an explicit evaluation. */
export type VerdictTrigger =
  | { kind: 'receipt-recorded'; receiptId: string }
  | { kind: 'receipt-revoked'; receiptId: string }
  | { kind: 'evaluation' };

/** The receipt that counted for one required action. */
export interface CountedReceipt {
  action: string;
  receiptId: string;
  multipass: boolean;
}

/**
 * Data of `GatePassed.v1`, `GateFailed.v1` and `GateReopened.v1` (back to pending,
 * e.g. after a revocation): the new verdict and everything it was computed from.
 */
export interface GateVerdictData {
  unit: string;
  gateId: string;
  gateVersion: number;
  verdict: GateVerdict;
  previousVerdict: GateVerdict;
  /** The counted receipt of every required action that has one. */
  counted: CountedReceipt[];
  /** Ids of the counted receipts, in required-action order. */
  receiptIds: string[];
  /** Required actions without a counted receipt. */
  missingActions: string[];
  trigger: VerdictTrigger;
}

/** A gate as a stage verdict saw it. */
export interface StageGateRef {
  gateId: string;
  gateVersion: number;
  verdict: GateVerdict;
}

/** A prerequisite as a stage verdict saw it. */
export interface StagePrerequisiteRef {
  stageId: string;
  stageVersion: number;
  passed: boolean;
}

/** Data of `StagePassed.v1` and `StageReopened.v1`. */
export interface StageVerdictData {
  unit: string;
  stageId: string;
  stageVersion: number;
  passed: boolean;
  /** The stage's enabled gates, in stage order, with their verdicts. */
  gates: StageGateRef[];
  /** Enabled prerequisite stages and whether they had passed. */
  prerequisites: StagePrerequisiteRef[];
  /** Every receipt the stage's gates counted. */
  receiptIds: string[];
  trigger: VerdictTrigger;
}

export type ReceiptRecorded = DomainEvent<typeof EventTypes.ReceiptRecorded, ReceiptRecordedData>;
export type ReceiptRevoked = DomainEvent<typeof EventTypes.ReceiptRevoked, ReceiptRevokedData>;
export type GateDefined = DomainEvent<typeof EventTypes.GateDefined, GateDefinedData>;
export type GateDisabled = DomainEvent<typeof EventTypes.GateDisabled, GateDisabledData>;
export type StageDefined = DomainEvent<typeof EventTypes.StageDefined, StageDefinedData>;
export type StageDisabled = DomainEvent<typeof EventTypes.StageDisabled, StageDisabledData>;
export type GatePassed = DomainEvent<typeof EventTypes.GatePassed, GateVerdictData>;
export type GateFailed = DomainEvent<typeof EventTypes.GateFailed, GateVerdictData>;
export type GateReopened = DomainEvent<typeof EventTypes.GateReopened, GateVerdictData>;
export type StagePassed = DomainEvent<typeof EventTypes.StagePassed, StageVerdictData>;
export type StageReopened = DomainEvent<typeof EventTypes.StageReopened, StageVerdictData>;

// ---------------------------------------------------------------- attestations

/** What an attestation attests (DESIGN.md §6). */
export type AttestationKind = 'provenance' | 'vsa' | 'test-result';

/**
 * `AttestationIssued.v1`, in the unit's stream: a signed in-toto statement about
 * the unit was issued. Names what it relied on (receipts, stage verdict), who
 * asked, the signer, and the digests of the statement and of the Sigstore bundle;
 * carries the bundle itself when it fits in one event.
 */
export interface AttestationIssuedData {
  attestationId: string;
  unit: string;
  kind: AttestationKind;
  predicateType: string;
  /** Hex SHA-256 of the statement's RFC 8785 canonical JSON (the DSSE payload). */
  statementDigest: string;
  /** Hex SHA-256 of the bundle's RFC 8785 canonical JSON. */
  bundleDigest: string;
  /** The statement's subjects. */
  subjects: { name?: string; digest: Record<string, string> }[];
  /** The receipts the statement relies on, with their canonical digests. */
  receipts: { receiptId: string; digest: string }[];
  /** VSA: the stage verdict it summarises. */
  stage?: { stageId: string; stageVersion: number; passed: boolean; verdictEventId: string };
  /** Test result: the test receipt it reports. */
  receiptId?: string;
  /** Who signed: a local key (its id) or a keyless identity. */
  signer: { kind: 'key'; keyId: string } | { kind: 'keyless'; identity?: string };
  /** Why it was issued: on request (by whom, when known) or on a StagePassed event. */
  trigger: { kind: 'request'; requestedBy?: string } | { kind: 'stage-passed'; eventId: string };
  /**
   * Where its receipts are in the Merkle log (docs/transparency.md): the latest
   * signed checkpoint when issued, and the leaf index of each receipt's event
   * under it (receipts newer than the checkpoint are not listed).
   */
  log?: {
    checkpoint: string;
    treeSize: number;
    receipts: { receiptId: string; leafIndex: number }[];
  };
  /** The Sigstore bundle (v0.3 JSON), when the event stays under the size limit. */
  bundle?: Record<string, unknown>;
}

export type AttestationIssued = DomainEvent<
  typeof EventTypes.AttestationIssued,
  AttestationIssuedData
>;

// ---------------------------------------------------------------- exports

/** Name of the export format: `manifest.json`'s `format` (docs/export.md). */
export const EXPORT_FORMAT = 'provenant-export/v1';

/**
 * `UnitExported.v1`, in the unit's stream: the unit's evidence was exported (a
 * folder or archive that `provenant verify-export` checks offline). Says who and
 * when, and names the export by the digest of its manifest.
 */
export interface UnitExportedData {
  unit: string;
  format: typeof EXPORT_FORMAT;
  /** RFC 3339 time of the export (the manifest's `exportedAt`). */
  exportedAt: string;
  /** The principal that asked for it, when known. */
  exportedBy?: string;
  /** Hex SHA-256 of the bytes of `manifest.json`. */
  manifestDigest: string;
  /** Global position of the log's last event when exported, in decimal. */
  headPosition: string;
  /** Revision of the unit stream's last exported event. */
  unitRevision: number;
  /** Files the manifest lists. */
  files: number;
}

export type UnitExported = DomainEvent<typeof EventTypes.UnitExported, UnitExportedData>;

/** Events of a gate stream. */
export type GateEvent = GateDefined | GateDisabled;
/** Events of a stage stream. */
export type StageEvent = StageDefined | StageDisabled;
/** Verdict events of a unit stream. */
export type VerdictEvent = GatePassed | GateFailed | GateReopened | StagePassed | StageReopened;
/** Events of a unit stream. */
export type UnitEvent = ReceiptRecorded | ReceiptRevoked | VerdictEvent;
/** Every domain event. */
export type AnyDomainEvent = UnitEvent | GateEvent | StageEvent;

const UNIT_TYPES: ReadonlySet<string> = new Set([
  EventTypes.ReceiptRecorded,
  EventTypes.ReceiptRevoked,
  EventTypes.GatePassed,
  EventTypes.GateFailed,
  EventTypes.GateReopened,
  EventTypes.StagePassed,
  EventTypes.StageReopened,
]);

/** Narrows a stored event to a unit event by its type (other types are skipped on fold). */
export const isUnitEvent = (event: DomainEvent): event is UnitEvent => UNIT_TYPES.has(event.type);
export const isGateEvent = (event: DomainEvent): event is GateEvent =>
  event.type === EventTypes.GateDefined || event.type === EventTypes.GateDisabled;
export const isStageEvent = (event: DomainEvent): event is StageEvent =>
  event.type === EventTypes.StageDefined || event.type === EventTypes.StageDisabled;

/** The verdict event type for a gate verdict. */
export const gateVerdictEventType = (
  verdict: GateVerdict,
): typeof EventTypes.GatePassed | typeof EventTypes.GateFailed | typeof EventTypes.GateReopened =>
  verdict === 'passed'
    ? EventTypes.GatePassed
    : verdict === 'failed'
      ? EventTypes.GateFailed
      : EventTypes.GateReopened;
