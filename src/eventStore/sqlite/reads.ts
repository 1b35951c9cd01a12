// The read queries behind the port: one stream, a page of `$all` (filtered
// pages through filteredReads.ts), a lookup key, the head position. Each is a
// function of the long-lived statements; option checks stay with the caller.
import { ProvenantError } from '../../errors.js';
import { NO_STREAM } from '../expectedRevision.js';
import {
  DEFAULT_READ_ALL_MAX_COUNT,
  type AllPosition,
  type EventLocation,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
} from '../types.js';
import { toRecorded, type EventRow, type Statements } from './statements.js';

/** The rows of one `$all` page, forwards or backwards, filtered or not. */
export function readAllRows(stmt: Statements, options: ReadAllOptions): EventRow[] {
  const direction = options.direction ?? 'forwards';
  const maxCount = options.maxCount ?? DEFAULT_READ_ALL_MAX_COUNT;
  const from: AllPosition = options.from ?? (direction === 'forwards' ? 'start' : 'end');
  if (direction === 'forwards') {
    if (from === 'end') return [];
    const after = from === 'start' ? 0 : Number(from);
    if (options.filter !== undefined)
      return stmt.filtered.page(after, maxCount, options.filter, 'forwards');
    return stmt.allPage.all(after, maxCount);
  }
  if (from === 'start') return [];
  const before = from === 'end' ? Number.MAX_SAFE_INTEGER : Number(from);
  if (options.filter !== undefined)
    return stmt.filtered.page(before, maxCount, options.filter, 'backwards');
  return stmt.allPageBackward.all(before, maxCount);
}

/** The position of the last committed event, 0n when the log is empty. */
export const readHeadPosition = (stmt: Statements): bigint =>
  BigInt(stmt.headPosition.get()?.p ?? 0);

/** A stream's events from a revision, and its current revision (stream name and maxCount checked by the caller). */
export function readStreamEvents(
  stmt: Statements,
  stream: string,
  readOptions: ReadStreamOptions,
): ReadStreamResult {
  const direction = readOptions.direction ?? 'forwards';
  const from = readOptions.from ?? (direction === 'forwards' ? 'start' : 'end');
  if (from !== 'start' && from !== 'end' && (!Number.isSafeInteger(from) || from < 0))
    throw new ProvenantError(
      'STORE_INVALID_READ_OPTIONS',
      `from must be 'start', 'end' or a revision`,
    );
  const limit = readOptions.maxCount ?? -1;
  const head = stmt.head.get(stream);
  const currentRevision = head === undefined ? NO_STREAM : head.revision;
  let rows: EventRow[];
  if (direction === 'forwards') {
    rows = from === 'end' ? [] : stmt.streamForward.all(stream, from === 'start' ? 0 : from, limit);
  } else {
    rows =
      from === 'start'
        ? []
        : stmt.streamBackward.all(stream, from === 'end' ? Number.MAX_SAFE_INTEGER : from, limit);
  }
  return { events: rows.map(toRecorded), currentRevision };
}

/** Where the event carrying a lookup key is, if any. */
export function readKeyLocation(stmt: Statements, key: string): EventLocation | undefined {
  const row = stmt.byKey.get(key);
  return row === undefined
    ? undefined
    : {
        id: row.id,
        stream: row.stream,
        revision: row.revision,
        position: BigInt(row.position),
      };
}
