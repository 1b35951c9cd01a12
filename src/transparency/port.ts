// The tree store port: where the Merkle log projection keeps its leaves, the
// perfect subtree hashes that proofs read, and the signed checkpoints. SQLite
// (./sqlite/treeStore.ts) and PostgreSQL (./postgres/treeStore.ts) implement it,
// and test/transparency/treeStoreConformance.ts holds both to it: nothing above
// this port names a driver.
import type { StoredNode } from './compactRange.js';
import type { NodeReader } from './merkle.js';

/** One leaf: the event at `position` of `$all`, hashed into leaf `index`. */
export interface LeafRecord {
  index: number;
  position: bigint;
  eventId: string;
  hash: Buffer;
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
   * Appends leaves (contiguous from the current size) and the subtrees they
   * completed (level ≥ 1), in one transaction.
   */
  append(leaves: readonly LeafRecord[], nodes: readonly StoredNode[]): Promise<void>;
  /** Perfect subtree hashes by (level, index); level 0 is the leaf hashes. */
  readNodes: NodeReader;
  leafAt(index: number): Promise<LeafRecord | undefined>;
  leafByPosition(position: bigint): Promise<LeafRecord | undefined>;
  leafByEventId(eventId: string): Promise<LeafRecord | undefined>;
  /** Up to `count` leaves from `index`, in order. */
  leaves(index: number, count: number): Promise<LeafRecord[]>;
  saveCheckpoint(checkpoint: SignedCheckpoint): Promise<void>;
  /** The checkpoint of the largest size, if any. */
  latestCheckpoint(): Promise<SignedCheckpoint | undefined>;
  /** The checkpoint of exactly `size` leaves, if one was signed. */
  checkpointAt(size: number): Promise<SignedCheckpoint | undefined>;
  /** Every checkpoint, by size. */
  checkpoints(): Promise<SignedCheckpoint[]>;
  close(): Promise<void>;
}
