// The composition root: the one place that knows which backend is in use.
// Everything else receives the port.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from './config.js';
import { getEventStoreDBEventStore } from './eventStore/esdb/index.js';
import { getSQLiteEventStore } from './eventStore/sqlite/index.js';
import type { EventStore } from './eventStore/types.js';
import type { ReadModelStore } from './readModels/port.js';
import { getSQLiteReadModelStore } from './readModels/sqlite/index.js';

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

/**
 * Opens the read-model store (SQLite today: its own file, apart from the log;
 * rebuilt from the log when it cannot be trusted, after `onWarning`).
 */
export function openReadModels(
  config: Config,
  onWarning?: (message: string) => void,
): { readModels: ReadModelStore; description: string } {
  const { path } = config.readModels;
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const readModels = getSQLiteReadModelStore({ path, ...(onWarning ? { onWarning } : {}) });
  return { readModels, description: `sqlite ${path}` };
}
