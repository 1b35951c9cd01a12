// The domain's public surface: hand-picked, types exported as types (STYLE.md §17).
export {
  parseUnitKey,
  formatUnitKey,
  normalizeUnitKey,
  unitStreamName,
  isValidUnitKey,
  UNIT_STREAM_PREFIX,
  MAX_UNIT_KEY_LENGTH,
  MAX_UNIT_KEY_PART_LENGTH,
} from './unitKey.js';
export type { UnitKey } from './unitKey.js';
export {
  assertGateId,
  assertStageId,
  assertActionName,
  isReceiptId,
  gateStreamName,
  stageStreamName,
  GATE_STREAM_PREFIX,
  STAGE_STREAM_PREFIX,
} from './names.js';
export { EventTypes, EXPORT_FORMAT, isUnitEvent, isGateEvent, isStageEvent } from './events.js';
export type {
  DomainEvent,
  EventTypeName,
  AnyDomainEvent,
  UnitEvent,
  GateEvent,
  StageEvent,
  VerdictEvent,
  ReceiptRecordedData,
  ReceiptRevokedData,
  AttestationIssued,
  AttestationIssuedData,
  UnitExported,
  UnitExportedData,
  AttestationKind,
  GateDefinitionBody,
  GateDefinedData,
  GateDisabledData,
  StageDefinitionBody,
  StageDefinedData,
  StageDisabledData,
  GateVerdict,
  GateVerdictData,
  StageVerdictData,
  CountedReceipt,
  StageGateRef,
  StagePrerequisiteRef,
  VerdictTrigger,
} from './events.js';
export { compileCustomSchema, describeSchemaErrors } from './customSchema.js';
export type { CustomValidator, CustomSchemaError } from './customSchema.js';
export {
  gateDecider,
  decideGate,
  evolveGate,
  initialGateState,
  normalizeGateDefinition,
} from './gate.js';
export type { GateCommand, DefineGate, DisableGate, GateState } from './gate.js';
export {
  stageDecider,
  decideStage,
  evolveStage,
  initialStageState,
  normalizeStageDefinition,
  findPrerequisiteCycle,
} from './stage.js';
export type { StageCommand, DefineStage, DisableStage, StageState, StageCatalog } from './stage.js';
export { buildDefinitions, emptyDefinitions, stageCatalogOf } from './definitions.js';
export type {
  Definitions,
  GateDefinition,
  StageDefinition,
  BuildDefinitionsOptions,
} from './definitions.js';
export { evaluateUnit, evaluateGate, countedReceipts } from './evaluation.js';
export type {
  EvaluatedReceipt,
  GateEvaluation,
  StageEvaluation,
  UnitEvaluation,
} from './evaluation.js';
export {
  unitDecider,
  decideUnit,
  evolveUnit,
  initialUnitState,
  evaluateUnitState,
  countedIn,
} from './unit.js';
export { receiptData, checkCustomSection } from './receiptData.js';
export type {
  UnitCommand,
  RecordReceipt,
  RevokeReceipt,
  EvaluateUnit,
  UnitState,
  UnitReceipt,
} from './unit.js';
export type {
  ReceiptInput,
  ReceiptOrigin,
  ArtifactRef,
  EvidenceRef,
  DigestSet,
} from './receiptInput.js';
export { attestationIssued } from './attestation.js';
export { unitExported } from './unitExport.js';
