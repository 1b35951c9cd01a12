// RFC 9162 (Certificate Transparency v2) Merkle tree hashing, §2.1, with SHA-256:
//
//   MTH({})        = SHA-256()
//   leaf hash      = SHA-256(0x00 || data)
//   node hash      = SHA-256(0x01 || left || right)
//   MTH(D[0:n])    = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
//
// Proofs are planned as lists of subtree *ranges* [start, end) (pure), and each
// range's hash is read from the perfect subtrees a tree store keeps by
// (level, index): a range's perfect decomposition has one subtree per set bit
// of its size, so a proof costs O(log n) reads at any tree size.
// Verification follows the RFC's algorithms (§2.1.3.2, §2.1.4.2) verbatim.
//
// Hashes are one-shot `crypto.hash` calls over one input (no Hash object per
// hash): appending a leaf and re-walking the log hash once or twice per event.
import { createHash, hash } from 'node:crypto';

export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

/** SHA-256(0x00 || data): the hash of one leaf (data is UTF-8 when a string). */
export const leafHash = (data: string | Uint8Array): Buffer =>
  typeof data === 'string'
    ? hash('sha256', `\0${data}`, 'buffer') // U+0000 is the single byte 0x00 in UTF-8
    : hash('sha256', Buffer.concat([LEAF_PREFIX, data]), 'buffer');

/** 0x01 || left || right for two 32-byte hashes, rewritten by each `nodeHash` call. */
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE, NODE_PREFIX);

/** SHA-256(0x01 || left || right): the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE)
    return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return hash('sha256', nodeInput, 'buffer');
}

/** MTH of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT = createHash('sha256').digest();

/** A perfect subtree: 2^level leaves starting at leaf `index << level`. */
export interface NodeId {
  level: number;
  index: number;
}

/** A subtree range of leaves [start, end) as the MTH recursion splits a tree. */
export type Range = readonly [start: number, end: number];

/** The largest power of two strictly less than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect subtrees whose hashes make MTH(D[start:end]), left to right: one
 * per set bit of the size, largest first. `start` must be aligned as the MTH
 * recursion aligns it (a multiple of the largest power of two ≤ the size).
 */
export function perfectNodes(start: number, end: number): NodeId[] {
  const nodes: NodeId[] = [];
  let at = start;
  for (let level = 52; level >= 0; level--) {
    const width = 2 ** level;
    if (end - at >= width) {
      nodes.push({ level, index: at / width });
      at += width;
    }
  }
  return nodes;
}

/** Folds a range's perfect subtree hashes (left to right) into its MTH: right to left. */
export function foldRight(hashes: readonly Buffer[]): Buffer {
  let acc = hashes.at(-1);
  if (acc === undefined) return EMPTY_ROOT;
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i] as Buffer, acc);
  return acc;
}

/**
 * The ranges whose hashes form the inclusion proof of leaf `index` in a tree of
 * `size` leaves (RFC 9162 §2.1.3.1 PATH), in proof order: nearest the leaf first.
 */
export function inclusionRanges(index: number, size: number): Range[] {
  const ranges: Range[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index - start < k) {
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      start += k;
    }
  }
  return ranges.reverse();
}

/**
 * The ranges whose hashes form the consistency proof from `from` to `to` leaves
 * (RFC 9162 §2.1.4.1 SUBPROOF with b = true), in proof order. 0 < from ≤ to.
 */
export function consistencyRanges(from: number, to: number): Range[] {
  const ranges: Range[] = [];
  let start = 0;
  let end = to;
  let complete = true;
  // The subtree [start, end) holds the old tree's last leaf; stop when it ends there.
  while (from !== end) {
    const k = splitPoint(end - start);
    if (from - start <= k) {
      // m ≤ k: the old tree lies in the left subtree; the right one is proof.
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      start += k;
      complete = false;
    }
  }
  if (!complete) ranges.push([start, end]);
  return ranges.reverse();
}

/** Reads perfect subtree hashes (level 0 = leaf hashes); throws when one is missing. */
export type NodeReader = (ids: readonly NodeId[]) => Promise<Buffer[]>;

