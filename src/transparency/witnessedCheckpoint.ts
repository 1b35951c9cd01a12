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
  return async () => {
    let below: number | undefined;
    for (let scanned = 0; scanned < SCAN_LIMIT;) {
      const page = await tree.recentCheckpoints(PAGE, below);
      for (const checkpoint of page) {
        // Reached the last one found: it is the newest witnessed (its note as stored now).
        if (known !== undefined && checkpoint.size <= known.size)
          return (known = checkpoint.size === known.size ? checkpoint : known);
        if (cosignerCount(checkpoint.note, keys) >= quorum) return (known = checkpoint);
      }
      const last = page.at(-1);
      if (last === undefined || page.length < PAGE) return known;
      scanned += page.length;
      below = last.size;
    }
    return known;
  };
}
