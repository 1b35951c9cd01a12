// The runner's loop: from the lowest checkpoint of the projections it feeds, it
// first catches up in large pages read straight from the log (one read-model
// transaction per page: a rebuild is a bulk load), then follows ONE
// subscription to `$all` cut into small batches; each batch goes to every
// projection (sharedBatch.ts), so the log is read once however many read models
// there are. A poison event under the `stop` policy ends that projection only
// (state `failed`); any other failure (the log or the read-model store
// unavailable, a busy database) is logged and the loop starts again from the
// checkpoints after a growing delay, so a transient fault heals by itself.
// A projection with an out-of-sight rebuild under way (its version changed, or
// a rebuild was cut short) is caught up into its rebuild's tables, which swap
// in before the loop goes live. Read models not built from this log (another
// log, or one behind them) are dropped first and replay (sourceLog.ts).
import type { EventStore, RecordedEvent, Subscription } from '../eventStore/types.js';
import { errorText, type BatchContext, type Log } from './applyBatch.js';
import { Batches } from './batches.js';
import type { ReadModelStore } from './port.js';
import { applyToAll, type Follower } from './sharedBatch.js';
import { dropForeignReadModels } from './sourceLog.js';

export type ProjectionState = 'running' | 'caught-up' | 'stopped' | 'failed';

export interface LoopOptions {
  eventStore: EventStore;
  readModels: ReadModelStore;
  /** Most events per live batch. */
  batchSize: number;
  batchWindowMs: number;
  /** Events per page (and per read-model transaction) while catching up. */
  catchUpBatchSize: number;
  /** First delay before restarting after a failure; doubles up to 30 s. */
  restartDelayMs: number;
  /** Least time between two `projections catching up` lines of a long catch-up. */
  progressIntervalMs: number;
  /** How often the live loop looks for a rebuild requested by another process (`requestRebuilds`). */
  rebuildPollMs: number;
  log: Log;
}

/** One projection as the loop feeds it. */
export interface Projection extends Follower {
  ctx: BatchContext;
  state: ProjectionState;
  lastError?: string;
  /** Stopped at a poison event (policy `stop`): the loop no longer feeds it. */
  poisoned: boolean;
}

/** The loop and what it feeds. */
export interface Loop {
  projections: readonly Projection[];
  stopping: boolean;
  /**
   * From the start of a catch-up to its end, swaps and deferred index builds
   * included (these no longer hold up reads): no projection is `caught-up` meanwhile.
   */
  catchingUp?: boolean;
  subscription?: Subscription;
  wake?: () => void;
  done?: Promise<void>;
}

const MAX_RESTART_DELAY_MS = 30_000;

const fed = (loop: Loop): Projection[] => loop.projections.filter((p) => !p.poisoned);

/**
 * Applies one batch to the projections still fed and records how each ended;
 * false when none is left to feed.
 */
async function applyAndRecord(
  loop: Loop,
  batch: readonly RecordedEvent[],
  full: boolean,
): Promise<boolean> {
  const projections = fed(loop);
  if (projections.length === 0) return false;
  const outcomes = await applyToAll(projections, batch);
  for (const [index, projection] of projections.entries()) {
    const outcome = outcomes[index];
    if (outcome?.ok === false) {
      projection.poisoned = true;
      projection.state = 'failed';
      projection.lastError = `stopped at position ${outcome.event.position} (${outcome.event.type}): ${outcome.error}`;
    } else if (!loop.stopping)
      projection.state = full || loop.catchingUp === true ? 'running' : 'caught-up';
  }
  return true;
}

/**
 * Points every projection at the store, or at a view of it where the
 * projections with a rebuild under way write their rebuild's tables; returns
 * those. A rebuild begun under another declaration (by other code) is dropped.
 */
