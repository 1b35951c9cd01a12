// The attestation service: issuing, reading and verifying attestations over one
// event store (DESIGN.md §6). Built beside the domain service by the composition
// root (or buildApp); it holds no state beyond the definitions cache.
import { newEventId } from '../../eventStore/ids.js';
import type { RecordedEvent } from '../../eventStore/types.js';
import { isProvenantError } from '../../errors.js';
import { createDefinitionsStore } from '../definitionsStore.js';
import type { StagePolicy } from './definitionDigests.js';
import { issueAttestation, issueStagePassedVsa, type IssuerConfig } from './issueAttestation.js';
import { ownLogVerification } from './ownLog.js';
import {
  getAttestation,
  getAttestationBundle,
  listAttestations,
  receiptEvidence,
  stagePolicy,
  type ReceiptEvidence,
} from './queries.js';
import {
  DEFAULT_BUILDER_ID,
  DEFAULT_VERIFIER_ID,
  type AttestationServiceDeps,
  type AttestationSummary,
  type IssueAttestationOptions,
  type IssueAttestationRequest,
  type IssuedAttestation,
  type StoredAttestation,
} from './types.js';
import {
  verifyAttestation,
  type VerificationReport,
  type VerificationStore,
  type VerifyAttestationInput,
} from './verifyAttestation.js';

/** Default largest event: the configured event limit's default. */
const DEFAULT_MAX_EVENT_BYTES = 256 * 1024;

export interface AttestationService {
  /** Whether issuing is possible (a signer is configured). */
  readonly canIssue: boolean;
  readonly builderId: string;
  readonly verifierId: string;
  /** The signing key's public key (PEM), when signing with a local key. */
  readonly publicKeyPem: string | undefined;
  issueAttestation(
    unitKey: string,
    request: IssueAttestationRequest,
    options?: IssueAttestationOptions,
  ): Promise<IssuedAttestation>;
  /** The VSA of one StagePassed event, once (the attestor's use case). */
  issueStagePassedVsa(event: RecordedEvent): Promise<IssuedAttestation>;
  listAttestations(unitKey: string): Promise<AttestationSummary[]>;
  getAttestation(attestationId: string): Promise<StoredAttestation>;
  getAttestationBundle(attestationId: string): Promise<Record<string, unknown>>;
  /** The stage's current policy, computed as the VSA builder computes it. */
  currentStagePolicy(stageId: string): Promise<StagePolicy>;
  receiptEvidence(receiptId: string): Promise<ReceiptEvidence | undefined>;
  /**
   * Verification with this store as the source of policies and evidence, and its
   * own Merkle log (with its own note key) as that of the log checks; without a
   * Merkle log, those end in a note.
   */
  verify(input: VerifyAttestationInput): Promise<VerificationReport>;
}

export function createAttestationService(deps: AttestationServiceDeps): AttestationService {
  const store = deps.eventStore;
  const definitions = deps.definitions ?? createDefinitionsStore(store);
  const config: IssuerConfig = {
    store,
    signing: deps.signing,
    builderId: deps.builderId ?? DEFAULT_BUILDER_ID,
    verifierId: deps.verifierId ?? DEFAULT_VERIFIER_ID,
    version: deps.version,
    maxEventBytes: deps.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
    newAttestationId: deps.newAttestationId ?? newEventId,
    ...(deps.transparency === undefined ? {} : { transparency: deps.transparency }),
  };
  const policyOf = stagePolicy(definitions);
  const evidenceOf = receiptEvidence(store);
  const verificationStore: VerificationStore = {
    currentStagePolicy: async (stageId) => {
      try {
        return await policyOf(stageId);
      } catch (error) {
        if (isProvenantError(error) && error.code === 'DOMAIN_STAGE_NOT_FOUND') return undefined;
        throw error;
      }
    },
    receiptEvidence: evidenceOf,
  };
  return {
    canIssue: deps.signing !== undefined,
    builderId: config.builderId,
    verifierId: config.verifierId,
    publicKeyPem: deps.signing?.publicKeyPem,
    issueAttestation: issueAttestation(config),
    issueStagePassedVsa: issueStagePassedVsa(config),
    listAttestations: listAttestations(store),
    getAttestation: getAttestation(store),
    getAttestationBundle: getAttestationBundle(store),
    currentStagePolicy: policyOf,
    receiptEvidence: evidenceOf,
    verify: (input) =>
      verifyAttestation(input, verificationStore, ownLogVerification(store, deps.transparency)),
  };
}
