// Reading the Merkle log: the latest checkpoint (with a witness quorum, the
// newest one enough witnesses cosigned), the note verifier key, and inclusion
// and consistency proofs from the tree store. What the HTTP routes
// and the CLI call; bad requests are TLOG_* errors, never crashes.
import type { LogKeyRotatedData } from '../domain/events.js';
import { ProvenantError } from '../errors.js';
import type { EventStore } from '../eventStore/types.js';
import { readRotations } from './keyRotation.js';
import { consistencyProof, inclusionProof, rootHash } from './merkle.js';
import type { LeafRecord, SignedCheckpoint, TreeStore } from './port.js';
import { witnessedCheckpoints, type WitnessQuorum } from './witnessedCheckpoint.js';

export interface InclusionProofView {
  /** The event's `$all` position and id. */
  position: string;
  eventId: string;
  leafIndex: number;
  treeSize: number;
  /** Base64 hashes, as in checkpoints. */
  leafHash: string;
  rootHash: string;
  proof: string[];
  /** The signed checkpoint of `treeSize`, when there is one. */
  checkpoint?: string;
}

export interface ConsistencyProofView {
  from: number;
  to: number;
  fromRoot: string;
  toRoot: string;
  proof: string[];
}

export interface TransparencyService {
  readonly origin: string;
  readonly verifierKey: string;
  /** The log's note key rotations (`LogKeyRotated.v1`), oldest first. */
  keyRotations(): Promise<LogKeyRotatedData[]>;
  latestCheckpoint(): Promise<SignedCheckpoint>;
  inclusionByPosition(position: bigint, treeSize?: number): Promise<InclusionProofView>;
  inclusionByEventId(eventId: string, treeSize?: number): Promise<InclusionProofView>;
  inclusionByLeafIndex(leafIndex: number, treeSize?: number): Promise<InclusionProofView>;
  consistency(from: number, to?: number): Promise<ConsistencyProofView>;
}

const b64 = (b: Buffer): string => b.toString('base64');
const range = (message: string): ProvenantError => new ProvenantError('TLOG_PROOF_RANGE', message);

export function createTransparencyService(options: {
  tree: TreeStore;
  origin: string;
  verifierKey: string;
  /** The log, where key rotations are read; without it, none are known. */
  eventStore?: EventStore;
  /** Present only checkpoints this many of these witnesses cosigned (witnessedCheckpoint.ts). */
  witnessQuorum?: WitnessQuorum;
}): TransparencyService {
  const { tree, witnessQuorum } = options;
  const witnessed =
    witnessQuorum === undefined ? undefined : witnessedCheckpoints(tree, witnessQuorum);

  const latestCheckpoint = async (): Promise<SignedCheckpoint> => {
    const latest = await (witnessed?.() ?? tree.latestCheckpoint());
    if (latest === undefined)
      throw new ProvenantError(
        'TLOG_NO_CHECKPOINT',
        witnessQuorum === undefined
          ? 'No checkpoint has been signed yet'
          : `No checkpoint has been cosigned by ${witnessQuorum.quorum} witness(es) yet (PROVENANT_CHECKPOINT_WITNESS_QUORUM)`,
      );
    return latest;
  };

  /** The tree size a proof is asked at: given (checked), or the latest checkpoint's. */
  const sizeFor = async (treeSize: number | undefined): Promise<number> => {
    const { size } = await tree.state();
    const at = treeSize ?? (await latestCheckpoint()).size;
    if (!Number.isSafeInteger(at) || at < 1)
      throw range(`Tree size ${at} is not a positive number`);
    if (at > size) throw range(`Tree size ${at} is beyond the tree (${size} leaves)`);
    return at;
  };

  const checkpointNoteAt = async (size: number): Promise<string | undefined> =>
    (await tree.checkpointAt(size))?.note;

  const inclusion = async (
    leaf: LeafRecord | undefined,
    what: string,
    treeSize: number | undefined,
  ): Promise<InclusionProofView> => {
    if (leaf === undefined)
      throw new ProvenantError('TLOG_LEAF_NOT_FOUND', `No leaf of the tree is ${what}`);
    const size = await sizeFor(treeSize);
    if (leaf.index >= size)
      throw range(`${what} is leaf ${leaf.index}, beyond a tree of ${size} leaves`);
    const [proof, root] = await Promise.all([
      inclusionProof(leaf.index, size, tree.readNodes),
      rootHash(size, tree.readNodes),
    ]);
    const note = await checkpointNoteAt(size);
    return {
      position: leaf.position.toString(),
      eventId: leaf.eventId,
      leafIndex: leaf.index,
      treeSize: size,
      leafHash: b64(leaf.hash),
      rootHash: b64(root),
      proof: proof.map(b64),
      ...(note === undefined ? {} : { checkpoint: note }),
    };
  };

  return {
    origin: options.origin,
    verifierKey: options.verifierKey,
    keyRotations: async () =>
      options.eventStore === undefined
        ? []
        : (await readRotations(options.eventStore)).map((r) => r.data as LogKeyRotatedData),
    latestCheckpoint,
    inclusionByPosition: async (position, treeSize) =>
      inclusion(await tree.leafByPosition(position), `position ${position}`, treeSize),
    inclusionByEventId: async (eventId, treeSize) =>
      inclusion(await tree.leafByEventId(eventId), `event ${eventId}`, treeSize),
    inclusionByLeafIndex: async (leafIndex, treeSize) =>
      inclusion(await tree.leafAt(leafIndex), `leaf ${leafIndex}`, treeSize),
    async consistency(from, to) {
      const size = await sizeFor(to);
      if (!Number.isSafeInteger(from) || from < 1)
        throw range(`From size ${from} is not a positive number`);
      if (from > size) throw range(`From size ${from} is after to size ${size}`);
      const [proof, fromRoot, toRoot] = await Promise.all([
        consistencyProof(from, size, tree.readNodes),
        rootHash(from, tree.readNodes),
        rootHash(size, tree.readNodes),
      ]);
      return {
        from,
        to: size,
        fromRoot: b64(fromRoot),
        toRoot: b64(toRoot),
        proof: proof.map(b64),
      };
    },
  };
}
