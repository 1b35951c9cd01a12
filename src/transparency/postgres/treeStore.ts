// The PostgreSQL tree store: the Merkle log projection in the log's schema on
// the shared server, so that every API node serves checkpoints and proofs from
// one tree, which one elected follower extends (./leader.ts). The tables come
// from versioned migrations applied at first use under an advisory lock
// (src/postgres/migrate.ts). A batch of leaves is one transaction of two
// multi-row `INSERT … SELECT unnest(…)`s: the leaves, and the subtrees they
// complete (each leaf's `completed`, one on average) as rows of `merkle_nodes`
// keyed by (level, index); a proof reads its O(log n) subtree hashes in one
// query, by primary key. A leaf by position uses the unique index on it.
//
// Two writers can never interleave: a leaf's index is its primary key, so a
// deposed or stale follower that appends an index already taken fails and
// rolls back. The elected follower also runs on its lock's own session
// (`pinnedTo`), so a leader whose session ended commits nothing more.
import { ProvenantError } from '../../errors.js';
import {
  createPool,
  inTransaction,
  mapConnectionError,
  migrateOnce,
  type Pool,
  type PgMigration,
  type PostgresOptions,
} from '../../postgres/index.js';
import type { NodeId } from '../merkle.js';
import type { LeafRecord, SignedCheckpoint, TreeState, TreeStore } from '../port.js';

/** Anything that runs a query: the pool, a pooled client, the leader's session. */
export interface Queryable {
  query: Pool['query'];
}

export interface PostgresTreeStore extends TreeStore {
  readonly schema: string;
  readonly options: PostgresOptions;
  /** Applies the migrations now; rejects with POSTGRES_SCHEMA_NEWER or TLOG_NOT_AVAILABLE. */
  start(): Promise<void>;
  /**
   * The same tables with every call run, one at a time, on `session` (which
   * the caller owns): the elected follower's lock session (see ./leader.ts).
   */
  pinnedTo(session: Queryable): TreeStore;
}

export const MERKLE_MIGRATIONS_TABLE = 'merkle_migrations';

export const merkleMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: 'merkle tree tables',
    up: `
CREATE TABLE merkle_leaves (
  leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 0),
  position   bigint NOT NULL UNIQUE,
  event_id   text   NOT NULL UNIQUE,
  hash       bytea  NOT NULL CHECK (length(hash) = 32)
);
CREATE TABLE merkle_nodes (
  level smallint NOT NULL CHECK (level > 0),
  idx   bigint   NOT NULL CHECK (idx >= 0),
  hash  bytea    NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);
CREATE TABLE merkle_checkpoints (
  tree_size bigint PRIMARY KEY CHECK (tree_size > 0),
  root      bytea  NOT NULL,
  note      text   NOT NULL,
  signed_at text   NOT NULL
);
`,
  },
];

interface LeafRow {
  leaf_index: string;
  position: string;
  event_id: string;
  hash: Buffer;
}
interface CheckpointRow {
  tree_size: string;
  root: Buffer;
  note: string;
  signed_at: string;
}

const toLeaf = (row: LeafRow): LeafRecord => ({
  index: Number(row.leaf_index),
  position: BigInt(row.position),
  eventId: row.event_id,
  hash: row.hash,
});
const toCheckpoint = (row: CheckpointRow): SignedCheckpoint => ({
  size: Number(row.tree_size),
  root: row.root,
  note: row.note,
  signedAt: row.signed_at,
});
const firstLeaf = (rows: LeafRow[]): LeafRecord | undefined =>
  rows[0] === undefined ? undefined : toLeaf(rows[0]);

