// Incremental append to an RFC 9162 tree: the tree's right edge (its perfect
// subtrees, one per set bit of the size) is all that appending needs. Each
// append returns the hashes of the perfect subtrees it completed, for a tree
// store to keep, so that any later proof reads O(log n) stored hashes
// (merkle.ts).
import { foldRight, nodeHash, perfectNodes } from './merkle.js';

export class CompactRange {
  /** Hashes of `perfectNodes(0, size)`, left to right (largest first). */
  private readonly edge: Buffer[];
  private count: number;

  /**
   * A tree of `size` leaves from its right edge: the hashes of
   * `perfectNodes(0, size)`, left to right (empty for a new tree).
   */
  constructor(size = 0, edge: readonly Buffer[] = []) {
    const expected = perfectNodes(0, size).length;
    if (expected !== edge.length)
      throw new Error(`a tree of ${size} leaves has ${expected} edge subtrees, not ${edge.length}`);
    this.edge = [...edge];
    this.count = size;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Appends one leaf hash (leaf `size`). Returns the hashes of the perfect
   * subtrees it completes, smallest first: entry `l` is the subtree of level
   * `l + 1` that ends with this leaf (index `⌊size / 2^(l+1)⌋`). A leaf
   * completes one subtree per trailing 1 bit of its index: none for an even
   * index, one on average.
   */
  append(leaf: Buffer): Buffer[] {
    const completed: Buffer[] = [];
    let node = leaf;
    // The edge's last subtree is a sibling of the same level while the bit is 1.
    for (let n = this.count; n % 2 === 1; n = (n - 1) / 2) {
      node = nodeHash(this.edge.pop() as Buffer, node);
      completed.push(node);
    }
    this.edge.push(node);
    this.count++;
    return completed;
  }

  /** MTH of the leaves so far. */
  root(): Buffer {
    return foldRight(this.edge);
  }
}
