// Reads from the log in the client's terms, for the store and its append and
// subscription: one stream's events, pages of `$all` and the walk over them, and
// the port's readStream and readAll (category filters go to categoryReads.ts).
import {
  BACKWARDS,
  END,
  FORWARDS,
  START,
  StreamNotFoundError,
  type AllStreamRecordedEvent,
  type AllStreamResolvedEvent,
  type Position,
  type ReadAllOptions as EsdbReadAllOptions,
  type ReadStreamOptions as EsdbReadStreamOptions,
  type ResolvedEvent,
  type StreamingRead,
} from '@eventstore/db-client';
import { ProvenantError } from '../../errors.js';
import { NO_STREAM } from '../expectedRevision.js';
import {
  DEFAULT_READ_ALL_MAX_COUNT,
  type AllPosition,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
} from '../types.js';
import {
  assertMaxCount,
  assertReadAllOptions,
  assertStreamName,
  matchesFilter,
} from '../validation.js';
import { createCategoryReader, wholeCategories } from './categoryReads.js';
import type { EsdbClient } from './client.js';
import { translateEsdbError } from './errors.js';
import { fromEsdbPosition, isPastPosition, isVisibleInAll, toEsdbPosition } from './mapping.js';
import { decodeRecordedEvent, type DecodedEvent } from './metadata.js';

/** Events per page of `$all` and of a stream read in full. */
export const PAGE = 500;

/** Drains a client read into an array (reads are bounded by their maxCount). */
export async function collect<E>(read: StreamingRead<E>): Promise<E[]> {
  const out: E[] = [];
  for await (const item of read) out.push(item);
  return out;
}

/** The Provenant events of a stream read (links without their event skipped). */
export const decodeAll = (resolved: readonly ResolvedEvent[]): DecodedEvent[] =>
  resolved.flatMap((r) =>
    r.event === undefined ? [] : [decodeRecordedEvent(r.event as AllStreamRecordedEvent)],
  );

/** A stream read; `undefined` when the stream does not exist. */
export async function readStreamRaw(
  client: Pick<EsdbClient, 'readStream'>,
  stream: string,
  options: EsdbReadStreamOptions,
): Promise<ResolvedEvent[] | undefined> {
  try {
    return await collect(client.readStream(stream, options));
  } catch (error) {
    if (error instanceof StreamNotFoundError) return undefined;
    throw translateEsdbError(error, { operation: `read stream '${stream}'`, stream });
  }
}

/** Raw `$all` page in the client's terms. */
export async function readAllPage(
  client: Pick<EsdbClient, 'readAll'>,
  from: Position | typeof START | typeof END,
  direction: 'forwards' | 'backwards',
  maxCount: number,
): Promise<AllStreamResolvedEvent[]> {
  const options: EsdbReadAllOptions = {
    fromPosition: from,
    direction: direction === 'forwards' ? FORWARDS : BACKWARDS,
    maxCount,
  };
  try {
    return await collect(client.readAll(options));
  } catch (error) {
    throw translateEsdbError(error, { operation: 'read $all' });
  }
}

/**
 * Walks `$all` from an exclusive port position, page by page, calling `visit`
 * with each Provenant event (system events skipped) until it returns false.
 * `assertOpen` runs between pages, so a closed store stops a long walk.
 */
export async function walkAll(
  client: Pick<EsdbClient, 'readAll'>,
  assertOpen: () => void,
  from: AllPosition,
  direction: 'forwards' | 'backwards',
  visit: (event: RecordedEvent) => boolean,
  pageSize = PAGE,
): Promise<void> {
  if (
    (direction === 'forwards' && from === 'end') ||
    (direction === 'backwards' && from === 'start')
  )
    return;
  let cursor: bigint | undefined = typeof from === 'bigint' ? from : undefined;
  let position: Position | typeof START | typeof END =
    typeof from === 'bigint' ? toEsdbPosition(from) : from === 'start' ? START : END;
  for (;;) {
    const page = await readAllPage(client, position, direction, pageSize);
    for (const resolved of page) {
      const raw = resolved.event;
      if (raw === undefined) continue;
      const at = fromEsdbPosition(raw.position);
      if (cursor !== undefined && !isPastPosition(at, cursor, direction)) continue;
      if (!isVisibleInAll(raw.type)) continue;
      if (!visit(decodeRecordedEvent(raw).event)) return;
    }
    const last = page.at(-1)?.event;
    if (page.length < pageSize || last === undefined) return;
    cursor = fromEsdbPosition(last.position);
    position = last.position;
    assertOpen();
  }
}

