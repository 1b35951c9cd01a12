// Note key rotation on a real SQLite log (docs/transparency.md, "Rotating the
// note key"): a rotation recorded by `provenant log rotate-key`, checkpoints
// signed by the new key after it and verified with the old key alone (and with
// the new key alone); the old key refusing to sign after it; a forged rotation,
// a rotation by a rotated-away key, a checkpoint by an un-endorsed key and one by
// a retired key reported with their positions.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CHECKPOINT_STREAM,
  LOG_KEY_STREAM,
  checkpointSigned,
  logKeyRotated,
} from '../../src/domain/events.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventStore } from '../../src/eventStore/types.js';
import { noteKeyProblem, signCheckpoint } from '../../src/transparency/follower.js';
import { keyChain, signRotation } from '../../src/transparency/keyRotation.js';
import {
  checkpointText,
  noteSigner,
  parseVerifierKey,
  signNote,
  type NoteSigner,
} from '../../src/transparency/note.js';
import type { TreeStore } from '../../src/transparency/port.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { TreeBuilder } from '../../src/transparency/treeBuilder.js';
import { verifyLog, type LogProblem } from '../../src/transparency/verifyLog.js';
import { runCliSync } from '../support/cli.js';

const ORIGIN = 'provenant.local/log';
const root = mkdtempSync(join(tmpdir(), 'provenant-keyrotation-'));
after(() => rmSync(root, { recursive: true, force: true }));
const newKey = (): KeyObject => generateKeyPairSync('ed25519').privateKey;
const signerOf = (key: KeyObject): NoteSigner => noteSigner(ORIGIN, key);
const verifierOf = (signer: NoteSigner) => parseVerifierKey(signer.verifierKey);
let counter = 0;

interface Log {
  dir: string;
  store: EventStore;
  tree: TreeStore;
  builder: TreeBuilder;
  close(): Promise<void>;
}

async function openLog(dir = join(root, `log-${++counter}`)): Promise<Log> {
  mkdirSync(dir, { recursive: true });
  const store = getSQLiteEventStore({ path: join(dir, 'provenant.db') });
  const tree = getSQLiteTreeStore({ path: join(dir, 'provenant-merkle.db') });
  const builder = await TreeBuilder.open(tree);
  return {
    dir,
    store,
    tree,
    builder,
    close: async () => {
      await tree.close();
      await store.close();
    },
  };
}

async function events(log: Log, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await log.store.append(`unit-${i % 3}`, [
      { type: 'T.v1', data: { i }, metadata: { principal: 'ci' } },
    ]);
}

/** Follows the log and signs its tree with `signer`, as the follower does. */
async function sign(log: Log, signer: NoteSigner) {
  await log.builder.catchUp(log.store);
  const checkpoint = await signCheckpoint(log.builder, {
    eventStore: log.store,
    tree: log.tree,
    signer,
    origin: ORIGIN,
  });
  await log.builder.catchUp(log.store);
  return checkpoint;
}

async function rotate(log: Log, previous: NoteSigner, next: NoteSigner) {
  const treeSize = (await log.tree.latestCheckpoint())?.size ?? 0;
  const data = signRotation({ origin: ORIGIN, treeSize, previous, next });
  const { position } = await log.store.append(LOG_KEY_STREAM, [logKeyRotated(data)]);
  return { data, position };
}

/** A checkpoint signed with any key, bypassing the signing guard (an attacker's). */
async function forceSign(log: Log, signer: NoteSigner): Promise<bigint> {
  await log.builder.catchUp(log.store);
  const size = log.builder.size;
  const rootHash = log.builder.root();
  const note = signNote(checkpointText({ origin: ORIGIN, size, root: rootHash }), signer);
  await log.tree.saveCheckpoint({ size, root: rootHash, note, signedAt: new Date().toISOString() });
  const { position } = await log.store.append(CHECKPOINT_STREAM, [
    checkpointSigned({
      origin: ORIGIN,
      treeSize: size,
      rootHash: rootHash.toString('base64'),
      note,
      verifierKey: signer.verifierKey,
    }),
  ]);
  await log.builder.catchUp(log.store);
  return position;
}

const verify = (log: Log, ...signers: NoteSigner[]) =>
  verifyLog({ eventStore: log.store, tree: log.tree, verifiers: signers.map(verifierOf) });

const kinds = (problems: LogProblem[]) => problems.map((p) => p.kind);