const LEAF = 'SELECT leaf_index, position, event_id, hash FROM merkle_leaves';
const CHECKPOINT = 'SELECT tree_size, root, note, signed_at FROM merkle_checkpoints';
// Level 0 from the leaves, the rest from the nodes: each by primary key.
const READ_NODES = `
SELECT 0 AS level, leaf_index AS idx, hash FROM merkle_leaves WHERE leaf_index = ANY($1::bigint[])
UNION ALL
SELECT n.level, n.idx, n.hash FROM merkle_nodes n
  JOIN unnest($2::smallint[], $3::bigint[]) AS q(level, idx) ON n.level = q.level AND n.idx = q.idx`;

/** How the store reaches the server: `read` for one statement, `transaction` for several. */
interface Access {
  read<T>(work: (q: Queryable) => Promise<T>): Promise<T>;
  transaction<T>(work: (q: Queryable) => Promise<T>): Promise<T>;
}

export function getPostgresTreeStore(options: PostgresOptions): PostgresTreeStore {
  const schema = options.schema ?? 'public';
  const pool = createPool(options, 'merkle');
  let closed = false;
  const ready = migrateOnce(pool, {
    schema,
    table: MERKLE_MIGRATIONS_TABLE,
    component: 'Merkle log',
    migrations: merkleMigrations,
  });
  /** Runs `work` once open and migrated; a lost server becomes TLOG_NOT_AVAILABLE (503). */
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) throw new ProvenantError('TLOG_NOT_AVAILABLE', 'The tree store is closed');
    return mapConnectionError(
      async () => {
        await ready();
        return work();
      },
      (message, cause) => new ProvenantError('TLOG_NOT_AVAILABLE', message, { cause }),
    );
  };
  const pooled: Access = {
    read: (work) => guarded(() => work(pool)),
    transaction: (work) =>
      guarded(async () => {
        const c = await pool.connect();
        return inTransaction(c, () => work(c), { release: (broken) => c.release(broken) });
      }),
  };
  const pinned = (session: Queryable): Access => {
    // One call at a time: a transaction on the session must not interleave with another call.
    let queue: Promise<unknown> = Promise.resolve();
    const serial = <T>(work: () => Promise<T>): Promise<T> => {
      const next = queue.then(work, work);
      queue = next.catch(() => undefined);
      return next;
    };
    return {
      read: (work) => serial(() => guarded(() => work(session))),
      transaction: (work) =>
        serial(() => guarded(() => inTransaction(session, () => work(session)))),
    };
  };

  const base = treeStoreOver(pooled);
  return {
    ...base,
    schema,
    options,
    start: () => guarded(() => Promise.resolve()),
    pinnedTo: (session) => ({ ...treeStoreOver(pinned(session)), close: () => Promise.resolve() }),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end().catch(() => undefined);
    },
  };
}

