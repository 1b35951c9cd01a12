// v2 (issue 12, "cost independent of log size"; DESIGN.md §5): what a command
// looks up by key, and the `$all` filters, no longer read the whole log.
//
// - `event_keys`: one row per lookup key (`EventToAppend.lookupKeys`), naming the
//   position of the first event stored with it. Written in the same transaction
//   as the event; append-only like `events`.
// - `events_by_type` and `events_by_category`: the indexes behind filtered `$all`
//   reads (see `filteredPage` in ../eventStore.ts and docs/costs.md). SQLite
//   appends the rowid (`position`) to every index entry, so within one type, or
//   one stream category (the part of the stream name before the first '-'), the
//   entries are in position order: a filtered read seeks to each matching type or
//   category and merges them, instead of scanning `$all`. The category is an
//   expression index, so `events` itself is unchanged; queries must spell the
//   expression exactly as `STREAM_CATEGORY` does.
//
// The backfill: logs written before v2 hold `ReceiptRecorded.*` events whose
// receipts must stay findable by `receipt:<receiptId>` (revoking a receipt looks
// its unit up that way). New events carry that key because the application
// passes it; old ones never did, so this migration derives it from the stored
// data once. It is the one place the adapter knows a domain event type: a
// migration is a one-off rewrite of what was stored under the old schema, and
// nothing else can add the key to events that are immutable. Earlier positions
// first, so that the first event of a receipt keeps its key, as at append time.
export const version = 2;
export const name = 'lookup keys and filter indexes';

/** The stream category expression, exactly as indexed (the text before the first '-'). */
export const STREAM_CATEGORY = "substr(stream, 1, instr(stream || '-', '-') - 1)";

export const up = `
CREATE TABLE event_keys (
  key      TEXT    PRIMARY KEY,
  position INTEGER NOT NULL REFERENCES events (position)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER event_keys_append_only_update BEFORE UPDATE ON event_keys
BEGIN
  SELECT RAISE(ABORT, 'event keys are append-only: UPDATE is not allowed');
END;

CREATE TRIGGER event_keys_append_only_delete BEFORE DELETE ON event_keys
BEGIN
  SELECT RAISE(ABORT, 'event keys are append-only: DELETE is not allowed');
END;

CREATE INDEX events_by_type ON events (type);
CREATE INDEX events_by_category ON events (${STREAM_CATEGORY});

INSERT OR IGNORE INTO event_keys (key, position)
  SELECT 'receipt:' || json_extract(data, '$.receiptId'), position
  FROM events
  WHERE substr(type, 1, 16) = 'ReceiptRecorded.'
    AND json_type(data, '$.receiptId') = 'text'
    AND json_extract(data, '$.receiptId') <> ''
  ORDER BY position;
`;
