// Keyset paging over the read-model port with filters the port can not express
// (it filters by equality only): pages are read in chunks and filtered here; when
// the page fills in the middle of a chunk, the chunk is read again up to that row
// to get the port's cursor there. A request examines a bounded number of rows: a
// page may then hold fewer items than `limit`, with a `next` to go on from.
import { ProvenantError, isProvenantError } from '../../../errors.js';
import type {
  FindOptions,
  ReadModelReader,
  Row,
  TableDefinition,
  Where,
} from '../../../readModels/port.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** A page of a query: the items, and the cursor of the next page (null at the end). */
export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface ScanRequest<R extends Row, T> {
  /** Names the query in its cursors. */
  query: string;
  table: TableDefinition<R>;
  where?: Where<R>;
  order?: Pick<FindOptions<R>, 'orderBy' | 'direction'>;
  limit: number;
  cursor?: string;
  /** The item of a row, or undefined to leave the row out. */
  map: (row: R) => T | undefined | Promise<T | undefined>;
  /** True when `map` may leave rows out (default false: one read per page). */
  filtered?: boolean;
}

/** Rows examined per request at most when filtering. */
const SCAN_BUDGET = 10_000;
const CHUNK = 500;

async function findPage<R extends Row>(
  reader: ReadModelReader,
  request: ScanRequest<R, unknown>,
  limit: number,
  after: string | undefined,
): Promise<{ rows: R[]; next?: string }> {
  try {
    return await reader.find(request.table, request.where, {
      ...request.order,
      limit,
      ...(after === undefined ? {} : { after }),
    });
  } catch (error) {
    // The inner cursor is the port's; a tampered one fails there.
    if (after !== undefined && isProvenantError(error) && error.code === 'READ_MODEL_INVALID')
      throw new ProvenantError('QUERY_BAD_CURSOR', `the cursor is not valid for ${request.query}`);
    throw error;
  }
}

export async function scan<R extends Row, T>(
  reader: ReadModelReader,
  request: ScanRequest<R, T>,
): Promise<Page<T>> {
  let after =
    request.cursor === undefined ? undefined : decodeCursor(request.query, request.cursor);
  const items: T[] = [];
  const wrap = (inner: string | undefined): string | null =>
    inner === undefined ? null : encodeCursor(request.query, inner);
  if (request.filtered !== true) {
    const page = await findPage(reader, request, request.limit, after);
    for (const row of page.rows) {
      const item = await request.map(row);
      if (item !== undefined) items.push(item);
    }
    return { items, next: wrap(page.next) };
  }
  let examined = 0;
  for (;;) {
    const chunk = await findPage(reader, request, CHUNK, after);
    for (let i = 0; i < chunk.rows.length; i++) {
      const item = await request.map(chunk.rows[i] as R);
      if (item === undefined) continue;
      items.push(item);
      if (items.length === request.limit) {
        if (i === chunk.rows.length - 1) return { items, next: wrap(chunk.next) };
        // The port's cursor at this row: the same read, ending here.
        const upTo = await findPage(reader, request, i + 1, after);
        return { items, next: wrap(upTo.next) };
      }
    }
    examined += chunk.rows.length;
    if (chunk.next === undefined) return { items, next: null };
    after = chunk.next;
    if (examined >= SCAN_BUDGET) return { items, next: wrap(after) };
  }
}