describe('note key rotation', () => {
  it('rotate, then sign: the old key alone (and the new key alone) verifies the whole log', async () => {
    const log = await openLog();
    const [k0, k1, k2] = [signerOf(newKey()), signerOf(newKey()), signerOf(newKey())];
    await events(log, 4);
    const first = await sign(log, k0);
    const rotation = await rotate(log, k0, k1);
    assert.equal(rotation.data.treeSize, first?.size);
    await events(log, 3);
    // The old key signs nothing more; the new one signs what follows.
    await assert.rejects(sign(log, k0), { code: 'TLOG_KEY_RETIRED' });
    const second = await sign(log, k1);
    assert.ok(second !== undefined && second.size > rotation.data.treeSize);
    // A second rotation: the chain k0 → k1 → k2.
    await rotate(log, k1, k2);
    await events(log, 2);
    const third = await sign(log, k2);
    assert.ok(third !== undefined && third.size > second.size);

    for (const trusted of [[k0], [k2], [k1]]) {
      const report = await verify(log, ...trusted);
      assert.deepEqual(report.problems, [], trusted[0]?.verifierKey);
      assert.equal(report.ok, true);
      assert.equal(report.keyRotations, 2);
      // Three checkpoints, each in the tree store and in the log: all matched.
      assert.equal(report.checkpointsChecked, 6);
    }
    // Without the rotation events, the old key knows none of the new checkpoints.
    const unrelated = signerOf(newKey());
    const report = await verify(log, unrelated);
    assert.equal(report.ok, false);
    assert.ok(kinds(report.problems).includes('key-rotation-invalid'));
    await log.close();
  });

  it('reports a forged rotation (its endorsement not signed by the old key) at its position', async () => {
    const log = await openLog();
    const [k0, attacker] = [signerOf(newKey()), signerOf(newKey())];
    await events(log, 3);
    await sign(log, k0);
    // The rotation names k0 as the previous key but is signed with the attacker's key.
    const { position } = await rotate(
      log,
      { ...k0, sign: (message) => attacker.sign(message) },
      attacker,
    );
    await events(log, 2);
    // The attacker's signer passes the guard (the log's last rotation names its key)...
    const forged = await sign(log, attacker);
    assert.ok(forged !== undefined);
    // ...but verification does not follow the rotation.
    const report = await verify(log, k0);
    assert.equal(report.ok, false);
    const rotationProblem = report.problems.find((p) => p.kind === 'key-rotation-invalid');
    assert.equal(rotationProblem?.position, position);
    assert.match(rotationProblem?.message ?? '', /endorsement does not verify.*TLOG_BAD_SIGNATURE/);
    const invalid = report.problems.filter((p) => p.kind === 'checkpoint-invalid');
    assert.equal(invalid.length, 2, kinds(report.problems).join()); // tree store and log event
    assert.ok(invalid.every((p) => p.message.includes('TLOG_UNKNOWN_KEY')));
    await log.close();
  });

  it('still fails a checkpoint signed by an un-endorsed key, and one by a retired key', async () => {
    const log = await openLog();
    const [k0, k1, stranger] = [signerOf(newKey()), signerOf(newKey()), signerOf(newKey())];
    await events(log, 3);
    await sign(log, k0);
    await events(log, 1);
    const strangerAt = await forceSign(log, stranger);
    let report = await verify(log, k0);
    assert.equal(report.ok, false);
    assert.ok(
      report.problems.some(
        (p) =>
          p.kind === 'checkpoint-invalid' &&
          p.position === strangerAt &&
          p.message.includes('TLOG_UNKNOWN_KEY'),
      ),
    );
    // A rotation, then the stolen old key signs on: TLOG_KEY_RETIRED at its event.
    const log2 = await openLog();
    await events(log2, 3);
    await sign(log2, k0);
    await rotate(log2, k0, k1);
    await events(log2, 2);
    await sign(log2, k1);
    await events(log2, 1);
    const retiredAt = await forceSign(log2, k0);
    // ...and rotates to a key of its own: not the key signing since the rotation.
    const { position: hijackAt } = await rotate(log2, k0, stranger);
    report = await verify(log2, k0);
    assert.equal(report.ok, false);
    const retired = report.problems.find(
      (p) => p.kind === 'checkpoint-invalid' && p.position === retiredAt,
    );
    assert.match(retired?.message ?? '', /TLOG_KEY_RETIRED/);
    const hijack = report.problems.find((p) => p.kind === 'key-rotation-invalid');
    assert.equal(hijack?.position, hijackAt);
    assert.match(hijack?.message ?? '', /but the key signing since size \d+ is/);
    await log.close();
    await log2.close();
  });

  it('keyChain: a trusted key outside every rotation signs any size; a rotation from an untrusted key is refused', () => {
    const [k0, k1, x, y] = [newKey(), newKey(), newKey(), newKey()].map(signerOf) as [
      NoteSigner,
      NoteSigner,
      NoteSigner,
      NoteSigner,
    ];
    const note = (size: number, signer: NoteSigner) =>
      signNote(checkpointText({ origin: ORIGIN, size, root: Buffer.alloc(32) }), signer);
    const rotation = {
      data: signRotation({ origin: ORIGIN, treeSize: 5, previous: k0, next: k1 }),
      source: 'r1',
    };
    const unrelated = {
      data: signRotation({ origin: ORIGIN, treeSize: 6, previous: x, next: y }),
      source: 'r2',
    };
    const chain = keyChain([verifierOf(k0)], [unrelated, rotation]);
    assert.equal(chain.current, k1.verifierKey);
    assert.equal(chain.problems.length, 1);
    assert.match(chain.problems[0]?.message ?? '', /^r2: its previous key .* is not a trusted key/);
    assert.equal(chain.openCheckpoint(note(5, k0)).size, 5);
    assert.equal(chain.openCheckpoint(note(6, k1)).size, 6);
    assert.throws(() => chain.openCheckpoint(note(6, k0)), { code: 'TLOG_KEY_RETIRED' });
    assert.throws(() => chain.openCheckpoint(note(5, k1)), { code: 'TLOG_KEY_RETIRED' });
    assert.throws(() => chain.openCheckpoint(note(7, y)), { code: 'TLOG_UNKNOWN_KEY' });
    // A rotation whose event fields differ from what its statement signs.
    const altered = { data: { ...rotation.data, treeSize: 9 }, source: 'r3' };
    assert.match(keyChain([verifierOf(k0)], [altered]).problems[0]?.message ?? '', /does not say/);
    // A rotation of another log signed with the same keys does not re-key this one.
    const k2 = signerOf(newKey());
    const otherLog = {
      data: signRotation({ origin: 'other.example/log', treeSize: 7, previous: k1, next: k2 }),
      source: 'r4',
    };
    const mixed = keyChain([verifierOf(k0)], [rotation, otherLog]);
    assert.equal(mixed.current, k1.verifierKey);
    assert.match(
      mixed.problems[0]?.message ?? '',
      /^r4: rotates the key of the log other\.example\/log/,
    );
    assert.throws(() => mixed.openCheckpoint(note(8, k2)), { code: 'TLOG_UNKNOWN_KEY' });
    assert.equal(mixed.openCheckpoint(note(8, k1)).size, 8);
  });
});

