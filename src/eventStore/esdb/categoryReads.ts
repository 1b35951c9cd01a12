// `readAll` with a stream-prefix filter made of whole categories (`gate-`,
// `stage-`), served from KurrentDB's by-category system projection instead of a
// walk through `$all` (issue 12 point 4; docs/kurrentdb.md, "Category reads").
//
// The `$by_category` projection links every event of a stream `<category>-…` into
// `$ce-<category>`, in `$all` order. It runs behind the log, so a `$ce-` stream
// alone may miss the newest events of its category. A read therefore takes, for
// each category, a watermark W_c up to which `$ce-<category>` is known complete:
//
//   - the position of the newest event its links resolve to (links are written to
//     one stream in order, so every earlier event of the category is linked), and
//   - the projection's checkpoint (the projection writes the links of the events
//     it processed before it records them as processed),
//
// whichever is later. With W the least of them, the events up to W come from the
// `$ce-` streams (entered by a binary search on link revisions) and those after W
// from the ordinary walk of `$all`, which is short while the projection keeps up:
// it starts at the projection's last checkpoint or later. So the answer is exactly
// the walk's, whatever the projection's lag; the projection only saves work.
//
// When the watermark of a category cannot be established (projections not running,
// the `$ce-` stream or the checkpoint unreadable: stream not found, access denied),
// `read` returns `undefined` and the caller walks `$all`, as it would without this
// module. That is announced once per store through `warn`.
import {
  AccessDeniedError,
  BACKWARDS,
  END,
  FORWARDS,
  START,
  StreamNotFoundError,
  type AllStreamRecordedEvent,
  type ReadStreamOptions,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { ProvenantError } from '../../errors.js';
import type { AllPosition, EventFilter, RecordedEvent } from '../types.js';
import { matchesFilter } from '../validation.js';
import { translateEsdbError } from './errors.js';
import type { EsdbClient } from './client.js';
import { fromEsdbPosition, isVisibleInAll } from './mapping.js';
import { decodeRecordedEvent } from './metadata.js';

/** Stream of the `$by_category` projection's checkpoints. */
export const BY_CATEGORY_CHECKPOINT_STREAM = '$projections-$by_category-checkpoint';

/** Largest page of a `$ce-` read. */
const MAX_PAGE = 500;
/** First page of a backwards `$ce-` read (most reads stop within it). */
const FIRST_PAGE = 32;

/**
 * The categories of a stream-prefix filter when every prefix is a whole category,
 * `<category>-` with a category that is not empty, has no `-` and is not a `$`
 * system name (KurrentDB's default by-category rule: the part of the stream name
 * before its first `-`); otherwise undefined (the read walks `$all`).
 */
export function wholeCategories(filter: EventFilter | undefined): string[] | undefined {
  if (filter === undefined || !('streamPrefix' in filter)) return undefined;
  const categories = new Set<string>();
  for (const prefix of filter.streamPrefix) {
    const category = prefix.slice(0, -1);
    if (!prefix.endsWith('-') || category === '' || category.includes('-')) return undefined;
    if (category.startsWith('$')) return undefined;
    categories.add(category);
  }
  return [...categories];
}

/**
 * The `$all` position in a `$by_category` checkpoint event — that of the last
 * event the projection processed: the metadata `{ "$c": commit, "$p": prepare }`
 * of the classic engine's `$ProjectionCheckpoint`, or a body `{ "commitPosition",
 * "preparePosition" }` as newer engines write it. Only when commit = prepare (a
 * record the adapter can read `$all` from, see mapping.ts); undefined for anything
 * else (a phase or stream checkpoint, a format not known here).
 */
export function checkpointPosition(event: {
  type: string;
  data: unknown;
  metadata: unknown;
}): bigint | undefined {
  if (!event.type.startsWith('$ProjectionCheckpoint')) return undefined;
  const asPosition = (value: unknown): bigint | undefined =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
      ? BigInt(value)
      : undefined;
  const { metadata, data } = event;
  const same = (commit: unknown, prepare: unknown): bigint | undefined => {
    const at = asPosition(commit);
    return at !== undefined && at === asPosition(prepare) ? at : undefined;
  };
  if (isRecord(metadata) && metadata.$ph === undefined && '$c' in metadata)
    return same(metadata.$c, metadata.$p);
  if (isRecord(data) && 'commitPosition' in data)
    return same(data.commitPosition, data.preparePosition);
  return undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One read of the port, once the caller has validated it. */
export interface CategoryRead {
  categories: readonly string[];
  filter: EventFilter;
  from: AllPosition;
  direction: 'forwards' | 'backwards';
  maxCount: number;
}

/** What category reads need from the adapter. */
export interface CategoryReadDeps {
  client: Pick<EsdbClient, 'readStream'>;
  /** The adapter's walk of `$all` from an exclusive position (system events skipped). */
  walk(
    from: AllPosition,
    direction: 'forwards' | 'backwards',
    visit: (event: RecordedEvent) => boolean,
  ): Promise<void>;
  /** Called once per store when category reads fall back to the walk. */
  warn(message: string): void;
}

/** A stream read drained, `undefined` when the stream is missing or not readable. */
async function readRaw(
  client: Pick<EsdbClient, 'readStream'>,
  stream: string,
  options: ReadStreamOptions,
): Promise<ResolvedEvent[] | undefined> {
  const out: ResolvedEvent[] = [];
  try {
    for await (const item of client.readStream(stream, options)) out.push(item);
    return out;
  } catch (error) {
    if (error instanceof StreamNotFoundError || error instanceof AccessDeniedError)
      return undefined;
    throw translateEsdbError(error, { operation: `read stream '${stream}'`, stream });
  }
}

/**
 * The event a `$ce-` item links to, when the link resolved to an event of that
 * category (a link whose target was deleted or scavenged has no `event`: skipped).
 * Its stream, revision and position are the target's, not the link's.
 */
function target(item: ResolvedEvent, category: string): AllStreamRecordedEvent | undefined {
  const event = item.event;
  if (event === undefined || event.type === '$>') return undefined;
  if (!event.streamId.startsWith(`${category}-`)) return undefined;
  if (event.position === undefined)
    throw new ProvenantError(
      'ESDB_UNEXPECTED',
      `The server sent ${event.streamId}@${event.revision} without its $all position; EventStoreDB/KurrentDB 22.6 or later is required`,
    );
  return event as AllStreamRecordedEvent;
}

/** Category reads for one store. */
export function createCategoryReader(deps: CategoryReadDeps): {
  /** The page the walk would return, or `undefined` when the caller must walk. */
  read(request: CategoryRead): Promise<RecordedEvent[] | undefined>;
} {
  const { client } = deps;
  let warned = false;

  /** Pages through `$ce-<category>` from one end, handing each resolved target to `visit` until it returns false. */
  async function scan(
    category: string,
    direction: 'forwards' | 'backwards',
    visit: (event: AllStreamRecordedEvent) => boolean,
    {
      from = direction === 'forwards' ? START : END,
      firstPage = direction === 'forwards' ? MAX_PAGE : FIRST_PAGE,
    }: { from?: bigint | typeof START | typeof END; firstPage?: number } = {},
  ): Promise<'missing' | 'done'> {
    const stream = `$ce-${category}`;
    let next = from;
    let size = firstPage;
    for (;;) {
      const page = await readRaw(client, stream, {
        direction: direction === 'forwards' ? FORWARDS : BACKWARDS,
        fromRevision: next,
        maxCount: size,
        resolveLinkTos: true,
      });
      if (page === undefined) return 'missing';
      for (const item of page) {
        const event = target(item, category);
        if (event !== undefined && !visit(event)) return 'done';
      }
      // The link's own revision in `$ce-`, to page on (the event is the target's).
      const last = page.at(-1);
      const at = (last?.link ?? last?.event)?.revision;
      if (page.length < size || at === undefined) return 'done';
      if (direction === 'backwards' && at === 0n) return 'done';
      next = direction === 'forwards' ? at + 1n : at - 1n;
      size = Math.min(size * 2, MAX_PAGE);
    }
  }

  /** Position of the newest event `$ce-<category>` links to; 'missing' when the stream is not there. */
  async function newestLinked(category: string): Promise<bigint | 'missing' | undefined> {
    let newest: bigint | undefined;
    const outcome = await scan(
      category,
      'backwards',
      (event) => {
        // The walk resumes from this position: only a self-committed record will do.
        const { commit, prepare } = event.position;
        newest = commit === prepare ? commit : undefined;
        return false;
      },
      { firstPage: 1 },
    );
    return outcome === 'missing' ? 'missing' : newest;
  }

  async function checkpoint(): Promise<bigint | undefined> {
    const page = await readRaw(client, BY_CATEGORY_CHECKPOINT_STREAM, {
      direction: BACKWARDS,
      fromRevision: END,
      maxCount: 1,
    });
    const event = page?.[0]?.event;
    return event === undefined ? undefined : checkpointPosition(event);
  }

  /** The least watermark of the categories, or undefined when one cannot be established. */
  async function watermark(categories: readonly string[]): Promise<bigint | undefined> {
    const [checkpointAt, ...newest] = await Promise.all([
      checkpoint(),
      ...categories.map(newestLinked),
    ]);
    let least: bigint | undefined;
    for (const linked of newest) {
      // A category without a `$ce-` stream has no event before the checkpoint.
      const known = linked === 'missing' || linked === undefined ? undefined : linked;
      const mark =
        known === undefined
          ? checkpointAt
          : checkpointAt === undefined || known > checkpointAt
            ? known
            : checkpointAt;
      if (mark === undefined) return undefined;
      least = least === undefined || mark < least ? mark : least;
    }
    return least;
  }

  /**
   * The first revision R of `$ce-<category>` such that every link at R or later
   * that resolves, resolves to an event after `after`: a binary search on the link
   * revisions (targets are in `$all` order), O(log C) small reads. Undefined when
   * the stream is not there.
   */
  async function firstAfter(category: string, after: bigint): Promise<bigint | undefined> {
    const stream = `$ce-${category}`;
    const [newest] =
      (await readRaw(client, stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) ??
      [];
    const last = (newest?.link ?? newest?.event)?.revision;
    if (last === undefined) return undefined;
    let lo = 0n;
    let hi = last + 1n;
    while (lo < hi) {
      const mid = (lo + hi) / 2n;
      // The first link at or after `mid` (and before `hi`) that resolves decides.
      let at = mid;
      let below: boolean | undefined;
      while (below === undefined && at < hi) {
        const page = await readRaw(client, stream, {
          direction: FORWARDS,
          fromRevision: at,
          maxCount: hi - at < 8n ? hi - at : 8n,
          resolveLinkTos: true,
        });
        if (page === undefined || page.length === 0) break;
        for (const item of page) {
          const event = target(item, category);
          if (event === undefined) continue;
          below = fromEsdbPosition(event.position) <= after;
          if (below) lo = ((item.link ?? item.event)?.revision ?? at) + 1n;
          break;
        }
        at += BigInt(page.length);
      }
      // No link in [mid, hi) resolves, or the first that does lies after `after`.
      if (below !== true) hi = mid;
    }
    return lo;
  }

  /** The matching events of the categories with `low < position <= high`, in the read direction, at most `max`. */
  async function fromCategories(
    request: CategoryRead,
    low: bigint,
    high: bigint,
    max: number,
  ): Promise<RecordedEvent[]> {
    const { categories, direction, filter } = request;
    // Each `$ce-` is read from the first link past `low` (forwards) or the last link
    // up to `high` (backwards), found by a binary search unless it is an end.
    const lists = await Promise.all(
      categories.map(async (category) => {
        const found: RecordedEvent[] = [];
        let from: bigint | typeof START | typeof END;
        if (direction === 'forwards') {
          const first = low < 0n ? START : await firstAfter(category, low);
          if (first === undefined) return found;
          from = first;
        } else {
          const next = await firstAfter(category, high);
          if (next === undefined || next === 0n) return found;
          from = next - 1n;
        }
        await scan(
          category,
          direction,
          (raw) => {
            const at = fromEsdbPosition(raw.position);
            if (direction === 'forwards' ? at > high : at <= low) return false;
            if (at > low && at <= high && isVisibleInAll(raw.type)) {
              const event = decodeRecordedEvent(raw).event;
              if (matchesFilter(filter, event.stream, event.type)) found.push(event);
            }
            return found.length < max;
          },
          { from, firstPage: Math.min(MAX_PAGE, Math.max(FIRST_PAGE, max)) },
        );
        return found;
      }),
    );
    const sign = direction === 'forwards' ? 1 : -1;
    // Merged by position; an event linked twice (a projection re-run) counts once.
    return lists
      .flat()
      .sort((a, b) => (a.position < b.position ? -sign : a.position > b.position ? sign : 0))
      .filter((event, i, all) => all[i - 1]?.position !== event.position)
      .slice(0, max);
  }

  return {
    async read(request) {
      const { direction, from, maxCount, filter } = request;
      if (
        (direction === 'forwards' && from === 'end') ||
        (direction === 'backwards' && from === 'start')
      )
        return [];
      const w = await watermark(request.categories);
      if (w === undefined) {
        if (!warned) {
          warned = true;
          deps.warn(
            `Category reads of ${request.categories.map((c) => `$ce-${c}`).join(', ')} fall back to walking $all: ` +
              'the $by_category system projection is not running or its streams are not readable ' +
              '(run projections with KURRENTDB_RUN_PROJECTIONS=System and KURRENTDB_START_STANDARD_PROJECTIONS=true)',
          );
        }
        return undefined;
      }
      const out: RecordedEvent[] = [];
      const walkTail = async (walkFrom: AllPosition): Promise<void> => {
        await deps.walk(walkFrom, direction, (event) => {
          if (direction === 'backwards' && event.position <= w) return false;
          if (matchesFilter(filter, event.stream, event.type)) out.push(event);
          return out.length < maxCount;
        });
      };
      if (direction === 'forwards') {
        const low = from === 'start' ? -1n : (from as bigint);
        if (low < w) out.push(...(await fromCategories(request, low, w, maxCount)));
        if (out.length < maxCount) await walkTail(low < w ? w : from);
      } else {
        // Backwards: the walk from `from` down to W first, then the categories below.
        const top = from === 'end' ? undefined : (from as bigint);
        if (top === undefined || top > w + 1n) await walkTail(from);
        if (out.length < maxCount) {
          const high = top === undefined || top - 1n > w ? w : top - 1n;
          out.push(...(await fromCategories(request, -1n, high, maxCount - out.length)));
        }
      }
      return out;
    },
  };
}
