// The Merkle log projection, run from the composition root beside the
// projection runner: follows `$all` from the tree's last leaf (catch-up, then
// live), appends each batch to the tree, and every `every` events or
// `intervalMs` signs a checkpoint: saved in the tree store, written to the
// witness file when one is configured (a copy outside the store, so that a
// truncated or rewritten log cannot hide behind its own checkpoints) and
// handed to each configured witness (in the background, each on its own: a
// plain POST, or a tlog-witness whose cosignatures are recorded; witness/), and
// appended to the log as `CheckpointSigned.v1`.
import { rename, writeFile } from 'node:fs/promises';
import {
  CHECKPOINT_STREAM,
  checkpointSigned,
  isCheckpointEvent,
  LOG_KEY_STREAM,
  type CheckpointSignedData,
  type LogKeyRotatedData,
} from '../domain/events.js';
import type { EventStore, RecordedEvent, Subscription } from '../eventStore/types.js';
import { ProvenantError, isProvenantError } from '../errors.js';
import { Batches } from '../readModels/batches.js';
import {
  checkpointText,
  openCheckpoint,
  parseVerifierKey,
  signNote,
  type NoteSigner,
} from './note.js';
import { logMismatch } from './logMatch.js';
import type { SignedCheckpoint, TreeStore } from './port.js';
import { TreeBuilder } from './treeBuilder.js';
import {
  createCheckpointWitnesses,
  type WitnessPoster,
  type WitnessProtocol,
  type WitnessCount,
  type WitnessStats,
  type WitnessTarget,
} from './witness/index.js';

export interface CheckpointerOptions {
  eventStore: EventStore;
  tree: TreeStore;
  signer: NoteSigner;
  /** The origin line naming this log. */
  origin: string;
  /** Where each checkpoint is also written (atomically), outside the store. */
  witnessFile?: string;
  /** Where each checkpoint is also posted (in the background), outside the store. */
  witness?: WitnessPoster;
}

/**
 * Signs the tree `builder` holds (unless that size is signed already), saves the
 * checkpoint, writes the witness copy and appends `CheckpointSigned.v1`.
 */
export async function signCheckpoint(
  builder: TreeBuilder,
  options: CheckpointerOptions,
): Promise<SignedCheckpoint | undefined> {
  if (builder.size === 0) return undefined;
  const latest = await options.tree.latestCheckpoint();
  if (latest !== undefined && latest.size >= builder.size) return latest;
  // A key rotated away (by `log rotate-key`, maybe while this node ran) signs nothing more.
  const problem = await noteKeyProblem(
    options.eventStore,
    options.tree,
    options.signer.verifierKey,
  );
  if (problem !== undefined)
    throw new ProvenantError('TLOG_KEY_RETIRED', `Not signing: ${problem}`);
  const root = builder.root();
  const note = signNote(
    checkpointText({ origin: options.origin, size: builder.size, root }),
    options.signer,
  );
  const checkpoint = { size: builder.size, root, note, signedAt: new Date().toISOString() };
  await options.tree.saveCheckpoint(checkpoint);
  if (options.witnessFile !== undefined) {
    const tmp = `${options.witnessFile}.tmp`;
    await writeFile(tmp, note);
    await rename(tmp, options.witnessFile);
  }
  const data: CheckpointSignedData = {
    origin: options.origin,
    treeSize: builder.size,
    rootHash: root.toString('base64'),
    note,
    verifierKey: options.signer.verifierKey,
  };
  await options.eventStore.append(CHECKPOINT_STREAM, [checkpointSigned(data)]);
  // After its own event, so that a cosignature is recorded after the checkpoint.
  options.witness?.offer(note, builder.size);
  return checkpoint;
}

export interface FollowerOptions extends Omit<CheckpointerOptions, 'witness'> {
  /** URL each checkpoint is handed to (a witness outside the store); failures never stop the follower. */
  witnessUrl?: string;
  /** How: a plain POST of the note (default), or C2SP tlog-witness add-checkpoint. */
  witnessProtocol?: WitnessProtocol;
  /** tlog-witness: the witness's cosignature/v1 verifier keys. */
  witnessKeys?: readonly string[];
  /** More witnesses (after the one of `witnessUrl`), each delivered to on its own. */
  witnesses?: readonly WitnessTarget[];
  /** Per post attempt (default 5 s). */
  witnessTimeoutMs?: number;
  /** Wait before the first retry, doubled for each next one (default 500 ms). */
  witnessBackoffMs?: number;
  /** Sign after this many events (not counting checkpoints themselves). */
  every: number;
  /** ...or this long after the first unsigned event. */
  intervalMs: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: object) => void;
  /** Called when following stops on an error (the elected follower then gives up the lead). */
  onFailure?: (error: unknown) => void;
}