/** The hashes of `ranges`, read in one call from `read`. */
export async function rangeHashes(ranges: readonly Range[], read: NodeReader): Promise<Buffer[]> {
  const plans = ranges.map(([start, end]) => perfectNodes(start, end));
  const hashes = await read(plans.flat());
  let at = 0;
  return plans.map((plan) => {
    const part = hashes.slice(at, at + plan.length);
    at += plan.length;
    return foldRight(part);
  });
}

/** The root hash of a tree of `size` leaves from its stored perfect subtrees. */
export const rootHash = async (size: number, read: NodeReader): Promise<Buffer> =>
  size === 0 ? EMPTY_ROOT : ((await rangeHashes([[0, size]], read))[0] as Buffer);

export const inclusionProof = (index: number, size: number, read: NodeReader): Promise<Buffer[]> =>
  rangeHashes(inclusionRanges(index, size), read);

export const consistencyProof = (from: number, to: number, read: NodeReader): Promise<Buffer[]> =>
  rangeHashes(consistencyRanges(from, to), read);

/** Why a proof does not verify (undefined when it does). */
export type ProofFailure = string | undefined;

/**
 * RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or a failure. The
 * caller compares the root with the checkpoint's.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer | string {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size)
    return `leaf index ${index} is not within a tree of ${size}`;
  if (leaf.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE))
    return 'a hash is not 32 bytes';
  let r: Buffer = Buffer.from(leaf);
  const failure = walkPath(index, size - 1, proof, (p, left) => {
    r = left ? nodeHash(p, r) : nodeHash(r, p);
  });
  return failure ?? r;
}

/**
 * The walk both RFC 9162 verifiers make (§2.1.3.2 step 4, §2.1.4.2 step 5):
 * from node `fn` of last node `sn`, each proof hash in turn, told whether it is
 * a left sibling (`fn` odd or `fn` = `sn`); a failure when the proof is longer
 * or shorter than the path.
 */
function walkPath(
  fn: number,
  sn: number,
  proof: readonly Uint8Array[],
  visit: (hash: Uint8Array, left: boolean) => void,
): ProofFailure {
  for (const p of proof) {
    if (sn === 0) return 'the proof is longer than the path';
    const left = fn % 2 === 1 || fn === sn;
    visit(p, left);
    if (left && fn % 2 === 0) {
      // Right-shift until fn is odd or zero.
      do {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      } while (fn % 2 === 0 && fn !== 0);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? undefined : 'the proof is shorter than the path';
}

/** RFC 9162 §2.1.3.2: whether `leaf` is at `index` in the tree of `size` with `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): ProofFailure {
  const computed = rootFromInclusionProof(index, size, leaf, proof);
  if (typeof computed === 'string') return computed;
  return computed.equals(root) ? undefined : 'the proof leads to another root';
}

/** RFC 9162 §2.1.4.2: whether the tree of `to` with `newRoot` extends the tree of `from` with `oldRoot`. */
export function verifyConsistency(
  from: number,
  to: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): ProofFailure {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to)
    return `sizes ${from} → ${to} do not grow`;
  if (proof.some((p) => p.length !== HASH_SIZE)) return 'a hash is not 32 bytes';
  if (from === to)
    return proof.length === 0 && Buffer.from(oldRoot).equals(newRoot)
      ? undefined
      : 'equal sizes need an empty proof and equal roots';
  if (from === 0) return proof.length === 0 ? undefined : 'from an empty tree the proof is empty';
  if (proof.length === 0) return 'the proof is empty';
  // 1. If first is an exact power of 2, prepend first_hash to the path.
  const path = [...proof];
  if (Number.isInteger(Math.log2(from))) path.unshift(oldRoot);
  // 3. fn = first - 1, sn = second - 1; shift right while LSB(fn) is set.
  let fn = from - 1;
  let sn = to - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // 4. fr = sr = c[0].
  let fr: Buffer = Buffer.from(path[0] as Uint8Array);
  let sr = fr;
  // 5. For each subsequent c (walkPath), and 6. sn must end at 0.
  const failure = walkPath(fn, sn, path.slice(1), (c, left) => {
    if (left) fr = nodeHash(c, fr);
    sr = left ? nodeHash(c, sr) : nodeHash(sr, c);
  });
  if (failure !== undefined) return failure;
  // fr = first_hash, sr = second_hash.
  if (!fr.equals(oldRoot)) return 'the proof does not lead to the old root';
  if (!sr.equals(newRoot)) return 'the proof does not lead to the new root';
  return undefined;
}
