// The Merkle tree against the published RFC 6962 / 9162 vectors, and against a
// deliberately naive transcription of the RFC's recursive definitions on random
// trees (fast-check).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CONSISTENCY_PROOFS,
  INCLUSION_PROOFS,
  LEAF_INPUTS,
  NODE_HASHES,
  ROOT_HASHES,
} from '../../test/support/merkleVectors.js';
import { CompactRange } from './compactRange.js';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
  type NodeReader,
} from './merkle.js';

const hex = (b: Buffer): string => b.toString('hex');
const unhex = (s: string): Buffer => Buffer.from(s, 'hex');

// ---- the naive reference: RFC 6962 §2.1 definitions, recursive, on whole arrays
const sha = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const k = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);
const MTH = (d: Buffer[]): Buffer =>
  d.length === 0
    ? sha()
    : d.length === 1
      ? sha(Buffer.from([0]), d[0] as Buffer)
      : sha(Buffer.from([1]), MTH(d.slice(0, k(d.length))), MTH(d.slice(k(d.length))));
const PATH = (m: number, d: Buffer[]): Buffer[] => {
  if (d.length <= 1) return [];
  const s = k(d.length);
  return m < s
    ? [...PATH(m, d.slice(0, s)), MTH(d.slice(s))]
    : [...PATH(m - s, d.slice(s)), MTH(d.slice(0, s))];
};
const SUBPROOF = (m: number, d: Buffer[], b: boolean): Buffer[] => {
  if (m === d.length) return b ? [] : [MTH(d)];
  const s = k(d.length);
  return m <= s
    ? [...SUBPROOF(m, d.slice(0, s), b), MTH(d.slice(s))]
    : [...SUBPROOF(m - s, d.slice(s), false), MTH(d.slice(0, s))];
};

/** A tree store in memory: every leaf and every node CompactRange completes, by (level, index). */
function buildTree(leaves: Buffer[]): { read: NodeReader; tree: CompactRange; roots: Buffer[] } {
  const nodes = new Map<string, Buffer>();
  const tree = new CompactRange();
  const roots = [tree.root()];
  for (const leaf of leaves) {
    const index = tree.size;
    const hash = leafHash(leaf);
    nodes.set(`0/${index}`, hash);
    // Entry l is the subtree of level l + 1 that ends with this leaf.
    for (const [l, h] of tree.append(hash).entries())
      nodes.set(`${l + 1}/${Math.floor(index / 2 ** (l + 1))}`, h);
    roots.push(tree.root());
  }
  const read: NodeReader = (ids) =>
    Promise.resolve(
      ids.map(({ level, index }) => {
        const h = nodes.get(`${level}/${index}`);
        if (h === undefined) throw new Error(`node ${level}/${index} not stored`);
        return h;
      }),
    );
  return { read, tree, roots };
}

