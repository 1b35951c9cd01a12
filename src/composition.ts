// The composition root: the one place that knows which backend is in use.
// Everything else receives the port.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { loadEsdb, loadPostgres } from './adapters.js';
import type { AttestationSigning } from './application/attestations/index.js';
import {
  startChainBinder,
  type ChainBinder,
  type ChainBinderLogger,
} from './application/chains/index.js';
import type { DomainService } from './application/index.js';
import type { Config } from './config.js';
import { ProvenantError } from './errors.js';
import { getSQLiteEventStore } from './eventStore/sqlite/index.js';
import type { EventStore } from './eventStore/types.js';
import type { Log } from './readModels/applyBatch.js';
import type { ReadModelStore } from './readModels/port.js';
import type { PostgresReadModelStore } from './readModels/postgres/index.js';
import type { ProjectionDefinition } from './readModels/projection.js';
import { createProjectionRunner, type ProjectionStatus } from './readModels/runner.js';
import {
  getSQLiteReadModelStore,
  lockedProjectionRunner,
  READ_MODELS_LOCK,
  whileNoSQLiteRunner,
  type SQLiteReadModelStore,
} from './readModels/sqlite/index.js';
import {
  keylessSigning,
  LocalKeySigner,
  PRIVATE_KEY_FILE,
  writeSigningKeyPair,
} from './provenance/signing/index.js';
import type { TreeStore } from './transparency/port.js';

/**
 * Refuses (STORE_NOT_FOUND) a SQLite log that does not exist. A command that
 * reads the log, run in the wrong folder or with a mistyped path, would
 * otherwise create an empty log there, and the files beside it, and report on
 * that (`log verify`: "ok: 0 events verified", exit 0).
 */
export function requireSQLiteLog(config: Config): void {
  const { path } = config.sqlite;
  if (config.store !== 'sqlite' || path === ':memory:' || existsSync(path)) return;
  throw new ProvenantError(
    'STORE_NOT_FOUND',
    `no log at ${path}: set PROVENANT_DATA_DIR (or PROVENANT_SQLITE_PATH) to the store's; only 'provenant serve' and 'projections run' create a log`,
    { details: { path } },
  );
}

/**
 * Opens the configured event store and says where it points (no secrets).
 * The log must exist (STORE_NOT_FOUND: a SQLite file, a PostgreSQL schema's
 * tables) unless `create` (serve, projections run). Asynchronous since the KurrentDB and PostgreSQL adapters load on first
 * use (adapters.ts).
 */
export async function openEventStore(
  config: Config,
  options: { create?: boolean } = {},
): Promise<{ store: EventStore; description: string }> {
  if (config.store === 'eventstore') {
    const { getEventStoreDBEventStore } = await loadEsdb();
    const { connectionString, caFile, username, password } = config.eventstore;
    const store = getEventStoreDBEventStore({
      connectionString: connectionString ?? '',
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(caFile !== undefined ? { tlsCaFile: caFile } : {}),
    });
    return { store, description: `eventstore ${store.description}` };
  }
  if (config.store === 'postgres') {
    const { getPostgresEventStore } = await loadPostgres();
    const store = getPostgresEventStore({
      connectionString: config.postgres.url ?? '',
      schema: config.postgres.schema,
      existing: options.create !== true,
    });
    // A command that reads the log learns now, before it opens anything else
    // (read models, the tree, a key file), that there is none.
    if (options.create !== true)
      await store.start().catch(async (error: unknown) => {
        await store.close();
        throw error;
      });
    return { store, description: `postgres ${describePostgres(config)}` };
  }
  if (options.create !== true) requireSQLiteLog(config);
  const { path, synchronous, writer } = config.sqlite;
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const store = getSQLiteEventStore({ path, synchronous, writer });
  return { store, description: `sqlite ${path} (synchronous=${synchronous}, ${writer} writer)` };
}

/**
 * Opens the read-model store (SQLite today: its own file, apart from the log;
 * rebuilt from the log when it cannot be trusted, after `onWarning`).
 */
