// The Merkle log in an export (docs/transparency.md): the latest signed
// checkpoint, the note verifier key, and an inclusion proof for every exported
// event under that checkpoint, so that `verify-export` checks offline that each
// event is in the log. Events newer than the checkpoint have no proof yet; the
// verifier notes them.
import { isProvenantError, type ErrorCode } from '../../errors.js';
import type { RecordedEvent } from '../../eventStore/types.js';
import {
  openCheckpoint,
  parseVerifierKey,
  type Checkpoint,
  type NoteVerifier,
} from '../../transparency/note.js';
import type { TransparencyService } from '../../transparency/service.js';
import { eventInclusionFailure } from '../../transparency/treeBuilder.js';

export const CHECKPOINT_FILE = 'transparency/checkpoint.txt';
export const LOG_KEY_FILE = 'transparency/log-key.txt';
export const PROOFS_FILE = 'transparency/proofs.jsonl';

export interface ProofLine {
  eventId: string;
  leafIndex: number;
  treeSize: number;
  proof: string[];
}

/** The transparency files of an export, or none when no checkpoint has been signed. */
export async function inclusionFiles(
  service: TransparencyService,
  events: readonly RecordedEvent[],
): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  let checkpoint;
  try {
    checkpoint = await service.latestCheckpoint();
  } catch (error) {
    if (isProvenantError(error) && error.code === 'TLOG_NO_CHECKPOINT') return files;
    throw error;
  }
  const lines: string[] = [];
  for (const event of events) {
    try {
      const p = await service.inclusionByEventId(event.id, checkpoint.size);
      const line: ProofLine = {
        eventId: p.eventId,
        leafIndex: p.leafIndex,
        treeSize: p.treeSize,
        proof: p.proof,
      };
      lines.push(`${JSON.stringify(line)}\n`);
    } catch (error) {
      // Not yet a leaf, or after the checkpoint: no proof to give.
      if (
        !isProvenantError(error) ||
        !['TLOG_LEAF_NOT_FOUND', 'TLOG_PROOF_RANGE'].includes(error.code)
      )
        throw error;
    }
  }
  files.set(CHECKPOINT_FILE, Buffer.from(checkpoint.note));
  files.set(LOG_KEY_FILE, Buffer.from(`${service.verifierKey}\n`));
  files.set(PROOFS_FILE, Buffer.from(lines.join('')));
  return files;
}

/** The note verifier of the exported key file; TLOG_BAD_KEY when it is missing or malformed. */
export const exportedVerifier = (files: ReadonlyMap<string, Buffer>): NoteVerifier =>
  parseVerifierKey((files.get(LOG_KEY_FILE) ?? Buffer.alloc(0)).toString('utf8'));

/** The exported inclusion proofs by event id; `malformed` is told of each line that is not JSON. */
export function exportedProofs(
  files: ReadonlyMap<string, Buffer>,
  malformed: () => void = () => undefined,
): Map<string, ProofLine> {
  const proofs = new Map<string, ProofLine>();
  for (const line of (files.get(PROOFS_FILE) ?? Buffer.alloc(0)).toString('utf8').split('\n')) {
    if (line === '') continue;
    try {
      const parsed = JSON.parse(line) as ProofLine;
      proofs.set(parsed.eventId, parsed);
    } catch {
      malformed();
    }
  }
  return proofs;
}

/** Why an exported proof does not show `event` under `checkpoint`; undefined when it does. */
export const proofFailure = (
  event: RecordedEvent,
  p: ProofLine,
  checkpoint: Checkpoint,
): string | undefined =>
  p.treeSize !== checkpoint.size || !Array.isArray(p.proof)
    ? `its proof is not for the checkpoint's size ${checkpoint.size}`
    : eventInclusionFailure(event, p.leafIndex, p.proof, checkpoint);

/** Checks that every exported event is included under the exported checkpoint. */
export function checkInclusions(
  files: ReadonlyMap<string, Buffer>,
  events: readonly RecordedEvent[],
  problem: (code: ErrorCode, message: string, path?: string) => void,
  note: (message: string) => void,
): number {
  const noteText = files.get(CHECKPOINT_FILE);
  if (noteText === undefined) {
    note('the export carries no signed checkpoint: inclusion in the log not checked');
    return 0;
  }
  let checkpoint;
  try {
    checkpoint = openCheckpoint(noteText.toString('utf8'), [exportedVerifier(files)]);
  } catch (error) {
    problem(
      'EXPORT_CHECKPOINT_INVALID',
      `the exported checkpoint does not verify: ${error instanceof Error ? error.message : String(error)}`,
      CHECKPOINT_FILE,
    );
    return 0;
  }
  const proofs = exportedProofs(files, () =>
    problem('EXPORT_NOT_IN_LOG', `a line of ${PROOFS_FILE} is not JSON`, PROOFS_FILE),
  );
  let included = 0;
  let unproved = 0;
  for (const event of events) {
    const p = proofs.get(event.id);
    if (p === undefined) {
      unproved++;
      continue;
    }
    const failure = proofFailure(event, p, checkpoint);
    if (failure === undefined) included++;
    else
      problem(
        'EXPORT_NOT_IN_LOG',
        `event ${event.id} (${event.stream}@${event.revision}) is not included under the signed checkpoint of size ${checkpoint.size}: ${failure}`,
        PROOFS_FILE,
      );
  }
  if (unproved > 0)
    note(
      `${unproved} exported event(s) are newer than the exported checkpoint (size ${checkpoint.size}): not yet provable`,
    );
  return included;
}
