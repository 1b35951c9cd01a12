// Every read model the runner maintains (DESIGN.md §5), one file each: its
// tables and a pure handler. Adding one here is all it takes to project it.
import type { ProjectionDefinition } from '../src/readModels/index.js';
import { attestationIndex } from './attestationIndex.js';
import { gateStatus } from './gateStatus.js';
import { pipelineEvents } from './pipelineEvents.js';
import { receiptsLedger } from './receiptsLedger.js';
import { stageStatus } from './stageStatus.js';
import { unitSummary } from './unitSummary.js';

export const projections: readonly ProjectionDefinition[] = [
  receiptsLedger,
  gateStatus,
  stageStatus,
  unitSummary,
  pipelineEvents,
  attestationIndex,
];

export { attestationIndex, gateStatus, pipelineEvents, receiptsLedger, stageStatus, unitSummary };
export { receipts, type ReceiptRow } from './receiptsLedger.js';
export { gateStatusTable, type GateStatusRow } from './gateStatus.js';
export { stageStatusTable, type StageStatusRow } from './stageStatus.js';
export {
  artifactView,
  unitArtifactsTable,
  unitSummaryTable,
  type UnitArtifact,
  type UnitArtifactRow,
  type UnitSummaryRow,
} from './unitSummary.js';
export { pipelineEventsTable, type PipelineEventRow } from './pipelineEvents.js';
export {
  attestationSubjectsTable,
  digestKey,
  type AttestationSubjectRow,
} from './attestationIndex.js';
