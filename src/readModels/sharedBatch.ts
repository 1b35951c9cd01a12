// One batch of `$all` applied to every projection that follows the log together
// (DESIGN.md §5): each handler gets the events after its own checkpoint, of the
// types it handles, and every projection's changes and new checkpoint commit in
// ONE read-model transaction. When anything in that fails, each projection takes
// the batch on its own (applyBatch: retries, then parking or stopping), so a
// projection that fails never holds the others back.
import type { RecordedEvent } from '../eventStore/types.js';
import { applyBatch, type BatchContext, type BatchOutcome } from './applyBatch.js';
import { applyChanges, type ReadModelChange } from './projection.js';

/** A projection following the log, with the last position it has applied. */
export interface Follower {
  ctx: BatchContext;
  checkpoint: bigint;
}

/** The events of `batch` that `follower` has not applied yet. */
const unseen = (follower: Follower, batch: readonly RecordedEvent[]): readonly RecordedEvent[] =>
  batch.filter((event) => event.position > follower.checkpoint);

/**
 * Applies `batch` to every follower behind its last event; returns each one's
 * outcome (in `followers` order) and moves the checkpoints of those applied.
 */
export async function applyToAll(
  followers: readonly Follower[],
  batch: readonly RecordedEvent[],
): Promise<BatchOutcome[]> {
  const last = batch.at(-1);
  const [first] = followers;
  if (last === undefined || first === undefined)
    return followers.map(() => ({ ok: true, parked: 0 }));
  const behind = followers.filter((f) => f.checkpoint < last.position);
  let outcomes: Map<Follower, BatchOutcome>;
  try {
    const changes: ReadModelChange[][] = [];
    for (const { ctx, checkpoint } of behind) {
      const handled = new Set(ctx.definition.canHandle);
      const events = batch.filter((e) => e.position > checkpoint && handled.has(e.type));
      changes.push(events.length === 0 ? [] : await ctx.definition.handle(events, ctx.readModels));
    }
    // Every follower shares the runner's store: one transaction for all of them.
    await first.ctx.readModels.transaction(async (tx) => {
      for (const [index, { ctx }] of behind.entries()) {
        await applyChanges(tx, changes[index] ?? []);
        await tx.setCheckpoint(ctx.definition.name, last.position);
      }
    });
    outcomes = new Map(behind.map((f) => [f, { ok: true, parked: 0 }]));
  } catch {
    outcomes = new Map();
    for (const follower of behind)
      outcomes.set(follower, await applyBatch(follower.ctx, unseen(follower, batch)));
  }
  return followers.map((follower) => {
    const outcome = outcomes.get(follower) ?? { ok: true, parked: 0 };
    if (outcome.ok && follower.checkpoint < last.position) follower.checkpoint = last.position;
    return outcome;
  });
}
