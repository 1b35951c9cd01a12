// The PostgreSQL read-model adapter (hand-picked exports).
export {
  getPostgresReadModelStore,
  readModelMigrations,
  READ_MODEL_MIGRATIONS_TABLE,
  type PostgresReadModelStore,
} from './readModelStore.js';
export {
  electProjectionLeaders,
  type ElectedProjections,
  type ElectedProjectionsOptions,
} from './leader.js';
