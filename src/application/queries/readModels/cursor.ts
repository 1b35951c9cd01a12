// Opaque page cursors of the query API: the read-model port's own keyset cursor
// (or a log position), wrapped with the name of the query that issued it, so a
// cursor of one query is refused by another and a tampered one is a 400
// (`QUERY_BAD_CURSOR`) rather than a wrong page.
import { ProvenantError } from '../../../errors.js';

interface CursorBody {
  q: string;
  c: string;
}

export const encodeCursor = (query: string, inner: string): string =>
  Buffer.from(JSON.stringify({ q: query, c: inner } satisfies CursorBody), 'utf8').toString(
    'base64url',
  );

const bad = (query: string): ProvenantError =>
  new ProvenantError('QUERY_BAD_CURSOR', `the cursor is not a cursor of this query (${query})`);

/** The inner cursor of `cursor`, issued by `query`; throws `QUERY_BAD_CURSOR` otherwise. */
export function decodeCursor(query: string, cursor: string): string {
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(cursor)) throw bad(query);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad(query);
  }
  if (
    typeof body !== 'object' ||
    body === null ||
    (body as CursorBody).q !== query ||
    typeof (body as CursorBody).c !== 'string'
  )
    throw bad(query);
  return (body as CursorBody).c;
}