describe('RFC 9162 Merkle tree: published vectors', () => {
  const leaves = LEAF_INPUTS.map(unhex);
  const { read, roots } = buildTree(leaves);

  it('hashes leaves and completes the same subtree nodes', async () => {
    for (const [level, hashes] of NODE_HASHES.entries())
      for (const [index, expected] of hashes.entries()) {
        const [got] = await read([{ level, index }]);
        assert.equal(hex(got as Buffer), expected, `node ${level}/${index}`);
      }
  });

  it('has the published root at every size, incrementally and from stored nodes', async () => {
    assert.deepEqual(roots.map(hex), ROOT_HASHES);
    for (let size = 0; size <= 8; size++)
      assert.equal(hex(await rootHash(size, read)), ROOT_HASHES[size]);
  });

  it('produces and verifies the published inclusion proofs', async () => {
    for (const v of INCLUSION_PROOFS) {
      const proof = await inclusionProof(v.leaf - 1, v.size, read);
      assert.deepEqual(proof.map(hex), v.proof, `leaf ${v.leaf} of ${v.size}`);
      const leaf = leafHash(leaves[v.leaf - 1] as Buffer);
      const root = unhex(ROOT_HASHES[v.size] as string);
      assert.equal(verifyInclusion(v.leaf - 1, v.size, leaf, proof, root), undefined);
      assert.notEqual(verifyInclusion(v.leaf, v.size, leaf, proof, root), undefined);
      assert.notEqual(verifyInclusion(v.leaf - 1, v.size * 2, leaf, proof, root), undefined);
      assert.notEqual(verifyInclusion(v.leaf - 1, v.size, leaf, [...proof, root], root), undefined);
    }
  });

  it('produces and verifies the published consistency proofs', async () => {
    for (const v of CONSISTENCY_PROOFS) {
      const proof = await consistencyProof(v.size1, v.size2, read);
      assert.deepEqual(proof.map(hex), v.proof, `${v.size1} → ${v.size2}`);
      const [r1, r2] = [
        unhex(ROOT_HASHES[v.size1] as string),
        unhex(ROOT_HASHES[v.size2] as string),
      ];
      assert.equal(verifyConsistency(v.size1, v.size2, proof, r1, r2), undefined);
      if (proof.length > 0) {
        assert.notEqual(verifyConsistency(v.size1, v.size2, proof, r2, r1), undefined);
        assert.notEqual(verifyConsistency(v.size1, v.size2, proof.slice(1), r1, r2), undefined);
      }
    }
  });

  it('rejects bad sizes and hashes without throwing', () => {
    const root = unhex(ROOT_HASHES[8] as string);
    const leaf = leafHash(Buffer.alloc(0));
    assert.match(verifyInclusion(8, 8, leaf, [], root) ?? '', /not within/);
    assert.match(verifyInclusion(0, 0, leaf, [], root) ?? '', /not within/);
    assert.match(verifyInclusion(0, 2, Buffer.from('short'), [root], root) ?? '', /32 bytes/);
    assert.match(verifyConsistency(5, 3, [], root, root) ?? '', /do not grow/);
    assert.match(verifyConsistency(1, 2, [], root, root) ?? '', /empty/);
  });
});

describe('RFC 9162 Merkle tree: against a naive reference on random trees', () => {
  const leavesArb = fc.array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 70 });

  it('roots, inclusion proofs and consistency proofs equal the RFC definitions and verify', async () => {
    await fc.assert(
      fc.asyncProperty(leavesArb, fc.nat(), fc.nat(), async (raw, a, b) => {
        // Distinct leaves, so that a proof for another index must fail.
        const leaves = raw.map((l, i) => Buffer.concat([Buffer.from([i]), l]));
        const { read, roots } = buildTree(leaves);
        const n = leaves.length;
        const size = 1 + (a % n);
        const index = b % size;
        const from = 1 + (b % size);
        const naiveRoot = MTH(leaves.slice(0, size));
        assert.equal(hex(roots[size] as Buffer), hex(naiveRoot));
        assert.equal(hex(await rootHash(size, read)), hex(naiveRoot));

        const proof = await inclusionProof(index, size, read);
        assert.deepEqual(proof.map(hex), PATH(index, leaves.slice(0, size)).map(hex));
        const leaf = leafHash(leaves[index] as Buffer);
        assert.equal(verifyInclusion(index, size, leaf, proof, naiveRoot), undefined);
        if (size > 1)
          assert.notEqual(
            verifyInclusion((index + 1) % size, size, leaf, proof, naiveRoot),
            undefined,
          );

        const cproof = await consistencyProof(from, size, read);
        assert.deepEqual(cproof.map(hex), SUBPROOF(from, leaves.slice(0, size), true).map(hex));
        const oldRoot = MTH(leaves.slice(0, from));
        assert.equal(verifyConsistency(from, size, cproof, oldRoot, naiveRoot), undefined);
        if (from < size) {
          const forged = Buffer.from(oldRoot);
          forged[0] = (forged[0] as number) ^ 1;
          assert.notEqual(verifyConsistency(from, size, cproof, forged, naiveRoot), undefined);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('resumes appending from a stored right edge', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), (raw, cut) => {
        const leaves = raw.map((l) => Buffer.from(l));
        const at = cut % (leaves.length + 1);
        const whole = buildTree(leaves).tree;
        const edges: Buffer[] = [];
        // The right edge of a tree of `at` leaves is the roots of its perfect subtrees.
        let start = 0;
        for (let level = 52; level >= 0; level--)
          if (at - start >= 2 ** level) {
            edges.push(MTH(leaves.slice(start, start + 2 ** level)));
            start += 2 ** level;
          }
        const resumed = new CompactRange(at, edges);
        for (const l of leaves.slice(at)) resumed.append(leafHash(l));
        assert.equal(hex(resumed.root()), hex(whole.root()));
      }),
      { numRuns: 200 },
    );
  });
});
