// The tree store conformance suite: one suite, run by every adapter's spec with
// a store factory (like test/eventStore/conformance.ts): SQLite always,
// PostgreSQL when PROVENANT_TEST_POSTGRES_URL is set. Each test gets a fresh,
// empty store. The leaves are synthetic hashes; the proofs each store serves
// are checked with the RFC 9162 verifiers against the incrementally computed root.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { isProvenantError } from '../../src/errors.js';
import { CompactRange } from '../../src/transparency/compactRange.js';
import {
  consistencyProof,
  inclusionProof,
  nodeHash,
  perfectNodes,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/transparency/merkle.js';
import type { AppendedLeaf, SignedCheckpoint, TreeStore } from '../../src/transparency/port.js';

export interface TreeStoreHarness {
  /** A new, empty store. */
  createStore(): Promise<TreeStore>;
  /** Opens the same store again (after `close`). */
  reopen(store: TreeStore): Promise<TreeStore>;
}

/** Position of leaf i: far apart and past 2^32, so that positions are not indexes. */
export const positionOf = (i: number): bigint => 5_000_000_000n + BigInt(i) * 3n;
export const hashOf = (i: number): Buffer => createHash('sha256').update(`leaf ${i}`).digest();

/** Appends leaves `from`..`to - 1` in batches of `sizes` (cycled), as the follower does. */
async function grow(
  tree: TreeStore,
  range: CompactRange,
  to: number,
  sizes: readonly number[] = [1, 5, 31, 2],
): Promise<void> {
  for (let b = 0; range.size < to; b++) {
    const leaves: AppendedLeaf[] = [];
    const end = Math.min(to, range.size + (sizes[b % sizes.length] ?? 1));
    while (range.size < end) {
      const i = range.size;
      const hash = hashOf(i);
      const completed = range.append(hash);
      leaves.push({ index: i, position: positionOf(i), eventId: `evt-${i}`, hash, completed });
    }
    await tree.append(leaves);
  }
}

/** MTH of leaves [start, start + 2^level), by the RFC's recursion. */
export function subtree(level: number, start: number): Buffer {
  if (level === 0) return hashOf(start);
  const half = 2 ** (level - 1);
  return nodeHash(subtree(level - 1, start), subtree(level - 1, start + half));
}

/** Every perfect subtree of a tree of `size` leaves against the recursion. */
export async function assertEverySubtree(tree: TreeStore, size: number): Promise<void> {
  for (let level = 0; 2 ** level <= size; level++)
    for (let index = 0; (index + 1) * 2 ** level <= size; index++) {
      const [stored] = await tree.readNodes([{ level, index }]);
      assert.ok(stored?.equals(subtree(level, index * 2 ** level)), `subtree ${level}/${index}`);
    }
}

const checkpoint = (size: number, tag = 'a'): SignedCheckpoint => ({
  size,
  root: createHash('sha256').update(`root ${size} ${tag}`).digest(),
  note: `test.example/log\n${size}\n${tag}\n\n— sig\n`,
  signedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, size)).toISOString(),
});

