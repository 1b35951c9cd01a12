// Read models are derived from one log and never trusted beyond it. Before a
// loop follows the log, it checks that each read model was built from this
// log: the store records, per projection, the id of the log's first event
// (`setSourceLog`), and no projection may have applied a position the log does
// not reach. A log restored from an older copy (its head behind the read
// models), or another log under the same read models (a wrong
// PROVENANT_SQLITE_PATH, a shared PostgreSQL schema), fails one of the two:
// that read model is dropped, with a warning, and rebuilds from the log.
// Otherwise it would answer with events the log does not hold, and never
// apply the new ones.
import type { EventStore } from '../eventStore/types.js';
import type { Log } from './applyBatch.js';
import type { ReadModelStore } from './port.js';
import type { ProjectionDefinition } from './projection.js';

/** The id of the log's first event and its head position. */
export interface LogIdentity {
  firstEventId: string | undefined;
  head: bigint;
}

export async function logIdentity(eventStore: EventStore): Promise<LogIdentity> {
  const [first] = await eventStore.readAll({ maxCount: 1 });
  return { firstEventId: first?.id, head: await eventStore.headPosition() };
}

/** Why the projection's read model was not built from the log, or undefined when it was. */
export async function foreignReadModel(
  log: LogIdentity,
  readModels: ReadModelStore,
  definition: ProjectionDefinition,
): Promise<string | undefined> {
  const recorded = await readModels.getSourceLog(definition.name);
  if (recorded !== undefined && recorded !== log.firstEventId)
    return `it was built from a log whose first event is ${recorded}, but this log's first event is ${log.firstEventId ?? 'none (it is empty)'}: another log`;
  const applied = [
    (await readModels.getCheckpoint(definition.name)) ?? 0n,
    (await readModels.getRebuild(definition))?.checkpoint ?? 0n,
  ].reduce((a, b) => (a > b ? a : b));
  if (applied > log.head)
    return `it applied the log up to position ${applied}, but the log ends at ${log.head}: the log was truncated, restored from an older copy, or replaced`;
  return undefined;
}

/**
 * Drops (and creates again, empty) each read model of `definitions` that was
 * not built from this log, and records the log as the source of every one.
 * Returns the names dropped: they replay from position 0.
 */
export async function dropForeignReadModels(
  eventStore: EventStore,
  readModels: ReadModelStore,
  definitions: readonly ProjectionDefinition[],
  log: Log,
): Promise<string[]> {
  const identity = await logIdentity(eventStore);
  const dropped: string[] = [];
  for (const definition of definitions) {
    const why = await foreignReadModel(identity, readModels, definition);
    if (why !== undefined) {
      log(
        'warn',
        `read model ${definition.name} is not trusted: ${why}; it rebuilds from the log`,
        {
          projection: definition.name,
        },
      );
      await readModels.dropProjection(definition.name);
      await readModels.ensureProjection(definition);
      dropped.push(definition.name);
    }
    // Recorded after the drop: a crash between the two finds the same mismatch again.
    const { firstEventId } = identity;
    if (
      firstEventId !== undefined &&
      (await readModels.getSourceLog(definition.name)) !== firstEventId
    )
      await readModels.setSourceLog(definition.name, firstEventId);
  }
  return dropped;
}
