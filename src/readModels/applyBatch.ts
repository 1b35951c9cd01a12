// Applies one batch of `$all` events to one projection: the handler's changes
// and the new checkpoint commit in one read-model transaction. When the batch
// fails, its events are applied one at a time, each retried with backoff; an
// event that fails every try is parked in the dead-letter table (in the same
// transaction that moves the checkpoint past it) or stops the projection.
import type { RecordedEvent } from '../eventStore/types.js';
import type { ReadModelTarget } from './port.js';
import { applyChanges, type PoisonPolicy, type ProjectionDefinition } from './projection.js';

export interface RetryPolicy {
  /** Tries per event before it is parked (or the projection stops). */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, initialDelayMs: 10, maxDelayMs: 200 };

export type Log = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface BatchContext {
  /** The store, or a rebuild view of it while the projection is rebuilt out of sight. */
  readModels: ReadModelTarget;
  definition: ProjectionDefinition;
  retry: RetryPolicy;
  onPoison: PoisonPolicy;
  log: Log;
}

/** How a batch ended: applied (some events maybe parked), or stopped at a poison event. */
export type BatchOutcome =
  { ok: true; parked: number } | { ok: false; event: RecordedEvent; error: string };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const errorText = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** Handles `events` and commits their changes with the checkpoint `position`. */
async function commit(
  ctx: BatchContext,
  events: readonly RecordedEvent[],
  position: bigint,
): Promise<void> {
  const changes = events.length === 0 ? [] : await ctx.definition.handle(events, ctx.readModels);
  await ctx.readModels.transaction(async (tx) => {
    await applyChanges(tx, changes);
    await tx.setCheckpoint(ctx.definition.name, position);
  });
}

export async function applyBatch(
  ctx: BatchContext,
  batch: readonly RecordedEvent[],
): Promise<BatchOutcome> {
  const last = batch.at(-1);
  if (last === undefined) return { ok: true, parked: 0 };
  const handled = new Set(ctx.definition.canHandle);
  const relevant = batch.filter((e) => handled.has(e.type));
  try {
    await commit(ctx, relevant, last.position);
    return { ok: true, parked: 0 };
  } catch (error) {
    if (relevant.length > 1)
      ctx.log('warn', 'projection batch failed; applying its events one by one', {
        projection: ctx.definition.name,
        error: errorText(error),
      });
    // The failed batch counts as the first try of a batch of one event.
    return applyOneByOne(ctx, relevant, last.position, relevant.length === 1 ? 1 : 0, error);
  }
}

async function applyOneByOne(
  ctx: BatchContext,
  events: readonly RecordedEvent[],
  lastPosition: bigint,
  firstTriesDone: number,
  firstError: unknown,
): Promise<BatchOutcome> {
  const { definition, retry } = ctx;
  let parked = 0;
  for (const [index, event] of events.entries()) {
    let tries = index === 0 ? firstTriesDone : 0;
    let lastError: unknown = firstError;
    let applied = false;
    while (tries < retry.attempts && !applied) {
      if (tries > 0)
        await sleep(Math.min(retry.initialDelayMs * 2 ** (tries - 1), retry.maxDelayMs));
      tries++;
      try {
        await commit(ctx, [event], event.position);
        applied = true;
      } catch (error) {
        lastError = error;
      }
    }
    if (applied) continue;
    const error = errorText(lastError);
    const where = {
      projection: definition.name,
      position: String(event.position),
      eventId: event.id,
      type: event.type,
      attempts: tries,
      error,
    };
    if (ctx.onPoison === 'stop') {
      ctx.log('error', 'projection stopped at an event its handler cannot apply', where);
      return { ok: false, event, error };
    }
    await ctx.readModels.transaction(async (tx) => {
      await tx.park({
        projection: definition.name,
        position: event.position,
        eventId: event.id,
        type: event.type,
        error,
        attempts: tries,
        parkedAt: new Date().toISOString(),
      });
      await tx.setCheckpoint(definition.name, event.position);
    });
    parked++;
    ctx.log('warn', 'event parked in the dead-letter table', where);
  }
  await ctx.readModels.transaction((tx) => tx.setCheckpoint(definition.name, lastPosition));
  return { ok: true, parked };
}
