// Verifying an attestation for release tooling (issue 14): the bundle's
// signature and signer (verifyBundle), the signed statement (parseStatement), what
// the caller expects of it (subject, predicate type, builder or verifier, for a
// VSA its result, unit and stage), and — when a store can be asked — that the VSA's
// policy is the stage's current one and that every receipt it relies on is in the
// log, unrevoked, with the digest attested. Every finding is a check with a code;
// the report says `valid` only when every check passed.
import { createHash } from 'node:crypto';
import type { AttestationKind } from '../../domain/events.js';
import { isProvenantError, type ErrorCode } from '../../errors.js';
import {
  SLSA_PROVENANCE_PREDICATE_TYPE,
  SLSA_VSA_PREDICATE_TYPE,
  STATEMENT_PAYLOAD_TYPE,
  TEST_RESULT_PREDICATE_TYPE,
  parseStatement,
  stageLevel,
  unitUri,
  type KnownStatement,
} from '../../provenance/index.js';
import {
  verifyBundle,
  type SignerPolicy,
  type TrustedRoot,
  type VerifiedSigner,
} from '../../provenance/verify/index.js';
import type { StagePolicy } from './definitionDigests.js';
import { artifactSha256, policyStage, reliedOnReceipts, statementUnit } from './statementFacts.js';
import { checkLogInclusions, type LogVerification } from './logChecks.js';
import type { ReceiptEvidence } from './queries.js';

/** The predicate type of each kind. */
export const KIND_PREDICATE_TYPES: Readonly<Record<AttestationKind, string>> = {
  provenance: SLSA_PROVENANCE_PREDICATE_TYPE,
  vsa: SLSA_VSA_PREDICATE_TYPE,
  'test-result': TEST_RESULT_PREDICATE_TYPE,
};

/** What the caller expects the attestation to say. */
export interface VerifyExpectations {
  kind?: AttestationKind;
  /** Unit key: the VSA's resourceUri, or the provenance's externalParameters.unit. */
  unit?: string;
  /** VSA: the stage it passed. */
  stageId?: string;
  builderId?: string;
  verifierId?: string;
}

/** What verification asks of a store; its failures make the report `could-not-check`. */
export interface VerificationStore {
  /**
   * The stage's current policy; undefined when the store does not know the stage.
   * Absent where "current" cannot be known (an export): the policy is not checked.
   */
  currentStagePolicy?(stageId: string): Promise<StagePolicy | undefined>;
  /** A receipt's evidence; undefined when the log does not hold it. */
  receiptEvidence(receiptId: string): Promise<ReceiptEvidence | undefined>;
}

export interface VerifyAttestationInput {
  /** The Sigstore bundle: JSON text, bytes, or parsed JSON. */
  bundle: unknown;
  policy: SignerPolicy;
  /** The artifact: its bytes, or `sha256:<hex>`. */
  artifact?: Buffer | string;
  expected?: VerifyExpectations;
  trustedRoot?: TrustedRoot;
}

export type CheckOutcome = 'passed' | 'failed' | 'could-not-check';

export interface VerificationCheck {
  name: string;
  ok: boolean;
  outcome: CheckOutcome;
  code?: ErrorCode;
  message: string;
}

export type VerificationResult = 'valid' | 'invalid' | 'could-not-check';

export interface VerificationReport {
  result: VerificationResult;
  checks: VerificationCheck[];
  /** What was not checked and why, and where trust came from (e.g. a log key taken from the store). */
  notes?: string[];
  signer?: VerifiedSigner;
  statement?: {
    predicateType: string;
    subjects: { name?: string; digest: Record<string, string> }[];
  };
}

const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * Verifies an attestation; `store` adds the policy and evidence checks, `log`
 * the Merkle log checks of its receipts (logChecks.ts). Never throws for a bad bundle.
 */
