// Out-of-sight rebuilds in the SQLite read-model file: a projection is
// replayed into new tables (`rm_next_<table>`, without their secondary indexes)
// while its current tables keep serving; `rm_rebuilds` records each rebuild
// (declaration and checkpoint, so that it survives a restart) and
// `rm_rebuild_dead_letters` the events it parked. Before the swap the new
// tables' indexes are built (`indexTargets`; one per transaction, on a worker
// thread: indexBuild.ts), under names the current tables' indexes do not hold
// (indexes.ts: an index keeps its name through a rename). The swap is then one
// short transaction: drop the current tables, rename the new ones, move the
// checkpoint and the parked events. Every function runs inside the caller's
// transaction.
import { ProvenantError } from '../../errors.js';
import type { Database } from '../../eventStore/sqlite/database.js';
import type { ParkedEventInput, ProjectionSchema, RebuildState, TableDefinition } from '../port.js';
import { shadowTable, shadowTableName } from '../shadow.js';
import type { SQLiteIndexes } from './indexes.js';
import type { IndexTarget } from './indexWorker.js';
import { createTableSql, quote } from './sql.js';
import { PARKED_INSERT_COLUMNS, parkedValues } from '../parked.js';

export interface RebuildContext {
  db: Database.Database;
  stmt: (sql: string) => Database.Statement;
  bigStmt: (sql: string) => Database.Statement;
  indexes: SQLiteIndexes;
  /** The tables the projection's current tables were created with. */
  storedTables: (name: string) => TableDefinition[];
}

interface RebuildRow {
  version: number;
  tables: string;
  position: bigint | null;
}

/** The rebuild operations on one connection. */
export function sqliteRebuilds(c: RebuildContext) {
  const { db, stmt, bigStmt, indexes } = c;

  const rowOf = (name: string): RebuildRow | undefined =>
    bigStmt('SELECT version, tables, position FROM rm_rebuilds WHERE projection = ?').get(name) as
      RebuildRow | undefined;

  const required = (name: string): RebuildRow => {
    const row = rowOf(name);
    if (row === undefined)
      throw new ProvenantError('READ_MODEL_INVALID', `no rebuild of ${name} is under way`);
    return row;
  };

  /** Drops the rebuild's tables and forgets it (and what it parked). */
  const drop = (name: string): void => {
    const row = rowOf(name);
    if (row === undefined) return;
    for (const table of JSON.parse(row.tables) as TableDefinition[])
      db.exec(`DROP TABLE IF EXISTS ${quote(shadowTableName(table.name))}`);
    stmt('DELETE FROM rm_rebuilds WHERE projection = ?').run(name);
    stmt('DELETE FROM rm_rebuild_dead_letters WHERE projection = ?').run(name);
  };

  return {
    drop,

    /** New empty tables for `schema`, without their secondary indexes; any earlier rebuild dropped. */
    begin(schema: ProjectionSchema): void {
      drop(schema.name);
      for (const table of schema.tables) {
        const shadow = shadowTable(table);
        db.exec(`DROP TABLE IF EXISTS ${quote(shadow.name)}`);
        db.exec(createTableSql(shadow));
      }
      stmt(
        'INSERT INTO rm_rebuilds (projection, version, tables, position, started_at) VALUES (?, ?, ?, NULL, ?)',
      ).run(schema.name, schema.version, JSON.stringify(schema.tables), new Date().toISOString());
    },

    state(schema: ProjectionSchema): RebuildState | undefined {
      const row = rowOf(schema.name);
      if (row === undefined) return undefined;
      return {
        version: Number(row.version),
        current:
          Number(row.version) === schema.version && row.tables === JSON.stringify(schema.tables),
        checkpoint: row.position === null ? undefined : BigInt(row.position),
      };
    },

    checkpoint(name: string): bigint | undefined {
      const row = rowOf(name);
      return row?.position === null || row === undefined ? undefined : BigInt(row.position);
    },

    setCheckpoint(name: string, position: bigint): void {
      const info = stmt('UPDATE rm_rebuilds SET position = ? WHERE projection = ?').run(
        position,
        name,
      );
      if (info.changes === 0)
        throw new ProvenantError('READ_MODEL_INVALID', `no rebuild of ${name} is under way`);
    },

    park(entry: ParkedEventInput): number {
      required(entry.projection);
      const info = stmt(
        `INSERT INTO rm_rebuild_dead_letters ${PARKED_INSERT_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(...parkedValues(entry));
      return Number(info.lastInsertRowid);
    },

    /**
     * The rebuild's new tables, whose secondary indexes are built before the
     * swap (indexBuild.ts), under names no index holds (not the current tables').
     */
    indexTargets(name: string): IndexTarget[] {
      return (JSON.parse(required(name).tables) as TableDefinition[]).map((table) => ({
        table,
        on: shadowTableName(table.name),
      }));
    },

    /**
     * The swap: the rebuild's tables (their indexes built on `indexTargets`
     * and renamed with them), checkpoint and parked events replace the current ones.
     */
    complete(name: string): void {
      const row = required(name);
      const tables = JSON.parse(row.tables) as TableDefinition[];
      for (const table of c.storedTables(name))
        db.exec(`DROP TABLE IF EXISTS ${quote(table.name)}`);
      for (const table of tables) {
        db.exec(`DROP TABLE IF EXISTS ${quote(table.name)}`);
        db.exec(`ALTER TABLE ${quote(shadowTableName(table.name))} RENAME TO ${quote(table.name)}`);
        // None is missing, unless the rebuild was begun again since its indexes were built.
        indexes.createMissing(table);
      }
      stmt('DELETE FROM rm_projections WHERE name = ?').run(name);
      stmt('INSERT INTO rm_projections (name, version, tables) VALUES (?, ?, ?)').run(
        name,
        row.version,
        row.tables,
      );
      if (row.position === null) stmt('DELETE FROM rm_checkpoints WHERE projection = ?').run(name);
      else
        stmt(
          'INSERT INTO rm_checkpoints (projection, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (projection) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
        ).run(name, row.position, new Date().toISOString());
      stmt('DELETE FROM rm_dead_letters WHERE projection = ?').run(name);
      stmt(
        'INSERT INTO rm_dead_letters (projection, position, event_id, type, error, attempts, parked_at) SELECT projection, position, event_id, type, error, attempts, parked_at FROM rm_rebuild_dead_letters WHERE projection = ? ORDER BY id',
      ).run(name);
      stmt('DELETE FROM rm_rebuild_dead_letters WHERE projection = ?').run(name);
      stmt('DELETE FROM rm_rebuilds WHERE projection = ?').run(name);
    },
  };
}