/** The port over `access` (close is the caller's). */
function treeStoreOver(access: Access): TreeStore {
  const state = async (q: Queryable): Promise<TreeState> => {
    const { rows } = await q.query<{ leaf_index: string; position: string }>(
      'SELECT leaf_index, position FROM merkle_leaves ORDER BY leaf_index DESC LIMIT 1',
    );
    const last = rows[0];
    return last === undefined
      ? { size: 0, lastPosition: 0n }
      : { size: Number(last.leaf_index) + 1, lastPosition: BigInt(last.position) };
  };
  const leaf = (where: string, value: string) =>
    access.read(async (q) => firstLeaf((await q.query<LeafRow>(`${LEAF} ${where}`, [value])).rows));

  return {
    state: () => access.read(state),
    append: (leaves) =>
      access.transaction(async (q) => {
        if (leaves.length === 0) return;
        let { size, lastPosition } = await state(q);
        const levels: number[] = [];
        const indexes: number[] = [];
        const hashes: Buffer[] = [];
        for (const l of leaves) {
          if (l.index !== size)
            throw new Error(`leaf ${l.index} does not follow a tree of ${size} leaves`);
          if (l.position <= lastPosition)
            throw new Error(
              `leaf ${l.index} at position ${l.position} is not after ${lastPosition}`,
            );
          // completed[k] is the subtree of level k + 1 that ends with this leaf.
          l.completed.forEach((hash, k) => {
            levels.push(k + 1);
            indexes.push(Math.floor(l.index / 2 ** (k + 1)));
            hashes.push(hash);
          });
          size++;
          lastPosition = l.position;
        }
        await q.query(
          `INSERT INTO merkle_leaves (leaf_index, position, event_id, hash)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bytea[])`,
          [
            leaves.map((l) => l.index),
            leaves.map((l) => l.position.toString()),
            leaves.map((l) => l.eventId),
            leaves.map((l) => l.hash),
          ],
        );
        if (hashes.length > 0)
          await q.query(
            `INSERT INTO merkle_nodes (level, idx, hash)
             SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])
             ON CONFLICT (level, idx) DO NOTHING`,
            [levels, indexes, hashes],
          );
      }),
    readNodes: (ids: readonly NodeId[]) =>
      access.read(async (q) => {
        if (ids.length === 0) return [];
        const leafIds = ids.filter((id) => id.level === 0).map((id) => id.index);
        const inner = ids.filter((id) => id.level > 0);
        const { rows } = await q.query<{ level: number; idx: string; hash: Buffer }>(READ_NODES, [
          leafIds,
          inner.map((id) => id.level),
          inner.map((id) => id.index),
        ]);
        const found = new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hash]));
        return ids.map(({ level, index }) => {
          const hash = found.get(`${level}/${index}`);
          if (hash === undefined)
            throw new ProvenantError(
              'TLOG_PROOF_RANGE',
              `Subtree ${level}/${index} is not in the tree`,
            );
          return hash;
        });
      }),
    leafAt: (index) => leaf('WHERE leaf_index = $1', String(index)),
    leafByPosition: (position) => leaf('WHERE position = $1', position.toString()),
    leafByEventId: (eventId) => leaf('WHERE event_id = $1', eventId),
    leaves: (index, count) =>
      access.read(async (q) =>
        (
          await q.query<LeafRow>(`${LEAF} WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2`, [
            index,
            count,
          ])
        ).rows.map(toLeaf),
      ),
    saveCheckpoint: (c) =>
      access.read(async (q) => {
        await q.query(
          `INSERT INTO merkle_checkpoints (tree_size, root, note, signed_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (tree_size) DO NOTHING`,
          [c.size, c.root, c.note, c.signedAt],
        );
      }),
    addCosignatures: (size, lines) =>
      access.read(async (q) => {
        for (const line of lines)
          await q.query(
            `UPDATE merkle_checkpoints SET note = note || $1
             WHERE tree_size = $2 AND strpos(note, $3) = 0`,
            [`${line}\n`, size, `\n${line}\n`],
          );
      }),
    latestCheckpoint: () =>
      access.read(async (q) => {
        const { rows } = await q.query<CheckpointRow>(
          `${CHECKPOINT} ORDER BY tree_size DESC LIMIT 1`,
        );
        return rows[0] === undefined ? undefined : toCheckpoint(rows[0]);
      }),
    checkpointAt: (size) =>
      access.read(async (q) => {
        const { rows } = await q.query<CheckpointRow>(`${CHECKPOINT} WHERE tree_size = $1`, [size]);
        return rows[0] === undefined ? undefined : toCheckpoint(rows[0]);
      }),
    checkpoints: () =>
      access.read(async (q) =>
        (await q.query<CheckpointRow>(`${CHECKPOINT} ORDER BY tree_size`)).rows.map(toCheckpoint),
      ),
    recentCheckpoints: (count, belowSize = Number.MAX_SAFE_INTEGER) =>
      access.read(async (q) =>
        (
          await q.query<CheckpointRow>(
            `${CHECKPOINT} WHERE tree_size < $1 ORDER BY tree_size DESC LIMIT $2`,
            [belowSize, count],
          )
        ).rows.map(toCheckpoint),
      ),
    close: () => Promise.resolve(),
  };
}
