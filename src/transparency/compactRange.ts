// Incremental append to an RFC 9162 tree: the tree's right edge (its perfect
// subtrees, one per set bit of the size) is all that appending needs. Each
// append returns the perfect subtrees it completed, for a tree store to keep, so
// that any later proof reads O(log n) stored hashes (merkle.ts).
import { foldRight, nodeHash, perfectNodes, type NodeId } from './merkle.js';

/** A completed perfect subtree and its hash. */
export interface StoredNode extends NodeId {
  hash: Buffer;
}

export class CompactRange {
  private readonly edge: StoredNode[];
  private count: number;

  /**
   * A tree of `size` leaves from its right edge: the hashes of
   * `perfectNodes(0, size)`, left to right (empty for a new tree).
   */
  constructor(size = 0, edge: readonly Buffer[] = []) {
    const ids = perfectNodes(0, size);
    if (ids.length !== edge.length)
      throw new Error(
        `a tree of ${size} leaves has ${ids.length} edge subtrees, not ${edge.length}`,
      );
    this.edge = ids.map((id, i) => ({ ...id, hash: edge[i] as Buffer }));
    this.count = size;
  }

  get size(): number {
    return this.count;
  }

  /** Appends one leaf hash; returns the subtrees it completed, the leaf (level 0) first. */
  append(leaf: Buffer): StoredNode[] {
    let node: StoredNode = { level: 0, index: this.count, hash: leaf };
    const completed = [node];
    for (
      let top = this.edge.at(-1);
      top !== undefined && top.level === node.level;
      top = this.edge.at(-1)
    ) {
      this.edge.pop();
      node = { level: node.level + 1, index: top.index / 2, hash: nodeHash(top.hash, node.hash) };
      completed.push(node);
    }
    this.edge.push(node);
    this.count++;
    return completed;
  }

  /** MTH of the leaves so far. */
  root(): Buffer {
    return foldRight(this.edge.map((n) => n.hash));
  }
}
