// v1: the append-only event table, its uniqueness rules and the guards that make
// UPDATE and DELETE abort (DESIGN.md §3).
export const version = 1;
export const name = 'initial';
export const up = `
CREATE TABLE events (
  position           INTEGER PRIMARY KEY,
  id                 TEXT    NOT NULL UNIQUE,
  stream             TEXT    NOT NULL,
  revision           INTEGER NOT NULL CHECK (revision >= 0),
  type               TEXT    NOT NULL,
  data               TEXT    NOT NULL,
  metadata           TEXT    NOT NULL,
  content_digest     TEXT    NOT NULL,
  prev_digest        TEXT    NOT NULL,
  recorded_at        TEXT    NOT NULL,
  idempotency_key    TEXT,
  idempotency_digest TEXT,
  UNIQUE (stream, revision)
) STRICT;

-- Only events derived from a CloudEvent carry a key; index just those.
CREATE UNIQUE INDEX events_idempotency_key ON events (idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
  SELECT RAISE(ABORT, 'events are append-only: UPDATE is not allowed');
END;

CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
  SELECT RAISE(ABORT, 'events are append-only: DELETE is not allowed');
END;
`;
