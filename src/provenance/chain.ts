// The input of the statement builders: a unit's receipt chain as the store holds
// it (its ReceiptRecorded events, in log order, with revocations folded in), and
// the few readings of it that more than one builder needs. Pure: hashing is
// deterministic, and nothing here reads a clock or the store.
import { createHash } from 'node:crypto';
import type { ReceiptRecordedData } from '../domain/events.js';
import type { ArtifactRef } from '../domain/receiptInput.js';
import { canonicalize } from '../encoding/canonicalJson.js';
import { ProvenanceError, invalidInput } from './errors.js';
import type { DigestedResourceDescriptor } from './resourceDescriptor.js';
import { DigestedResourceDescriptorSchema, isUri } from './resourceDescriptor.js';
import { schemaError } from './statement.js';

/** Why and by whom a receipt was revoked (from its `ReceiptRevoked.v1` event). */
export interface ReceiptRevocation {
  reason: string;
  revokedBy?: string;
  /** Id of the `ReceiptRevoked.v1` event. */
  eventId?: string;
  recordedAt?: string;
}

/** One `ReceiptRecorded.v1` event of the chain. */
export interface ChainReceipt {
  /** Id of the event in the log. */
  eventId: string;
  /** Global log position, a non-negative integer in decimal (a bigint in the store). */
  position: string;
  /** When the store recorded it (RFC 3339). */
  recordedAt: string;
  data: ReceiptRecordedData;
  /** Set when a later `ReceiptRevoked.v1` revoked it. */
  revoked?: ReceiptRevocation;
  /**
   * `receiptDigest(data)`. When given, builders check it and refuse a receipt
   * whose data does not match (PROVENANCE_BAD_DIGEST); when absent, they compute it.
   */
  digest?: string;
}

/** A unit's receipt chain: every receipt recorded for it, revoked ones included. */
export interface UnitReceiptChain {
  /** Unit key: an NVRPP `name/version/release/platform/packageType`, or a canonical purl. */
  unit: string;
  receipts: readonly ChainReceipt[];
}

/** Hex SHA-256 of the receipt data's RFC 8785 canonical JSON: how statements name a receipt. */
export const receiptDigest = (data: ReceiptRecordedData): string =>
  createHash('sha256').update(canonicalize(data), 'utf8').digest('hex');

/** A chain receipt with its digest checked and its position parsed. */
export interface CheckedReceipt extends ChainReceipt {
  digest: string;
  order: bigint;
}

const POSITION_RE = /^(?:0|[1-9][0-9]*)$/;

/**
 * The chain's receipts in log order, each with its digest checked or computed.
 * Refuses a receipt of another unit, a malformed position, a repeated receipt id
 * (PROVENANCE_INVALID_INPUT) and a digest that does not match (PROVENANCE_BAD_DIGEST).
 */
export function checkedReceipts(chain: UnitReceiptChain): CheckedReceipt[] {
  const seen = new Set<string>();
  const checked = chain.receipts.map((receipt): CheckedReceipt => {
    const id = receipt.data.receiptId;
    if (receipt.data.unit !== chain.unit)
      throw new ProvenanceError(
        'PROVENANCE_INVALID_INPUT',
        `Receipt ${id} is for unit '${receipt.data.unit}', not '${chain.unit}'`,
      );
    if (!POSITION_RE.test(receipt.position))
      throw new ProvenanceError(
        'PROVENANCE_INVALID_INPUT',
        `Receipt ${id} has position '${receipt.position}'; expected a non-negative decimal integer`,
      );
    if (seen.has(id))
      throw new ProvenanceError('PROVENANCE_INVALID_INPUT', `Receipt ${id} appears twice`);
    seen.add(id);
    const digest = receiptDigest(receipt.data);
    if (receipt.digest !== undefined && receipt.digest !== digest)
      throw new ProvenanceError(
        'PROVENANCE_BAD_DIGEST',
        `Receipt ${id}: digest ${receipt.digest} does not match its data (${digest})`,
      );
    return { ...receipt, digest, order: BigInt(receipt.position) };
  });
  return checked.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
}

/**
 * Actions whose receipts describe inputs of the build rather than its outputs:
 * `source`, `checkout`, and any action named `input:<what>` (e.g.
 * `input:base-image`). Their artifacts are resolved dependencies, not subjects.
 */
export const isInputAction = (action: string): boolean =>
  action === 'source' || action === 'checkout' || action.startsWith('input:');

/** Test actions: those whose name contains `test` (`unit-test`, `integration-test`, `test`). */
export const isTestAction = (action: string): boolean => action.includes('test');

