// Versioned migrations of the PostgreSQL log (STYLE.md §4), applied by
// src/postgres/migrate.ts under an advisory lock and recorded in
// `log_migrations`. Never edit a released migration: add the next version.
//
// v1: the append-only event table with the same columns and uniqueness rules as
// the SQLite log, lookup keys, the indexes behind filtered `$all` reads, and
// triggers that refuse UPDATE, DELETE and TRUNCATE (DESIGN.md §3). Data and
// metadata are stored as the exact JSON text written (the canonical form the
// content digest covers), not as jsonb, which would reorder keys.
import type { PgMigration } from '../../postgres/index.js';

const v1: PgMigration = {
  version: 1,
  name: 'initial',
  up: `
CREATE TABLE events (
  position           bigint  PRIMARY KEY,
  id                 text    NOT NULL UNIQUE,
  stream             text    NOT NULL,
  revision           integer NOT NULL CHECK (revision >= 0),
  type               text    NOT NULL,
  data               text    NOT NULL,
  metadata           text    NOT NULL,
  content_digest     text    NOT NULL,
  prev_digest        text    NOT NULL,
  recorded_at        text    NOT NULL,
  idempotency_key    text,
  idempotency_digest text,
  UNIQUE (stream, revision)
);
CREATE UNIQUE INDEX events_idempotency_key ON events (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_by_type ON events (type, position);
CREATE INDEX events_by_category ON events ((split_part(stream, '-', 1)), position);

CREATE TABLE event_keys (
  key      text   PRIMARY KEY,
  position bigint NOT NULL REFERENCES events (position)
);

CREATE FUNCTION provenant_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP;
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION provenant_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();
CREATE TRIGGER event_keys_append_only BEFORE UPDATE OR DELETE ON event_keys
  FOR EACH ROW EXECUTE FUNCTION provenant_append_only();
CREATE TRIGGER event_keys_no_truncate BEFORE TRUNCATE ON event_keys
  FOR EACH STATEMENT EXECUTE FUNCTION provenant_append_only();
`,
};

export const logMigrations: readonly PgMigration[] = [v1];

/** The table that records the log's applied migrations. */
export const LOG_MIGRATIONS_TABLE = 'log_migrations';
