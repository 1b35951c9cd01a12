// Versioned migrations for PostgreSQL (STYLE.md §4): each is a numbered SQL text,
// applied in order, each in its own transaction, and recorded in a table of its
// own per component (the log, the read models). The whole run holds a
// session-level advisory lock, so two nodes that start together apply each
// migration once: the second waits, then finds nothing left to do. A database
// whose schema is newer than this code is refused with POSTGRES_SCHEMA_NEWER.
import { ProvenantError } from '../errors.js';
import { lockKey, quoteSchema, type Pool } from './pool.js';

export interface PgMigration {
  version: number;
  name: string;
  up: string;
}

export interface MigrateOptions {
  schema: string;
  /** Table recording the applied versions, e.g. `log_migrations`. */
  table: string;
  /** What is migrated, for messages (e.g. `event log`). */
  component: string;
  migrations: readonly PgMigration[];
}

/** Applies the pending migrations; returns the schema version now in force. */
export async function migrate(pool: Pool, options: MigrateOptions): Promise<number> {
  const { schema, table, component, migrations } = options;
  const quoted = quoteSchema(schema);
  const key = lockKey(schema, `migrate:${table}`);
  const client = await pool.connect();
  let locked = false;
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`).catch((error: unknown) => {
      // Two nodes creating the schema at once: one wins, the other sees a duplicate.
      if ((error as { code?: string }).code !== '23505') throw error;
    });
    await client.query('SELECT pg_advisory_lock($1)', [key]);
    locked = true;
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.${table} (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${quoted}.${table}`,
    );
    const current = rows[0]?.v ?? 0;
    const latest = migrations.at(-1)?.version ?? 0;
    if (current > latest)
      throw new ProvenantError(
        'POSTGRES_SCHEMA_NEWER',
        `The ${component} schema in PostgreSQL (${schema}) is at version ${current}, newer than this Provenant's ${latest}: upgrade Provenant (it refuses to start rather than write to a schema it does not know)`,
        { details: { component, schema, databaseVersion: current, codeVersion: latest } },
      );
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL search_path = ${quoted}`);
        await client.query(migration.up);
        await client.query(`INSERT INTO ${quoted}.${table} (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }
    return latest;
  } finally {
    if (locked) await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
    client.release();
  }
}

/**
 * `migrate` once for the life of a pool: the first call migrates, later calls
 * share its promise. A failure is tried again at the next call (the server may
 * be back), except a schema newer than the code (POSTGRES_SCHEMA_NEWER), which
 * is final.
 */
export function migrateOnce(pool: Pool, options: MigrateOptions): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= migrate(pool, options).then(
      () => undefined,
      (error: unknown) => {
        if (!(error instanceof ProvenantError && error.code === 'POSTGRES_SCHEMA_NEWER'))
          done = undefined;
        throw error;
      },
    );
    return done;
  };
}
