// Applies pending migrations to a SQLite database.
import type Database from 'better-sqlite3';
import { ProvenantError } from '../../errors.js';
import { migrations as allMigrations, type Migration } from './migrations/index.js';

export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = allMigrations,
): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`);
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
    v: number | null;
  };
  const current = row.v ?? 0;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest)
    throw new ProvenantError(
      'STORE_CONFIGURATION',
      `Database schema is at version ${current}, newer than this Provenant (${latest}); upgrade Provenant`,
    );
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.up);
      record.run(migration.version, migration.name, new Date().toISOString());
    }).immediate();
  }
  return latest;
}
