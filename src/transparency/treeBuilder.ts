// Folds `$all` into the Merkle tree: each stored event becomes one leaf, the
// hash of the RFC 8785 canonical JSON of the whole stored record (id, stream,
// revision, position, type, data, every metadata field, recorded time), so an
// edit of any stored field changes the leaf. Leaves and the subtrees they
// complete are committed to the tree store batch by batch.
import { canonicalize } from '../encoding/canonicalJson.js';
import type { EventStore, RecordedEvent } from '../eventStore/types.js';
import { CompactRange } from './compactRange.js';
import { leafHash, perfectNodes, verifyInclusion, type ProofFailure } from './merkle.js';
import type { Checkpoint } from './note.js';
import type { AppendedLeaf, TreeStore } from './port.js';

/**
 * The bytes a stored event's leaf hashes (as a string: its UTF-8 form): the
 * RFC 8785 canonical JSON of `toEventJson(event)`. Assembled around data already
 * in canonical form (RFC 8785 sorts the members data < id < metadata < position
 * < recordedAt < revision < stream < type; the position is a decimal string), so that a walk that also checks the
 * content digest canonicalises the data once; a unit test checks it against
 * `canonicalize(toEventJson(event))`.
 */
export const leafTextOf = (event: Omit<RecordedEvent, 'data'>, canonicalData: string): string =>
  leafTextWith(event, canonicalData, canonicalize(event.metadata));

/** The same with the metadata, too, already in canonical form. */
export const leafTextWith = (
  event: Omit<RecordedEvent, 'data' | 'metadata'>,
  canonicalData: string,
  canonicalMetadata: string,
): string =>
  `{"data":${canonicalData},"id":${canonicalize(event.id)},"metadata":${canonicalMetadata}` +
  `,"position":"${event.position}","recordedAt":${canonicalize(event.recordedAt)}` +
  `,"revision":${canonicalize(event.revision)},"stream":${canonicalize(event.stream)},"type":${canonicalize(event.type)}}`;

/** The leaf text of a stored event. */
export const leafText = (event: RecordedEvent): string =>
  leafTextOf(event, canonicalize(event.data));

/** The leaf hash of a stored event. */
export const eventLeafHash = (event: RecordedEvent): Buffer => leafHash(leafText(event));

export class TreeBuilder {
  private constructor(
    private readonly tree: TreeStore,
    private readonly range: CompactRange,
    private last: bigint,
  ) {}

  /** A builder continuing the tree the store holds. */
  static async open(tree: TreeStore): Promise<TreeBuilder> {
    const { size, lastPosition } = await tree.state();
    const edge = await tree.readNodes(perfectNodes(0, size));
    return new TreeBuilder(tree, new CompactRange(size, edge), lastPosition);
  }

  get size(): number {
    return this.range.size;
  }

  /** `$all` position of the last leaf's event (0n when empty). */
  get lastPosition(): bigint {
    return this.last;
  }

  root(): Buffer {
    return this.range.root();
  }

  /** Appends events (in `$all` order, after the last leaf) and commits them. */
  async append(events: readonly RecordedEvent[]): Promise<void> {
    const leaves: AppendedLeaf[] = [];
    for (const event of events) {
      if (event.position <= this.last) continue; // already a leaf (a redelivery)
      const hash = eventLeafHash(event);
      const index = this.range.size;
      const completed = this.range.append(hash);
      leaves.push({ index, position: event.position, eventId: event.id, hash, completed });
      this.last = event.position;
    }
    if (leaves.length > 0) await this.tree.append(leaves);
  }

  /** Reads `$all` after the last leaf up to the head, page by page. */
  async catchUp(store: EventStore, onPage?: (size: number) => void): Promise<void> {
    for (;;) {
      const from = this.last === 0n ? 'start' : this.last;
      const page = await store.readAll({ from, maxCount: 1000 });
      if (page.length === 0) return;
      await this.append(page);
      onPage?.(this.size);
    }
  }
}

/**
 * Why `event` is not leaf `leafIndex` under the signed `checkpoint` by `proof`
 * (base64 hashes, as the API and exports serve them); undefined when it is.
 * The leaf is recomputed from the whole stored record.
 */
export const eventInclusionFailure = (
  event: RecordedEvent,
  leafIndex: number,
  proof: readonly unknown[],
  checkpoint: Checkpoint,
): ProofFailure =>
  verifyInclusion(
    leafIndex,
    checkpoint.size,
    eventLeafHash(event),
    proof.map((h) => Buffer.from(String(h), 'base64')),
    checkpoint.root,
  );
