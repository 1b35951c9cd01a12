// The Merkle log's own events (docs/transparency.md): signed and cosigned
// checkpoints in `$checkpoints`, note key rotations in `$log-keys`. Re-exported
// by events.ts with the other domain events.
import { EventTypes, type DomainEvent } from './eventTypes.js';

/** The system stream checkpoints are appended to (DESIGN.md §2). */
export const CHECKPOINT_STREAM = '$checkpoints';

/**
 * `CheckpointSigned.v1`, in `$checkpoints`: the Merkle log of `$all` was signed
 * at a tree size (docs/transparency.md). `note` is the whole C2SP signed note;
 * the other fields repeat what it says, for queries.
 */
export interface CheckpointSignedData {
  origin: string;
  treeSize: number;
  /** Base64 of the 32-byte root hash, as in the note. */
  rootHash: string;
  note: string;
  /** The note verifier key (`<name>+<hash>+<key>`) that verifies `note`. */
  verifierKey: string;
}

export type CheckpointSigned = DomainEvent<
  typeof EventTypes.CheckpointSigned,
  CheckpointSignedData
>;

/** The `CheckpointSigned.v1` event for a signed checkpoint. */
export const checkpointSigned = (data: CheckpointSignedData): CheckpointSigned => ({
  type: EventTypes.CheckpointSigned,
  data,
});

/**
 * `CheckpointCosigned.v1`, in `$checkpoints`: a witness cosigned a checkpoint
 * (C2SP tlog-witness, https://c2sp.org/tlog-cosignature), and its cosignature
 * verified with the configured witness key before it was recorded. Appending
 * `cosignature` to the checkpoint's note gives the cosigned note.
 */
export interface CheckpointCosignedData {
  origin: string;
  treeSize: number;
  /** Base64 of the 32-byte root hash the witness cosigned. */
  rootHash: string;
  /** The witness's key name. */
  witness: string;
  /** Hex of the 4-byte key ID. */
  keyId: string;
  /** The witness's cosignature/v1 verifier key (`<name>+<key ID>+<base64(0x04 ‖ key)>`). */
  witnessKey: string;
  /** POSIX seconds in the cosignature (part of the signed message). */
  timestamp: number;
  /** Base64 of the 64-byte Ed25519 signature. */
  signature: string;
  /** The note signature line (`— <witness> <base64>`), without its newline. */
  cosignature: string;
}

export type CheckpointCosigned = DomainEvent<
  typeof EventTypes.CheckpointCosigned,
  CheckpointCosignedData
>;

/** The `CheckpointCosigned.v1` event for a verified witness cosignature. */
export const checkpointCosigned = (data: CheckpointCosignedData): CheckpointCosigned => ({
  type: EventTypes.CheckpointCosigned,
  data,
});

/** The system stream note key rotations are appended to (DESIGN.md §2). */
export const LOG_KEY_STREAM = '$log-keys';

/**
 * `LogKeyRotated.v1`, in `$log-keys`: the log's note key was replaced
 * (docs/transparency.md, "Rotating the note key"). Checkpoints of sizes up to
 * `treeSize` are signed by `previousVerifierKey`, later ones by `verifierKey`.
 * `statement` is a C2SP signed note naming the origin, the size and both keys,
 * signed by the previous key (the endorsement) and by the new one (possession);
 * the other fields repeat what it says, for queries.
 */
export interface LogKeyRotatedData {
  origin: string;
  /** The size of the last checkpoint the previous key signs (0: none). */
  treeSize: number;
  previousVerifierKey: string;
  verifierKey: string;
  statement: string;
}

export type LogKeyRotated = DomainEvent<typeof EventTypes.LogKeyRotated, LogKeyRotatedData>;

/** The `LogKeyRotated.v1` event for a signed rotation statement. */
export const logKeyRotated = (data: LogKeyRotatedData): LogKeyRotated => ({
  type: EventTypes.LogKeyRotated,
  data,
});

/** Whether an event is the Merkle log's own bookkeeping (signed or cosigned checkpoints). */
export const isCheckpointEvent = (type: string): boolean =>
  type === EventTypes.CheckpointSigned || type === EventTypes.CheckpointCosigned;