/** The port's `readStream` (the caller checks the store is open). */
export async function readStream(
  client: Pick<EsdbClient, 'readStream'>,
  stream: string,
  readOptions: ReadStreamOptions,
): Promise<ReadStreamResult> {
  assertStreamName(stream);
  assertMaxCount(readOptions.maxCount);
  const direction = readOptions.direction ?? 'forwards';
  if (direction !== 'forwards' && direction !== 'backwards')
    throw new ProvenantError(
      'STORE_INVALID_READ_OPTIONS',
      `Unknown direction ${String(direction)}`,
    );
  const from = readOptions.from ?? (direction === 'forwards' ? 'start' : 'end');
  if (from !== 'start' && from !== 'end' && (!Number.isSafeInteger(from) || from < 0))
    throw new ProvenantError(
      'STORE_INVALID_READ_OPTIONS',
      `from must be 'start', 'end' or a revision`,
    );
  let events: RecordedEvent[] = [];
  if (
    !(direction === 'forwards' && from === 'end') &&
    !(direction === 'backwards' && from === 'start')
  ) {
    const resolved = await readStreamRaw(client, stream, {
      direction: direction === 'forwards' ? FORWARDS : BACKWARDS,
      fromRevision: from === 'start' ? START : from === 'end' ? END : BigInt(from),
      ...(readOptions.maxCount !== undefined && { maxCount: readOptions.maxCount }),
    });
    events = decodeAll(resolved ?? []).map((d) => d.event);
  }
  // The head is read after the events, so it is never behind them.
  const head = await readStreamRaw(client, stream, {
    direction: BACKWARDS,
    fromRevision: END,
    maxCount: 1,
  });
  const headRevision = head?.[0]?.event?.revision;
  return {
    events,
    currentRevision: headRevision === undefined ? NO_STREAM : Number(headRevision),
  };
}

/**
 * The port's `readAll` on a client (the caller checks the store is open): whole
 * categories from their `$ce-` streams when the projection runs, otherwise `$all`.
 */
export function createReadAll(
  client: EsdbClient,
  assertOpen: () => void,
  warn: (message: string) => void,
): (readOptions: ReadAllOptions) => Promise<RecordedEvent[]> {
  const categoryReader = createCategoryReader({
    client,
    walk: (from, direction, visit) => walkAll(client, assertOpen, from, direction, visit),
    warn,
  });
  return async (readOptions) => {
    assertReadAllOptions(readOptions);
    const direction = readOptions.direction ?? 'forwards';
    const maxCount = readOptions.maxCount ?? DEFAULT_READ_ALL_MAX_COUNT;
    const from: AllPosition = readOptions.from ?? (direction === 'forwards' ? 'start' : 'end');
    const filter = readOptions.filter;
    const categories = wholeCategories(filter);
    const served =
      filter && categories
        ? await categoryReader.read({ categories, filter, from, direction, maxCount })
        : undefined;
    if (served) return served;
    const out: RecordedEvent[] = [];
    // The 6.x client cannot filter reads on the server (only subscriptions), so
    // otherwise the filter is applied here while paging.
    await walkAll(
      client,
      assertOpen,
      from,
      direction,
      (event) => {
        if (matchesFilter(filter, event.stream, event.type)) out.push(event);
        return out.length < maxCount;
      },
      filter === undefined ? Math.min(maxCount + 1, PAGE) : PAGE,
    );
    return out;
  };
}
