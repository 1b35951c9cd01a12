// An export as the evidence `provenant verify --export DIR` checks an
// attestation against, offline (docs/transparency.md, "In attestations"): the
// export verified as verify-export does; its receipts (present, unrevoked,
// digests) in place of a store's; as the Merkle log, the checkpoint the
// attestation recorded (its AttestationIssued event), the exported inclusion
// proofs under it, and the export's own signed checkpoint with the exported
// consistency proof to it as the latest; and a unit's latest VSA for a stage,
// for the release gate.
import {
  EventTypes,
  type AttestationIssuedData,
  type ReceiptRecordedData,
  type ReceiptRevokedData,
} from '../../domain/events.js';
import type { RecordedEvent } from '../../eventStore/types.js';
import { receiptDigest } from '../../provenance/index.js';
import { readCheckpointUnverified } from '../../transparency/note.js';
import type { LogSource, ReceiptEvidence, VerificationStore } from '../attestations/index.js';
import { EVENTS_FILE, parseEventLine } from './format.js';
import { exportedConsistency } from './attestationCheckpoints.js';
import {
  CHECKPOINT_FILE,
  KEY_ROTATIONS_FILE,
  LOG_KEY_FILE,
  exportedProofs,
  jsonLinesOf,
  leafKey,
  recordedLogs,
} from './inclusion.js';
import { readExport, verifyExportFiles, type VerifyExportResult } from './verifyExport.js';

export interface ExportEvidence {
  /** The export's own verification, as `verify-export` reports it. */
  verified: VerifyExportResult;
  /** Its receipts, as a store's evidence (no stage policy: "current" is not known offline). */
  store: VerificationStore;
  /** The attestation's recorded checkpoint, the export's signed checkpoint and their proofs. */
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
  const proofOfLeaf = exportedProofs(files).byLeaf;
  const consistency = exportedConsistency(files);
  const logs = recordedLogs(events);

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
    anchor({ statementDigest }) {
      const note = files.get(CHECKPOINT_FILE);
      if (note === undefined) return Promise.resolve('the export carries no signed checkpoint');
      const issued = events.findLast(
        (e) =>
          e.type === EventTypes.AttestationIssued &&
          (e.data as AttestationIssuedData).statementDigest === statementDigest,
      );
      if (issued === undefined)
        return Promise.resolve(
          `the export holds no record of this attestation (statement sha256 ${statementDigest})`,
        );
      const record = logs.find((l) => l.event === issued);
      if (record === undefined)
        return Promise.resolve(
          `attestation ${(issued.data as AttestationIssuedData).attestationId} names no checkpoint (issued where the Merkle log was off, or before its first checkpoint)`,
        );
      return Promise.resolve({
        checkpoint: record.log.checkpoint,
        leaves: new Map(record.log.receipts.map((r) => [r.receiptId, r.leafIndex])),
      });
    },
    verifierKey: () => Promise.resolve(files.get(LOG_KEY_FILE)?.toString('utf8')),
    keyRotations: () =>
      Promise.resolve(
        jsonLinesOf(files, KEY_ROTATIONS_FILE).map((data, i) => ({
          data,
          source: `${KEY_ROTATIONS_FILE} line ${i + 1} of the export`,
        })),
      ),
    inclusion(leafIndex, treeSize) {
      const proof = proofOfLeaf.get(leafKey(leafIndex, treeSize));
      const event = proof === undefined ? undefined : byId.get(proof.eventId);
      return Promise.resolve(
        proof === undefined || event === undefined || !Array.isArray(proof.proof)
          ? `the export has no proof and event of leaf ${leafIndex} under a tree of ${treeSize} leaves`
          : { proof: proof.proof, event },
      );
    },
    latestConsistency(from) {
      // The export's checkpoint is the latest; `anchor` made sure it is there.
      const checkpoint = (files.get(CHECKPOINT_FILE) ?? Buffer.alloc(0)).toString('utf8');
      let size;
      try {
        size = readCheckpointUnverified(checkpoint).size;
      } catch {
        return Promise.resolve({ checkpoint, proof: [] }); // malformed: the caller's signature check says so
      }
      const line = consistency.get(from);
      // No proof (none exported, or a newer `from`): the caller's check of the empty proof fails.
      return Promise.resolve({
        checkpoint,
        proof: line !== undefined && line.toSize === size ? line.proof : [],
      });
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
