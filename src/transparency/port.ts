// The tree store port: where the Merkle log projection keeps its leaves, the
// perfect subtree hashes that proofs read, and the signed checkpoints. SQLite
// (./sqlite/treeStore.ts) and PostgreSQL (./postgres/treeStore.ts) implement it,
// and test/transparency/treeStoreConformance.ts holds both to it: nothing above
// this port names a driver.
import type { NodeReader } from './merkle.js';

/** One leaf: the event at `position` of `$all`, hashed into leaf `index`. */
export interface LeafRecord {
  index: number;
  position: bigint;
  eventId: string;
  hash: Buffer;
}

/** A leaf being appended, with the perfect subtrees it completes. */
export interface AppendedLeaf extends LeafRecord {
  /**
   * Hashes of the perfect subtrees ending with this leaf, smallest first (entry
   * `l` has level `l + 1`): what `CompactRange.append` returns.
   */
  completed: readonly Buffer[];
}

/** A checkpoint the log signed: tree size, root and the whole signed note. */
export interface SignedCheckpoint {
  size: number;
  root: Buffer;
  note: string;
  /** ISO 8601 time it was signed. */
  signedAt: string;
}

export interface TreeState {
  /** Leaves in the tree. */
  size: number;
  /** `$all` position of the last leaf's event; 0n for an empty tree. */
  lastPosition: bigint;
}

export interface TreeStore {
  state(): Promise<TreeState>;
  /**
   * Appends leaves (contiguous from the current size, positions increasing) and
   * the subtrees they complete, in one transaction.
   */
  append(leaves: readonly AppendedLeaf[]): Promise<void>;
  /** Perfect subtree hashes by (level, index); level 0 is the leaf hashes. */
  readNodes: NodeReader;
  leafAt(index: number): Promise<LeafRecord | undefined>;
  leafByPosition(position: bigint): Promise<LeafRecord | undefined>;
  leafByEventId(eventId: string): Promise<LeafRecord | undefined>;
  /** Up to `count` leaves from `index`, in order. */
  leaves(index: number, count: number): Promise<LeafRecord[]>;
  saveCheckpoint(checkpoint: SignedCheckpoint): Promise<void>;
  /**
   * Appends witness cosignature lines (`— <name> <base64>`, no newline) to the
   * note of the checkpoint of `size`, each once (a line already there is not
   * added again); nothing when no checkpoint has that size.
   */
  addCosignatures(size: number, lines: readonly string[]): Promise<void>;
  /** The checkpoint of the largest size, if any. */
  latestCheckpoint(): Promise<SignedCheckpoint | undefined>;
  /** The checkpoint of exactly `size` leaves, if one was signed. */
  checkpointAt(size: number): Promise<SignedCheckpoint | undefined>;
  /** Every checkpoint, by size. */
  checkpoints(): Promise<SignedCheckpoint[]>;
  /** Up to `count` checkpoints smaller than `belowSize` (all sizes without it), the largest first. */
  recentCheckpoints(count: number, belowSize?: number): Promise<SignedCheckpoint[]>;
  close(): Promise<void>;
}
