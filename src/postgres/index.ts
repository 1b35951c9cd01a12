// Shared PostgreSQL plumbing of the log and read-model adapters (hand-picked exports).
export {
  channelName,
  createPool,
  describeError,
  inTransaction,
  isConnectionError,
  lockKey,
  mapConnectionError,
  quoteSchema,
  type Pool,
  type PoolClient,
  type PostgresOptions,
} from './pool.js';
export { migrate, migrateOnce, type MigrateOptions, type PgMigration } from './migrate.js';
export {
  standForLeadership,
  whileNoLeader,
  type Leadership,
  type LeaderWork,
  type LeadershipOptions,
} from './leadership.js';
