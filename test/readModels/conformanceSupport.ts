// What the read-model conformance suites share: the harness, a test table of
// every column type under unique names, and store helpers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  defineProjection,
  defineTable,
  upsert,
  type ProjectionDefinition,
  type ProjectionSchema,
  type ReadModelStore,
  type TableDefinition,
} from '../../src/readModels/index.js';

export interface ReadModelHarness {
  /** A store to test, called once per test. */
  createStore(): Promise<ReadModelStore>;
  /** Opens the same database again after `store` was closed. */
  reopen?(store: ReadModelStore): Promise<ReadModelStore>;
  /**
   * The secondary indexes the database holds on `table` (from its catalog),
   * each as its columns joined by ',', sorted. Not their names: SQLite's
   * alternate from one rebuild to the next.
   */
  indexesOf(store: ReadModelStore, table: string): Promise<string[]>;
  /** Runs one SQL statement on the store's database, behind its back (to break it). */
  exec(store: ReadModelStore, sql: string): Promise<void>;
}

export interface ThingRow extends Record<string, unknown> {
  id: string;
  seq: number;
  score: number | null;
  flag: boolean | null;
  tags: unknown;
  owner: string | null;
}

export const uniqueName = (): string => `t_${randomBytes(5).toString('hex')}`;

export function schema(version = 1): {
  schema: ProjectionSchema;
  things: TableDefinition<ThingRow>;
} {
  const name = uniqueName();
  const things = defineTable<ThingRow>({
    name: `${name}_things`,
    columns: {
      id: 'TEXT',
      seq: 'INTEGER',
      score: 'REAL',
      flag: 'BOOLEAN',
      tags: 'JSON',
      owner: 'TEXT',
    },
    primaryKey: ['id'],
    indexes: [['owner'], ['seq']],
  });
  return { schema: { name, version, tables: [things] }, things };
}

export const row = (id: string, seq: number, extra: Partial<ThingRow> = {}): ThingRow => ({
  id,
  seq,
  score: null,
  flag: null,
  tags: null,
  owner: null,
  ...extra,
});

/** A projection of `s` (at `version`): a row `e<position>`, seq = position, for every `T.v1` event. */
export const positionsProjection = (
  s: ReturnType<typeof schema>,
  version = 1,
): ProjectionDefinition =>
  defineProjection({
    name: s.schema.name,
    version,
    tables: [s.things],
    canHandle: ['T.v1'],
    handle: (events) =>
      Promise.resolve(
        events.map((e) => upsert(s.things, row(`e${e.position}`, Number(e.position)))),
      ),
  });

export { hasCode } from '../support/errors.js';

/** `withStore(fn)` and `withTable(fn)` on stores from `harness`, closed after `fn`. */
export function storeHelpers(harness: ReadModelHarness) {
  const withStore = async (fn: (store: ReadModelStore) => Promise<void>): Promise<void> => {
    const store = await harness.createStore();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  /** A store with a fresh projection's tables created. */
  const withTable = (fn: (store: ReadModelStore, s: ReturnType<typeof schema>) => Promise<void>) =>
    withStore(async (store) => {
      const s = schema();
      assert.equal(await store.ensureProjection(s.schema), 'created');
      await fn(store, s);
    });
  return { withStore, withTable };
}