/**
 * Why checkpoints signed with `verifierKey` would not continue the tree's, or
 * undefined when they would. After a key rotation (the last `LogKeyRotated` in
 * `$log-keys`), only its new key signs; without one, the latest checkpoint must
 * verify with the key. Every node of one log must hold the same key.
 */
export async function noteKeyProblem(
  eventStore: EventStore,
  tree: TreeStore,
  verifierKey: string,
): Promise<string | undefined> {
  const rotation = await latestRotation(eventStore);
  if (rotation !== undefined && rotation.verifierKey !== verifierKey)
    return `the log's note key was rotated to ${rotation.verifierKey} after size ${rotation.treeSize}; this node's key ${verifierKey} does not sign it any more: point PROVENANT_LOG_KEY at the new key`;
  const latest = await tree.latestCheckpoint();
  if (latest === undefined || (rotation !== undefined && latest.size <= rotation.treeSize))
    return undefined;
  try {
    openCheckpoint(latest.note, [parseVerifierKey(verifierKey)]);
    return undefined;
  } catch (error) {
    const why = isProvenantError(error) ? `${error.code}: ${error.message}` : String(error);
    return `the latest checkpoint (size ${latest.size}) does not verify with this node's note key ${verifierKey} (${why}): every node of the log needs the same PROVENANT_LOG_KEY and PROVENANT_LOG_ORIGIN`;
  }
}

/** The last note key rotation of the log, if any. */
export async function latestRotation(
  eventStore: EventStore,
): Promise<LogKeyRotatedData | undefined> {
  const { events } = await eventStore.readStream(LOG_KEY_STREAM, {
    from: 'end',
    direction: 'backwards',
    maxCount: 1,
  });
  return events[0]?.data as LogKeyRotatedData | undefined;
}

/**
 * Events in the tree after the latest checkpoint that are not checkpoints
 * themselves: what a (new) follower has to sign. One page of the log decides;
 * past a page, every unsigned leaf counts.
 */
async function unsignedAtStart(builder: TreeBuilder, options: FollowerOptions): Promise<number> {
  const signed = (await options.tree.latestCheckpoint())?.size ?? 0;
  const pending = builder.size - signed;
  if (pending <= 0) return 0;
  const from = signed === 0 ? 'start' : (await options.tree.leafAt(signed - 1))?.position;
  if (from === undefined) return pending;
  const page = await options.eventStore.readAll({ from, maxCount: Math.min(pending, 1000) });
  if (page.length === 1000) return pending;
  return page.filter((e) => e.position <= builder.lastPosition && !isCheckpointEvent(e.type))
    .length;
}

/**
 * The lock the one signer of a Merkle log holds, as metrics name it
 * (`provenant_leadership_held{lock}`): the PostgreSQL leader's advisory lock
 * (its purpose), or the SQLite signer lock.
 */
export const MERKLE_LOCK = 'merkle-log';

export interface TransparencyFollower {
  start(): Promise<void>;
  /** Stops following; the batch in flight commits first. Idempotent. */
  stop(): Promise<void>;
  /** The tree as this follower holds it now. */
  size(): number;
  /** The witnesses' counts (summed over them), when one is configured. */
  witness(): WitnessStats | undefined;
  /** Each witness's counts (metrics, by witness); empty when none is configured or this process does not sign. */
  witnesses(): WitnessCount[];
  /** Under a lock (the PostgreSQL leader's, the SQLite signer lock): the lock and whether it holds it now. */
  locks?(): { lock: string; held: boolean }[];
}

/** Most events the follower appends to the tree at once. */
const BATCH = 1000;

