// The PostgreSQL read-model adapter (hand-picked exports).
export {
  getPostgresReadModelStore,
  readModelMigrations,
  READ_MODEL_MIGRATIONS_TABLE,
  type PostgresReadModelStore,
} from './readModelStore.js';
export {
  electProjectionLeaders,
  whileNoProjectionLeaders,
  type ElectedProjections,
  type ElectedProjectionsOptions,
} from './leader.js';
