// The Merkle log's part of the composition root (docs/transparency.md): where
// its tree is (PostgreSQL beside the log or the read models, else its own
// SQLite file), its note key, the follower that signs checkpoints, and the
// read-only view of the commands that only read it.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadPostgres } from './adapters.js';
import type { Config } from './config.js';
import { ProvenantError } from './errors.js';
import type { EventStore } from './eventStore/types.js';
import { EventTypes } from './domain/eventTypes.js';
import { CHECKPOINT_STREAM, type CheckpointSignedData } from './domain/logEvents.js';
import {
  createTransparencyFollower,
  type FollowerOptions,
  type TransparencyFollower,
} from './transparency/follower.js';
import { loadNoteKey } from './transparency/keyFile.js';
import { noteSigner, type NoteSigner } from './transparency/note.js';
import type { TreeStore } from './transparency/port.js';
import type { PostgresTreeStore } from './transparency/postgres/index.js';
import { createTransparencyService, type TransparencyService } from './transparency/service.js';
import { lockedMerkleFollower } from './transparency/sqlite/signerLock.js';
import { parseCosignerKey } from './transparency/witness/cosignature.js';
import { getSQLiteTreeStore } from './transparency/sqlite/treeStore.js';

/** The Merkle log: its tree store, the note signer and the read service over them. */
export interface OpenedTransparency {
  tree: TreeStore;
  signer: NoteSigner;
  service: TransparencyService;
  /** Set when the default key file was missing and was generated. */
  generatedKey?: string;
}

/**
 * Opens the Merkle log's tree store and loads (or generates) its note key. The
 * tree is a projection of the log: with the log or the read models on
 * PostgreSQL, it is in that schema (shared by every node, one elected signer);
 * otherwise in its own SQLite file. `eventStore` is the log, where the service
 * reads the note key rotations.
 */
export async function openTransparency(
  config: Config,
  eventStore?: EventStore,
): Promise<OpenedTransparency> {
  const { keyPath, keyExplicit, origin } = config.transparency;
  const { key, generated } = loadNoteKey(keyPath, !keyExplicit);
  const tree = await openTreeStore(config);
  const signer = noteSigner(origin, key);
  const service = createTransparencyService({
    tree,
    origin,
    verifierKey: signer.verifierKey,
    ...(eventStore === undefined ? {} : { eventStore }),
    ...witnessQuorumOf(config),
  });
  return { tree, signer, service, ...(generated ? { generatedKey: keyPath } : {}) };
}

/** The witness quorum the service presents checkpoints under, when one is configured. */
function witnessQuorumOf(
  config: Config,
): Pick<Parameters<typeof createTransparencyService>[0], 'witnessQuorum'> {
  const { witnessQuorum: quorum, witnesses } = config.transparency;
  if (quorum === undefined) return {};
  const keys = witnesses.flatMap((w) =>
    w.protocol === 'tlog-witness' ? w.keys.map(parseCosignerKey) : [],
  );
  return { witnessQuorum: { quorum, keys } };
}

/**
 * The Merkle log as the commands that only read it see it (`log prove`, `log
 * consistency`, `export`): the tree, which must exist (TLOG_NO_CHECKPOINT
 * otherwise: nothing is created), and as the log's key the verifier key its
 * latest checkpoint was signed with, as `CheckpointSigned` recorded it. No note
 * key is loaded or generated: the one here may be missing, or another log's
 * (a command run away from the server, on a PostgreSQL or KurrentDB log), and
 * an export naming it would not verify.
 */
export async function openTransparencyReader(
  config: Config,
  eventStore: EventStore,
): Promise<{ tree: TreeStore; service: TransparencyService }> {
  if (!treeStoreExists(config))
    throw new ProvenantError(
      'TLOG_NO_CHECKPOINT',
      `no Merkle log at ${config.transparency.path}: 'provenant serve' or 'projections run' keeps it (PROVENANT_MERKLE_PATH)`,
    );
  const verifierKey = await latestSigningKey(eventStore);
  const tree = await openTreeStore(config);
  const service = createTransparencyService({
    tree,
    origin: config.transparency.origin,
    // Without a checkpoint there is nothing to prove or export, and no key to name.
    verifierKey: verifierKey ?? '',
    eventStore,
    ...witnessQuorumOf(config),
  });
  return { tree, service };
}

/**
 * The verifier key of the log's newest `CheckpointSigned`. The stream holds the
 * witnesses' `CheckpointCosigned` events too, after the checkpoint they cosign:
 * read backwards, page by page, past them.
 */
async function latestSigningKey(eventStore: EventStore): Promise<string | undefined> {
  for (let from: number | 'end' = 'end'; ;) {
    const { events } = await eventStore.readStream(CHECKPOINT_STREAM, {
      from,
      direction: 'backwards',
      maxCount: 100,
    });
    const signed = events.find((e) => e.type === EventTypes.CheckpointSigned);
    if (signed !== undefined) return (signed.data as CheckpointSignedData).verifierKey;
    const last = events.at(-1);
    if (events.length < 100 || last === undefined || last.revision === 0) return undefined;
    from = last.revision - 1;
  }
}

/**
 * Whether the Merkle log's tree is kept in PostgreSQL: with the log there, or
 * with the read models there (a KurrentDB log whose nodes and workers share
 * PostgreSQL read models share the tree and elect its signer there too).
 */
export const treeOnPostgres = (config: Config): boolean =>
  config.store === 'postgres' || config.readModelBackend === 'postgres';

/** The configured tree store: PostgreSQL (treeOnPostgres), else the SQLite file (created when missing). */
export async function openTreeStore(config: Config): Promise<TreeStore> {
  if (treeOnPostgres(config))
    return (await loadPostgres()).getPostgresTreeStore({
      connectionString: config.postgres.url ?? '',
      schema: config.postgres.schema,
    });
  const { path } = config.transparency;
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  return getSQLiteTreeStore({ path });
}

/** Whether the configured tree store exists already (a tool that only reads does not create a file). */
export const treeStoreExists = (config: Config): boolean =>
  treeOnPostgres(config) ||
  (config.transparency.path !== ':memory:' && existsSync(config.transparency.path));

/**
 * The follower that keeps the Merkle log current and signs checkpoints (run
 * beside the projections). On a PostgreSQL tree store, where several nodes and
 * workers run it, one elected leader does (transparency/postgres/leader.ts); on a SQLite
 * tree store, the one process holding its signer lock (transparency/sqlite/signerLock.ts).
 */
export const createMerkleFollower = async (
  config: Config,
  store: EventStore,
  opened: OpenedTransparency,
  log?: FollowerOptions['log'],
): Promise<TransparencyFollower> => {
  const options: FollowerOptions = {
    eventStore: store,
    tree: opened.tree,
    signer: opened.signer,
    origin: config.transparency.origin,
    every: config.transparency.every,
    intervalMs: config.transparency.intervalMs,
    ...(config.transparency.witnessFile === undefined
      ? {}
      : { witnessFile: config.transparency.witnessFile }),
    witnesses: config.transparency.witnesses,
    ...(log === undefined ? {} : { log }),
  };
  const pg = opened.tree as Partial<PostgresTreeStore>;
  if (typeof pg.pinnedTo === 'function')
    return (await loadPostgres()).electMerkleFollower({
      ...options,
      tree: opened.tree as PostgresTreeStore,
    });
  return config.transparency.path === ':memory:'
    ? createTransparencyFollower(options) // no other process can open it
    : lockedMerkleFollower({ ...options, treePath: config.transparency.path });
};
