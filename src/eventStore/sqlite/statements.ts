// The read side's prepared statements and how a stored row becomes a recorded
// event. Prepared once per store and kept in one long-lived object (database.ts
// explains why statements must never be left for the garbage collector).
import type Database from 'better-sqlite3';
import { toRecorded, toStored, type EventRow as SharedEventRow } from '../eventRow.js';
import { createFilteredReads } from './filteredReads.js';

/** A row of the `events` table (its position a number here). */
export type EventRow = SharedEventRow & { position: number };

export const COLUMNS =
  'position, id, stream, revision, type, data, metadata, content_digest, prev_digest, recorded_at';

export { toRecorded, toStored };

/** Prepares the store's read statements on `db`, once, for the life of the store. */
export function prepareStatements(db: Database.Database) {
  return {
    head: db.prepare<[string], { revision: number }>(
      'SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
    ),
    headPosition: db.prepare<[], { p: number | null }>('SELECT MAX(position) AS p FROM events'),
    streamForward: db.prepare<[string, number, number], EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`,
    ),
    streamBackward: db.prepare<[string, number, number], EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
    ),
    allPage: db.prepare<[number, number], EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position ASC LIMIT ?`,
    ),
    allPageBackward: db.prepare<[number, number], EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE position < ? ORDER BY position DESC LIMIT ?`,
    ),
    // One primary-key seek in event_keys, one in events.
    byKey: db.prepare<[string], { id: string; stream: string; revision: number; position: number }>(
      `SELECT e.id, e.stream, e.revision, e.position
       FROM event_keys k JOIN events e ON e.position = k.position WHERE k.key = ?`,
    ),
    ping: db.prepare('SELECT 1'),
    filtered: createFilteredReads<EventRow>(db, COLUMNS),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