export async function openReadModels(
  config: Config,
  onWarning?: (message: string) => void,
): Promise<{ readModels: ReadModelStore; description: string }> {
  if (config.readModelBackend === 'postgres') {
    const { getPostgresReadModelStore } = await loadPostgres();
    const readModels = getPostgresReadModelStore({
      connectionString: config.postgres.url ?? '',
      schema: config.postgres.schema,
    });
    return { readModels, description: `postgres ${describePostgres(config)}` };
  }
  const { path } = config.readModels;
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const readModels = getSQLiteReadModelStore({ path, ...(onWarning ? { onWarning } : {}) });
  return { readModels, description: `sqlite ${path}` };
}

/** Where PostgreSQL is, without the user or password. */
function describePostgres(config: Config): string {
  try {
    const url = new URL(config.postgres.url ?? '');
    return `${url.host}${url.pathname} schema ${config.postgres.schema}`;
  } catch {
    return `(unparsable URL) schema ${config.postgres.schema}`;
  }
}

/**
 * Checks the schemas of backends that have one to apply (PostgreSQL) before a
 * process starts serving: a schema newer than the code is refused (the error
 * is thrown); an unreachable server is only reported through `warn`, since the
 * stores retry by themselves and the node answers 503 until it returns.
 */
export async function prepareBackends(
  stores: readonly (EventStore | ReadModelStore | TreeStore)[],
  warn: (message: string) => void,
): Promise<void> {
  for (const store of stores) {
    const start = (store as { start?: () => Promise<void> }).start;
    if (start === undefined) continue;
    try {
      await start.call(store);
    } catch (error) {
      if (error instanceof ProvenantError && error.code === 'POSTGRES_SCHEMA_NEWER') throw error;
      warn(
        `PostgreSQL is not reachable yet (${error instanceof Error ? error.message : String(error)}); retrying on use`,
      );
    }
  }
}

/** Whether the read models are PostgreSQL's (shared by processes that elect leaders). */
const isPostgresReadModels = (readModels: ReadModelStore): readModels is PostgresReadModelStore =>
  typeof (readModels as Partial<PostgresReadModelStore>).pinnedTo === 'function';

/** The file of SQLite read models (whose runner lock lies beside it); undefined for others. */
const sqliteReadModelPath = (readModels: ReadModelStore): string | undefined =>
  (readModels as Partial<SQLiteReadModelStore>).path;

/** What runs the projections of a process: one runner, or one elected leader per projection. */
export interface ProjectionWorkers {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Promise<ProjectionStatus[]>;
  /** Under leader election (PostgreSQL): every lock it stands for and whether it holds it now. */
  locks?(): { lock: string; held: boolean }[];
}

/**
 * The projection runner of a process. With read models on PostgreSQL, several
 * processes may run projections at once: each projection is then run by the
 * one process that wins its advisory lock (readModels/postgres/leader.ts). On a
 * SQLite file, the one process that holds its runner lock runs them all, and
 * others stand by (readModels/sqlite/runnerLock.ts).
 */
export async function createProjectionWorkers(options: {
  eventStore: EventStore;
  readModels: ReadModelStore;
  projections: readonly ProjectionDefinition[];
  log: Log;
}): Promise<ProjectionWorkers> {
  const { readModels } = options;
  if (isPostgresReadModels(readModels))
    return (await loadPostgres()).electProjectionLeaders({ ...options, readModels });
  const sqlitePath = sqliteReadModelPath(readModels);
  if (sqlitePath !== undefined) return lockedProjectionRunner({ ...options, path: sqlitePath });
  return createProjectionRunner(options);
}

/**
 * Whether the workers stand by on a SQLite read-model file (another process
 * holds its runner lock) instead of running the projections, for the line a
 * process logs once they started. Under PostgreSQL election a process leads
 * projections one by one, later: that is logged as it happens.
 */
export const standingByOnReadModels = (workers: ProjectionWorkers | undefined): boolean =>
  workers?.locks?.().some((l) => l.lock === READ_MODELS_LOCK && !l.held) ?? false;

/**
 * Runs `fn` (a `projections rebuild` of the projections named) while no
 * process can run them on these read models: on a SQLite file under its runner
 * lock, on PostgreSQL under each projection's leadership lock; refuses with
 * READ_MODEL_RUNNER_RUNNING while a process holds one.
 */
export async function whileNoProjectionRunner<T>(
  readModels: ReadModelStore,
  names: readonly string[],
  fn: () => Promise<T>,
): Promise<T> {
  if (isPostgresReadModels(readModels))
    return (await loadPostgres()).whileNoProjectionLeaders(readModels, names, fn);
  const path = sqliteReadModelPath(readModels);
  return path === undefined ? fn() : whileNoSQLiteRunner(path, fn);
}

