// Public surface of the EventStoreDB/KurrentDB adapter (hand-picked, STYLE.md §17).
// The composition root loads it through adapters.ts, only when PROVENANT_STORE=eventstore;
// nothing else imports the driver.
export { getEventStoreDBEventStore } from './eventStore.js';
export type { EsdbEventStore } from './eventStore.js';
export type { EsdbEventStoreOptions } from './client.js';
export { parseEsdbConnectionString, redactConnectionString } from './connectionString.js';
export type {
  EsdbConnectionSettings,
  EsdbEndpoint,
  EsdbNodePreference,
} from './connectionString.js';