async function routeRebuilds(loop: Loop, options: LoopOptions): Promise<Projection[]> {
  const { readModels } = options;
  const rebuilding: Projection[] = [];
  for (const projection of fed(loop)) {
    const { definition } = projection.ctx;
    const rebuild = await readModels.getRebuild(definition);
    if (rebuild?.current === true) rebuilding.push(projection);
    else if (rebuild !== undefined) {
      options.log('warn', 'dropping a rebuild begun under another declaration', {
        projection: definition.name,
        version: rebuild.version,
      });
      await readModels.abortRebuild(definition.name);
    }
  }
  const target =
    rebuilding.length === 0
      ? readModels
      : readModels.rebuildView(rebuilding.map((p) => p.ctx.definition));
  for (const projection of loop.projections) projection.ctx.readModels = target;
  if (rebuilding.length > 0)
    options.log('info', 'rebuilding out of sight: the current tables serve until the swap', {
      projections: rebuilding.map((p) => p.ctx.definition.name),
    });
  return rebuilding;
}

/**
 * The log lines of a long catch-up (a read-model file rebuilt at start, a
 * projection added to a large log): at most one per `progressIntervalMs`, with
 * the position reached, the head, the rate and the time left; then one when it
 * ends. A catch-up shorter than the interval logs nothing. The time left is
 * the share of the positions still to go (SQL positions count events, KurrentDB's
 * are offsets: a share means the same for both).
 */
async function catchUpProgress(options: LoopOptions, start: bigint) {
  const startedAt = Date.now();
  let loggedAt = startedAt;
  let logged = false;
  let head = await options.eventStore.headPosition();
  let events = 0;
  const fields = (position: bigint, now: number) => {
    const seconds = Math.max((now - startedAt) / 1000, 1e-3);
    const share = position > start ? Number(head - position) / Number(position - start) : 0;
    return {
      position: position.toString(),
      head: head.toString(),
      events,
      eventsPerSecond: Math.round(events / seconds),
      etaSeconds: Math.round(seconds * Math.max(share, 0)),
    };
  };
  return {
    async applied(count: number, position: bigint): Promise<void> {
      events += count;
      const now = Date.now();
      if (now - loggedAt < options.progressIntervalMs) return;
      loggedAt = now;
      logged = true;
      // Events appended meanwhile take the head further.
      if (position >= head) head = await options.eventStore.headPosition();
      options.log('info', 'projections catching up', fields(position, now));
    },
    done(position: bigint): void {
      if (!logged) return;
      const { eventsPerSecond } = fields(position, Date.now());
      options.log('info', 'projections caught up', {
        position: position.toString(),
        events,
        eventsPerSecond,
        seconds: Math.round((Date.now() - startedAt) / 1000),
      });
    },
  };
}

/**
 * While the loop is live: looks every `rebuildPollMs` for a rebuild of a fed
 * projection (begun by `projections rebuild` in another process) and, when it
 * finds one, ends the subscription, so that the loop starts again at once and
 * catches the rebuild up (`routeRebuilds`). `requested()` tells why it ended.
 */
function watchRebuildRequests(loop: Loop, options: LoopOptions) {
  let requested = false;
  let timer: NodeJS.Timeout | undefined;
  const look = async (): Promise<void> => {
    for (const { ctx } of fed(loop)) {
      const rebuild = await options.readModels.getRebuild(ctx.definition);
      if (rebuild?.current !== true) continue;
      requested = true;
      options.log('info', 'a rebuild was requested: catching it up', {
        projection: ctx.definition.name,
      });
      await loop.subscription?.close();
      return;
    }
    schedule();
  };
  const schedule = (): void => {
    // A failed look is the loop's to see: its next read of the store fails as well.
    timer = setTimeout(() => void look().catch(schedule), options.rebuildPollMs);
    timer.unref();
  };
  schedule();
  return {
    requested: () => requested,
    stop: () => clearTimeout(timer),
  };
}

