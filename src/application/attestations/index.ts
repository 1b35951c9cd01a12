// Attestations (issue 14): issuing, reading, verifying, and the attestor.
export { createAttestationService } from './service.js';
export type { AttestationService } from './service.js';
export { startAttestor, ATTESTOR_CHECKPOINT_STREAM, ATTESTOR_CHECKPOINT_TYPE } from './attestor.js';
export type { Attestor, AttestorLogger, AttestorOptions } from './attestor.js';
export { DEFAULT_BUILDER_ID, DEFAULT_VERIFIER_ID } from './types.js';
export type {
  AttestationServiceDeps,
  AttestationSigning,
  AttestationSummary,
  IssueAttestationOptions,
  IssueAttestationRequest,
  IssuedAttestation,
  StoredAttestation,
} from './types.js';
export type { StagePolicy } from './definitionDigests.js';
export type { ReceiptEvidence } from './queries.js';
export { verifyAttestation, KIND_PREDICATE_TYPES } from './verifyAttestation.js';
export { artifactSha256 } from './statementFacts.js';
export type {
  VerificationCheck,
  VerificationReport,
  VerificationResult,
  VerificationStore,
  VerifyAttestationInput,
  VerifyExpectations,
} from './verifyAttestation.js';
export { checkLogInclusions } from './logChecks.js';
export type { AttestationRef, LogAnchor, LogSource, LogVerification } from './logChecks.js';
