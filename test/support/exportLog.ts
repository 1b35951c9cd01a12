// The scenario of the tests of attestation checkpoints in exports: a store with
// the Merkle log and a VSA for each of four units, each recording a checkpoint
// when issued: CONSISTENT an earlier checkpoint of the log; REWRITTEN one of the
// log's size then but another root, signed with the log's key (what a log
// rewritten since the attestation shows); NEWER one beyond the log; FOREIGN one
// signed by another key. The log grows and is signed again after them, so each
// export's checkpoint is newer than the attestations'.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAttestationService } from '../../src/application/attestations/index.js';
import { exportUnit } from '../../src/application/export/index.js';
import {
  MANIFEST_FILE,
  sha256Hex,
  type ExportManifest,
} from '../../src/application/export/format.js';
import { signCheckpoint } from '../../src/transparency/follower.js';
import {
  checkpointText,
  noteSigner,
  signNote,
  type NoteSigner,
} from '../../src/transparency/note.js';
import type { EventStore } from '../../src/eventStore/types.js';
import type { SignedCheckpoint, TreeStore } from '../../src/transparency/port.js';
import {
  createTransparencyService,
  type TransparencyService,
} from '../../src/transparency/service.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { TreeBuilder } from '../../src/transparency/treeBuilder.js';
import { UNIT, fixture, passRelease, signingOf, type Fixture } from './attestations.js';

export const ORIGIN = 'export-log.example/log';
export const CONSISTENT = UNIT;
export const REWRITTEN = 'zlib/1.3.1/1.el9/x86_64/rpm';
export const NEWER = 'curl/8.9.1/1.el9/x86_64/rpm';
export const FOREIGN = 'bash/5.2.26/1.el9/x86_64/rpm';

export interface ExportLogScenario {
  f: Fixture;
  signer: NoteSigner;
  transparency: TransparencyService;
  /** The size of the checkpoint the CONSISTENT unit's VSA recorded. */
  attestedSize: number;
  /** Exports `unit` with the Merkle log to `out`. */
  exportTo(unit: string, out: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Brings the tree up to the log, signs a checkpoint, and takes its own
 * CheckpointSigned event into the tree too: what the follower does, at once.
 */
export async function signCheckpointNow(
  builder: TreeBuilder,
  log: { eventStore: EventStore; tree: TreeStore; signer: NoteSigner; origin: string },
): Promise<void> {
  await builder.catchUp(log.eventStore);
  await signCheckpoint(builder, log);
  await builder.catchUp(log.eventStore); // the CheckpointSigned event is a leaf too
}

export async function exportLogScenario(): Promise<ExportLogScenario> {
  const f = await fixture();
  const tree = getSQLiteTreeStore({ path: ':memory:' });
  const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const stranger = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const transparency = createTransparencyService({
    tree,
    origin: ORIGIN,
    verifierKey: signer.verifierKey,
  });
  const builder = await TreeBuilder.open(tree);
  const checkpointNow = (): Promise<void> =>
    signCheckpointNow(builder, { eventStore: f.store, tree, signer, origin: ORIGIN });
  /** Issues the unit's VSA with the checkpoint `recorded` makes of the latest one. */
  const issue = async (
    unit: string,
    recorded: (real: SignedCheckpoint) => SignedCheckpoint = (real) => real,
  ): Promise<void> => {
    const attestations = createAttestationService({
      eventStore: f.store,
      signing: signingOf(f.pair),
      transparency: {
        ...transparency,
        latestCheckpoint: async () => recorded(await transparency.latestCheckpoint()),
      },
    });
    await attestations.issueAttestation(unit, { kind: 'vsa', stageId: 'release' });
  };
  const resign = (
    real: SignedCheckpoint,
    size: number,
    root: Buffer,
    by = signer,
  ): SignedCheckpoint => ({
    ...real,
    size,
    root,
    note: signNote(checkpointText({ origin: ORIGIN, size, root }), by),
  });

  for (const unit of [CONSISTENT, REWRITTEN, NEWER, FOREIGN]) await passRelease(f.domain, unit);
  await checkpointNow();
  await issue(CONSISTENT);
  const attestedSize = (await transparency.latestCheckpoint()).size;
  await issue(REWRITTEN, (real) => resign(real, real.size, Buffer.alloc(32, 7)));
  await issue(NEWER, (real) => resign(real, real.size + 1000, real.root));
  await issue(FOREIGN, (real) => resign(real, real.size, real.root, stranger));
  await passRelease(f.domain, 'openssl/3.2.2/1.el9/x86_64/rpm'); // the log grows
  await checkpointNow();

  return {
    f,
    signer,
    transparency,
    attestedSize,
    exportTo: async (unit, out) => {
      await exportUnit(f.store, unit, { out, publicKeys: [f.pair.publicKeyPem], transparency });
    },
    close: async () => {
      await tree.close();
      await f.store.close();
    },
  };
}

/** What a tamperer who also rewrites the manifest produces: every listed digest recomputed. */
export function resealManifest(out: string, drop: (path: string) => boolean = () => false): void {
  const path = join(out, MANIFEST_FILE);
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as ExportManifest;
  manifest.files = manifest.files.filter((file) => !drop(file.path));
  for (const file of manifest.files) {
    const bytes = readFileSync(join(out, file.path));
    file.sha256 = sha256Hex(bytes);
    file.bytes = bytes.length;
  }
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Flips a bit of the first hash of the first line of consistency.jsonl. */
export function editConsistencyProof(out: string): void {
  const path = join(out, 'transparency', 'consistency.jsonl');
  const lines = readFileSync(path, 'utf8').split('\n');
  const line = JSON.parse(lines[0] as string) as { proof: string[] };
  const hash = Buffer.from(line.proof[0] as string, 'base64');
  hash[0] = (hash[0] ?? 0) ^ 1;
  line.proof[0] = hash.toString('base64');
  lines[0] = JSON.stringify(line);
  writeFileSync(path, lines.join('\n'));
}
