// The PostgreSQL tree store and its elected follower (hand-picked exports).
export {
  getPostgresTreeStore,
  merkleMigrations,
  MERKLE_MIGRATIONS_TABLE,
  type PostgresTreeStore,
  type Queryable,
} from './treeStore.js';
export {
  electMerkleFollower,
  MERKLE_LEADER_PURPOSE,
  whileNoMerkleLeader,
  type ElectedFollowerOptions,
} from './leader.js';
