// The SLSA VSA v1 of a stage verdict: the store, as verifier, says that a unit
// passed (or failed) a stage under exact versions of the stage and its gates, on
// the strength of the receipts it counted. Pure: the time comes from the verdict.
// Conventions (levels, policy URI and digest): docs/provenance.md.
import { createHash } from 'node:crypto';
import type { GateDefinedData, StageDefinedData } from '../domain/events.js';
import { canonicalize } from '../encoding/canonicalJson.js';
import { receiptUri, requireUri, unitUri } from './chain.js';
import { ProvenanceError, invalidInput } from './errors.js';
import type { DigestedResourceDescriptor } from './resourceDescriptor.js';
import { digestProblem, isRfc3339 } from './resourceDescriptor.js';
import type { VsaStatement } from './statement.js';
import { STATEMENT_TYPE, VsaStatementSchema, checkBuilt } from './statement.js';
import { SLSA_VSA_PREDICATE_TYPE } from './vsa.js';

/** Prefix of the policy URI of a stage's VSA: `<prefix><stageId>/v<version>`. */
export const STAGE_POLICY_URI_PREFIX = 'https://provenant.dev/policies/stage/';

/** A gate as the stage verdict counted it. */
export interface VsaGate {
  gateId: string;
  gateVersion: number;
  /** Hex SHA-256 of the gate definition's canonical JSON. */
  definitionDigest: string;
}

/** What a stage verdict says, for its VSA. */
export interface VsaInput {
  unit: string;
  stageId: string;
  stageVersion: number;
  passed: boolean;
  /** The stage's gates, in stage order. */
  gates: readonly VsaGate[];
  /** Hex SHA-256 of the stage definition's canonical JSON. */
  stageDefinitionDigest: string;
  /** The receipts the verdict counted, with their canonical digests (receiptDigest). */
  receipts: readonly { receiptId: string; digest: string }[];
  /** When the verdict was reached (RFC 3339): the verdict event's time, not the clock. */
  timeVerified: string;
  /** TypeURI of the verifier. */
  verifierId: string;
  verifierVersion?: Record<string, string>;
  /** Defaults to `provenant:unit:<unit>`. */
  resourceUri?: string;
  /** The unit's artifacts (unitSubjects). */
  subjects: readonly DigestedResourceDescriptor[];
}

const checkSha256 = (what: string, value: string): void => {
  const problem = digestProblem('sha256', value);
  if (problem !== undefined)
    throw new ProvenanceError('PROVENANCE_BAD_DIGEST', `${what}: ${problem}`);
};

/**
 * The definition digest of a gate or stage version: hex SHA-256 of the RFC 8785
 * canonical JSON of its `GateDefined.v1` or `StageDefined.v1` event data (id and
 * version included), so that anyone holding the definition events recomputes it.
 */
export const definitionDigest = (definition: GateDefinedData | StageDefinedData): string =>
  createHash('sha256').update(canonicalize(definition), 'utf8').digest('hex');

/**
 * The policy digest of a stage verdict: hex SHA-256 of the canonical JSON of
 * `{ stage: { id, version, digest }, gates: [{ id, version, digest }…] }`, gates
 * in stage order. A new version of the stage or of any gate changes it.
 */
export function stagePolicyDigest(
  input: Pick<VsaInput, 'stageId' | 'stageVersion' | 'stageDefinitionDigest' | 'gates'>,
): string {
  checkSha256(`Stage ${input.stageId} definition digest`, input.stageDefinitionDigest);
  for (const gate of input.gates)
    checkSha256(`Gate ${gate.gateId} definition digest`, gate.definitionDigest);
  const policy = {
    stage: { id: input.stageId, version: input.stageVersion, digest: input.stageDefinitionDigest },
    gates: input.gates.map((g) => ({
      id: g.gateId,
      version: g.gateVersion,
      digest: g.definitionDigest,
    })),
  };
  return createHash('sha256').update(canonicalize(policy), 'utf8').digest('hex');
}

/** The level a passed stage verifies: `PROVENANT_STAGE_<STAGE ID>`, non-alphanumerics as `_`. */
export const stageLevel = (stageId: string): string =>
  `PROVENANT_STAGE_${stageId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/** A SLSA VSA v1 for a stage verdict on a unit (docs/provenance.md: levels and policy). */
export function buildVsa(input: VsaInput): VsaStatement {
  requireUri('verifierId', input.verifierId);
  requireUri('resourceUri', input.resourceUri);
  if (input.subjects.length === 0)
    throw new ProvenanceError('PROVENANCE_NO_SUBJECT', `No subjects for unit '${input.unit}'`);
  for (const receipt of input.receipts)
    checkSha256(`Receipt ${receipt.receiptId} digest`, receipt.digest);
  if (!isRfc3339(input.timeVerified))
    throw invalidInput(`timeVerified '${input.timeVerified}' is not an RFC 3339 time`);
  return checkBuilt(VsaStatementSchema, {
    _type: STATEMENT_TYPE,
    subject: input.subjects.map((s) => ({ ...s })),
    predicateType: SLSA_VSA_PREDICATE_TYPE,
    predicate: {
      verifier: {
        id: input.verifierId,
        ...(input.verifierVersion === undefined ? {} : { version: input.verifierVersion }),
      },
      timeVerified: input.timeVerified,
      resourceUri: input.resourceUri ?? unitUri(input.unit),
      policy: {
        uri: `${STAGE_POLICY_URI_PREFIX}${input.stageId}/v${input.stageVersion}`,
        digest: { sha256: stagePolicyDigest(input) },
      },
      inputAttestations: input.receipts.map((r) => ({
        uri: receiptUri(r.receiptId),
        digest: { sha256: r.digest },
      })),
      verificationResult: input.passed ? 'PASSED' : 'FAILED',
      verifiedLevels: input.passed ? [stageLevel(input.stageId)] : [],
    },
  });
}
