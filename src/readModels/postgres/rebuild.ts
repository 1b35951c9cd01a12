// Out-of-sight rebuilds on PostgreSQL: a projection is replayed into new tables
// (`rm_next_<table>`, created without their secondary indexes) while its
// current tables keep serving; `rm_rebuilds` records each rebuild (declaration
// and checkpoint, so that it survives a restart) and `rm_rebuild_dead_letters`
// the events it parked. Before the swap the new tables' indexes are built (in
// a transaction of their own: readers of the current tables do not wait); the
// swap is one transaction: drop the current tables, rename the new tables and
// their indexes, move the checkpoint and the parked events. Readers wait for
// the swap's locks only for as long as it takes (renames, no data copied).
import { ProvenantError } from '../../errors.js';
import type { ParkedEventInput, ProjectionSchema, RebuildState, TableDefinition } from '../port.js';
import { shadowTable, shadowTableName } from '../shadow.js';
import { storedTables, type Connection } from './operations.js';
import { createIndexSql, createTableSql, indexName, quote } from './sql.js';
import { PARKED_INSERT_COLUMNS, parkedValues } from '../parked.js';

interface RebuildRow {
  version: number;
  tables: string;
  position: string | null;
}

const rowOf = async (c: Connection, name: string): Promise<RebuildRow | undefined> => {
  const { rows } = await c.query<RebuildRow>(
    'SELECT version, tables, position::text AS position FROM rm_rebuilds WHERE projection = $1',
    [name],
  );
  return rows[0];
};

const required = async (c: Connection, name: string): Promise<RebuildRow> => {
  const row = await rowOf(c, name);
  if (row === undefined)
    throw new ProvenantError('READ_MODEL_INVALID', `no rebuild of ${name} is under way`);
  return row;
};

/** Drops the rebuild's tables and forgets it (and what it parked). */
export async function dropRebuild(c: Connection, name: string): Promise<void> {
  const row = await rowOf(c, name);
  if (row === undefined) return;
  for (const table of JSON.parse(row.tables) as TableDefinition[])
    await c.query(`DROP TABLE IF EXISTS ${quote(shadowTableName(table.name))}`);
  await c.query('DELETE FROM rm_rebuilds WHERE projection = $1', [name]);
  await c.query('DELETE FROM rm_rebuild_dead_letters WHERE projection = $1', [name]);
}

/** New empty tables for `schema`, without their secondary indexes; any earlier rebuild dropped. */
export async function beginRebuild(c: Connection, schema: ProjectionSchema): Promise<void> {
  await dropRebuild(c, schema.name);
  for (const table of schema.tables) {
    const shadow = shadowTable(table);
    await c.query(`DROP TABLE IF EXISTS ${quote(shadow.name)}`);
    const [create] = createTableSql(shadow);
    if (create !== undefined) await c.query(create);
  }
  await c.query(
    'INSERT INTO rm_rebuilds (projection, version, tables, position) VALUES ($1, $2, $3, NULL)',
    [schema.name, schema.version, JSON.stringify(schema.tables)],
  );
}

export async function rebuildState(
  c: Connection,
  schema: ProjectionSchema,
): Promise<RebuildState | undefined> {
  const row = await rowOf(c, schema.name);
  if (row === undefined) return undefined;
  return {
    version: row.version,
    current: row.version === schema.version && row.tables === JSON.stringify(schema.tables),
    checkpoint: row.position === null ? undefined : BigInt(row.position),
  };
}

export async function rebuildCheckpoint(c: Connection, name: string): Promise<bigint | undefined> {
  const row = await rowOf(c, name);
  return row?.position === null || row === undefined ? undefined : BigInt(row.position);
}

export async function setRebuildCheckpoint(
  c: Connection,
  name: string,
  position: bigint,
): Promise<void> {
  const { rowCount } = await c.query('UPDATE rm_rebuilds SET position = $1 WHERE projection = $2', [
    position.toString(),
    name,
  ]);
  if (rowCount === 0)
    throw new ProvenantError('READ_MODEL_INVALID', `no rebuild of ${name} is under way`);
}

export async function parkInRebuild(c: Connection, entry: ParkedEventInput): Promise<number> {
  await required(c, entry.projection);
  const { rows } = await c.query<{ id: string }>(
    `INSERT INTO rm_rebuild_dead_letters ${PARKED_INSERT_COLUMNS} VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id::text AS id`,
    parkedValues(entry),
  );
  return Number(rows[0]?.id);
}

/** Builds the missing secondary indexes of the rebuild's tables, under their rebuild names. */
export async function buildRebuildIndexes(c: Connection, name: string): Promise<void> {
  const row = await required(c, name);
  for (const table of JSON.parse(row.tables) as TableDefinition[])
    for (const statement of createIndexSql(shadowTable(table))) await c.query(statement);
}

/** The swap: the rebuild's tables, indexes, checkpoint and parked events replace the current ones. */
export async function completeRebuild(c: Connection, name: string): Promise<void> {
  const row = await required(c, name);
  for (const table of await storedTables(c, name))
    await c.query(`DROP TABLE IF EXISTS ${quote(table.name)}`);
  for (const table of JSON.parse(row.tables) as TableDefinition[]) {
    const shadow = shadowTable(table);
    await c.query(`DROP TABLE IF EXISTS ${quote(table.name)}`);
    await c.query(`ALTER TABLE ${quote(shadow.name)} RENAME TO ${quote(table.name)}`);
    // The key's index (and constraint) and the secondary indexes take the names
    // they have when created under the table's own name, so that the next
    // rebuild's new tables can take theirs.
    const { rows } = await c.query<{ name: string }>(
      "SELECT conname AS name FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p'",
      [quote(table.name)],
    );
    const key = rows[0]?.name;
    const keyName = `${table.name.slice(0, 58)}_pkey`;
    if (key !== undefined && key !== keyName)
      await c.query(`ALTER INDEX ${quote(key)} RENAME TO ${quote(keyName)}`);
    for (const index of table.indexes ?? [])
      await c.query(
        `ALTER INDEX IF EXISTS ${quote(indexName(shadow, index))} RENAME TO ${quote(indexName(table, index))}`,
      );
    for (const statement of createIndexSql(table)) await c.query(statement);
  }
  await c.query('DELETE FROM rm_projections WHERE name = $1', [name]);
  await c.query('INSERT INTO rm_projections (name, version, tables) VALUES ($1, $2, $3)', [
    name,
    row.version,
    row.tables,
  ]);
  if (row.position === null)
    await c.query('DELETE FROM rm_checkpoints WHERE projection = $1', [name]);
  else
    await c.query(
      `INSERT INTO rm_checkpoints (projection, position, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
      [name, row.position],
    );
  await c.query('DELETE FROM rm_dead_letters WHERE projection = $1', [name]);
  await c.query(
    `INSERT INTO rm_dead_letters (projection, position, event_id, type, error, attempts, parked_at)
     SELECT projection, position, event_id, type, error, attempts, parked_at
     FROM rm_rebuild_dead_letters WHERE projection = $1 ORDER BY id`,
    [name],
  );
  await c.query('DELETE FROM rm_rebuild_dead_letters WHERE projection = $1', [name]);
  await c.query('DELETE FROM rm_rebuilds WHERE projection = $1', [name]);
}
