// The SQLite tree store: a database file apart from the log's, holding the
// Merkle log projection. ~3 rows per leaf (the leaf, on average one interior
// node, its index entries); proofs read O(log n) rows by primary key.
import { ProvenantError } from '../../errors.js';
import { openDatabase, setPragmas, type Database } from '../../eventStore/sqlite/database.js';
import type { StoredNode } from '../compactRange.js';
import type { NodeId } from '../merkle.js';
import type { LeafRecord, SignedCheckpoint, TreeState, TreeStore } from '../port.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS merkle_leaves (
  leaf_index INTEGER PRIMARY KEY,
  position   INTEGER NOT NULL UNIQUE,
  event_id   TEXT    NOT NULL UNIQUE,
  hash       BLOB    NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS merkle_nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB    NOT NULL,
  PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS merkle_checkpoints (
  tree_size INTEGER PRIMARY KEY,
  root      BLOB    NOT NULL,
  note      TEXT    NOT NULL,
  signed_at TEXT    NOT NULL
) STRICT;
`;

interface LeafRow {
  leaf_index: number;
  position: number;
  event_id: string;
  hash: Buffer;
}
interface CheckpointRow {
  tree_size: number;
  root: Buffer;
  note: string;
  signed_at: string;
}

const toLeaf = (row: LeafRow): LeafRecord => ({
  index: row.leaf_index,
  position: BigInt(row.position),
  eventId: row.event_id,
  hash: row.hash,
});
const toCheckpoint = (row: CheckpointRow): SignedCheckpoint => ({
  size: row.tree_size,
  root: row.root,
  note: row.note,
  signedAt: row.signed_at,
});

export interface SQLiteTreeStoreOptions {
  /** The database file (`:memory:` for tests). */
  path: string;
}

export function getSQLiteTreeStore(options: SQLiteTreeStoreOptions): TreeStore {
  const db: Database.Database = openDatabase(options.path);
  setPragmas(db, { journal_mode: 'WAL', synchronous: 'NORMAL' });
  db.exec(SCHEMA);
  const q = {
    last: db.prepare<[], LeafRow>('SELECT * FROM merkle_leaves ORDER BY leaf_index DESC LIMIT 1'),
    insertLeaf: db.prepare(
      'INSERT INTO merkle_leaves (leaf_index, position, event_id, hash) VALUES (?, ?, ?, ?)',
    ),
    insertNode: db.prepare(
      'INSERT OR REPLACE INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)',
    ),
    leafHash: db
      .prepare<[number], Buffer>('SELECT hash FROM merkle_leaves WHERE leaf_index = ?')
      .pluck(),
    nodeHash: db
      .prepare<[number, number], Buffer>(
        'SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?',
      )
      .pluck(),
    leafAt: db.prepare<[number], LeafRow>('SELECT * FROM merkle_leaves WHERE leaf_index = ?'),
    byPosition: db.prepare<[number], LeafRow>('SELECT * FROM merkle_leaves WHERE position = ?'),
    byEventId: db.prepare<[string], LeafRow>('SELECT * FROM merkle_leaves WHERE event_id = ?'),
    leaves: db.prepare<[number, number], LeafRow>(
      'SELECT * FROM merkle_leaves WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?',
    ),
    saveCheckpoint: db.prepare(
      'INSERT OR IGNORE INTO merkle_checkpoints (tree_size, root, note, signed_at) VALUES (?, ?, ?, ?)',
    ),
    latest: db.prepare<[], CheckpointRow>(
      'SELECT * FROM merkle_checkpoints ORDER BY tree_size DESC LIMIT 1',
    ),
    checkpointAt: db.prepare<[number], CheckpointRow>(
      'SELECT * FROM merkle_checkpoints WHERE tree_size = ?',
    ),
    checkpoints: db.prepare<[], CheckpointRow>(
      'SELECT * FROM merkle_checkpoints ORDER BY tree_size',
    ),
  };
  let closed = false;
  const open = (): void => {
    if (closed) throw new ProvenantError('TLOG_NOT_AVAILABLE', 'The tree store is closed');
  };
  const state = (): TreeState => {
    const last = q.last.get();
    return last === undefined
      ? { size: 0, lastPosition: 0n }
      : { size: last.leaf_index + 1, lastPosition: BigInt(last.position) };
  };
  const append = db.transaction((leaves: readonly LeafRecord[], nodes: readonly StoredNode[]) => {
    const { size } = state();
    leaves.forEach((leaf, i) => {
      if (leaf.index !== size + i)
        throw new Error(`leaf ${leaf.index} does not follow a tree of ${size + i} leaves`);
      q.insertLeaf.run(leaf.index, leaf.position, leaf.eventId, leaf.hash);
    });
    for (const node of nodes)
      if (node.level > 0) q.insertNode.run(node.level, node.index, node.hash);
  });
  const readNode = ({ level, index }: NodeId): Buffer => {
    const hash = level === 0 ? q.leafHash.get(index) : q.nodeHash.get(level, index);
    if (hash === undefined)
      throw new ProvenantError('TLOG_PROOF_RANGE', `Subtree ${level}/${index} is not in the tree`);
    return hash;
  };
  /** Every call runs after the current tick, and only while the store is open. */
  const call = <T>(work: () => T): Promise<T> =>
    Promise.resolve().then(() => {
      open();
      return work();
    });
  const checkpointOf = (row: CheckpointRow | undefined): SignedCheckpoint | undefined =>
    row === undefined ? undefined : toCheckpoint(row);
  return {
    state: () => call(state),
    append: (leaves, nodes) => call(() => append(leaves, nodes)),
    readNodes: (ids) => call(() => ids.map(readNode)),
    leafAt: (index) => call(() => mapRow(q.leafAt.get(index))),
    leafByPosition: (position) => call(() => mapRow(q.byPosition.get(Number(position)))),
    leafByEventId: (eventId) => call(() => mapRow(q.byEventId.get(eventId))),
    leaves: (index, count) => call(() => q.leaves.all(index, count).map(toLeaf)),
    saveCheckpoint: (c) =>
      call(() => {
        q.saveCheckpoint.run(c.size, c.root, c.note, c.signedAt);
      }),
    latestCheckpoint: () => call(() => checkpointOf(q.latest.get())),
    checkpointAt: (size) => call(() => checkpointOf(q.checkpointAt.get(size))),
    checkpoints: () => call(() => q.checkpoints.all().map(toCheckpoint)),
    close: () => {
      if (!closed) db.close();
      closed = true;
      return Promise.resolve();
    },
  };
}

const mapRow = (row: LeafRow | undefined): LeafRecord | undefined =>
  row === undefined ? undefined : toLeaf(row);
