// The Merkle log follower on PostgreSQL, under leader election (DESIGN.md §9):
// every process that would run it (`serve` with inline projections,
// `projections run`) stands for one advisory lock (src/postgres/leadership.ts);
// the one holding it extends the shared tree and signs checkpoints, the others
// stand by, and a standby takes over within about a second when the leader dies.
//
// The leader writes the tree on the lock's own session, so a deposed leader
// commits nothing more; a leaf's index is the primary key besides, so two
// writers could not both append it. A candidate whose note key does not verify
// the latest checkpoint, or that a key rotation replaced, refuses to lead (and
// waits longer before trying again), so checkpoints are never signed by two
// different keys at once; the leader checks again before each signature.
import { ProvenantError } from '../../errors.js';
import { standForLeadership, whileNoLeader, type Leadership } from '../../postgres/index.js';
import {
  MERKLE_LOCK,
  startSigningFollower,
  type FollowerOptions,
  type TransparencyFollower,
} from '../follower.js';
import type { PostgresTreeStore } from './treeStore.js';

export interface ElectedFollowerOptions extends FollowerOptions {
  tree: PostgresTreeStore;
  /** How often a standby tries to take the lead (ms, default 1000). */
  pollMs?: number;
}

/** The lock the Merkle log's leader holds (within the schema). */
export const MERKLE_LEADER_PURPOSE = MERKLE_LOCK;

/**
 * Runs `fn` while no Merkle leader can sign (`provenant log rotate-key`): holds
 * the leader's lock meanwhile, and refuses with TLOG_SIGNER_RUNNING when a
 * leader holds it now.
 */
export async function whileNoMerkleLeader<T>(
  shared: Pick<PostgresTreeStore, 'options' | 'schema'>,
  fn: () => Promise<T>,
): Promise<T> {
  const held = await whileNoLeader(
    {
      connectionString: shared.options.connectionString,
      schema: shared.schema,
      purpose: MERKLE_LEADER_PURPOSE,
    },
    fn,
  );
  if (held === undefined)
    throw new ProvenantError(
      'TLOG_SIGNER_RUNNING',
      'A Merkle log leader is running (it holds the merkle-log lock): stop every node and worker that signs checkpoints first',
    );
  return held.value;
}

export function electMerkleFollower(options: ElectedFollowerOptions): TransparencyFollower {
  let leadership: Leadership | undefined;
  let current: TransparencyFollower | undefined;
  const { tree: shared, pollMs, ...rest } = options;
  return {
    start() {
      leadership ??= standForLeadership({
        connectionString: shared.options.connectionString,
        schema: shared.schema,
        purpose: MERKLE_LEADER_PURPOSE,
        ...(pollMs === undefined ? {} : { pollMs }),
        ...(options.log === undefined ? {} : { log: options.log }),
        async lead(session) {
          const tree = shared.pinnedTo(session);
          const follower = await startSigningFollower({
            ...rest,
            tree,
            // A follower that stopped on an error gives up the lead: the session
            // ends, the lock is released, and a candidate (maybe this one) retries.
            onFailure: () => void session.end().catch(() => undefined),
          });
          current = follower;
          return {
            async stop() {
              current = undefined;
              await follower.stop();
            },
          };
        },
      });
      return Promise.resolve();
    },
    async stop() {
      await leadership?.stop();
    },
    size: () => current?.size() ?? 0,
    // Counted by the follower this process runs while it leads (a standby posts nothing).
    witness: () => current?.witness(),
    witnesses: () => current?.witnesses() ?? [],
    locks: () =>
      leadership === undefined ? [] : [{ lock: leadership.purpose, held: leadership.leading() }],
  };
}
