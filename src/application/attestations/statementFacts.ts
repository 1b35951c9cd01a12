// What an attestation's signed statement says, read for its verification
// (verifyAttestation.ts): the receipts it relies on, the stage policy a VSA
// names, the unit it is about; and an artifact's SHA-256 as the caller gives it.
import { createHash } from 'node:crypto';
import { ProvenantError } from '../../errors.js';
import {
  SLSA_PROVENANCE_PREDICATE_TYPE,
  SLSA_VSA_PREDICATE_TYPE,
  STAGE_POLICY_URI_PREFIX,
  unitUri,
  type KnownStatement,
} from '../../provenance/index.js';

const SHA256_ARG = /^sha256:([0-9a-fA-F]*)$/;

/**
 * The artifact's SHA-256: of its bytes, or from `sha256:<hex>`; throws
 * VERIFY_BAD_ARTIFACT_DIGEST for a digest that is not 64 hex characters.
 */
export function artifactSha256(artifact: Buffer | string): string {
  if (Buffer.isBuffer(artifact)) return createHash('sha256').update(artifact).digest('hex');
  const match = SHA256_ARG.exec(artifact.trim());
  if (match?.[1]?.length !== 64)
    throw new ProvenantError(
      'VERIFY_BAD_ARTIFACT_DIGEST',
      `Artifact digest '${artifact}' is not sha256: followed by 64 hex characters` +
        (match?.[1] === undefined ? '' : ` (it has ${match[1].length})`),
    );
  return match[1].toLowerCase();
}

const RECEIPT_URI = 'provenant:receipt:';

/** The receipts an attestation relies on: `{ id, digest }` from its URIs and digests. */
export function reliedOnReceipts(
  statement: KnownStatement,
): { receiptId: string; digest?: string }[] {
  const descriptors =
    statement.predicateType === SLSA_VSA_PREDICATE_TYPE
      ? (statement.predicate.inputAttestations ?? [])
      : statement.predicateType === SLSA_PROVENANCE_PREDICATE_TYPE
        ? // A byproduct annotated as revoked was revoked before issuance: not relied on.
          (statement.predicate.runDetails.byproducts ?? []).filter(
            (b) => (b.annotations as { revoked?: unknown } | undefined)?.revoked === undefined,
          )
        : [];
  return descriptors.flatMap((d) =>
    typeof d.uri === 'string' && d.uri.startsWith(RECEIPT_URI)
      ? [
          {
            receiptId: decodeURIComponent(d.uri.slice(RECEIPT_URI.length)),
            ...(d.digest?.['sha256'] === undefined ? {} : { digest: d.digest['sha256'] }),
          },
        ]
      : [],
  );
}

/** The stage and version a VSA's policy URI names, if it is one of ours. */
export function policyStage(
  uri: string | undefined,
): { stageId: string; version: number } | undefined {
  if (uri === undefined || !uri.startsWith(STAGE_POLICY_URI_PREFIX)) return undefined;
  const match = /^(.+)\/v([1-9][0-9]*)$/.exec(uri.slice(STAGE_POLICY_URI_PREFIX.length));
  return match?.[1] === undefined || match[2] === undefined
    ? undefined
    : { stageId: match[1], version: Number(match[2]) };
}

/** The unit a statement is about, when it says (a VSA's resourceUri, a provenance's unit parameter). */
export function statementUnit(statement: KnownStatement): string | undefined {
  if (statement.predicateType === SLSA_VSA_PREDICATE_TYPE) {
    const prefix = unitUri('');
    const uri = statement.predicate.resourceUri;
    try {
      return uri.startsWith(prefix) ? decodeURIComponent(uri.slice(prefix.length)) : undefined;
    } catch {
      return undefined; // a malformed escape: no unit
    }
  }
  if (statement.predicateType === SLSA_PROVENANCE_PREDICATE_TYPE) {
    const unit = statement.predicate.buildDefinition.externalParameters['unit'];
    return typeof unit === 'string' ? unit : undefined;
  }
  return undefined;
}
