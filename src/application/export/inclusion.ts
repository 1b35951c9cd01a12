// The Merkle log in an export (docs/transparency.md): the latest signed
// checkpoint, the note verifier key, and an inclusion proof for every exported
// event under that checkpoint, so that `verify-export` checks offline that each
// event is in the log. Events newer than the checkpoint have no proof yet; the
// verifier notes them. For each checkpoint an exported attestation recorded when
// it was issued, the export also carries a consistency proof from that tree to
// the export's checkpoint and the inclusion proofs of the receipts the
// attestation names under it (checked in attestationCheckpoints.ts). After a
// note key rotation, the log's rotations go in too (key-rotations.jsonl), so
// that checkpoints signed by an earlier key verify offline through them.
import { EventTypes, type AttestationIssuedData } from '../../domain/events.js';
import { isProvenantError, type ErrorCode } from '../../errors.js';
import type { RecordedEvent } from '../../eventStore/types.js';
import { keyChain, type KeyChain } from '../../transparency/keyRotation.js';
import {
  parseVerifierKey,
  readCheckpointUnverified,
  type Checkpoint,
  type NoteVerifier,
} from '../../transparency/note.js';
import type { TransparencyService } from '../../transparency/service.js';
import { eventInclusionFailure } from '../../transparency/treeBuilder.js';

export const CHECKPOINT_FILE = 'transparency/checkpoint.txt';
export const LOG_KEY_FILE = 'transparency/log-key.txt';
export const PROOFS_FILE = 'transparency/proofs.jsonl';
export const CONSISTENCY_FILE = 'transparency/consistency.jsonl';
export const KEY_ROTATIONS_FILE = 'transparency/key-rotations.jsonl';

/** A line of proofs.jsonl: event `eventId` is leaf `leafIndex` of the tree of `treeSize` leaves. */
export interface ProofLine {
  eventId: string;
  leafIndex: number;
  treeSize: number;
  /** Base64 hashes (RFC 9162 inclusion proof). */
  proof: string[];
}

/** A line of consistency.jsonl: the export's tree of `toSize` leaves extends the one of `fromSize`. */
export interface ConsistencyLine {
  fromSize: number;
  /** The root of the tree of `fromSize` leaves in the exported log (base64). */
  fromRoot: string;
  toSize: number;
  /** Base64 hashes (RFC 9162 consistency proof); empty when the sizes are equal. */
  proof: string[];
}

/** The Merkle log record (checkpoint and receipt leaves) of each AttestationIssued event among `events`. */
export const recordedLogs = (
  events: readonly RecordedEvent[],
): {
  event: RecordedEvent;
  data: AttestationIssuedData;
  log: NonNullable<AttestationIssuedData['log']>;
}[] =>
  events.flatMap((event) => {
    if (event.type !== EventTypes.AttestationIssued) return [];
    const data = event.data as AttestationIssuedData;
    return data.log === undefined ? [] : [{ event, data, log: data.log }];
  });

/** Whether `error` says a proof cannot be given (not yet a leaf, or beyond the tree). */
const noProof = (error: unknown): boolean =>
  isProvenantError(error) && ['TLOG_LEAF_NOT_FOUND', 'TLOG_PROOF_RANGE'].includes(error.code);

/** What `prove` answers, or undefined when there is no proof to give (not yet a leaf, beyond the tree). */
async function proofOrNone<T>(prove: () => Promise<T>): Promise<T | undefined> {
  try {
    return await prove();
  } catch (error) {
    if (noProof(error)) return undefined;
    throw error;
  }
}

/** An inclusion proof as a line of proofs.jsonl. */
const proofLine = (p: ProofLine): ProofLine => ({
  eventId: p.eventId,
  leafIndex: p.leafIndex,
  treeSize: p.treeSize,
  proof: p.proof,
});

/**
 * For each checkpoint the attestations among `events` recorded (by tree size,
 * none newer than `checkpoint`): a consistency proof from it to `checkpoint`,
 * and an inclusion proof under it of each receipt leaf the attestations name.
 */
async function attestationProofs(
  service: TransparencyService,
  checkpoint: { size: number },
  events: readonly RecordedEvent[],
): Promise<{ consistency: ConsistencyLine[]; inclusions: ProofLine[] }> {
  const leavesBySize = new Map<number, Set<number>>();
  for (const { log } of recordedLogs(events)) {
    let size;
    try {
      size = readCheckpointUnverified(log.checkpoint).size;
    } catch {
      continue; // malformed: the verifier says so
    }
    const leaves = leavesBySize.get(size) ?? new Set<number>();
    for (const receipt of log.receipts) leaves.add(receipt.leafIndex);
    leavesBySize.set(size, leaves);
  }
  const consistency: ConsistencyLine[] = [];
  const inclusions: ProofLine[] = [];
  for (const [size, leaves] of [...leavesBySize].sort(([a], [b]) => a - b)) {
    if (size > checkpoint.size) continue; // newer than the export's: no proof; the verifier says so
    const c = await proofOrNone(() => service.consistency(size, checkpoint.size));
    if (c !== undefined)
      consistency.push({ fromSize: c.from, fromRoot: c.fromRoot, toSize: c.to, proof: c.proof });
    if (size === checkpoint.size) continue; // the proofs under the export's checkpoint serve
    for (const leafIndex of [...leaves].sort((a, b) => a - b)) {
      const p = await proofOrNone(() => service.inclusionByLeafIndex(leafIndex, size));
      if (p !== undefined) inclusions.push(proofLine(p));
    }
  }
  return { consistency, inclusions };
}

