// The newest checkpoint enough witnesses cosigned
// (PROVENANT_CHECKPOINT_WITNESS_QUORUM): with a quorum set, the store presents
// only such checkpoints, so that a client that takes its checkpoint from the
// store gets one its witnesses vouch for (a split view would need them to lie
// too). Cosignatures are counted on the stored note: valid cosignature/v1 lines
// by distinct configured witnesses (key names), as `log verify
// --witness-quorum` counts them. Cosignatures are only ever added, so a
// checkpoint found witnessed stays so: each call scans only the checkpoints
// signed since the last one found.
import { splitNote } from './note.js';
import type { SignedCheckpoint, TreeStore } from './port.js';
import { verifyCosignatures, type CosignerKey } from './witness/cosignature.js';

export interface WitnessQuorum {
  keys: readonly CosignerKey[];
  quorum: number;
}

/** Checkpoints read per query while looking back. */
const PAGE = 50;
/** Checkpoints looked at, at most, in one call (past them, the last one found stands). */
const SCAN_LIMIT = 10_000;

/** Distinct configured witnesses whose valid cosignatures the note carries (0 when it cannot be read). */
export function cosignerCount(note: string, keys: readonly CosignerKey[]): number {
  try {
    const { text } = splitNote(note);
    const found = verifyCosignatures(text, note.slice(text.length + 1), keys);
    return new Set(found.map((c) => c.witness)).size;
  } catch {
    return 0; // no cosignature by a configured key, or one that does not verify
  }
}

/** A reader of the newest checkpoint with `quorum` cosignatures (undefined while there is none). */
export function witnessedCheckpoints(
  tree: Pick<TreeStore, 'recentCheckpoints'>,
  { keys, quorum }: WitnessQuorum,
): () => Promise<SignedCheckpoint | undefined> {
  let known: SignedCheckpoint | undefined;
  /**
   * Newer checkpoints found short of the quorum, by size, with the note they
   * were counted on: a note changes only when a cosignature is added, so an
   * unchanged one is not verified again (while a witness is down, every call
   * would otherwise verify every checkpoint signed since).
   */
  const short = new Map<number, string>();
  const witnessed = (checkpoint: SignedCheckpoint): boolean => {
    if (short.get(checkpoint.size) === checkpoint.note) return false;
    if (cosignerCount(checkpoint.note, keys) >= quorum) return true;
    short.set(checkpoint.size, checkpoint.note);
    return false;
  };
  const found = (checkpoint: SignedCheckpoint): SignedCheckpoint => {
    known = checkpoint;
    for (const size of short.keys()) if (size <= checkpoint.size) short.delete(size);
    return checkpoint;
  };
  return async () => {
    let below: number | undefined;
    for (let scanned = 0; scanned < SCAN_LIMIT;) {
      const page = await tree.recentCheckpoints(PAGE, below);
      for (const checkpoint of page) {
        // Reached the last one found: it is the newest witnessed (its note as stored now).
        if (known !== undefined && checkpoint.size <= known.size)
          return (known = checkpoint.size === known.size ? checkpoint : known);
        if (witnessed(checkpoint)) return found(checkpoint);
      }
      const last = page.at(-1);
      if (last === undefined || page.length < PAGE) return known;
      scanned += page.length;
      below = last.size;
    }
    return known;
  };
}
