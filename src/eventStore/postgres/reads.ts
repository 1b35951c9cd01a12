// The read queries of the PostgreSQL log: one stream, a page of `$all`
// (filtered by stream or type prefixes), a lookup key, the head position.
// Positions travel as text (`bigint` in PostgreSQL, bigint in JS).
import { ProvenantError } from '../../errors.js';
import { NO_STREAM } from '../expectedRevision.js';
import {
  DEFAULT_READ_ALL_MAX_COUNT,
  type EventFilter,
  type EventLocation,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
} from '../types.js';
import type { Pool } from '../../postgres/index.js';
import { toRecorded, toStored, type EventRow } from '../eventRow.js';

/** A row of `events` (its position text: a PostgreSQL bigint). */
export type PgEventRow = EventRow & { position: string };

export const COLUMNS =
  'position::text AS position, id, stream, revision, type, data, metadata, content_digest, prev_digest, recorded_at';

export { toRecorded, toStored };

/**
 * The WHERE condition of a filter, adding its parameters to `params`. A stream
 * prefix that fixes the category (the text before the first '-') names it, so
 * the `(category, position)` index serves the read.
 */
function filterSql(filter: EventFilter, params: unknown[]): string {
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if ('streamPrefix' in filter)
    return filter.streamPrefix
      .map((prefix) => {
        const dash = prefix.indexOf('-');
        const starts = `starts_with(stream, ${param(prefix)})`;
        return dash < 0
          ? starts
          : `(split_part(stream, '-', 1) = ${param(prefix.slice(0, dash))} AND ${starts})`;
      })
      .join(' OR ');
  return filter.eventTypePrefix.map((prefix) => `starts_with(type, ${param(prefix)})`).join(' OR ');
}

/** The rows of one `$all` page, forwards or backwards, filtered or not. */
export async function readAllRows(pool: Pool, options: ReadAllOptions): Promise<PgEventRow[]> {
  const direction = options.direction ?? 'forwards';
  const maxCount = options.maxCount ?? DEFAULT_READ_ALL_MAX_COUNT;
  const from = options.from ?? (direction === 'forwards' ? 'start' : 'end');
  if (direction === 'forwards' && from === 'end') return [];
  if (direction === 'backwards' && from === 'start') return [];
  const params: unknown[] = [];
  const conditions: string[] = [];
  if (typeof from === 'bigint') {
    params.push(from.toString());
    conditions.push(`position ${direction === 'forwards' ? '>' : '<'} $1`);
  }
  if (options.filter !== undefined) conditions.push(`(${filterSql(options.filter, params)})`);
  params.push(maxCount);
  const sql =
    `SELECT ${COLUMNS} FROM events` +
    (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
    ` ORDER BY events.position ${direction === 'forwards' ? 'ASC' : 'DESC'} LIMIT $${params.length}`;
  return (await pool.query<PgEventRow>(sql, params)).rows;
}

/** A stream's events from a revision, and its current revision. */
export async function readStreamEvents(
  pool: Pool,
  stream: string,
  options: ReadStreamOptions,
): Promise<ReadStreamResult> {
  const direction = options.direction ?? 'forwards';
  const from = options.from ?? (direction === 'forwards' ? 'start' : 'end');
  if (from !== 'start' && from !== 'end' && (!Number.isSafeInteger(from) || from < 0))
    throw new ProvenantError(
      'STORE_INVALID_READ_OPTIONS',
      `from must be 'start', 'end' or a revision`,
    );
  const limit = options.maxCount ?? null;
  // One statement, so the events and the current revision come from one snapshot.
  const forwards = direction === 'forwards';
  const start = forwards ? (from === 'start' ? 0 : from) : from === 'end' ? 2 ** 31 - 1 : from;
  const empty = (forwards && from === 'end') || (!forwards && from === 'start');
  const { rows } = await pool.query<PgEventRow & { head: number | null }>(
    `WITH head AS (SELECT max(revision) AS head FROM events WHERE stream = $1)
     SELECT head.head, e.* FROM head LEFT JOIN LATERAL (
       SELECT ${COLUMNS} FROM events
       WHERE stream = $1 AND NOT $4 AND revision ${forwards ? '>=' : '<='} $2
       ORDER BY revision ${forwards ? 'ASC' : 'DESC'} LIMIT $3) e ON true`,
    [stream, start, limit, empty],
  );
  const head = rows[0]?.head ?? null;
  return {
    events: rows.filter((r) => r.id !== null).map(toRecorded),
    currentRevision: head === null ? NO_STREAM : head,
  };
}

/** Where the event carrying a lookup key is, if any. */
export async function readKeyLocation(pool: Pool, key: string): Promise<EventLocation | undefined> {
  const { rows } = await pool.query<{
    id: string;
    stream: string;
    revision: number;
    position: string;
  }>(
    `SELECT e.id, e.stream, e.revision, e.position::text AS position
     FROM event_keys k JOIN events e ON e.position = k.position WHERE k.key = $1`,
    [key],
  );
  const row = rows[0];
  return row === undefined
    ? undefined
    : { id: row.id, stream: row.stream, revision: row.revision, position: BigInt(row.position) };
}

/** The position of the last committed event, 0n when the log is empty. */
export async function readHeadPosition(pool: Pool): Promise<bigint> {
  const { rows } = await pool.query<{ p: string }>(
    'SELECT coalesce(max(position), 0)::text AS p FROM events',
  );
  return BigInt(rows[0]?.p ?? '0');
}
