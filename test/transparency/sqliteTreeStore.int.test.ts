// The SQLite tree store (its own file beside the log) against the tree store
// conformance suite, plus what only it has: a file of the earlier layout
// (subtrees in a table `merkle_nodes`) migrated in place into the leaf rows.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CompactRange } from '../../src/transparency/compactRange.js';
import type { AppendedLeaf, TreeStore } from '../../src/transparency/port.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import {
  assertEverySubtree,
  hashOf,
  positionOf,
  subtree,
  treeStoreConformance,
} from './treeStoreConformance.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-tree-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const paths = new Map<TreeStore, string>();
const open = (path: string): TreeStore => {
  const tree = getSQLiteTreeStore({ path });
  paths.set(tree, path);
  return tree;
};

treeStoreConformance('sqlite', {
  createStore: () => Promise.resolve(open(join(dir, `tree-${++n}.db`))),
  reopen: (tree) => Promise.resolve(open(paths.get(tree) ?? '')),
});

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

describe('SQLite tree store specifics', () => {
  const newPath = (): string => join(dir, `tree-${++n}.db`);

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
