// One projection's loop: subscribe to `$all` from the checkpoint, apply batch
// after batch, until stopped. A poison event under the `stop` policy ends the
// loop (state `failed`); any other failure (the log or the read-model store
// unavailable, a busy database) is logged and the loop starts again from the
// checkpoint after a growing delay, so a transient fault heals by itself.
import type { EventStore, Subscription } from '../eventStore/types.js';
import { applyBatch, errorText, type BatchContext } from './applyBatch.js';
import { Batches } from './batches.js';

export type ProjectionState = 'running' | 'caught-up' | 'stopped' | 'failed';

export interface LoopOptions {
  eventStore: EventStore;
  batchSize: number;
  batchWindowMs: number;
  /** First delay before restarting after a failure; doubles up to 30 s. */
  restartDelayMs: number;
}

export interface Loop {
  ctx: BatchContext;
  state: ProjectionState;
  lastError?: string;
  stopping: boolean;
  subscription?: Subscription;
  wake?: () => void;
  done?: Promise<void>;
}

const MAX_RESTART_DELAY_MS = 30_000;

/** Follows the log until stopped, or until a poison event stops it. */
async function followOnce(loop: Loop, options: LoopOptions): Promise<'ended' | 'poisoned'> {
  const { name } = loop.ctx.definition;
  const from = (await loop.ctx.readModels.getCheckpoint(name)) ?? 'start';
  if (loop.stopping) return 'ended';
  loop.subscription = options.eventStore.subscribeToAll({ from });
  try {
    const iterator = loop.subscription[Symbol.asyncIterator]();
    const batches = new Batches(iterator, options.batchSize, options.batchWindowMs);
    for (;;) {
      const batch = await batches.next();
      if (batch.length === 0) return 'ended';
      const outcome = await applyBatch(loop.ctx, batch);
      if (!outcome.ok) {
        loop.state = 'failed';
        loop.lastError = `stopped at position ${outcome.event.position} (${outcome.event.type}): ${outcome.error}`;
        return 'poisoned';
      }
      if (!loop.stopping) loop.state = batch.length < options.batchSize ? 'caught-up' : 'running';
    }
  } finally {
    await loop.subscription.close();
    loop.subscription = undefined;
  }
}

/** Runs the loop, restarting it after failures, until `loop.stopping` or a poison stop. */
export async function follow(loop: Loop, options: LoopOptions): Promise<void> {
  let delay = options.restartDelayMs;
  while (!loop.stopping) {
    try {
      if ((await followOnce(loop, options)) === 'poisoned') return;
      if (loop.stopping) break;
      throw new Error('the subscription to $all ended');
    } catch (error) {
      if (loop.stopping) break;
      loop.state = 'failed';
      loop.lastError = errorText(error);
      loop.ctx.log('error', 'projection failed; restarting from its checkpoint', {
        projection: loop.ctx.definition.name,
        error: loop.lastError,
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
    if (!loop.stopping) loop.state = 'running';
  }
  loop.state = 'stopped';
}
