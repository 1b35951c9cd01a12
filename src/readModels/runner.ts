// The projection runner (DESIGN.md §5): every projection follows `$all` from its
// own checkpoint through the event-store port, in batches; one loop reads the
// log once for all of them (loop.ts) and a projection that fails never stops
// the others (sharedBatch.ts). Delivery is at-least-once and
// the checkpoint commits with the batch's changes, so each read model sees each
// event effectively once. The runner shares nothing with the API but the two
// ports: it runs inside the server or as its own process.
import { ProvenantError } from '../errors.js';
import type { EventStore, RecordedEvent } from '../eventStore/types.js';
import { DEFAULT_RETRY, type Log, type RetryPolicy } from './applyBatch.js';
import {
  follow,
  type Loop,
  type LoopOptions,
  type Projection,
  type ProjectionState,
} from './loop.js';
import type { ParkedEvent, ReadModelStore } from './port.js';
import { applyChanges, type PoisonPolicy, type ProjectionDefinition } from './projection.js';
import { applyToAll } from './sharedBatch.js';
import { firstEventId } from './sourceLog.js';

export interface ProjectionStatus {
  name: string;
  version: number;
  /** Last position applied (0 when it never ran). */
  checkpoint: bigint;
  /** Position of the log's last event. */
  head: bigint;
  /** `head - checkpoint`: positions not applied yet (events, on SQLite). */
  lag: bigint;
  parked: number;
  /** Of the loop in this process; `stopped` when this runner has not started it. */
  state: ProjectionState;
  /** The last failure of the loop (kept after it restarts, until the runner restarts it). */
  lastError?: string;
  /** An out-of-sight rebuild under way: the position its new tables reached (0 before the first page). */
  rebuild?: { version: number; checkpoint: bigint };
}

export interface RebuildProgress {
  /** Events read so far. */
  processed: number;
  /** Position reached. */
  position: bigint;
  /** Head position (events, on SQLite): as at the start, read again once the rebuild reaches it. */
  total: bigint;
  /** Events per second since the start. */
  rate: number;
}

export interface RebuildResult {
  processed: number;
  position: bigint;
  /** Events parked, in all the rebuilt projections. */
  parked: number;
  /** Events parked, per rebuilt projection. */
  parkedBy: Record<string, number>;
  durationMs: number;
}

export interface ProjectionRunnerOptions {
  eventStore: EventStore;
  readModels: ReadModelStore;
  projections: readonly ProjectionDefinition[];
  /** Most events per live batch (default 500). */
  batchSize?: number;
  /**
   * Events per page, and per read-model transaction, while catching up or
   * rebuilding, read straight from the log (default 500). Larger pages did not
   * measurably cut the CPU of a rebuild but raised its peak RSS
   * (docs/projections.md, "Costs, measured").
   */
  catchUpBatchSize?: number;
  /** Longest wait for a batch to fill once it has an event (default 50 ms). */
  batchWindowMs?: number;
  retry?: Partial<RetryPolicy>;
  /** First delay before a failed loop restarts from its checkpoint (default 1 s, doubling to 30 s). */
  restartDelayMs?: number;
  /** Default for projections that do not set `onPoison` (default `park`). */
  onPoison?: PoisonPolicy;
  /** Least time between two progress lines of a long catch-up (default 5 s). */
  progressIntervalMs?: number;
  /**
   * How often the live loop looks for a rebuild requested by another process
   * (`ReadModelStore.requestRebuilds`, from `projections rebuild`; default 1 s).
   */
  rebuildPollMs?: number;
  log?: Log;
}

export interface ProjectionRunner {
  /** Creates or upgrades every projection's tables, then starts every loop. */
  start(): Promise<void>;
  /** Ends every loop after its in-flight batch. Idempotent. */
  stop(): Promise<void>;
  status(): Promise<ProjectionStatus[]>;
  /**
   * Rebuilds one read model (every one without a name) out of sight: replays
   * the log from position 0 into new tables, in one read, while the current
   * ones serve (frozen: the loop is stopped meanwhile), then swaps them in
   * and restarts the loop if it ran.
   */
  rebuild(
    name?: string,
    options?: { onProgress?: (p: RebuildProgress) => void },
  ): Promise<RebuildResult>;
  /** Applies one parked event again and removes it from the dead-letter table. */
  retryParked(id: number): Promise<ParkedEvent>;
}