/**
 * The leadership locks the projection workers and the Merkle log follower of a
 * process stand for, and which it holds (the metrics' `provenant_leadership_held`):
 * the PostgreSQL leaders' locks, the SQLite signer lock of the Merkle log.
 */
export const locksOf =
  (...parts: ({ locks?(): { lock: string; held: boolean }[] } | undefined)[]) =>
  (): { lock: string; held: boolean }[] =>
    parts.flatMap((part) => part?.locks?.() ?? []);

/** The signing key attestations are signed with, and whether it was just generated. */
export interface LoadedSigning {
  signing: AttestationSigning;
  /** Set when the default key file was missing and a key pair was generated. */
  generated?: { keyId: string; privateKeyPath: string; publicKeyPath: string };
}

/**
 * Loads the configured signing key. On the default path a missing key is
 * generated (mode 0600, public key beside it), for a store that works out of
 * the box; a key named by PROVENANT_SIGNING_KEY must exist. Refuses an
 * unreadable file or a key that is not ECDSA P-256 with CONFIG_INVALID.
 */
export function loadSigning(
  config: Config,
  /** Rekor entry kind of keyless signatures (default 'dsse'; @sigstore/mock's Rekor needs 'intoto'). */
  options: { rekorEntryType?: 'dsse' | 'intoto' } = {},
): LoadedSigning {
  const { signingKeyPath: path, signingKeyExplicit, keyless } = config.attestation;
  if (keyless !== undefined) {
    const { signer, witnesses } = keylessSigning({
      fulcioURL: keyless.fulcioUrl,
      ...(keyless.rekorUrl === undefined ? {} : { rekorURL: keyless.rekorUrl }),
      ...(keyless.tsaUrl === undefined ? {} : { tsaURL: keyless.tsaUrl }),
      ...(options.rekorEntryType === undefined ? {} : { rekorEntryType: options.rekorEntryType }),
      // Read at each signature: a token rotated on disk (a projected service-account token) is picked up.
      identityProvider: {
        getToken: async () => (await readFile(keyless.oidcTokenFile, 'utf8')).trim(),
      },
    });
    return { signing: { signer, witnesses, identity: { kind: 'keyless' } } };
  }
  const fail = (message: string, cause?: unknown): ProvenantError =>
    new ProvenantError('CONFIG_INVALID', `PROVENANT_SIGNING_KEY: ${message}`, {
      cause,
      details: { variable: 'PROVENANT_SIGNING_KEY' },
    });
  let generated: LoadedSigning['generated'];
  if (!existsSync(path)) {
    if (signingKeyExplicit || basename(path) !== PRIVATE_KEY_FILE)
      throw fail(`${path} does not exist (generate one with 'provenant keys generate')`);
    try {
      generated = writeSigningKeyPair(dirname(path));
    } catch (error) {
      // Another process sharing the data directory generated it first: use that one.
      if (!(error instanceof ProvenantError && error.code === 'SIGN_KEY_EXISTS')) throw error;
    }
  }
  let signer: LocalKeySigner;
  try {
    signer = LocalKeySigner.fromPem(readFileSync(path));
  } catch (error) {
    throw fail(`${path}: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  return {
    signing: {
      signer,
      identity: { kind: 'key', keyId: signer.keyId },
      publicKeyPem: signer.publicKeyPem,
    },
    ...(generated === undefined ? {} : { generated }),
  };
}

/**
 * The chain binder (issue 18, docs/chains.md): the process manager that binds
 * CDEvents chains to units and records the receipts of the events that waited.
 * It follows the log with its own checkpoint; the server runs it by default, on
 * the domain service it gives the HTTP app.
 */
export function startChainBinding(
  store: EventStore,
  domain: Pick<DomainService, 'recordReceipt'>,
  logger?: ChainBinderLogger,
): ChainBinder {
  return startChainBinder({
    store,
    receipts: domain,
    ...(logger === undefined ? {} : { logger }),
  });
}

// The Merkle log's part (hand-picked re-exports: its callers name the root).
export {
  createMerkleFollower,
  openTransparency,
  openTransparencyReader,
  openTreeStore,
  treeOnPostgres,
  treeStoreExists,
  type OpenedTransparency,
} from './compositionTransparency.js';