export function createTransparencyFollower(followerOptions: FollowerOptions): TransparencyFollower {
  const {
    witnessUrl,
    witnessProtocol,
    witnessKeys,
    witnesses,
    witnessTimeoutMs,
    witnessBackoffMs,
    ...rest
  } = followerOptions;
  const targets: WitnessTarget[] = [
    ...(witnessUrl === undefined
      ? []
      : [{ url: witnessUrl, protocol: witnessProtocol ?? 'post', keys: [...(witnessKeys ?? [])] }]),
    ...(witnesses ?? []),
  ];
  const witness =
    targets.length === 0
      ? undefined
      : createCheckpointWitnesses(targets, {
          eventStore: rest.eventStore,
          tree: rest.tree,
          ...(witnessTimeoutMs === undefined ? {} : { timeoutMs: witnessTimeoutMs }),
          ...(witnessBackoffMs === undefined ? {} : { backoffMs: witnessBackoffMs }),
          ...(rest.log === undefined ? {} : { log: rest.log }),
        });
  const options = { ...rest, ...(witness === undefined ? {} : { witness }) };
  let builder: TreeBuilder | undefined;
  let subscription: Subscription | undefined;
  let loop: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let unsigned = 0;
  let stopped = false;
  // Batches and signatures run one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn);
    queue = next.catch(() => undefined);
    return next;
  };
  const sign = (): Promise<void> =>
    exclusive(async () => {
      if (builder === undefined || unsigned === 0) return;
      unsigned = 0;
      const checkpoint = await signCheckpoint(builder, options);
      if (checkpoint) options.log?.('info', 'checkpoint signed', { treeSize: checkpoint.size });
    });
  // A full batch with more of the log after it is the past being caught up (a
  // tree built anew over a long log, a follower that was down): one checkpoint
  // at the head signs it, not one per `every` events of the past, each appended
  // to the log and handed to the witnesses. The interval still signs meanwhile.
  const pastBehindHead = async (batch: RecordedEvent[]): Promise<boolean> => {
    const last = batch.at(-1);
    return (
      batch.length === BATCH &&
      last !== undefined &&
      last.position < (await options.eventStore.headPosition())
    );
  };
  const apply = (events: RecordedEvent[]): Promise<void> =>
    exclusive(async () => {
      if (builder === undefined) return;
      await builder.append(events);
      unsigned += events.filter((e) => !isCheckpointEvent(e.type)).length;
    });

  return {
    async start() {
      if (loop !== undefined) return;
      builder = await TreeBuilder.open(options.tree);
      // Leaves a previous run (or leader) appended but did not sign are signed by this one.
      unsigned = await unsignedAtStart(builder, options);
      const from = builder.lastPosition === 0n ? 'start' : builder.lastPosition;
      subscription = options.eventStore.subscribeToAll({ from });
      const batches = new Batches(subscription[Symbol.asyncIterator](), BATCH, 20);
      timer = setInterval(() => {
        sign().catch((error: unknown) =>
          options.log?.('error', 'checkpoint signing failed', { error: String(error) }),
        );
      }, options.intervalMs);
      timer.unref();
      loop = (async () => {
        while (!stopped) {
          const batch = await batches.next();
          if (batch.length === 0) return;
          await apply(batch);
          if (unsigned >= options.every && !(await pastBehindHead(batch))) await sign();
        }
      })().catch((error: unknown) => {
        if (stopped) return;
        options.log?.('error', 'transparency log follower stopped', { error: String(error) });
        options.onFailure?.(error);
      });
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      await subscription?.close();
      await loop;
      await queue;
    },
    size: () => builder?.size ?? 0,
    witness: () => witness?.stats(),
    witnesses: () => witness?.each() ?? [],
  };
}

/**
 * Starts the follower of a node that has just become the one signer of its log
 * (the SQLite signer lock, the PostgreSQL leader's advisory lock): refuses with
 * TLOG_UNKNOWN_KEY when this node's note key does not sign the log (any more),
 * with TLOG_LOG_MISMATCH when the log no longer holds the tree's last leaf
 * (logMatch.ts), and leaves nothing running when the start fails.
 */
export async function startSigningFollower(
  options: FollowerOptions,
): Promise<TransparencyFollower> {
  const problem = await noteKeyProblem(
    options.eventStore,
    options.tree,
    options.signer.verifierKey,
  );
  if (problem !== undefined)
    throw new ProvenantError('TLOG_UNKNOWN_KEY', `Not signing: ${problem}`);
  const mismatch = await logMismatch(options.eventStore, options.tree);
  if (mismatch !== undefined)
    throw new ProvenantError('TLOG_LOG_MISMATCH', `Not signing: ${mismatch}`);
  const follower = createTransparencyFollower(options);
  try {
    await follower.start();
  } catch (error) {
    await follower.stop();
    throw error;
  }
  return follower;
}
