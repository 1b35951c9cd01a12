// The write side of the SQLite log, shared by the inline writer (same thread)
// and the worker-thread writer. Appends are applied inside one group
// transaction; each append runs under its own SAVEPOINT, so a rejected or
// aborted append leaves nothing behind while the rest of its group commits.
//
// Rows arrive already prepared (canonical JSON, content digest, id, time): the
// expensive, pure work is done by the caller's thread; this module only checks,
// chains and inserts.
import type Database from 'better-sqlite3';
import { ProvenantError } from '../../errors.js';
import { IdempotencyConflictError } from '../errors.js';
import {
  NO_STREAM,
  RevisionConflictError,
  matchesExpectedRevision,
  type ExpectedRevision,
} from '../expectedRevision.js';
import { redeliveryResult, storedOriginals } from '../idempotency.js';
import type { PreparedRow } from '../eventRow.js';
import { ZERO_DIGEST, eventDigest } from '../integrity.js';
import type { AppendResult, AppendedEvent } from '../types.js';

export type { PreparedRow };

/** What an append declares before its rows: enough to run every check first. */
export interface AppendHeader {
  stream: string;
  expectedRevision: ExpectedRevision;
  /** Every idempotency key of the append with the digest that defines "same content". */
  keyed: { key: string; digest: string }[];
}

/** An append in progress inside the group transaction. */
export interface AppendCursor {
  readonly stream: string;
  revision: number;
  prev: string;
  written: AppendedEvent[];
}

interface HeadRow {
  revision: number;
  content_digest: string;
  prev_digest: string;
}

interface KeyRow {
  id: string;
  stream: string;
  revision: number;
  position: number;
  idempotency_digest: string;
}

export interface WriterCore {
  beginGroup(): void;
  /** Runs the checks; returns a duplicate's original result, or a cursor to insert into. Throws typed errors. */
  startAppend(header: AppendHeader): { duplicate: AppendResult } | { cursor: AppendCursor };
  insert(cursor: AppendCursor, rows: readonly PreparedRow[]): void;
  finishAppend(cursor: AppendCursor): AppendResult;
  abortAppend(cursor: AppendCursor): void;
  commitGroup(): void;
  rollbackGroup(): void;
  readonly inGroup: boolean;
}

