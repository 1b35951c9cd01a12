// Public surface of the EventStoreDB/KurrentDB adapter (hand-picked, STYLE.md §17).
// The composition root calls getEventStoreDBEventStore; nothing else imports the driver.
export { getEventStoreDBEventStore } from './eventStore.js';
export type { EsdbEventStore, EsdbEventStoreOptions } from './eventStore.js';
export { parseEsdbConnectionString, redactConnectionString } from './connectionString.js';
export type {
  EsdbConnectionSettings,
  EsdbEndpoint,
  EsdbNodePreference,
} from './connectionString.js';
