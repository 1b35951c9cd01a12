// The SQLite tree store on real files: every perfect subtree read back from the
// row of its last leaf, leaves found by position (a binary search) and by event
// id, appends that do not follow refused whole, and a file of the earlier layout
// (subtrees in a table `merkle_nodes`) migrated in place.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isProvenantError } from '../../src/errors.js';
import { CompactRange } from '../../src/transparency/compactRange.js';
import { nodeHash, rootHash } from '../../src/transparency/merkle.js';
import type { AppendedLeaf, TreeStore } from '../../src/transparency/port.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';

const root = mkdtempSync(join(tmpdir(), 'provenant-treestore-'));
after(() => rmSync(root, { recursive: true, force: true }));
let files = 0;
const newPath = (): string => join(root, `tree-${++files}.db`);

const hashOf = (i: number): Buffer => createHash('sha256').update(`leaf ${i}`).digest();
/** Positions with gaps, as a log with holes in its position sequence has them. */
const positionOf = (i: number): bigint => BigInt(3 * i + (i % 4 === 0 ? 1 : 2));

/** MTH of leaves [start, start + 2^level), by the RFC's recursion. */
function subtree(level: number, start: number): Buffer {
  if (level === 0) return hashOf(start);
  const half = 2 ** (level - 1);
  return nodeHash(subtree(level - 1, start), subtree(level - 1, start + half));
}

/** Appends leaves [from, to) in batches of `batch`, the way the tree builder does. */
async function appendLeaves(
  tree: TreeStore,
  range: CompactRange,
  from: number,
  to: number,
  batch: number,
): Promise<void> {
  for (let at = from; at < to; at += batch) {
    const leaves: AppendedLeaf[] = [];
    for (let i = at; i < Math.min(to, at + batch); i++) {
      const hash = hashOf(i);
      leaves.push({
        index: i,
        position: positionOf(i),
        eventId: `ev-${i}`,
        hash,
        completed: range.append(hash),
      });
    }
    await tree.append(leaves);
  }
}

/** Every perfect subtree of a tree of `size` leaves against the recursion. */
async function assertEverySubtree(tree: TreeStore, size: number): Promise<void> {
  for (let level = 0; 2 ** level <= size; level++)
    for (let index = 0; (index + 1) * 2 ** level <= size; index++) {
      const [stored] = await tree.readNodes([{ level, index }]);
      assert.ok(stored?.equals(subtree(level, index * 2 ** level)), `subtree ${level}/${index}`);
    }
}

describe('SQLite tree store', () => {
  it('keeps every perfect subtree in the row of its last leaf, in batches of any size', async () => {
    const tree = getSQLiteTreeStore({ path: newPath() });
    const range = new CompactRange();
    await appendLeaves(tree, range, 0, 1, 1);
    await appendLeaves(tree, range, 1, 70, 7);
    await appendLeaves(tree, range, 70, 141, 60); // one multi-row statement and a remainder
    await assertEverySubtree(tree, 141);
    assert.ok((await rootHash(141, tree.readNodes)).equals(range.root()));
    assert.deepEqual(await tree.state(), { size: 141, lastPosition: positionOf(140) });
    await assert.rejects(
      tree.readNodes([{ level: 3, index: 17 }]), // leaves 136–143: not all in the tree
      (error: unknown) => isProvenantError(error) && error.code === 'TLOG_PROOF_RANGE',
    );
    await tree.close();
  });

  it('finds leaves by position (gaps between them) and by event id', async () => {
    const tree = getSQLiteTreeStore({ path: newPath() });
    await appendLeaves(tree, new CompactRange(), 0, 100, 33);
    for (let i = 0; i < 100; i++) {
      const leaf = await tree.leafByPosition(positionOf(i));
      assert.deepEqual(leaf, {
        index: i,
        position: positionOf(i),
        eventId: `ev-${i}`,
        hash: hashOf(i),
      });
      assert.equal((await tree.leafByEventId(`ev-${i}`))?.index, i);
    }
    for (const absent of [0n, positionOf(0) + 1n, positionOf(57) - 1n, positionOf(99) + 1n])
      assert.equal(await tree.leafByPosition(absent), undefined, `position ${absent}`);
    assert.equal(await tree.leafByEventId('ev-100'), undefined);
    await tree.close();
  });

  it('refuses, whole, a batch whose index or position does not follow', async () => {
    const tree = getSQLiteTreeStore({ path: newPath() });
    const range = new CompactRange();
    await appendLeaves(tree, range, 0, 5, 5);
    const leaf = (index: number, position: bigint): AppendedLeaf => ({
      index,
      position,
      eventId: `x-${index}`,
      hash: hashOf(index),
      completed: [],
    });
    await assert.rejects(tree.append([leaf(5, 100n), leaf(7, 101n)]), /does not follow/);
    await assert.rejects(tree.append([leaf(5, 100n), leaf(6, 100n)]), /is not after/);
    await assert.rejects(tree.append([leaf(5, positionOf(4))]), /is not after/);
    assert.deepEqual(await tree.state(), { size: 5, lastPosition: positionOf(4) });
    await tree.close();
  });

  it('migrates a file of the earlier layout: subtrees move from merkle_nodes into the leaf rows', async () => {
    const path = newPath();
    const size = 45;
    const old = new Database(path);
    old.exec(`
      CREATE TABLE merkle_leaves (
        leaf_index INTEGER PRIMARY KEY, position INTEGER NOT NULL UNIQUE,
        event_id TEXT NOT NULL UNIQUE, hash BLOB NOT NULL) STRICT;
      CREATE TABLE merkle_nodes (
        level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
        PRIMARY KEY (level, idx)) STRICT, WITHOUT ROWID;
      CREATE TABLE merkle_checkpoints (
        tree_size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL,
        signed_at TEXT NOT NULL) STRICT;`);
    const insertLeaf = old.prepare('INSERT INTO merkle_leaves VALUES (?, ?, ?, ?)');
    const insertNode = old.prepare('INSERT INTO merkle_nodes VALUES (?, ?, ?)');
    for (let i = 0; i < size; i++) insertLeaf.run(i, positionOf(i), `ev-${i}`, hashOf(i));
    for (let level = 1; 2 ** level <= size; level++)
      for (let index = 0; (index + 1) * 2 ** level <= size; index++)
        insertNode.run(level, index, subtree(level, index * 2 ** level));
    old.prepare('INSERT INTO merkle_checkpoints VALUES (?, ?, ?, ?)').run(8, hashOf(8), 'n', 't');
    old.close();

    const tree = getSQLiteTreeStore({ path });
    await assertEverySubtree(tree, size);
    assert.deepEqual(await tree.state(), { size, lastPosition: positionOf(size - 1) });
    assert.equal((await tree.checkpoints()).length, 1);
    // It goes on growing from the right edge it read back.
    const edge = await tree.readNodes([
      { level: 5, index: 0 },
      { level: 3, index: 4 },
      { level: 2, index: 10 },
      { level: 0, index: 44 },
    ]);
    const range = new CompactRange(size, edge);
    await appendLeaves(tree, range, size, 80, 10);
    await assertEverySubtree(tree, 80);
    await tree.close();
    const check = new Database(path, { readonly: true });
    const tables = check
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    check.close();
    assert.deepEqual(tables, ['merkle_checkpoints', 'merkle_leaves']);
  });
});