describe('provenant log rotate-key', () => {
  const dir = join(root, 'cli');
  const run = (args: string[], keyFile = join(dir, 'log-key.pem')) =>
    runCliSync(args, 120_000, { PROVENANT_DATA_DIR: dir, PROVENANT_LOG_KEY: keyFile });
  const k0 = newKey();

  it('has --help', () => {
    const res = run(['log', 'rotate-key', '--help']);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /--new-key <file>/);
  });

  it('rotates; the new key signs on; log verify --key OLD follows the rotation', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'log-key.pem'), k0.export({ format: 'pem', type: 'pkcs8' }));
    let log = await openLog(dir);
    await events(log, 5);
    const oldCheckpoint = join(dir, 'old-checkpoint.txt');
    writeFileSync(oldCheckpoint, (await sign(log, signerOf(k0)))?.note ?? '');
    await log.close();

    const newKeyFile = join(dir, 'log-key-2.pem');
    const res = run(['log', 'rotate-key', '--new-key', newKeyFile, '--json']);
    assert.equal(res.status, 0, res.stderr + res.stdout);
    const rotated = JSON.parse(res.stdout) as { treeSize: number; verifierKey: string };
    assert.equal(rotated.treeSize, 5);
    assert.equal(statSync(newKeyFile).mode & 0o777, 0o600);
    // Rotating again with the old key configured is refused.
    const again = run(['log', 'rotate-key', '--new-key', join(dir, 'log-key-3.pem')]);
    assert.equal(again.status, 2, again.stdout);
    assert.match(again.stderr, /TLOG_KEY_RETIRED/);

    const { loadNoteKey } = await import('../../src/transparency/keyFile.js');
    const k1 = signerOf(loadNoteKey(newKeyFile, false).key);
    assert.equal(k1.verifierKey, rotated.verifierKey);
    log = await openLog(dir);
    assert.match(
      (await noteKeyProblem(log.store, log.tree, signerOf(k0).verifierKey)) ?? '',
      /rotated to/,
    );
    assert.equal(await noteKeyProblem(log.store, log.tree, k1.verifierKey), undefined);
    await events(log, 2);
    await sign(log, k1);
    await log.close();

    const verified = run(['log', 'verify', '--key', signerOf(k0).verifierKey, '--json']);
    assert.equal(verified.status, 0, verified.stderr + verified.stdout);
    const report = JSON.parse(verified.stdout) as {
      ok: boolean;
      keyRotations: number;
      checkpointsChecked: number;
      checkpointSizesChecked: number;
    };
    assert.equal(report.ok, true);
    assert.equal(report.keyRotations, 1);
    assert.equal(report.checkpointsChecked, 4);
    assert.equal(report.checkpointSizesChecked, 2); // each in the tree store and in the log

    // Configured with the new key only: the old key's checkpoints verify through the rotation.
    const withNewKey = run(['log', 'verify'], newKeyFile);
    assert.equal(withNewKey.status, 0, withNewKey.stderr + withNewKey.stdout);
    assert.match(
      withNewKey.stdout,
      /2 checkpoints matched \(4 signed copies\) across 1 note key rotation($|;)/m,
    );
    const consistent = run(['log', 'consistency', oldCheckpoint], newKeyFile);
    assert.equal(consistent.status, 0, consistent.stderr + consistent.stdout);
    assert.match(consistent.stdout, /extends the checkpoint of size 5/);
  });
});
