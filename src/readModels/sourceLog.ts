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

/** The id of the log's first event, which names the log (undefined while it is empty). */
export const firstEventId = async (eventStore: EventStore): Promise<string | undefined> =>
  (await eventStore.readAll({ maxCount: 1 }))[0]?.id;

/**
 * Why the projection's read model was not built from this log, or undefined
 * when it was: `recorded` is the first event id it was built from, `log` this
 * log's first event id and head.
 */
async function foreignReadModel(
  log: { firstEventId: string | undefined; head: bigint },
  recorded: string | undefined,
  readModels: ReadModelStore,
  definition: ProjectionDefinition,
): Promise<string | undefined> {
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
  const thisLog = {
    firstEventId: await firstEventId(eventStore),
    head: await eventStore.headPosition(),
  };
  const dropped: string[] = [];
  for (const definition of definitions) {
    const recorded = await readModels.getSourceLog(definition.name);
    const why = await foreignReadModel(thisLog, recorded, readModels, definition);
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
    if (thisLog.firstEventId !== undefined && recorded !== thisLog.firstEventId)
      await readModels.setSourceLog(definition.name, thisLog.firstEventId);
  }
  return dropped;
}
