// The witness a follower hands its checkpoints to, by protocol
// (PROVENANT_CHECKPOINT_WITNESS_PROTOCOL): a plain POST of the note (post.ts),
// or a C2SP tlog-witness whose cosignatures are verified and recorded
// (tlogWitness.ts): appended to the log as `CheckpointCosigned.v1` in
// `$checkpoints`, and added to the checkpoint's note in the tree store, so that
// GET /v1/log/checkpoint serves the cosigned note.
import { CHECKPOINT_STREAM, checkpointCosigned } from '../../domain/events.js';
import type { EventStore } from '../../eventStore/types.js';
import type { TreeStore } from '../port.js';
import { parseCosignerKey } from './cosignature.js';
import type { DeliveryBounds, WitnessPoster } from './delivery.js';
import { createWitnessPoster } from './post.js';
import { createTlogWitnessClient, type CosignedCheckpoint } from './tlogWitness.js';

export type { WitnessPoster, WitnessStats } from './delivery.js';

export type WitnessProtocol = 'post' | 'tlog-witness';

export interface CheckpointWitnessOptions extends DeliveryBounds {
  url: string;
  protocol: WitnessProtocol;
  /** The witness's cosignature/v1 vkeys (tlog-witness: at least one). */
  keys: readonly string[];
  eventStore: EventStore;
  tree: TreeStore;
}

/** Appends verified cosignatures to the log and to the checkpoint's stored note. */
export function cosignatureRecorder(
  eventStore: EventStore,
  tree: TreeStore,
): (cosigned: CosignedCheckpoint) => Promise<void> {
  return async ({ origin, treeSize, rootHash, cosignatures }) => {
    await eventStore.append(
      CHECKPOINT_STREAM,
      cosignatures.map((c) =>
        checkpointCosigned({
          origin,
          treeSize,
          rootHash,
          witness: c.witness,
          keyId: c.keyId,
          witnessKey: c.witnessKey,
          timestamp: c.timestamp,
          signature: c.signature,
          cosignature: c.line,
        }),
      ),
    );
    await tree.addCosignatures(
      treeSize,
      cosignatures.map((c) => c.line),
    );
  };
}

export function createCheckpointWitness(options: CheckpointWitnessOptions): WitnessPoster {
  const { url, protocol, keys, eventStore, tree, ...bounds } = options;
  if (protocol === 'post') return createWitnessPoster({ url, ...bounds });
  const record = cosignatureRecorder(eventStore, tree);
  return createTlogWitnessClient({
    url,
    keys: keys.map(parseCosignerKey),
    readNodes: tree.readNodes,
    async record(cosigned) {
      await record(cosigned);
      bounds.log?.('info', 'checkpoint cosigned', {
        url,
        treeSize: cosigned.treeSize,
        witnesses: cosigned.cosignatures.map((c) => c.witness),
      });
    },
    ...bounds,
  });
}