export function createWriterCore(db: Database.Database): WriterCore {
  const stmt = {
    head: db.prepare<[string], HeadRow>(
      'SELECT revision, content_digest, prev_digest FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
    ),
    byKey: db.prepare<[string], KeyRow>(
      'SELECT id, stream, revision, position, idempotency_digest FROM events WHERE idempotency_key = ?',
    ),
    insert: db.prepare(
      `INSERT INTO events (id, stream, revision, type, data, metadata, content_digest, prev_digest, recorded_at, idempotency_key, idempotency_digest)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // A key already stored keeps naming its first event (the port's rule).
    insertKey: db.prepare<[string, number | bigint]>(
      'INSERT OR IGNORE INTO event_keys (key, position) VALUES (?, ?)',
    ),
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT append'),
    release: db.prepare('RELEASE append'),
    rollbackTo: db.prepare('ROLLBACK TO append'),
  };
  // One savepoint name suffices: appends of a group are applied one after another.
  let open: AppendCursor | undefined;

  function duplicateOf(
    header: AppendHeader,
    headRevision: number | undefined,
  ): AppendResult | undefined {
    const originals = storedOriginals(header.stream, header.keyed, (key) => {
      const found = stmt.byKey.get(key);
      return (
        found && { ...found, position: BigInt(found.position), digest: found.idempotency_digest }
      );
    });
    return originals && redeliveryResult(originals, headRevision);
  }

  return {
    get inGroup() {
      return db.inTransaction;
    },

    beginGroup() {
      stmt.begin.run();
    },

    startAppend(header) {
      if (open !== undefined) throw new Error('writer core: an append is already open');
      const head = stmt.head.get(header.stream);
      // Idempotency first: a redelivery must not fail on a stale expected revision.
      const duplicate = duplicateOf(header, head?.revision);
      if (duplicate !== undefined) return { duplicate };
      const actual = head === undefined ? NO_STREAM : head.revision;
      if (!matchesExpectedRevision(header.expectedRevision, actual))
        throw new RevisionConflictError(header.stream, header.expectedRevision, actual);
      stmt.savepoint.run();
      open = {
        stream: header.stream,
        revision: head === undefined ? -1 : head.revision,
        prev: head === undefined ? ZERO_DIGEST : eventDigest(head.prev_digest, head.content_digest),
        written: [],
      };
      return { cursor: open };
    },

    insert(cursor, rows) {
      const { stream } = cursor;
      for (const row of rows) {
        cursor.revision++;
        const info = stmt.insert.run(
          row.id,
          stream,
          cursor.revision,
          row.type,
          row.dataJson,
          row.metadataJson,
          row.contentDigest,
          cursor.prev,
          row.recordedAt,
          row.idempotencyKey,
          row.idempotencyDigest,
        );
        if (row.lookupKeys !== null)
          for (const key of row.lookupKeys) stmt.insertKey.run(key, info.lastInsertRowid);
        cursor.written.push({
          id: row.id,
          revision: cursor.revision,
          position: BigInt(info.lastInsertRowid),
        });
        cursor.prev = eventDigest(cursor.prev, row.contentDigest);
      }
    },

    finishAppend(cursor) {
      stmt.release.run();
      open = undefined;
      const last = cursor.written.at(-1);
      if (last === undefined)
        throw new ProvenantError('STORE_EMPTY_APPEND', 'Append contains no events');
      return {
        duplicate: false,
        events: cursor.written,
        position: last.position,
        nextExpectedRevision: cursor.revision,
      };
    },

    abortAppend(_cursor) {
      stmt.rollbackTo.run();
      stmt.release.run();
      open = undefined;
    },

    commitGroup() {
      stmt.commit.run();
      open = undefined;
    },

    rollbackGroup() {
      if (db.inTransaction) stmt.rollback.run();
      open = undefined;
    },
  };
}

/** A typed error in a form that survives postMessage, and its reconstruction. */
export type SerializedError =
  | { kind: 'revision'; stream: string; expected: ExpectedRevision; actual: number | 'no_stream' }
  | { kind: 'idempotency'; key: string; existingEventId: string | undefined; message: string }
  | {
      kind: 'provenant';
      code: ProvenantError['code'];
      message: string;
      details?: Record<string, unknown>;
    }
  | { kind: 'other'; message: string };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof RevisionConflictError)
    return {
      kind: 'revision',
      stream: error.stream,
      expected: error.expected,
      actual: error.actual,
    };
  if (error instanceof IdempotencyConflictError)
    return {
      kind: 'idempotency',
      key: error.key,
      existingEventId: error.existingEventId,
      message: error.message,
    };
  if (error instanceof ProvenantError)
    return {
      kind: 'provenant',
      code: error.code,
      message: error.message,
      ...(error.details !== undefined ? { details: error.details } : {}),
    };
  return { kind: 'other', message: error instanceof Error ? error.message : String(error) };
}

export function deserializeError(error: SerializedError): Error {
  switch (error.kind) {
    case 'revision':
      return new RevisionConflictError(error.stream, error.expected, error.actual);
    case 'idempotency': {
      const reason = error.message.replace(/^Idempotency key '.*' conflicts: /s, '');
      return new IdempotencyConflictError(error.key, error.existingEventId, reason);
    }
    case 'provenant':
      return new ProvenantError(
        error.code,
        error.message,
        error.details ? { details: error.details } : {},
      );
    default:
      return new ProvenantError(
        'STORE_BACKEND_UNAVAILABLE',
        `SQLite writer failed: ${error.message}`,
      );
  }
}
