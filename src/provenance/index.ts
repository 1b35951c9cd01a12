// The provenance module's public surface: hand-picked, types exported as types
// (STYLE.md §17). Statements are built here, pure; signing and storing are
// separate steps (DESIGN.md §6).
export { STATEMENT_TYPE, STATEMENT_PAYLOAD_TYPE, KNOWN_PREDICATE_TYPES } from './statement.js';
export {
  StatementSchema,
  SlsaProvenanceStatementSchema,
  VsaStatementSchema,
  TestResultStatementSchema,
  parseStatement,
  serializeStatement,
} from './statement.js';
export type {
  Statement,
  KnownStatement,
  SlsaProvenanceStatement,
  VsaStatement,
  TestResultStatement,
} from './statement.js';
export {
  ResourceDescriptorSchema,
  DigestedResourceDescriptorSchema,
  DigestSetSchema,
  TimestampSchema,
  UriSchema,
  DIGEST_HEX_LENGTHS,
  isRfc3339,
  isUri,
} from './resourceDescriptor.js';
export type {
  ResourceDescriptor,
  DigestedResourceDescriptor,
  DigestSet,
} from './resourceDescriptor.js';
export { SLSA_PROVENANCE_PREDICATE_TYPE, SlsaProvenanceSchema } from './slsaProvenance.js';
export type {
  SlsaProvenance,
  BuildDefinition,
  RunDetails,
  Builder,
  BuildMetadata,
} from './slsaProvenance.js';
export { SLSA_VSA_PREDICATE_TYPE, VsaSchema } from './vsa.js';
export type { Vsa, VerificationResult } from './vsa.js';
export { TEST_RESULT_PREDICATE_TYPE, TestResultSchema } from './testResult.js';
export type { TestResult, TestResultOutcome } from './testResult.js';
export {
  receiptDigest,
  unitSubjects,
  unitUri,
  receiptUri,
  isInputAction,
  isTestAction,
} from './chain.js';
export type { UnitReceiptChain, ChainReceipt, ReceiptRevocation } from './chain.js';
export { buildProvenance, RECEIPT_CHAIN_BUILD_TYPE } from './builders.js';
export type { ProvenanceOptions, SourceRef } from './builders.js';
export {
  buildVsa,
  definitionDigest,
  stagePolicyDigest,
  stageLevel,
  STAGE_POLICY_URI_PREFIX,
} from './vsaBuilder.js';
export type { VsaInput, VsaGate } from './vsaBuilder.js';
export { buildTestResult } from './testResultBuilder.js';
export type { TestResultOptions } from './testResultBuilder.js';
export { ProvenanceError, isProvenanceError, PROVENANCE_ERROR_CODES } from './errors.js';
export type { ProvenanceErrorCode, ProvenanceIssue } from './errors.js';