const jsonLines = (lines: readonly object[]): Buffer =>
  Buffer.from(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));

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
  const lines: ProofLine[] = [];
  for (const event of events) {
    const p = await proofOrNone(() => service.inclusionByEventId(event.id, checkpoint.size));
    if (p !== undefined) lines.push(proofLine(p));
  }
  const { consistency, inclusions } = await attestationProofs(service, checkpoint, events);
  files.set(CHECKPOINT_FILE, Buffer.from(checkpoint.note));
  files.set(LOG_KEY_FILE, Buffer.from(`${service.verifierKey}\n`));
  files.set(PROOFS_FILE, jsonLines([...lines, ...inclusions]));
  files.set(CONSISTENCY_FILE, jsonLines(consistency));
  const rotations = await service.keyRotations();
  if (rotations.length > 0) files.set(KEY_ROTATIONS_FILE, jsonLines(rotations));
  return files;
}

/** The note verifier of the exported key file; TLOG_BAD_KEY when it is missing or malformed. */
export const exportedVerifier = (files: ReadonlyMap<string, Buffer>): NoteVerifier =>
  parseVerifierKey((files.get(LOG_KEY_FILE) ?? Buffer.alloc(0)).toString('utf8'));

/**
 * The exported log key followed through the exported key rotations (the key
 * that signs each checkpoint size); `malformed` is told of each line that is not JSON.
 */
export function exportedKeyChain(
  files: ReadonlyMap<string, Buffer>,
  malformed: () => void = () => undefined,
): KeyChain {
  const rotations = jsonLinesOf(files, KEY_ROTATIONS_FILE, malformed).map((data, i) => ({
    data,
    source: `${KEY_ROTATIONS_FILE} line ${i + 1}`,
  }));
  return keyChain([exportedVerifier(files)], rotations);
}

/** The JSON lines of an exported file; `malformed` is told of each line that is not a JSON object. */
export function jsonLinesOf(
  files: ReadonlyMap<string, Buffer>,
  path: string,
  malformed: () => void = () => undefined,
): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of (files.get(path) ?? Buffer.alloc(0)).toString('utf8').split('\n')) {
    if (line === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
        lines.push(parsed as Record<string, unknown>);
      else malformed();
    } catch {
      malformed();
    }
  }
  return lines;
}

/** Where a proof line is found by leaf and tree size. */
export const leafKey = (leafIndex: number, treeSize: number): string => `${leafIndex}@${treeSize}`;

/** The exported inclusion proofs; `malformed` is told of each line that is not JSON. */
export function exportedProofs(
  files: ReadonlyMap<string, Buffer>,
  malformed: () => void = () => undefined,
): {
  /** By event id, under the export's checkpoint of `size` leaves (any other size when it has none). */
  byEvent(size: number): Map<string, ProofLine>;
  /** By leaf index and tree size (leafKey). */
  byLeaf: Map<string, ProofLine>;
} {
  const lines = jsonLinesOf(files, PROOFS_FILE, malformed) as unknown as ProofLine[];
  return {
    byEvent(size) {
      const proofs = new Map<string, ProofLine>();
      for (const line of lines)
        if (!proofs.has(line.eventId) || line.treeSize === size) proofs.set(line.eventId, line);
      return proofs;
    },
    byLeaf: new Map(lines.map((line) => [leafKey(line.leafIndex, line.treeSize), line])),
  };
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

/**
 * Checks that every exported event is included under the exported checkpoint;
 * returns the checkpoint when it verifies.
 */
export function checkInclusions(
  files: ReadonlyMap<string, Buffer>,
  events: readonly RecordedEvent[],
  problem: (code: ErrorCode, message: string, path?: string) => void,
  note: (message: string) => void,
): Checkpoint | undefined {
  const noteText = files.get(CHECKPOINT_FILE);
  if (noteText === undefined) {
    note('the export carries no signed checkpoint: inclusion in the log not checked');
    return undefined;
  }
  let checkpoint;
  try {
    const chain = exportedKeyChain(files, () =>
      problem(
        'EXPORT_CHECKPOINT_INVALID',
        `a line of ${KEY_ROTATIONS_FILE} is not JSON`,
        KEY_ROTATIONS_FILE,
      ),
    );
    for (const p of chain.problems)
      problem(
        'EXPORT_CHECKPOINT_INVALID',
        `a key rotation does not verify: ${p.message}`,
        KEY_ROTATIONS_FILE,
      );
    checkpoint = chain.openCheckpoint(noteText.toString('utf8'));
  } catch (error) {
    problem(
      'EXPORT_CHECKPOINT_INVALID',
      `the exported checkpoint does not verify: ${error instanceof Error ? error.message : String(error)}`,
      CHECKPOINT_FILE,
    );
    return undefined;
  }
  const proofs = exportedProofs(files, () =>
    problem('EXPORT_NOT_IN_LOG', `a line of ${PROOFS_FILE} is not JSON`, PROOFS_FILE),
  ).byEvent(checkpoint.size);
  let unproved = 0;
  for (const event of events) {
    const p = proofs.get(event.id);
    if (p === undefined) {
      unproved++;
      continue;
    }
    const failure = proofFailure(event, p, checkpoint);
    if (failure !== undefined)
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
  return checkpoint;
}
