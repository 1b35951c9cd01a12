// Given/then helpers for projections (STYLE.md; emmett's sqliteProjectionSpec is
// the model): given recorded events, applied by the projection's handler to a
// fresh in-memory read-model store, then the rows of a table.
import assert from 'node:assert/strict';
import type { RecordedEvent, RecordedMetadata } from '../../src/eventStore/types.js';
import {
  applyChanges,
  type ProjectionDefinition,
  type ReadModelStore,
  type Row,
  type TableDefinition,
} from '../../src/readModels/index.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';

let position = 0n;
/** A recorded event for a projection test; positions increase across calls. */
export function recorded<Data>(
  type: string,
  data: Data,
  extra: Partial<Omit<RecordedEvent, 'metadata'>> & { metadata?: Partial<RecordedMetadata> } = {},
): RecordedEvent {
  position += 1n;
  return {
    id: `01EVENT${String(position).padStart(19, '0')}`,
    type,
    stream: 'unit-test',
    revision: Number(position),
    position,
    recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, Number(position))).toISOString(),
    data,
    ...extra,
    metadata: { contentDigest: 'c', prevDigest: 'p', ...extra.metadata },
  };
}

/** A fresh in-memory store with the projection's tables. */
export async function memoryStore(definition: ProjectionDefinition): Promise<ReadModelStore> {
  const store = getSQLiteReadModelStore({ path: ':memory:' });
  await store.ensureProjection(definition);
  return store;
}

/** Applies events as the runner does: the handler sees only `canHandle` types. */
export async function project(
  store: ReadModelStore,
  definition: ProjectionDefinition,
  events: readonly RecordedEvent[],
): Promise<void> {
  const handled = events.filter((e) => definition.canHandle.includes(e.type));
  const changes = handled.length === 0 ? [] : await definition.handle(handled, store);
  await store.transaction((tx) => applyChanges(tx, changes));
}

/** `projectionSpec(def)(given).then(table, rows)`: rows in primary-key order. */
export const projectionSpec =
  (definition: ProjectionDefinition) => (given: RecordedEvent | RecordedEvent[]) => ({
    then: async <R extends Row>(table: TableDefinition<R>, expected: R[]): Promise<void> => {
      const store = await memoryStore(definition);
      try {
        await project(store, definition, Array.isArray(given) ? given : [given]);
        assert.deepStrictEqual((await store.find(table)).rows, expected);
      } finally {
        await store.close();
      }
    },
  });
