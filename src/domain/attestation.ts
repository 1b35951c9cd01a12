// An attestation issued for a unit (DESIGN.md §6): the `AttestationIssued.v1`
// event that records it in the unit's stream. Building and signing the statement
// happen outside the domain; this decides the event from their results, so that
// what is recorded is checked in one place.
import { ProvenantError } from '../errors.js';
import { EventTypes, type AttestationIssued, type AttestationIssuedData } from './events.js';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The event that records an issued attestation. Refuses data that would not
 * name what the attestation relies on: no subject, a digest that is not SHA-256
 * hex, a VSA without its stage verdict, a test result without its receipt.
 */
export function attestationIssued(data: AttestationIssuedData): AttestationIssued {
  const invalid = (message: string): ProvenantError =>
    new ProvenantError('DOMAIN_INVALID_COMMAND', `Attestation ${data.attestationId}: ${message}`);
  if (data.subjects.length === 0) throw invalid('it has no subject');
  for (const [what, digest] of [
    ['statement digest', data.statementDigest],
    ['bundle digest', data.bundleDigest],
    ...data.receipts.map((r) => [`digest of receipt ${r.receiptId}`, r.digest] as const),
  ] as const)
    if (!SHA256.test(digest)) throw invalid(`the ${what} is not SHA-256 hex`);
  if (data.kind === 'vsa' && data.stage === undefined) throw invalid('a VSA names its stage');
  if (data.kind === 'test-result' && data.receiptId === undefined)
    throw invalid('a test result names its receipt');
  return { type: EventTypes.AttestationIssued, data };
}
