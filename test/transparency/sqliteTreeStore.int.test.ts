// The SQLite tree store (its own file beside the log) against the tree store
// conformance suite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { TreeStore } from '../../src/transparency/port.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { treeStoreConformance } from './treeStoreConformance.js';

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
