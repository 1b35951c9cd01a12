// An `events` row as the SQL adapters (SQLite, PostgreSQL) store it, and how it
// becomes a recorded or a stored event. The two drivers differ only in how the
// position comes back: a number from SQLite, text from PostgreSQL (bigint).
import type { RecordedEvent, StoredEvent } from './types.js';

/** One row of `events`, as each adapter's `COLUMNS` selects it. */
export interface EventRow {
  position: number | string;
  id: string;
  stream: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  content_digest: string;
  prev_digest: string;
  recorded_at: string;
}

export function toRecorded(row: EventRow): RecordedEvent {
  // Set on the parsed object rather than spread into a copy: the same result, one
  // object less per event (replays parse millions).
  const metadata = JSON.parse(row.metadata) as RecordedEvent['metadata'];
  metadata.contentDigest = row.content_digest;
  metadata.prevDigest = row.prev_digest;
  return {
    id: row.id,
    type: row.type,
    stream: row.stream,
    revision: row.revision,
    position: BigInt(row.position),
    recordedAt: row.recorded_at,
    data: JSON.parse(row.data) as unknown,
    metadata,
  };
}

/** The row with its data and metadata left as the stored text. */
export const toStored = (row: EventRow): StoredEvent => ({
  id: row.id,
  type: row.type,
  stream: row.stream,
  revision: row.revision,
  position: BigInt(row.position),
  recordedAt: row.recorded_at,
  dataJson: row.data,
  metadataJson: row.metadata,
  contentDigest: row.content_digest,
  prevDigest: row.prev_digest,
});