/** Follows the log until stopped, or until no projection is left to feed. */
async function followOnce(
  loop: Loop,
  options: LoopOptions,
): Promise<'ended' | 'none-left' | 'rebuild-requested'> {
  loop.catchingUp = true;
  // Read models built from another log, or ahead of this one, are dropped and replay.
  await dropForeignReadModels(
    options.eventStore,
    options.readModels,
    fed(loop).map((p) => p.ctx.definition),
    options.log,
  );
  const rebuilding = await routeRebuilds(loop, options);
  let from = -1n;
  for (const projection of fed(loop)) {
    const { readModels, definition } = projection.ctx;
    const checkpoint = await readModels.getCheckpoint(definition.name);
    // Never run (new tables, or a read-model file rebuilt): a bulk load from position 0.
    if (checkpoint === undefined) await readModels.deferIndexes(definition.name);
    projection.checkpoint = checkpoint ?? 0n;
    if (from < 0n || projection.checkpoint < from) from = projection.checkpoint;
  }
  if (from < 0n) return 'none-left';
  // Catch-up: large pages, until one comes back short (the head is near).
  const progress = await catchUpProgress(options, from);
  for (;;) {
    if (loop.stopping) return 'ended';
    const page = await options.eventStore.readAll({
      from: from === 0n ? 'start' : from,
      maxCount: options.catchUpBatchSize,
    });
    const last = page.at(-1);
    if (last !== undefined) {
      if (!(await applyAndRecord(loop, page, page.length === options.catchUpBatchSize)))
        return 'none-left';
      from = last.position;
      await progress.applied(page.length, from);
    }
    if (page.length < options.catchUpBatchSize) break;
  }
  progress.done(from);
  // Rebuilds that reached the head swap in (a projection stopped at a poison event stays behind).
  for (const projection of rebuilding) {
    if (projection.poisoned) continue;
    await options.readModels.completeRebuild(projection.ctx.definition.name);
    options.log('info', 'rebuilt out of sight and swapped in', {
      projection: projection.ctx.definition.name,
      position: String(projection.checkpoint),
    });
  }
  for (const projection of loop.projections) projection.ctx.readModels = options.readModels;
  // Indexes deferred by a bulk load (this one, or one killed midway) are built once, now.
  for (const { ctx } of fed(loop)) await ctx.readModels.buildIndexes(ctx.definition.name);
  loop.catchingUp = false;
  if (loop.stopping) return 'ended';
  // Live: one subscription, small batches.
  loop.subscription = options.eventStore.subscribeToAll({ from: from === 0n ? 'start' : from });
  const watch = watchRebuildRequests(loop, options);
  try {
    const iterator = loop.subscription[Symbol.asyncIterator]();
    const batches = new Batches(iterator, options.batchSize, options.batchWindowMs);
    for (;;) {
      const batch = await batches.next();
      if (batch.length === 0) return watch.requested() ? 'rebuild-requested' : 'ended';
      if (!(await applyAndRecord(loop, batch, batch.length === options.batchSize)))
        return 'none-left';
    }
  } finally {
    watch.stop();
    await loop.subscription.close();
    loop.subscription = undefined;
  }
}

/** Runs the loop, restarting it after failures, until `loop.stopping` or no projection is left. */
export async function follow(loop: Loop, options: LoopOptions): Promise<void> {
  let delay = options.restartDelayMs;
  while (!loop.stopping) {
    try {
      const ended = await followOnce(loop, options);
      if (ended === 'none-left') return;
      if (loop.stopping) break;
      if (ended === 'rebuild-requested') continue; // at once: not a failure
      throw new Error('the subscription to $all ended');
    } catch (error) {
      if (loop.stopping) break;
      const projections = fed(loop);
      for (const projection of projections) {
        projection.state = 'failed';
        projection.lastError = errorText(error);
      }
      options.log('error', 'projections failed; each restarting from its checkpoint', {
        projections: projections.map((p) => p.ctx.definition.name),
        error: errorText(error),
        restartInMs: delay,
      });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      loop.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    loop.wake = undefined;
    delay = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
    if (!loop.stopping) for (const projection of fed(loop)) projection.state = 'running';
  }
  for (const projection of fed(loop)) projection.state = 'stopped';
  for (const projection of loop.projections) projection.ctx.readModels = options.readModels;
}
