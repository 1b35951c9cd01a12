// The SQLite read-model adapter (hand-picked exports).
export {
  getSQLiteReadModelStore,
  type SQLiteReadModelStore,
  type SQLiteReadModelStoreOptions,
} from './readModelStore.js';
export { READ_MODEL_SCHEMA_VERSION, type OpenReadModelOptions } from './file.js';
export {
  lockedProjectionRunner,
  runnerLockPath,
  whileNoSQLiteRunner,
  READ_MODELS_LOCK,
  type LockedRunner,
} from './runnerLock.js';