/**
 * A receipt's artifact or evidence reference as a ResourceDescriptor, checked:
 * receipts are validated at ingest, but against their own schema, which is not
 * the in-toto field rules (e.g. `sha1` of any length there). A reference that
 * breaks them is the input's fault (PROVENANCE_BAD_DIGEST or
 * PROVENANCE_INVALID_INPUT, naming the receipt), not a builder fault.
 */
export function referenceDescriptor(
  ref: { name?: string; uri?: string; digest: Record<string, string>; mediaType?: string },
  receiptId: string,
  nameFromUri: boolean,
): DigestedResourceDescriptor {
  const name = ref.name ?? (nameFromUri ? ref.uri : undefined);
  const descriptor = {
    ...(name === undefined ? {} : { name }),
    ...(ref.uri === undefined ? {} : { uri: ref.uri }),
    digest: { ...ref.digest },
    ...(ref.mediaType === undefined ? {} : { mediaType: ref.mediaType }),
  };
  const checked = DigestedResourceDescriptorSchema.safeParse(descriptor);
  if (checked.success) return checked.data;
  throw schemaError(
    'PROVENANCE_INVALID_INPUT',
    `Receipt ${receiptId} refers to a resource in-toto cannot describe`,
    checked.error,
  );
}

/** The descriptor of an artifact: name from its name or else its uri. */
export const artifactDescriptor = (
  artifact: ArtifactRef,
  receiptId: string,
): DigestedResourceDescriptor => referenceDescriptor(artifact, receiptId, true);

/** The key two artifacts are the same by: their sha256, or else their whole digest set. */
const artifactKey = (artifact: ArtifactRef): string =>
  artifact.digest['sha256'] !== undefined
    ? `sha256:${artifact.digest['sha256']}`
    : canonicalize(artifact.digest);

/** Artifacts of `receipts` in log order, the first of each digest kept. */
export function distinctArtifacts(
  receipts: readonly CheckedReceipt[],
): DigestedResourceDescriptor[] {
  const byKey = new Map<string, DigestedResourceDescriptor>();
  for (const receipt of receipts)
    for (const artifact of receipt.data.artifacts ?? []) {
      const key = artifactKey(artifact);
      if (!byKey.has(key)) byKey.set(key, artifactDescriptor(artifact, receipt.data.receiptId));
    }
  return [...byKey.values()];
}

/**
 * The unit's artifacts, the subjects of its statements: those of its
 * non-revoked receipts, except receipts of input actions, deduplicated by
 * digest, in log order. Throws PROVENANCE_NO_SUBJECT when there are none.
 */
export function unitSubjects(chain: UnitReceiptChain): DigestedResourceDescriptor[] {
  const outputs = checkedReceipts(chain).filter(
    (r) => r.revoked === undefined && !isInputAction(r.data.action),
  );
  const subjects = distinctArtifacts(outputs);
  // An OCI image unit is named by its digest (issue 18): with no artifact in its
  // receipts, the image itself is the subject.
  if (subjects.length === 0) {
    const image = ociImageSubject(chain.unit);
    if (image !== undefined) return [image];
  }
  if (subjects.length === 0)
    throw new ProvenanceError(
      'PROVENANCE_NO_SUBJECT',
      `Unit '${chain.unit}' has no artifacts in its non-revoked receipts`,
    );
  return subjects;
}

// A unit key's characters that RFC 3986 does not allow in a URI path (`^`, from RPM versions).
const NOT_IN_URI_PATH = /[^A-Za-z0-9\-._~:/@!$&'()*+,;=]/g;

/** `provenant:unit:<unit key>`, with any character a URI cannot hold percent-encoded. */
export const unitUri = (unit: string): string =>
  `provenant:unit:${unit.replace(NOT_IN_URI_PATH, (c) => encodeURIComponent(c))}`;

/** `provenant:receipt:<receipt id>`. */
export const receiptUri = (receiptId: string): string =>
  `provenant:receipt:${receiptId.replace(NOT_IN_URI_PATH, (c) => encodeURIComponent(c))}`;

/** Checks that an option the caller gave is a URI (PROVENANCE_INVALID_INPUT otherwise). */
export function requireUri(what: string, value: string | undefined): void {
  if (value !== undefined && !isUri(value))
    throw invalidInput(`${what} '${value}' is not an RFC 3986 URI with a scheme`);
}

/** The subject an OCI image unit names by its digest (`pkg:oci/name@sha256:…`), if it is one. */
export function ociImageSubject(unit: string): DigestedResourceDescriptor | undefined {
  const match = /^pkg:oci\/([^@?#]+)@sha256:([a-f0-9]{64})(?:[?#]|$)/.exec(unit);
  if (match === null) return undefined;
  return {
    name: decodeURIComponent(match[1] ?? ''),
    uri: unit,
    digest: { sha256: match[2] ?? '' },
  };
}
