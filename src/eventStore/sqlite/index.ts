export { getSQLiteEventStore } from './eventStore.js';
export type { SQLiteEventStore, SQLiteEventStoreOptions } from './eventStore.js';
export { migrations } from './migrations/index.js';
