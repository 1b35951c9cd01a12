// Each exported attestation's checkpoint against the export's (docs/export.md,
// docs/transparency.md "In exports"): the checkpoint an AttestationIssued.v1
// event recorded when it was issued must be signed by the exported log key (or
// the key it follows from through the exported key rotations), and
// the export's own signed checkpoint must extend its tree (the RFC 9162
// consistency proof in consistency.jsonl); the receipts the attestation names
// must be the leaves it says under it (inclusion proofs at its size in
// proofs.jsonl). A log rewritten or truncated since the attestation, even
// re-signed with the same key, cannot give that proof.
import { EventTypes, type ReceiptRecordedData } from '../../domain/events.js';
import type { ErrorCode } from '../../errors.js';
import type { RecordedEvent } from '../../eventStore/types.js';
import { verifyConsistency } from '../../transparency/merkle.js';
import type { Checkpoint } from '../../transparency/note.js';
import { eventInclusionFailure } from '../../transparency/treeBuilder.js';
import { EVENTS_FILE } from './format.js';
import {
  CONSISTENCY_FILE,
  PROOFS_FILE,
  exportedKeyChain,
  exportedProofs,
  jsonLinesOf,
  leafKey,
  recordedLogs,
  type ConsistencyLine,
} from './inclusion.js';

const isConsistencyLine = (line: Record<string, unknown>): boolean =>
  Number.isSafeInteger(line['fromSize']) &&
  Number.isSafeInteger(line['toSize']) &&
  typeof line['fromRoot'] === 'string' &&
  Array.isArray(line['proof']) &&
  line['proof'].every((h) => typeof h === 'string');

/** The exported consistency proofs by `fromSize`; `malformed` is told of each line that is not one. */
export function exportedConsistency(
  files: ReadonlyMap<string, Buffer>,
  malformed: () => void = () => undefined,
): Map<number, ConsistencyLine> {
  const proofs = new Map<number, ConsistencyLine>();
  for (const line of jsonLinesOf(files, CONSISTENCY_FILE, malformed))
    if (isConsistencyLine(line)) {
      const proof = line as unknown as ConsistencyLine;
      proofs.set(proof.fromSize, proof);
    } else malformed();
  return proofs;
}

const b64 = (hashes: readonly string[]): Buffer[] => hashes.map((h) => Buffer.from(h, 'base64'));

/**
 * Why the export's checkpoint `to` does not extend the attestation's checkpoint
 * `from` with the exported proof `line`; undefined when it does.
 */
export function inconsistency(
  from: Checkpoint,
  to: Checkpoint,
  line: ConsistencyLine | undefined,
): string | undefined {
  if (from.origin !== to.origin) return `it names log ${from.origin}, the export ${to.origin}`;
  if (from.size > to.size)
    return "it is newer than the export's checkpoint: the export's log is behind it, or was truncated";
  if (from.size === to.size)
    return from.root.equals(to.root)
      ? undefined
      : 'the export signs another root at the same size: a split view, the log was rewritten';
  if (line === undefined) return `the export carries no consistency proof from size ${from.size}`;
  if (line.toSize !== to.size)
    return `its consistency proof is to size ${line.toSize}, not the export's ${to.size}`;
  const failure = verifyConsistency(from.size, to.size, b64(line.proof), from.root, to.root);
  if (failure === undefined) return undefined;
  return line.fromRoot === from.root.toString('base64')
    ? failure
    : `${failure}; the export's log has another root at size ${from.size}: a split view, the log was rewritten since the attestation`;
}

/**
 * Checks the checkpoint each exported attestation recorded against the export's
 * verified checkpoint `exported` (undefined: the export has none, or it does not
 * verify, already reported).
 */
export function checkAttestationCheckpoints(
  files: ReadonlyMap<string, Buffer>,
  events: readonly RecordedEvent[],
  exported: Checkpoint | undefined,
  problem: (code: ErrorCode, message: string, path?: string) => void,
  note: (message: string) => void,
): void {
  const recorded = recordedLogs(events);
  if (recorded.length === 0) return;
  if (exported === undefined) {
    note(
      `${recorded.length} attestation(s) name a checkpoint of the Merkle log, but the export has no verified checkpoint: their consistency with the log is not checked`,
    );
    return;
  }
  const chain = exportedKeyChain(files); // it verified `exported` (its problems reported there)
  const consistency = exportedConsistency(files, () =>
    problem(
      'EXPORT_LOG_INCONSISTENT',
      `a line of ${CONSISTENCY_FILE} is not a consistency proof`,
      CONSISTENCY_FILE,
    ),
  );
  const proofs = exportedProofs(files).byLeaf;
  const receipts = new Map<string, RecordedEvent>();
  for (const event of events)
    if (event.type === EventTypes.ReceiptRecorded)
      receipts.set((event.data as ReceiptRecordedData).receiptId, event);

  for (const { data, log } of recorded) {
    const what = `the checkpoint attestation ${data.attestationId} recorded`;
    let checkpoint;
    try {
      checkpoint = chain.openCheckpoint(log.checkpoint);
    } catch (error) {
      problem(
        'EXPORT_CHECKPOINT_INVALID',
        `${what} does not verify with the exported log key (or its key rotations): ${error instanceof Error ? error.message : String(error)}`,
        EVENTS_FILE,
      );
      continue;
    }
    if (checkpoint.size !== log.treeSize) {
      problem(
        'EXPORT_CHECKPOINT_INVALID',
        `${what} signs ${checkpoint.size} leaves, its record says ${log.treeSize}`,
        EVENTS_FILE,
      );
      continue;
    }
    const failure = inconsistency(checkpoint, exported, consistency.get(checkpoint.size));
    if (failure !== undefined)
      problem(
        'EXPORT_LOG_INCONSISTENT',
        `the export's checkpoint (${exported.size} leaves) does not extend ${what} (${checkpoint.size} leaves): ${failure}`,
        CONSISTENCY_FILE,
      );
    if (checkpoint.size > exported.size) continue;
    for (const { receiptId, leafIndex } of log.receipts) {
      const event = receipts.get(receiptId);
      if (event === undefined) continue; // EXPORT_EVIDENCE_MISSING, from the attestation checks
      const p = proofs.get(leafKey(leafIndex, checkpoint.size));
      const notIncluded =
        p === undefined || !Array.isArray(p.proof)
          ? `the export has no proof of leaf ${leafIndex} under it`
          : eventInclusionFailure(event, leafIndex, p.proof, checkpoint);
      if (notIncluded !== undefined)
        problem(
          'EXPORT_NOT_IN_LOG',
          `receipt ${receiptId} is not leaf ${leafIndex} under ${what} (${checkpoint.size} leaves): ${notIncluded}`,
          PROOFS_FILE,
        );
    }
  }
}
