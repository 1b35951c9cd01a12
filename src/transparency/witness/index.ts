// The witnesses a follower hands its checkpoints to (config.ts), each by its
// protocol: a plain POST of the note (post.ts), or a C2SP tlog-witness whose
// cosignatures are verified and recorded (tlogWitness.ts): appended to the log
// as `CheckpointCosigned.v1` in `$checkpoints`, and added to the checkpoint's
// note in the tree store, so that GET /v1/log/checkpoint serves the cosigned
// note. Each witness has its own delivery (delivery.ts): offering a checkpoint
// returns at once, and a slow or down witness holds up only its own queue. A
// tlog-witness's last cosigned size is recovered from the log (lastCosigned).
import {
  CHECKPOINT_STREAM,
  checkpointCosigned,
  EventTypes,
  type CheckpointCosignedData,
} from '../../domain/events.js';
import type { EventStore } from '../../eventStore/types.js';
import type { TreeStore } from '../port.js';
import { parseCosignerKey } from './cosignature.js';
import { witnessName, type WitnessProtocol, type WitnessTarget } from './config.js';
import type { DeliveryBounds, WitnessPoster, WitnessStats } from './delivery.js';
import { createWitnessPoster } from './post.js';
import { createTlogWitnessClient, type CosignedCheckpoint } from './tlogWitness.js';

export type { WitnessPoster, WitnessStats } from './delivery.js';
export { witnessName, type WitnessProtocol, type WitnessTarget } from './config.js';

/** One witness's counts, named as metrics label it (`witnessName`: origin and path, no credentials). */
export interface WitnessCount {
  witness: string;
  stats: WitnessStats;
}

export interface CheckpointWitnessOptions extends DeliveryBounds {
  url: string;
  protocol: WitnessProtocol;
  /** The witness's cosignature/v1 vkeys (tlog-witness: at least one). */
  keys: readonly string[];
  eventStore: EventStore;
  tree: TreeStore;
}

/** Events of `$checkpoints` read per page while looking for a witness's last cosignature. */
const RECOVERY_PAGE = 200;

/**
 * The size of the latest checkpoint of `origin` the log records a cosignature
 * of by one of `keys` (a witness's vkeys), or 0 when it records none: read
 * backwards through `$checkpoints` until the first one is found.
 */
export async function lastCosigned(
  eventStore: EventStore,
  origin: string,
  keys: readonly string[],
): Promise<number> {
  for (let from: number | 'end' = 'end'; ;) {
    const { events } = await eventStore.readStream(CHECKPOINT_STREAM, {
      from,
      direction: 'backwards',
      maxCount: RECOVERY_PAGE,
    });
    for (const event of events) {
      if (event.type !== EventTypes.CheckpointCosigned) continue;
      const data = event.data as Partial<CheckpointCosignedData>;
      const size = Number(data.treeSize);
      const ours = data.origin === origin && keys.includes(String(data.witnessKey));
      if (ours && Number.isSafeInteger(size) && size >= 0) return size;
    }
    const last = events.at(-1);
    if (last === undefined || events.length < RECOVERY_PAGE || last.revision === 0) return 0;
    from = last.revision - 1;
  }
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
    recoverSize: (origin) => lastCosigned(eventStore, origin, keys),
    async record(cosigned) {
      await record(cosigned);
      bounds.log?.('info', 'checkpoint cosigned', {
        witness: witnessName(url),
        treeSize: cosigned.treeSize,
        witnesses: cosigned.cosignatures.map((c) => c.witness),
      });
    },
    ...bounds,
  });
}

/** Several witnesses behind one offer: each delivered to on its own. */
export interface CheckpointWitnesses extends WitnessPoster {
  /** Each witness's counts, in the order configured. */
  each(): WitnessCount[];
}

export function createCheckpointWitnesses(
  targets: readonly WitnessTarget[],
  options: Omit<CheckpointWitnessOptions, 'url' | 'protocol' | 'keys'>,
): CheckpointWitnesses {
  const witnesses = targets.map((t) => ({
    url: t.url,
    poster: createCheckpointWitness({ ...options, ...t }),
  }));
  return {
    offer(note, treeSize) {
      for (const w of witnesses) w.poster.offer(note, treeSize);
    },
    async drain() {
      await Promise.all(witnesses.map((w) => w.poster.drain()));
    },
    stats() {
      const total: WitnessStats = { posted: 0, failed: 0, superseded: 0 };
      for (const w of witnesses) {
        const s = w.poster.stats();
        total.posted += s.posted;
        total.failed += s.failed;
        total.superseded += s.superseded;
      }
      return total;
    },
    each: () => witnesses.map((w) => ({ witness: witnessName(w.url), stats: w.poster.stats() })),
  };
}