export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  const { eventStore, readModels } = options;
  const batchSize = options.batchSize ?? 500;
  const catchUpBatchSize = options.catchUpBatchSize ?? 500;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const log: Log = options.log ?? (() => undefined);
  const byName = new Map<string, Projection>();
  for (const definition of options.projections) {
    if (byName.has(definition.name))
      throw new ProvenantError(
        'READ_MODEL_INVALID',
        `two projections are named ${definition.name}`,
      );
    byName.set(definition.name, {
      state: 'stopped',
      poisoned: false,
      checkpoint: 0n,
      ctx: {
        readModels,
        definition,
        retry,
        onPoison: definition.onPoison ?? options.onPoison ?? 'park',
        log,
      },
    });
  }
  const loop: Loop = { projections: [...byName.values()], stopping: false };
  let started = false;

  const projectionOf = (name: string): Projection => {
    const projection = byName.get(name);
    if (projection === undefined)
      throw new ProvenantError(
        'READ_MODEL_UNKNOWN_PROJECTION',
        `no projection is named '${name}'`,
        { details: { known: [...byName.keys()] } },
      );
    return projection;
  };

  const loopOptions: LoopOptions = {
    eventStore,
    readModels,
    batchSize,
    batchWindowMs: options.batchWindowMs ?? 50,
    catchUpBatchSize,
    restartDelayMs: options.restartDelayMs ?? 1000,
    progressIntervalMs: options.progressIntervalMs ?? 5000,
    rebuildPollMs: options.rebuildPollMs ?? 1000,
    log,
  };

  const startLoop = (): void => {
    loop.stopping = false;
    for (const projection of loop.projections) {
      projection.state = 'running';
      projection.poisoned = false;
      delete projection.lastError;
    }
    loop.done = follow(loop, loopOptions);
  };

  const stopLoop = async (): Promise<void> => {
    if (loop.done === undefined) return;
    loop.stopping = true;
    loop.wake?.();
    await loop.subscription?.close();
    await loop.done;
    loop.done = undefined;
  };

  /**
   * Replays the log from position 0 into new tables for `targets`, out of
   * sight, in one read; then swaps them in. A failure drops the new tables.
   */
  async function replay(
    targets: readonly Projection[],
    onProgress?: (p: RebuildProgress) => void,
  ): Promise<RebuildResult> {
    const definitions = targets.map((target) => target.ctx.definition);
    for (const definition of definitions) await readModels.beginRebuild(definition);
    const view = readModels.rebuildView(definitions);
    for (const target of targets) {
      target.ctx.readModels = view;
      target.checkpoint = 0n;
      target.poisoned = false;
      target.state = 'stopped';
      delete target.lastError;
    }
    try {
      const result = await replayPages(targets, onProgress);
      // The log's first event (it never changes once there) names the log replayed.
      const first = await firstEventId(eventStore);
      for (const { name } of definitions) {
        await readModels.completeRebuild(name);
        // Replayed from this log: it is theirs now, whatever they were built from before.
        if (first !== undefined) await readModels.setSourceLog(name, first);
      }
      return result;
    } catch (error) {
      for (const { name } of definitions)
        await readModels.abortRebuild(name).catch(() => undefined);
      throw error;
    } finally {
      for (const target of targets) target.ctx.readModels = readModels;
    }
  }

  /** Feeds `targets` the whole log in catch-up pages. */
  async function replayPages(
    targets: readonly Projection[],
    onProgress?: (p: RebuildProgress) => void,
  ): Promise<RebuildResult> {
    const startedAt = Date.now();
    let total = await eventStore.headPosition();
    let processed = 0;
    const parkedBy: Record<string, number> = {};
    for (const { ctx } of targets) parkedBy[ctx.definition.name] = 0;
    let from: bigint | 'start' = 'start';
    for (;;) {
      const page: RecordedEvent[] = await eventStore.readAll({ from, maxCount: catchUpBatchSize });
      const last = page.at(-1);
      if (last === undefined) break;
      const outcomes = await applyToAll(targets, page);
      for (const [index, outcome] of outcomes.entries()) {
        const target = targets[index] as Projection;
        const { name } = target.ctx.definition;
        if (outcome.ok) {
          parkedBy[name] = (parkedBy[name] ?? 0) + outcome.parked;
          continue;
        }
        target.state = 'failed';
        target.lastError = `stopped at position ${outcome.event.position}: ${outcome.error}`;
        throw new ProvenantError('READ_MODEL_INVALID', `rebuild of ${name} ${target.lastError}`);
      }
      processed += page.length;
      from = last.position;
      // Events appended since the start (the API goes on) take the head further.
      if (from >= total) total = await eventStore.headPosition();
      const seconds = Math.max((Date.now() - startedAt) / 1000, 1e-3);
      onProgress?.({ processed, position: from, total, rate: processed / seconds });
      if (page.length < catchUpBatchSize) break;
    }
    return {
      processed,
      position: from === 'start' ? 0n : from,
      parked: Object.values(parkedBy).reduce((sum, n) => sum + n, 0),
      parkedBy,
      durationMs: Date.now() - startedAt,
    };
  }

  return {
    async start() {
      if (started) return;
      started = true;
      for (const { ctx } of loop.projections) {
        const result = await readModels.ensureProjection(ctx.definition);
        const fields = { projection: ctx.definition.name, version: ctx.definition.version };
        if (result === 'rebuilt')
          log(
            'warn',
            'projection tables changed: they were dropped and are rebuilt from the log in place',
            fields,
          );
        else if (result === 'rebuilding')
          log(
            'warn',
            'projection version changed: it is rebuilt from the log out of sight; its current tables serve until the swap',
            fields,
          );
      }
      startLoop();
    },

    async stop() {
      started = false;
      await stopLoop();
    },

    async status() {
      const head = await eventStore.headPosition();
      const out: ProjectionStatus[] = [];
      for (const [name, projection] of byName) {
        const checkpoint = (await readModels.getCheckpoint(name)) ?? 0n;
        const lag = head > checkpoint ? head - checkpoint : 0n;
        // A projection whose last batch filled up reports `running` until the next
        // batch; with nothing left to read it is caught up, whatever it last said,
        // unless its catch-up has not ended (indexes still being built, say).
        const state =
          projection.state === 'running' && lag === 0n && loop.catchingUp !== true
            ? 'caught-up'
            : projection.state;
        const rebuild = await readModels.getRebuild(projection.ctx.definition);
        out.push({
          name,
          version: projection.ctx.definition.version,
          checkpoint,
          head,
          lag,
          parked: (await readModels.listParked(name)).length,
          state,
          ...(projection.lastError === undefined ? {} : { lastError: projection.lastError }),
          ...(rebuild?.current === true
            ? { rebuild: { version: rebuild.version, checkpoint: rebuild.checkpoint ?? 0n } }
            : {}),
        });
      }
      return out;
    },

    async rebuild(name, rebuildOptions = {}) {
      const targets = name === undefined ? loop.projections : [projectionOf(name)];
      const wasRunning = loop.done !== undefined;
      await stopLoop();
      try {
        return await replay(targets, rebuildOptions.onProgress);
      } finally {
        if (wasRunning && started) startLoop();
      }
    },

    async retryParked(id) {
      const parked = await readModels.getParked(id);
      if (parked === undefined)
        throw new ProvenantError('READ_MODEL_PARKED_NOT_FOUND', `no parked event has id ${id}`);
      const { definition } = projectionOf(parked.projection).ctx;
      const [event] = await eventStore.readAll({ from: parked.position - 1n, maxCount: 1 });
      if (event?.id !== parked.eventId)
        throw new ProvenantError(
          'READ_MODEL_PARKED_NOT_FOUND',
          `parked event ${parked.eventId} is not at position ${parked.position} of the log`,
        );
      const changes = await definition.handle([event], readModels);
      // Taken first, in the transaction that applies it: of two retries of one
      // event at once (from two shells, or two processes), one applies it and
      // the other finds it gone and changes nothing.
      await readModels.transaction(async (tx) => {
        if ((await tx.takeParked(id)) === undefined)
          throw new ProvenantError(
            'READ_MODEL_PARKED_NOT_FOUND',
            `no parked event has id ${id}: it was retried meanwhile`,
          );
        await applyChanges(tx, changes);
      });
      return parked;
    },
  };
}