export async function verifyAttestation(
  input: VerifyAttestationInput,
  store?: VerificationStore,
  log?: LogVerification,
): Promise<VerificationReport> {
  const checks: VerificationCheck[] = [];
  const notes: string[] = [];
  const pass = (name: string, message: string): void => {
    checks.push({ name, ok: true, outcome: 'passed', message });
  };
  const fail = (name: string, code: ErrorCode, message: string): void => {
    checks.push({ name, ok: false, outcome: 'failed', code, message });
  };
  const unreachable = (name: string, error: unknown): void => {
    checks.push({
      name,
      ok: false,
      outcome: 'could-not-check',
      code: 'VERIFY_STORE_UNREACHABLE',
      message: `The store could not be asked: ${errorText(error)}`,
    });
  };
  const expected = input.expected ?? {};
  // A malformed digest is bad input, not a finding: it throws (VERIFY_BAD_ARTIFACT_DIGEST).
  const artifact = input.artifact === undefined ? undefined : artifactSha256(input.artifact);
  const report = (extra: Partial<VerificationReport> = {}): VerificationReport => ({
    result: checks.some((c) => c.outcome === 'failed')
      ? 'invalid'
      : checks.some((c) => c.outcome === 'could-not-check')
        ? 'could-not-check'
        : 'valid',
    checks,
    ...(notes.length === 0 ? {} : { notes }),
    ...extra,
  });

  // 1. Signature and signer.
  let verified;
  try {
    verified = verifyBundle(
      input.bundle,
      input.policy,
      undefined,
      input.trustedRoot === undefined ? {} : { trustedRoot: input.trustedRoot },
    );
  } catch (error) {
    if (!isProvenantError(error)) throw error;
    fail('signature', error.code, error.message);
    return report();
  }
  const signer = verified.signer;
  pass(
    'signature',
    signer.kind === 'key'
      ? `signed by key ${signer.keyId}`
      : `signed by ${signer.identity} (issuer ${signer.issuer})`,
  );

  // 2. The signed statement.
  if (verified.payloadType !== STATEMENT_PAYLOAD_TYPE || verified.payload === undefined) {
    fail(
      'statement',
      'VERIFY_NOT_IN_TOTO',
      `The signed payload is of type '${verified.payloadType ?? 'none (message signature)'}', not ${STATEMENT_PAYLOAD_TYPE}`,
    );
    return report({ signer });
  }
  let statement: KnownStatement;
  try {
    statement = parseStatement(JSON.parse(verified.payload.toString('utf8')) as unknown);
  } catch (error) {
    if (error instanceof SyntaxError) {
      fail('statement', 'PROVENANCE_NOT_A_STATEMENT', 'The signed payload is not JSON');
    } else if (isProvenantError(error)) {
      fail('statement', error.code, error.message);
    } else throw error;
    return report({ signer });
  }
  pass('statement', `in-toto Statement v1, predicateType ${statement.predicateType}`);
  const summary = {
    signer,
    statement: {
      predicateType: statement.predicateType,
      subjects: statement.subject.map((s) => ({
        ...(s.name === undefined ? {} : { name: s.name }),
        digest: { ...s.digest },
      })),
    },
  };

  // 3. Expectations.
  if (artifact !== undefined) {
    const found = statement.subject.find((s) => s.digest['sha256']?.toLowerCase() === artifact);
    if (found === undefined)
      fail('subject', 'VERIFY_SUBJECT_MISMATCH', `No subject has sha256 ${artifact}`);
    else pass('subject', `subject ${found.name ?? ''} has sha256 ${artifact}`.replace('  ', ' '));
  }
  if (expected.kind !== undefined) {
    const wanted = KIND_PREDICATE_TYPES[expected.kind];
    if (statement.predicateType === wanted) pass('predicate-type', `a ${expected.kind}`);
    else
      fail(
        'predicate-type',
        'VERIFY_PREDICATE_TYPE_MISMATCH',
        `Expected a ${expected.kind} (${wanted}), got ${statement.predicateType}`,
      );
  }
  if (statement.predicateType === SLSA_PROVENANCE_PREDICATE_TYPE) {
    const builder = statement.predicate.runDetails.builder.id;
    if (expected.builderId !== undefined) {
      if (builder === expected.builderId) pass('builder', `builder ${builder}`);
      else
        fail(
          'builder',
          'VERIFY_BUILDER_MISMATCH',
          `Builder is ${builder}, not ${expected.builderId}`,
        );
    }
    if (expected.unit !== undefined) {
      const unit = statement.predicate.buildDefinition.externalParameters['unit'];
      if (unit === expected.unit) pass('unit', `about unit ${expected.unit}`);
      else
        fail(
          'unit',
          'VERIFY_RESOURCE_MISMATCH',
          `The provenance is about unit ${JSON.stringify(unit)}, not ${expected.unit}`,
        );
    }
  }
  let stageOfPolicy: { stageId: string; version: number } | undefined;
  if (statement.predicateType === SLSA_VSA_PREDICATE_TYPE) {
    const vsa = statement.predicate;
    if (expected.verifierId !== undefined) {
      if (vsa.verifier.id === expected.verifierId) pass('verifier', `verifier ${vsa.verifier.id}`);
      else
        fail(
          'verifier',
          'VERIFY_VERIFIER_MISMATCH',
          `Verifier is ${vsa.verifier.id}, not ${expected.verifierId}`,
        );
    }
    if (vsa.verificationResult === 'PASSED') pass('result', 'verificationResult PASSED');
    else fail('result', 'VERIFY_VSA_NOT_PASSED', `verificationResult is ${vsa.verificationResult}`);
    if (expected.unit !== undefined) {
      const uri = unitUri(expected.unit);
      if (vsa.resourceUri === uri) pass('unit', `resourceUri ${uri}`);
      else
        fail('unit', 'VERIFY_RESOURCE_MISMATCH', `resourceUri is ${vsa.resourceUri}, not ${uri}`);
    }
    stageOfPolicy = policyStage(vsa.policy.uri);
    if (expected.stageId !== undefined) {
      const level = stageLevel(expected.stageId);
      if (stageOfPolicy?.stageId === expected.stageId && vsa.verifiedLevels.includes(level))
        pass('stage', `stage ${expected.stageId} v${stageOfPolicy.version}, level ${level}`);
      else
        fail(
          'stage',
          'VERIFY_STAGE_MISMATCH',
          `The VSA is about ${stageOfPolicy === undefined ? `policy ${vsa.policy.uri ?? '(none)'}` : `stage ${stageOfPolicy.stageId}`} ` +
            `with levels [${vsa.verifiedLevels.join(', ')}], not stage ${expected.stageId} (${level})`,
        );
    }
  }

  // 4. Against the store: the current policy, and the evidence.
  if (store !== undefined) {
    if (
      statement.predicateType === SLSA_VSA_PREDICATE_TYPE &&
      stageOfPolicy !== undefined &&
      store.currentStagePolicy !== undefined
    ) {
      const attested = statement.predicate.policy.digest?.['sha256'];
      try {
        const current = await store.currentStagePolicy(stageOfPolicy.stageId);
        if (current === undefined)
          fail(
            'policy',
            'VERIFY_POLICY_MISMATCH',
            `The store does not know stage ${stageOfPolicy.stageId}`,
          );
        else if (!current.enabled)
          fail('policy', 'VERIFY_POLICY_MISMATCH', `Stage ${current.stageId} is disabled`);
        else if (current.digest !== attested || current.uri !== statement.predicate.policy.uri)
          fail(
            'policy',
            'VERIFY_POLICY_MISMATCH',
            `The VSA's policy (${statement.predicate.policy.uri ?? '?'}, sha256 ${attested ?? '?'}) is not ` +
              `the stage's current one (${current.uri}, sha256 ${current.digest}): a definition changed since`,
          );
        else pass('policy', `the current policy of stage ${current.stageId} (${current.uri})`);
      } catch (error) {
        unreachable('policy', error);
      }
    }
    const relied = reliedOnReceipts(statement);
    const problems: { code: ErrorCode; message: string }[] = [];
    let couldNotAsk: unknown;
    for (const receipt of relied) {
      let evidence: ReceiptEvidence | undefined;
      try {
        evidence = await store.receiptEvidence(receipt.receiptId);
      } catch (error) {
        couldNotAsk = error;
        break;
      }
      if (evidence === undefined)
        problems.push({
          code: 'VERIFY_EVIDENCE_MISSING',
          message: `receipt ${receipt.receiptId} is not in the log`,
        });
      else if (evidence.revoked !== undefined)
        problems.push({
          code: 'VERIFY_EVIDENCE_REVOKED',
          message: `receipt ${receipt.receiptId} was revoked: ${evidence.revoked.reason}`,
        });
      else if (receipt.digest !== undefined && evidence.digest !== receipt.digest)
        problems.push({
          code: 'VERIFY_EVIDENCE_DIGEST_MISMATCH',
          message: `receipt ${receipt.receiptId} has digest ${evidence.digest}, the attestation says ${receipt.digest}`,
        });
    }
    if (couldNotAsk !== undefined) unreachable('evidence', couldNotAsk);
    else if (problems.length > 0) {
      const first = problems[0] as { code: ErrorCode; message: string };
      fail('evidence', first.code, problems.map((p) => p.message).join('; '));
    } else if (relied.length > 0)
      pass('evidence', `${relied.length} receipt(s) in the log, unrevoked, digests matching`);
  }

  // 5. The receipts in the Merkle log, under a signed checkpoint.
  if (log !== undefined) {
    const unit = expected.unit ?? statementUnit(statement);
    await checkLogInclusions(
      log,
      {
        ...(unit === undefined ? {} : { unit }),
        statementDigest: createHash('sha256').update(verified.payload).digest('hex'),
      },
      reliedOnReceipts(statement),
      {
        pass,
        fail,
        couldNotCheck: (name, code, message) =>
          checks.push({ name, ok: false, outcome: 'could-not-check', code, message }),
        note: (message) => notes.push(message),
      },
    );
  }
  return report(summary);
}
