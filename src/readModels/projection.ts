// What a projection is (STYLE.md "A projection is a small definition"): a name
// and version, the tables it owns, the event types it handles and a handler
// that turns a batch of those events into read-model changes. The handler
// reads the committed state through `ctx` and returns changes; it never writes,
// so the runner can retry it, split a batch, or replay it from position 0.
import type { RecordedEvent } from '../eventStore/types.js';
import type {
  ProjectionSchema,
  ReadModelReader,
  ReadModelTransaction,
  Row,
  TableDefinition,
} from './port.js';

/** One change to a read-model table. */
export type ReadModelChange =
  | { kind: 'upsert'; table: TableDefinition; row: Row }
  | { kind: 'update'; table: TableDefinition; key: Row; patch: Row }
  | { kind: 'delete'; table: TableDefinition; key: Row };

export const upsert = <R extends Row>(table: TableDefinition<R>, row: R): ReadModelChange => ({
  kind: 'upsert',
  table: table as unknown as TableDefinition,
  row,
});

export const update = <R extends Row>(
  table: TableDefinition<R>,
  key: Partial<R>,
  patch: Partial<R>,
): ReadModelChange => ({
  kind: 'update',
  table: table as unknown as TableDefinition,
  key: key,
  patch: patch,
});

export const remove = <R extends Row>(
  table: TableDefinition<R>,
  key: Partial<R>,
): ReadModelChange => ({
  kind: 'delete',
  table: table as unknown as TableDefinition,
  key: key,
});

/** What to do with an event whose handler fails every retry. */
export type PoisonPolicy = 'park' | 'stop';

/** A read model: tables plus a pure handler. */
export interface ProjectionDefinition extends ProjectionSchema {
  /** Event types the handler sees; the checkpoint still advances over every event. */
  canHandle: readonly string[];
  /**
   * Turns events (in `$all` order, only of `canHandle` types) into changes.
   * `ctx` reads the committed state as it was before these events.
   */
  handle(
    events: readonly RecordedEvent[],
    ctx: ReadModelReader,
  ): Promise<ReadModelChange[]> | ReadModelChange[];
  /** Defaults to the runner's policy (`park`). */
  onPoison?: PoisonPolicy;
}

/** Declares a projection (checks its shape at compile time). */
export const defineProjection = (definition: ProjectionDefinition): ProjectionDefinition =>
  definition;

/** Applies changes, in order, inside a transaction. */
export async function applyChanges(
  tx: ReadModelTransaction,
  changes: readonly ReadModelChange[],
): Promise<void> {
  for (const change of changes) {
    if (change.kind === 'upsert') await tx.upsert(change.table, change.row);
    else if (change.kind === 'update') await tx.update(change.table, change.key, change.patch);
    else await tx.delete(change.table, change.key);
  }
}
