// The SQLite tree store: a database file apart from the log's, holding the
// Merkle log projection. One row per leaf, appended at the end of a rowid table:
// the leaf hash, and in the same row the hashes of the perfect subtrees that end
// with that leaf (one on average), so a proof reads O(log n) rows by primary key
// and an append writes one row and one index entry (the event id's) per leaf.
// A leaf by `$all` position is a binary search over leaf indexes: positions
// increase with them (append checks it).
import { ProvenantError } from '../../errors.js';
import {
  isUnreadableDatabase,
  openDatabase,
  quickCheckProblem,
  setPragmas,
  type Database,
} from '../../eventStore/sqlite/database.js';
import { HASH_SIZE, type NodeId } from '../merkle.js';
import type { AppendedLeaf, LeafRecord, SignedCheckpoint, TreeState, TreeStore } from '../port.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS merkle_leaves (
  leaf_index INTEGER PRIMARY KEY,
  position   INTEGER NOT NULL,
  event_id   TEXT    NOT NULL UNIQUE,
  hash       BLOB    NOT NULL,
  completed  BLOB    NOT NULL -- the subtrees ending here, level 1 first, 32 bytes each
) STRICT;
CREATE TABLE IF NOT EXISTS merkle_checkpoints (
  tree_size INTEGER PRIMARY KEY,
  root      BLOB    NOT NULL,
  note      TEXT    NOT NULL,
  signed_at TEXT    NOT NULL
) STRICT;
`;

/** Leaves inserted by one statement: one call into SQLite per 50 rows, not per row. */
const ROWS = 50;

const LEAF_COLUMNS = 'leaf_index, position, event_id, hash';

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

const NONE = Buffer.alloc(0);
const completedBlob = (completed: readonly Buffer[]): Buffer =>
  completed.length === 0
    ? NONE
    : completed.length === 1
      ? (completed[0] as Buffer)
      : Buffer.concat(completed);

/** The leaf whose row keeps subtree (level, index): the last leaf of the subtree. */
const lastLeafOf = ({ level, index }: NodeId): number => (index + 1) * 2 ** level - 1;

/**
 * Files written before leaves carried their subtrees kept them in a table
 * `merkle_nodes (level, idx, hash)`: moves each into the row of its last leaf,
 * level by level (so that level 1 comes first), once, in one transaction.
 */
function migrateNodesTable(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(merkle_leaves)').all();
  if (columns.some((c) => c.name === 'completed')) return;
  db.transaction(() => {
    db.exec("ALTER TABLE merkle_leaves ADD COLUMN completed BLOB NOT NULL DEFAULT x''");
    const nodes = db.prepare<[number, number], { idx: number; hash: Buffer }>(
      'SELECT idx, hash FROM merkle_nodes WHERE level = ? AND idx >= ? ORDER BY idx LIMIT 10000',
    );
    const read = db
      .prepare<[number], Buffer>('SELECT completed FROM merkle_leaves WHERE leaf_index = ?')
      .pluck();
    const write = db.prepare('UPDATE merkle_leaves SET completed = ? WHERE leaf_index = ?');
    for (let level = 1; ; level++) {
      let moved = 0;
      for (let from = 0; ;) {
        const page = nodes.all(level, from);
        for (const { idx, hash } of page) {
          const leaf = lastLeafOf({ level, index: idx });
          write.run(Buffer.concat([read.get(leaf) ?? NONE, hash]), leaf);
        }
        moved += page.length;
        const last = page.at(-1);
        if (last === undefined) break;
        from = last.idx + 1;
      }
      if (moved === 0) break;
    }
    db.exec('DROP TABLE merkle_nodes');
  })();
}

export interface SQLiteTreeStoreOptions {
  /** The database file (`:memory:` for tests). */
  path: string;
}

/**
 * Opens the file, creating its tables. A file that is not a database, or is
 * corrupt, is TLOG_NOT_AVAILABLE, saying how to recover: the tree derives from
 * the log, so a start without the file rebuilds it (and signs a checkpoint of
 * the whole log); it is not moved aside here, so that what an attacker or a
 * disk left behind stays for the operator to look at.
 */
function openTreeFile(path: string): Database.Database {
  let db: Database.Database | undefined;
  const notAvailable = (why: string, cause?: unknown): ProvenantError =>
    new ProvenantError(
      'TLOG_NOT_AVAILABLE',
      `The Merkle log file ${path} is not a readable SQLite database (${why}). It is derived from the log: move it (and its -wal and -shm files) aside, and the next start rebuilds it from the log and signs a checkpoint of the whole log`,
      { cause, details: { path } },
    );
  try {
    db = openDatabase(path);
    setPragmas(db, { journal_mode: 'WAL', synchronous: 'NORMAL' });
    // A file damaged past its first pages opens, and fails only the queries that
    // reach the damage: the signer retried forever and the API said that no
    // checkpoint had been signed. Checked whole, as the read-model file is.
    const problem = quickCheckProblem(db);
    if (problem !== undefined) throw notAvailable(`it fails PRAGMA quick_check: ${problem}`);
    db.exec(SCHEMA);
    migrateNodesTable(db);
    return db;
  } catch (error) {
    db?.close();
    if (isUnreadableDatabase(error)) throw notAvailable((error as Error).message, error);
    throw error;
  }
}

export function getSQLiteTreeStore(options: SQLiteTreeStoreOptions): TreeStore {
  const db = openTreeFile(options.path);
  const q = {
    last: db.prepare<[], LeafRow>(
      `SELECT ${LEAF_COLUMNS} FROM merkle_leaves ORDER BY leaf_index DESC LIMIT 1`,
    ),
    insertLeaves: db.prepare(
      `INSERT INTO merkle_leaves (leaf_index, position, event_id, hash, completed) VALUES ${Array(ROWS).fill('(?, ?, ?, ?, ?)').join(', ')}`,
    ),
    insertLeaf: db.prepare(
      'INSERT INTO merkle_leaves (leaf_index, position, event_id, hash, completed) VALUES (?, ?, ?, ?, ?)',
    ),
    leafHash: db
      .prepare<[number], Buffer>('SELECT hash FROM merkle_leaves WHERE leaf_index = ?')
      .pluck(),
    // The 32 bytes of a subtree in its last leaf's row (substr counts bytes of a blob from 1).
    nodeHash: db
      .prepare<[number, number], Buffer>(
        'SELECT substr(completed, ? * 32 + 1, 32) FROM merkle_leaves WHERE leaf_index = ?',
      )
      .pluck(),
    positionAt: db
      .prepare<[number], number>('SELECT position FROM merkle_leaves WHERE leaf_index = ?')
      .pluck(),
    leafAt: db.prepare<[number], LeafRow>(
      `SELECT ${LEAF_COLUMNS} FROM merkle_leaves WHERE leaf_index = ?`,
    ),
    byEventId: db.prepare<[string], LeafRow>(
      `SELECT ${LEAF_COLUMNS} FROM merkle_leaves WHERE event_id = ?`,
    ),
    // Rows as arrays (no row object per leaf): the walk of `log verify` reads every leaf.
    leaves: db
      .prepare<[number, number], [number, number, string, Buffer]>(
        `SELECT ${LEAF_COLUMNS} FROM merkle_leaves WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?`,
      )
      .raw(),
    saveCheckpoint: db.prepare(
      'INSERT OR IGNORE INTO merkle_checkpoints (tree_size, root, note, signed_at) VALUES (?, ?, ?, ?)',
    ),
    addCosignature: db.prepare<[string, number, string], void>(
      'UPDATE merkle_checkpoints SET note = note || ? WHERE tree_size = ? AND instr(note, ?) = 0',
    ),
    latest: db.prepare<[], CheckpointRow>(
      'SELECT * FROM merkle_checkpoints ORDER BY tree_size DESC LIMIT 1',
    ),
    checkpointAt: db.prepare<[number], CheckpointRow>(
      'SELECT * FROM merkle_checkpoints WHERE tree_size = ?',
    ),
    recent: db.prepare<[number, number], CheckpointRow>(
      'SELECT * FROM merkle_checkpoints WHERE tree_size < ? ORDER BY tree_size DESC LIMIT ?',
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
  const append = db.transaction((leaves: readonly AppendedLeaf[]) => {
    let { size, lastPosition } = state();
    const values: unknown[] = [];
    for (const leaf of leaves) {
      if (leaf.index !== size)
        throw new Error(`leaf ${leaf.index} does not follow a tree of ${size} leaves`);
      if (leaf.position <= lastPosition)
        throw new Error(
          `leaf ${leaf.index} at position ${leaf.position} is not after ${lastPosition}`,
        );
      values.push(
        leaf.index,
        leaf.position,
        leaf.eventId,
        leaf.hash,
        completedBlob(leaf.completed),
      );
      size++;
      lastPosition = leaf.position;
    }
    // Full statements of ROWS rows, then the rest one by one.
    const full = values.length - (values.length % (ROWS * 5));
    for (let at = 0; at < full; at += ROWS * 5) q.insertLeaves.run(values.slice(at, at + ROWS * 5));
    for (let at = full; at < values.length; at += 5) q.insertLeaf.run(values.slice(at, at + 5));
  });
  const readNode = (id: NodeId): Buffer => {
    const leaf = lastLeafOf(id);
    const hash = id.level === 0 ? q.leafHash.get(leaf) : q.nodeHash.get(id.level - 1, leaf);
    if (hash === undefined || hash.length !== HASH_SIZE)
      throw new ProvenantError(
        'TLOG_PROOF_RANGE',
        `Subtree ${id.level}/${id.index} is not in the tree`,
      );
    return hash;
  };
  /** Binary search over leaf indexes: positions increase with them. */
  const leafByPosition = (position: number): LeafRecord | undefined => {
    let low = 0;
    let high = state().size - 1;
    while (low <= high) {
      const middle = Math.floor((low + high) / 2);
      const at = q.positionAt.get(middle) as number;
      if (at === position) return mapRow(q.leafAt.get(middle));
      if (at < position) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
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
    append: (leaves) => call(() => append(leaves)),
    readNodes: (ids) => call(() => ids.map(readNode)),
    leafAt: (index) => call(() => mapRow(q.leafAt.get(index))),
    leafByPosition: (position) => call(() => leafByPosition(Number(position))),
    leafByEventId: (eventId) => call(() => mapRow(q.byEventId.get(eventId))),
    leaves: (index, count) =>
      call(() =>
        q.leaves.all(index, count).map(([leaf, position, eventId, hash]) => ({
          index: leaf,
          position: BigInt(position),
          eventId,
          hash,
        })),
      ),
    saveCheckpoint: (c) =>
      call(() => {
        q.saveCheckpoint.run(c.size, c.root, c.note, c.signedAt);
      }),
    addCosignatures: (size, lines) =>
      call(() => {
        for (const line of lines) q.addCosignature.run(`${line}\n`, size, `\n${line}\n`);
      }),
    latestCheckpoint: () => call(() => checkpointOf(q.latest.get())),
    checkpointAt: (size) => call(() => checkpointOf(q.checkpointAt.get(size))),
    checkpoints: () => call(() => q.checkpoints.all().map(toCheckpoint)),
    recentCheckpoints: (count, belowSize = Number.MAX_SAFE_INTEGER) =>
      call(() => q.recent.all(belowSize, count).map(toCheckpoint)),
    close: () => {
      if (!closed) db.close();
      closed = true;
      return Promise.resolve();
    },
  };
}

const mapRow = (row: LeafRow | undefined): LeafRecord | undefined =>
  row === undefined ? undefined : toLeaf(row);
