// Re-walking hash chains (DESIGN.md §3) over events as the port returns them, in
// stream order or in `$all` order. Pure and incremental, so an adapter can feed
// it page by page without holding a whole log in memory (only one head per stream).
// Both backends verify through it: SQLite feeds it its parsed rows, KurrentDB its
// decoded events.
import { ZERO_DIGEST, contentDigest, eventDigest } from './integrity.js';
import type { IntegrityProblem, RecordedEvent } from './types.js';

/** Checks each event against the previous one of its stream; the first problem ends the walk. */
export class ChainWalker {
  private readonly heads = new Map<string, { revision: number; digest: string }>();
  /** Events that passed. */
  checked = 0;

  /** Returns the problem with `event`, or `undefined` when it continues its stream's chain. */
  check(event: RecordedEvent): IntegrityProblem | undefined {
    const base = {
      stream: event.stream,
      revision: event.revision,
      position: event.position,
      eventId: event.id,
    };
    let recomputed: string;
    try {
      recomputed = contentDigest(event.type, event.data, event.metadata.context);
    } catch (error) {
      return {
        ...base,
        kind: 'unreadable',
        message: `Event ${event.stream}@${event.revision} cannot be canonicalised: ${String(error)}`,
      };
    }
    if (recomputed !== event.metadata.contentDigest)
      return {
        ...base,
        kind: 'content-digest-mismatch',
        message:
          event.metadata.contentDigest === ''
            ? `Event ${event.stream}@${event.revision} carries no content digest (not written by Provenant?)`
            : `Content of ${event.stream}@${event.revision} does not match its digest`,
      };
    const head = this.heads.get(event.stream);
    const expectedRevision = head === undefined ? 0 : head.revision + 1;
    if (event.revision !== expectedRevision)
      return {
        ...base,
        kind: 'revision-gap',
        message: `Stream ${event.stream} jumps to revision ${event.revision}; expected ${expectedRevision}`,
      };
    const expectedPrev = head === undefined ? ZERO_DIGEST : head.digest;
    if (event.metadata.prevDigest !== expectedPrev)
      return {
        ...base,
        kind: 'prev-digest-mismatch',
        message: `Chain broken at ${event.stream}@${event.revision}: prevDigest does not match the previous event`,
      };
    this.heads.set(event.stream, {
      revision: event.revision,
      digest: eventDigest(event.metadata.prevDigest, event.metadata.contentDigest),
    });
    this.checked++;
    return undefined;
  }
}
