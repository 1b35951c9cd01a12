// An export as the evidence `provenant verify --export DIR` checks an
// attestation against, offline (docs/transparency.md, "In attestations"): the
// export verified as verify-export does; its receipts (present, unrevoked,
// digests) in place of a store's; its signed checkpoint and inclusion proofs as
// the Merkle log; and a unit's latest VSA for a stage, for the release gate.
import {
  EventTypes,
  type AttestationIssuedData,
  type ReceiptRecordedData,
  type ReceiptRevokedData,
} from '../../domain/events.js';
import type { RecordedEvent } from '../../eventStore/types.js';
import { receiptDigest } from '../../provenance/index.js';
import type { LogSource, ReceiptEvidence, VerificationStore } from '../attestations/index.js';
import { EVENTS_FILE, parseEventLine } from './format.js';
import { CHECKPOINT_FILE, LOG_KEY_FILE, exportedProofs } from './inclusion.js';
import { readExport, verifyExportFiles, type VerifyExportResult } from './verifyExport.js';

export interface ExportEvidence {
  /** The export's own verification, as `verify-export` reports it. */
  verified: VerifyExportResult;
  /** Its receipts, as a store's evidence (no stage policy: "current" is not known offline). */
  store: VerificationStore;
  /** Its signed checkpoint and proofs. */
  log: LogSource;
  /** The unit's latest VSA for a stage, with its bundle unless it was too large to record. */
  latestVsa(stageId: string): { attestationId: string; bundle?: unknown } | undefined;
}

/** Reads and verifies the export at `path`; EXPORT_UNREADABLE when it cannot be read. */
export async function exportEvidence(path: string): Promise<ExportEvidence> {
  const { form, contents } = await readExport(path);
  const verified = verifyExportFiles(path, form, contents);
  const { files } = contents;
  const events = (files.get(EVENTS_FILE)?.toString('utf8') ?? '')
    .split('\n')
    .map(parseEventLine)
    .filter((e): e is RecordedEvent => typeof e !== 'string');
  const receipts = new Map<string, RecordedEvent>();
  const revocations = new Map<string, RecordedEvent>();
  const byId = new Map(events.map((e) => [e.id, e]));
  for (const event of events)
    if (event.type === EventTypes.ReceiptRecorded)
      receipts.set((event.data as ReceiptRecordedData).receiptId, event);
    else if (event.type === EventTypes.ReceiptRevoked)
      revocations.set((event.data as ReceiptRevokedData).receiptId, event);
  const proofs = exportedProofs(files);
  const proofOfLeaf = new Map([...proofs.values()].map((p) => [p.leafIndex, p]));

  const store: VerificationStore = {
    receiptEvidence(receiptId) {
      const recorded = receipts.get(receiptId);
      if (recorded === undefined) return Promise.resolve(undefined);
      const data = recorded.data as ReceiptRecordedData;
      const revocation = revocations.get(receiptId);
      const revoked = revocation?.data as ReceiptRevokedData | undefined;
      const evidence: ReceiptEvidence = {
        receiptId,
        unit: data.unit,
        eventId: recorded.id,
        position: recorded.position.toString(),
        digest: receiptDigest(data),
        ...(revocation === undefined || revoked === undefined
          ? {}
          : {
              revoked: {
                reason: revoked.reason,
                ...(revoked.revokedBy === undefined ? {} : { revokedBy: revoked.revokedBy }),
                eventId: revocation.id,
              },
            }),
      };
      return Promise.resolve(evidence);
    },
  };

  const log: LogSource = {
    name: 'the export',
    anchor({ receiptIds }) {
      const note = files.get(CHECKPOINT_FILE);
      if (note === undefined) return Promise.resolve('the export carries no signed checkpoint');
      const leaves = new Map<string, number>();
      for (const receiptId of receiptIds) {
        const event = receipts.get(receiptId);
        const proof = event === undefined ? undefined : proofs.get(event.id);
        if (proof !== undefined) leaves.set(receiptId, proof.leafIndex);
      }
      return Promise.resolve({ checkpoint: note.toString('utf8'), leaves });
    },
    verifierKey: () => Promise.resolve(files.get(LOG_KEY_FILE)?.toString('utf8')),
    inclusion(leafIndex, treeSize) {
      const proof = proofOfLeaf.get(leafIndex);
      const event = proof === undefined ? undefined : byId.get(proof.eventId);
      return Promise.resolve(
        proof === undefined || event === undefined
          ? `the export has no proof and event of leaf ${leafIndex}`
          : proof.treeSize !== treeSize || !Array.isArray(proof.proof)
            ? `its proof is not for the checkpoint's size ${treeSize}`
            : { proof: proof.proof, event },
      );
    },
  };

  return {
    verified,
    store,
    log,
    latestVsa(stageId) {
      const vsa = events
        .map((e) =>
          e.type === EventTypes.AttestationIssued ? (e.data as AttestationIssuedData) : undefined,
        )
        .findLast((a) => a?.kind === 'vsa' && a.stage?.stageId === stageId);
      return vsa === undefined
        ? undefined
        : {
            attestationId: vsa.attestationId,
            ...(vsa.bundle === undefined ? {} : { bundle: vsa.bundle }),
          };
    },
  };
}
