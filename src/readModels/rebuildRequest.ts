// A rebuild asked of the runner of another process (`projections rebuild`
// while a server with inline projections, or a `projections run`, runs them):
// this process begins the out-of-sight rebuilds (`requestRebuilds`: new empty
// tables, recorded in the store), the runner that holds the projections sees
// them within its `rebuildPollMs`, replays the log into them and swaps them
// in, as it finishes a rebuild cut short. This process only watches the
// recorded rebuilds until none is left. Nothing is stopped: the current tables
// serve meanwhile, and the runner keeps the log's Merkle tree and the other
// read models as before.
import { ProvenantError } from '../errors.js';
import type { EventStore } from '../eventStore/types.js';
import type { ReadModelStore } from './port.js';
import type { ProjectionDefinition } from './projection.js';

export interface RequestedRebuildProgress {
  /** The lowest position the requested rebuilds' new tables reached (0 before the first page). */
  position: bigint;
  /** The log's head position. */
  total: bigint;
  /** Positions per second since the first look. */
  rate: number;
}

export interface RequestedRebuildResult {
  /** The projections whose rebuild this call began. */
  requested: string[];
  /** Those found rebuilding already (begun by a version change, or another request): waited for too. */
  joined: string[];
  /** Every projection's checkpoint once its rebuild swapped in. */
  checkpoints: Record<string, bigint>;
  /** Events parked, per projection, once its rebuild swapped in (the rebuild's own). */
  parkedBy: Record<string, number>;
  durationMs: number;
}

export interface RequestRebuildOptions {
  eventStore: EventStore;
  readModels: ReadModelStore;
  definitions: readonly ProjectionDefinition[];
  /** Called at each look while rebuilds are pending, and once more when every one has swapped in. */
  onProgress?: (p: RequestedRebuildProgress) => void;
  /** A rebuild not moving for this long gets `onStalled` (once per stall; default 5 min). */
  stallMs?: number;
  onStalled?: (projection: string, position: bigint) => void;
  /** Longest wait for a runner to take the request: its first page (default 30 s). */
  takeMs?: number;
  /** How often the recorded rebuilds are read (default 500 ms). */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Requests the rebuilds of `definitions` from the runner of another process
 * and waits until every one has swapped in. READ_MODEL_REBUILD_NOT_TAKEN when
 * no runner has replayed a first page into any of them within `takeMs`: the
 * requests stay recorded, and a runner does them once it is live (a runner
 * catching up looks for them only then), or the next runner to start (or one
 * that takes the lock over).
 */
export async function requestRebuilds(
  options: RequestRebuildOptions,
): Promise<RequestedRebuildResult> {
  const { eventStore, readModels, definitions } = options;
  const stallMs = options.stallMs ?? 300_000;
  const takeMs = options.takeMs ?? 30_000;
  const pollMs = options.pollMs ?? 500;
  const startedAt = Date.now();
  // All in one transaction: a runner that sees the first sees them all, and replays the log once.
  const requested = await readModels.requestRebuilds(definitions);
  const joined = definitions.map((d) => d.name).filter((name) => !requested.includes(name));

  let taken = false;
  let first: bigint | undefined;
  let lowest: bigint | undefined;
  let movedAt = Date.now();
  let stalled = false;
  for (;;) {
    const pending: { name: string; position: bigint }[] = [];
    for (const definition of definitions) {
      const rebuild = await readModels.getRebuild(definition);
      if (rebuild === undefined) continue;
      if (rebuild.checkpoint !== undefined) taken = true;
      pending.push({ name: definition.name, position: rebuild.checkpoint ?? 0n });
    }
    const [slowest] = pending.sort((a, b) => (a.position < b.position ? -1 : 1));
    if (slowest === undefined) break;
    if (lowest === undefined || slowest.position > lowest) {
      lowest = slowest.position;
      movedAt = Date.now();
      stalled = false;
    }
    if (!taken && Date.now() - startedAt > takeMs)
      throw new ProvenantError(
        'READ_MODEL_REBUILD_NOT_TAKEN',
        `no runner has begun the rebuild of ${pending.map((p) => p.name).join(', ')} within ${Math.round(takeMs / 1000)} s: it stays requested, for the runner to begin once it has caught up with the log, or for the next runner to start on these read models ('projections status' shows it)`,
      );
    if (!stalled && Date.now() - movedAt > stallMs) {
      stalled = true;
      options.onStalled?.(slowest.name, slowest.position);
    }
    first ??= slowest.position;
    const seconds = Math.max((Date.now() - startedAt) / 1000, 1e-3);
    options.onProgress?.({
      position: slowest.position,
      total: await eventStore.headPosition(),
      rate: Number(slowest.position - first) / seconds,
    });
    await sleep(pollMs);
  }

  const checkpoints: Record<string, bigint> = {};
  const parkedBy: Record<string, number> = {};
  for (const { name } of definitions) {
    checkpoints[name] = (await readModels.getCheckpoint(name)) ?? 0n;
    parkedBy[name] = (await readModels.listParked(name)).length;
  }
  // A last report where every one swapped in (the lowest of their checkpoints).
  const swappedAt = Object.values(checkpoints).reduce<bigint | undefined>(
    (low, c) => (low === undefined || c < low ? c : low),
    undefined,
  );
  if (swappedAt !== undefined) {
    const seconds = Math.max((Date.now() - startedAt) / 1000, 1e-3);
    options.onProgress?.({
      position: swappedAt,
      total: swappedAt,
      rate: Number(swappedAt - (first ?? 0n)) / seconds,
    });
  }
  return { requested, joined, checkpoints, parkedBy, durationMs: Date.now() - startedAt };
}
