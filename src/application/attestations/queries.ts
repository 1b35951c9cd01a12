// Reading attestations back: a unit's list (from its stream), one by id (by its
// lookup key, so the cost does not grow with the log), and what verification
// asks of the store: a stage's current policy and a receipt's evidence.
import { unitStream } from '../unitStreams.js';
import {
  EventTypes,
  type AttestationIssuedData,
  type ReceiptRecordedData,
  type ReceiptRevokedData,
} from '../../domain/events.js';
import { normalizeUnitKey } from '../../domain/unitKey.js';
import { ProvenantError } from '../../errors.js';
import type { EventStore, RecordedEvent } from '../../eventStore/types.js';
import { receiptDigest } from '../../provenance/index.js';
import { receiptLookupKey } from '../context.js';
import type { DefinitionsStore } from '../definitionsStore.js';
import { currentStagePolicy, type StagePolicy } from './definitionDigests.js';
import { attestationLookupKey } from './issueAttestation.js';
import type { AttestationSummary, StoredAttestation } from './types.js';

const ATTESTATION_ID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

function summaryOf(event: RecordedEvent): StoredAttestation {
  const { bundle, ...data } = event.data as AttestationIssuedData;
  return {
    ...data,
    bundleRetained: bundle !== undefined,
    eventId: event.id,
    position: event.position.toString(),
    recordedAt: event.recordedAt,
    ...(bundle === undefined ? {} : { bundle }),
  };
}

/** Every attestation issued for a unit, oldest first. DOMAIN_UNIT_NOT_FOUND for an unknown unit. */
export const listAttestations =
  (store: EventStore) =>
  async (unitKey: string): Promise<AttestationSummary[]> => {
    const unit = normalizeUnitKey(unitKey);
    const { events, currentRevision } = await store.readStream(unitStream(unit));
    if (currentRevision === 'no_stream')
      throw new ProvenantError('DOMAIN_UNIT_NOT_FOUND', `Unit '${unit}' has no receipts`, {
        details: { unit },
      });
    return events
      .filter((e) => e.type === EventTypes.AttestationIssued)
      .map((e) => {
        const { bundle: _bundle, ...summary } = summaryOf(e);
        return summary;
      });
  };

const notFound = (id: string): ProvenantError =>
  new ProvenantError('ATTEST_NOT_FOUND', `Attestation '${id}' does not exist`, {
    details: { attestationId: id },
  });

/** One attestation by id, with its bundle when it was stored. ATTEST_NOT_FOUND otherwise. */
export const getAttestation =
  (store: EventStore) =>
  async (attestationId: string): Promise<StoredAttestation> => {
    if (!ATTESTATION_ID.test(attestationId)) throw notFound(attestationId);
    const location = await store.findByKey(attestationLookupKey(attestationId));
    if (location === undefined) throw notFound(attestationId);
    const { events } = await store.readStream(location.stream, {
      from: location.revision,
      maxCount: 1,
    });
    const event = events[0];
    if (event?.type !== EventTypes.AttestationIssued) throw notFound(attestationId);
    return summaryOf(event);
  };

/** The bundle of an attestation; ATTEST_BUNDLE_NOT_RETAINED when it was too large to store. */
export const getAttestationBundle =
  (store: EventStore) =>
  async (attestationId: string): Promise<Record<string, unknown>> => {
    const attestation = await getAttestation(store)(attestationId);
    if (attestation.bundle === undefined)
      throw new ProvenantError(
        'ATTEST_BUNDLE_NOT_RETAINED',
        `Attestation '${attestationId}' was issued with a bundle larger than the event limit; ` +
          `only its digest (${attestation.bundleDigest}) was stored`,
        { details: { attestationId, bundleDigest: attestation.bundleDigest } },
      );
    return attestation.bundle;
  };

/** A receipt as evidence: where it is, its canonical digest, and whether it was revoked. */
export interface ReceiptEvidence {
  receiptId: string;
  unit: string;
  eventId: string;
  position: string;
  digest: string;
  revoked?: { reason: string; revokedBy?: string; eventId: string };
}

/** A receipt's evidence, or undefined when the log has no such receipt. */
export const receiptEvidence =
  (store: EventStore) =>
  async (receiptId: string): Promise<ReceiptEvidence | undefined> => {
    const location = await store.findByKey(receiptLookupKey(receiptId));
    if (location === undefined) return undefined;
    const { events } = await store.readStream(location.stream, { from: location.revision });
    const [recorded, ...later] = events;
    if (recorded?.type !== EventTypes.ReceiptRecorded) return undefined;
    const data = recorded.data as ReceiptRecordedData;
    const revocation = later.find(
      (e) =>
        e.type === EventTypes.ReceiptRevoked &&
        (e.data as ReceiptRevokedData).receiptId === receiptId,
    );
    const revokedData = revocation?.data as ReceiptRevokedData | undefined;
    return {
      receiptId,
      unit: data.unit,
      eventId: recorded.id,
      position: recorded.position.toString(),
      digest: receiptDigest(data),
      ...(revocation === undefined || revokedData === undefined
        ? {}
        : {
            revoked: {
              reason: revokedData.reason,
              ...(revokedData.revokedBy === undefined ? {} : { revokedBy: revokedData.revokedBy }),
              eventId: revocation.id,
            },
          }),
    };
  };

/** The stage's policy under the current definitions (always checked against the log). */
export const stagePolicy =
  (definitions: DefinitionsStore) =>
  async (stageId: string): Promise<StagePolicy> =>
    currentStagePolicy(await definitions.load(), stageId);
