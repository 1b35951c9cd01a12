// The composition root: the one place that knows which backend is in use.
// Everything else receives the port.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from './config.js';
import { getEventStoreDBEventStore } from './eventStore/esdb/index.js';
import { getSQLiteEventStore } from './eventStore/sqlite/index.js';
import type { EventStore } from './eventStore/types.js';

/** Opens the configured event store and says where it points (no secrets). */
export function openEventStore(config: Config): { store: EventStore; description: string } {
  if (config.store === 'eventstore') {
    const { connectionString, caFile, username, password } = config.eventstore;
    const store = getEventStoreDBEventStore({
      connectionString: connectionString ?? '',
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(caFile !== undefined ? { tlsCaFile: caFile } : {}),
    });
    return { store, description: `eventstore ${store.description}` };
  }
  if (config.sqlite.path !== ':memory:')
    mkdirSync(dirname(config.sqlite.path), { recursive: true });
  const { path, synchronous, writer } = config.sqlite;
  const store = getSQLiteEventStore({ path, synchronous, writer });
  return { store, description: `sqlite ${path} (synchronous=${synchronous}, ${writer} writer)` };
}
