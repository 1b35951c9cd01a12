export { getPostgresEventStore } from './eventStore.js';
export type { PostgresEventStore, PostgresEventStoreOptions } from './eventStore.js';
export { logMigrations, LOG_MIGRATIONS_TABLE } from './migrations.js';