const rejectsWith = async (promise: Promise<unknown>, code: string): Promise<void> => {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isProvenantError(error), `expected ${code}, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
};

export function treeStoreConformance(name: string, harness: TreeStoreHarness): void {
  const withStore = async (fn: (tree: TreeStore) => Promise<void>): Promise<void> => {
    const tree = await harness.createStore();
    try {
      await fn(tree);
    } finally {
      await tree.close();
    }
  };

  describe(`tree store conformance: ${name}`, () => {
    it('starts empty', () =>
      withStore(async (tree) => {
        assert.deepEqual(await tree.state(), { size: 0, lastPosition: 0n });
        assert.equal(await tree.leafAt(0), undefined);
        assert.equal(await tree.leafByPosition(1n), undefined);
        assert.equal(await tree.leafByEventId('evt-0'), undefined);
        assert.deepEqual(await tree.leaves(0, 10), []);
        assert.deepEqual(await tree.readNodes([]), []);
        await rejectsWith(tree.readNodes([{ level: 0, index: 0 }]), 'TLOG_PROOF_RANGE');
        assert.equal(await tree.latestCheckpoint(), undefined);
        assert.equal(await tree.checkpointAt(1), undefined);
        assert.deepEqual(await tree.checkpoints(), []);
      }));

    it('keeps leaves batch by batch and finds them by index, position and event id', () =>
      withStore(async (tree) => {
        const range = new CompactRange();
        await grow(tree, range, 1);
        assert.deepEqual(await tree.state(), { size: 1, lastPosition: positionOf(0) });
        await grow(tree, range, 77);
        assert.deepEqual(await tree.state(), { size: 77, lastPosition: positionOf(76) });
        const leaf = { index: 42, position: positionOf(42), eventId: 'evt-42', hash: hashOf(42) };
        assert.deepEqual(await tree.leafAt(42), leaf);
        assert.deepEqual(await tree.leafByPosition(positionOf(42)), leaf);
        assert.deepEqual(await tree.leafByEventId('evt-42'), leaf);
        assert.equal(await tree.leafAt(77), undefined);
        assert.equal(await tree.leafByPosition(positionOf(42) + 1n), undefined);
        const page = await tree.leaves(70, 100);
        assert.deepEqual(
          page.map((l) => l.index),
          [70, 71, 72, 73, 74, 75, 76],
        );
        assert.deepEqual(
          (await tree.leaves(3, 2)).map((l) => [l.index, l.position, l.eventId]),
          [
            [3, positionOf(3), 'evt-3'],
            [4, positionOf(4), 'evt-4'],
          ],
        );
      }));

    it('keeps every perfect subtree, whatever the batch sizes', () =>
      withStore(async (tree) => {
        const range = new CompactRange();
        await grow(tree, range, 1, [1]);
        await grow(tree, range, 70, [7]);
        await grow(tree, range, 141, [60, 11]); // SQLite: one multi-row statement and a remainder
        await assertEverySubtree(tree, 141);
        assert.deepEqual(await rootHash(141, tree.readNodes), range.root());
        assert.deepEqual(await tree.state(), { size: 141, lastPosition: positionOf(140) });
        // Leaves 136–143: not all in the tree yet.
        await rejectsWith(tree.readNodes([{ level: 3, index: 17 }]), 'TLOG_PROOF_RANGE');
      }));

    it('finds every leaf by position, and no leaf at a position between two', () =>
      withStore(async (tree) => {
        await grow(tree, new CompactRange(), 100, [33]);
        for (let i = 0; i < 100; i++) {
          assert.deepEqual(await tree.leafByPosition(positionOf(i)), {
            index: i,
            position: positionOf(i),
            eventId: `evt-${i}`,
            hash: hashOf(i),
          });
          assert.equal((await tree.leafByEventId(`evt-${i}`))?.index, i);
        }
        for (const absent of [1n, positionOf(0) - 1n, positionOf(57) - 1n, positionOf(99) + 1n])
          assert.equal(await tree.leafByPosition(absent), undefined, `position ${absent}`);
        assert.equal(await tree.leafByEventId('evt-100'), undefined);
      }));

    it('serves the right edge, roots and proofs that verify, at every size', () =>
      withStore(async (tree) => {
        const range = new CompactRange();
        const roots: Buffer[] = [];
        for (let size = 1; size <= 70; size++) {
          await grow(tree, range, size, [1]);
          roots[size] = range.root();
        }
        for (let size = 1; size <= 70; size++) {
          const root = roots[size] as Buffer;
          assert.deepEqual(await rootHash(size, tree.readNodes), root, `root at ${size}`);
          for (const index of new Set([0, Math.floor(size / 2), size - 1])) {
            const proof = await inclusionProof(index, size, tree.readNodes);
            assert.equal(
              verifyInclusion(index, size, hashOf(index), proof, root),
              undefined,
              `inclusion of ${index} in ${size}`,
            );
          }
          for (const from of new Set([1, Math.ceil(size / 3), size])) {
            const proof = await consistencyProof(from, size, tree.readNodes);
            assert.equal(
              verifyConsistency(from, size, proof, roots[from] as Buffer, root),
              undefined,
              `consistency ${from} → ${size}`,
            );
          }
        }
        // Restarting needs only the right edge: a CompactRange from it continues the same tree.
        const edge = await tree.readNodes(perfectNodes(0, 70));
        const resumed = new CompactRange(70, edge);
        assert.deepEqual(resumed.root(), roots[70]);
        // A subtree the tree does not have yet is a range error, not a crash.
        await rejectsWith(tree.readNodes([{ level: 3, index: 9 }]), 'TLOG_PROOF_RANGE');
      }));

    it('appends a batch whole or not at all: a gap, a repeated index or event id, a position out of order', () =>
      withStore(async (tree) => {
        const range = new CompactRange();
        await grow(tree, range, 8);
        // Leaf 9 completes subtree 1/4 (leaves 8–9): a refused batch must not keep it.
        const leaf = (
          index: number,
          position = positionOf(index),
          eventId = `evt-${index}`,
        ): AppendedLeaf => ({
          index,
          position,
          eventId,
          hash: hashOf(index),
          completed: index % 2 === 1 ? [hashOf(99)] : [],
        });
        // Each with what its error says (an event id already a leaf: the store's own words).
        const attempts: [AppendedLeaf[], RegExp][] = [
          [[leaf(8), leaf(10)], /does not follow/], // a gap after a good leaf
          [[leaf(9)], /does not follow/], // not after the last leaf
          [[leaf(7)], /does not follow/], // an index already taken
          [[leaf(8), leaf(9, positionOf(3))], /is not after/], // a position already a leaf
          [[leaf(8, positionOf(8), 'evt-2')], /./], // an event id already a leaf
          [[leaf(8), leaf(9, positionOf(8))], /is not after/], // a position not after the one before
          [[leaf(8, positionOf(7) - 1n)], /is not after/], // not after the last leaf's position
        ];
        for (const [leaves, message] of attempts) {
          await assert.rejects(
            tree.append(leaves),
            message,
            `appending ${leaves.map((l) => `${l.index}@${l.position}`).join(',')}`,
          );
          assert.deepEqual(await tree.state(), { size: 8, lastPosition: positionOf(7) });
        }
        assert.equal(await tree.leafAt(8), undefined);
        await rejectsWith(tree.readNodes([{ level: 1, index: 4 }]), 'TLOG_PROOF_RANGE');
        // The store still takes the right next batch.
        await grow(tree, range, 10);
        assert.deepEqual(await rootHash(10, tree.readNodes), range.root());
      }));

    it('keeps checkpoints by size: the first of a size stays, the largest is the latest', () =>
      withStore(async (tree) => {
        await tree.saveCheckpoint(checkpoint(5));
        await tree.saveCheckpoint(checkpoint(12));
        await tree.saveCheckpoint(checkpoint(8));
        await tree.saveCheckpoint(checkpoint(12, 'again'));
        assert.deepEqual(await tree.latestCheckpoint(), checkpoint(12));
        assert.deepEqual(await tree.checkpointAt(8), checkpoint(8));
        assert.equal(await tree.checkpointAt(9), undefined);
        assert.deepEqual(
          (await tree.checkpoints()).map((c) => c.size),
          [5, 8, 12],
        );
        assert.deepEqual((await tree.checkpoints())[0], checkpoint(5));
        const sizes = (list: { size: number }[]) => list.map((c) => c.size);
        assert.deepEqual(sizes(await tree.recentCheckpoints(2)), [12, 8]);
        assert.deepEqual(sizes(await tree.recentCheckpoints(10, 12)), [8, 5]);
        assert.deepEqual(sizes(await tree.recentCheckpoints(10, 5)), []);
        assert.deepEqual((await tree.recentCheckpoints(1, 9))[0], checkpoint(8));
      }));

    it('appends witness cosignature lines to a checkpoint note, each once', () =>
      withStore(async (tree) => {
        await tree.saveCheckpoint(checkpoint(5));
        await tree.saveCheckpoint(checkpoint(8));
        const w1 = '— witness.example/w1 AAAAAQ==';
        const w2 = '— witness.example/w2 AAAAAg==';
        await tree.addCosignatures(8, [w1]);
        await tree.addCosignatures(8, [w1, w2]); // w1 again: kept once
        await tree.addCosignatures(9, [w1]); // no checkpoint of that size: nothing
        assert.equal((await tree.checkpointAt(8))?.note, `${checkpoint(8).note}${w1}\n${w2}\n`);
        assert.deepEqual(await tree.checkpointAt(5), checkpoint(5));
        assert.equal(await tree.checkpointAt(9), undefined);
        const latest = await tree.latestCheckpoint();
        assert.deepEqual(latest, { ...checkpoint(8), note: `${checkpoint(8).note}${w1}\n${w2}\n` });
      }));

    it('keeps everything across a reopen, and refuses calls once closed', async () => {
      const tree = await harness.createStore();
      const range = new CompactRange();
      await grow(tree, range, 23);
      await tree.saveCheckpoint(checkpoint(23));
      await tree.close();
      await tree.close(); // idempotent
      await rejectsWith(tree.state(), 'TLOG_NOT_AVAILABLE');
      await rejectsWith(tree.leafAt(0), 'TLOG_NOT_AVAILABLE');
      const again = await harness.reopen(tree);
      try {
        assert.deepEqual(await again.state(), { size: 23, lastPosition: positionOf(22) });
        assert.deepEqual(await rootHash(23, again.readNodes), range.root());
        assert.deepEqual(await again.latestCheckpoint(), checkpoint(23));
      } finally {
        await again.close();
      }
    });
  });
}
