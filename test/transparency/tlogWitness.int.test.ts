// PROVENANT_CHECKPOINT_WITNESS_PROTOCOL=tlog-witness against a loopback witness
// written from the C2SP spec (test/support/tlogWitness.ts): cosignatures are
// obtained with consistency proofs, verified, recorded as CheckpointCosigned.v1,
// served with the checkpoint and checked by log verify; a witness ahead of the
// client (409) is resynced. What the witness refuses: tlogWitnessRefusals.int.test.ts.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMerkleFollower, openEventStore, openTransparency } from '../../src/composition.js';
import { loadConfig } from '../../src/config.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import {
  noteSigner,
  openCheckpoint,
  parseVerifierKey,
  splitNote,
} from '../../src/transparency/note.js';
import { createTransparencyService } from '../../src/transparency/service.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { verifyLog } from '../../src/transparency/verifyLog.js';
import { parseCosignerKey } from '../../src/transparency/witness/cosignature.js';
import { startTestWitness } from '../support/tlogWitness.js';
import { ORIGIN, WITNESS, until, witnessedLog as setup } from '../support/witnessedLog.js';

/** The witness's public key from its vkey, read here from the spec's layout. */
function witnessPublicKey(vkey: string): KeyObject {
  // The key is everything after the second '+' (its base64 may hold '+' too).
  const material = Buffer.from(vkey.split('+').slice(2).join('+'), 'base64');
  assert.equal(material[0], 0x04);
  const spki = Buffer.concat([
    Buffer.from('302a300506032b6570032100', 'hex'),
    material.subarray(1),
  ]);
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** An auditor's check of one cosignature line on a note, as docs/transparency.md tells it. */
function auditCosignature(note: string, line: string, vkey: string): number {
  const { text } = splitNote(note);
  const blob = Buffer.from(line.split(' ')[2] ?? '', 'base64');
  assert.equal(blob.length, 76);
  const time = blob.readBigUInt64BE(4);
  const message = Buffer.from(`cosignature/v1\ntime ${time}\n${text}`);
  assert.ok(verify(null, message, witnessPublicKey(vkey), blob.subarray(12)), 'cosignature');
  return Number(time);
}

describe('tlog-witness client', () => {
  it('obtains cosignatures with consistency proofs, verifies, records and serves them', async () => {
    const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const w = await startTestWitness({ name: WITNESS, origin: ORIGIN, logKey: signer.verifierKey });
    const s = setup(w, signer);
    try {
      await s.follower.start();
      await s.append(3);
      await until(async () => (await s.cosigned()).length >= 1, 'a recorded cosignature');
      const first = (await s.cosigned())[0];
      assert.ok(first);
      assert.equal(first.witness, WITNESS);
      assert.equal(first.witnessKey, w.vkey);
      assert.equal(first.keyId, w.vkey.split('+')[1]);
      assert.equal(first.origin, ORIGIN);
      assert.equal(w.requests[0]?.old, 0);
      assert.equal(w.requests[0]?.proofLines, 0);

      // More events: the next checkpoint goes with a proof from the size the witness holds.
      const before = w.state.size;
      await s.append(5, 'b');
      await until(() => w.state.size > before + 3, 'a second cosigned checkpoint');
      await until(async () => (await s.cosigned()).length >= 2, 'a second recorded cosignature');
      const second = w.requests.find((r) => r.old === before && r.status === 200);
      assert.ok(second, JSON.stringify(w.requests));
      assert.ok(second.proofLines > 0);
      assert.equal(s.follower.witness()?.failed, 0);
      await until(() => (s.follower.witness()?.posted ?? 0) >= 2, 'two counted deliveries');

      // The checkpoint the witness last cosigned carries the cosignature line in the tree store.
      const records = await s.cosigned();
      const last = records.at(-1);
      assert.ok(last);
      assert.equal(last.treeSize, w.state.size);
      assert.equal(last.rootHash, w.state.root.toString('base64'));
      const stored = await s.tree.checkpointAt(last.treeSize);
      assert.ok(stored);
      assert.ok(stored.note.endsWith(`\n${last.cosignature}\n`), stored.note);
      assert.equal(auditCosignature(stored.note, last.cosignature, w.vkey), last.timestamp);

      // Cosignature events do not call for a checkpoint of their own.
      const signed = (await s.tree.checkpoints()).length;
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal((await s.tree.checkpoints()).length, signed);

      // GET /v1/log/checkpoint serves the latest checkpoint with its cosignature;
      // the log's key still opens it, and log verify accepts it as a witness copy.
      const latest = await s.tree.latestCheckpoint();
      assert.equal(latest?.size, last.treeSize);
      const service = createTransparencyService({
        tree: s.tree,
        origin: ORIGIN,
        verifierKey: signer.verifierKey,
      });
      const app = await buildApp({
        auth: anonymousAuth(),
        store: s.store,
        storeDescription: 'x',
        transparency: service,
      });
      const served = (await app.inject('/v1/log/checkpoint')).body;
      await app.close();
      assert.equal(served, latest?.note);
      assert.equal(splitNote(served).signatures.length, 2);
      assert.equal(
        openCheckpoint(served, [parseVerifierKey(signer.verifierKey)]).size,
        w.state.size,
      );
      auditCosignature(served, last.cosignature, w.vkey);
      await s.follower.stop();
      const report = await verifyLog({
        eventStore: s.store,
        tree: s.tree,
        verifiers: [parseVerifierKey(signer.verifierKey)],
        witnesses: [{ source: 'witness copy', note: served }],
      });
      assert.deepEqual(report.problems, []);

      // With the witness key, log verify checks the cosignatures: the served
      // note's and those recorded in the log.
      const logKeys = [parseVerifierKey(signer.verifierKey)];
      const witnessKeys = [parseCosignerKey(w.vkey)];
      const cosignedReport = await verifyLog({
        eventStore: s.store,
        tree: s.tree,
        verifiers: logKeys,
        witnesses: [{ source: 'witness copy', note: served }],
        witnessKeys,
      });
      assert.deepEqual(cosignedReport.problems, []);
      assert.equal(cosignedReport.cosignaturesChecked, records.length + 1);
      const uncosigned = served.slice(0, served.indexOf(last.cosignature));
      const unwitnessed = await verifyLog({
        eventStore: s.store,
        verifiers: logKeys,
        witnesses: [{ source: 'bare copy', note: uncosigned }],
        witnessKeys,
      });
      assert.deepEqual(
        unwitnessed.problems.map((p) => [p.kind, /TLOG_UNKNOWN_KEY/.test(p.message)]),
        [['cosignature-invalid', true]],
      );
      // A cosignature event naming another root than the one cosigned is caught at its position.
      const forged = { ...last, rootHash: Buffer.alloc(32, 1).toString('base64') };
      const appended = await s.store.append('$checkpoints', [
        { type: 'CheckpointCosigned.v1', data: forged },
      ]);
      const tampered = await verifyLog({ eventStore: s.store, verifiers: logKeys, witnessKeys });
      const problem = tampered.problems.find((p) => p.kind === 'cosignature-invalid');
      assert.match(problem?.message ?? '', /TLOG_BAD_SIGNATURE/);
      assert.equal(problem?.position, appended.position);
    } finally {
      await s.close();
      await w.close();
    }
  });

  it('a restarted follower recovers the size the witness holds from the log: no 409', async () => {
    const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const w = await startTestWitness({ name: WITNESS, origin: ORIGIN, logKey: signer.verifierKey });
    const store = getSQLiteEventStore({ path: ':memory:' });
    const tree = getSQLiteTreeStore({ path: ':memory:' });
    try {
      const a = setup(w, signer, { store, tree });
      await a.follower.start();
      await a.append(3);
      await until(async () => (await a.cosigned()).length >= 1, 'a first cosignature');
      await a.close();
      const held = w.state.size;
      w.requests.length = 0;

      // A restarted follower (a new leader) reads the last CheckpointCosigned by the witness's key.
      const b = setup(w, signer, { store, tree });
      await b.follower.start();
      await b.append(4, 'b');
      await until(() => (b.follower.witness()?.posted ?? 0) >= 1, 'a counted delivery');
      const [first, ...more] = w.requests;
      assert.deepEqual(
        { old: first?.old, status: first?.status, more: more.length },
        { old: held, status: 200, more: 0 },
        JSON.stringify(w.requests),
      );
      assert.ok((first?.proofLines ?? 0) > 0);
      await b.close();
    } finally {
      await tree.close();
      await store.close();
      await w.close();
    }
  });

  it('resyncs on 409: a client whose log does not record what the witness holds learns it and proves from it', async () => {
    const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const w = await startTestWitness({ name: WITNESS, origin: ORIGIN, logKey: signer.verifierKey });
    const store = getSQLiteEventStore({ path: ':memory:' });
    const tree = getSQLiteTreeStore({ path: ':memory:' });
    try {
      // The witness takes a checkpoint, but its cosignature is refused: the log records none.
      w.tamper = 'timestamp';
      const a = setup(w, signer, { store, tree });
      await a.follower.start();
      await a.append(3);
      await until(() => (a.follower.witness()?.failed ?? 0) >= 1, 'a refused cosignature');
      await a.close();
      assert.equal((await a.cosigned()).length, 0);
      const held = w.state.size;
      assert.ok(held > 0);
      w.tamper = 'none';
      w.requests.length = 0;

      const b = setup(w, signer, { store, tree });
      await b.follower.start();
      await b.append(4, 'b');
      await until(() => w.state.size > held, 'the witness to move on');
      await until(() => (b.follower.witness()?.posted ?? 0) >= 1, 'a counted delivery');
      const [conflict, retried] = w.requests;
      assert.deepEqual(
        { old: conflict?.old, status: conflict?.status },
        { old: 0, status: 409 },
        JSON.stringify(w.requests),
      );
      assert.equal(retried?.old, held);
      assert.equal(retried?.status, 200);
      assert.ok((retried?.proofLines ?? 0) > 0);
      assert.equal(b.follower.witness()?.failed, 0);
      await b.close();
    } finally {
      await tree.close();
      await store.close();
      await w.close();
    }
  });

  it('is wired from the configuration: the composed follower gets cosignatures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-tlog-witness-'));
    const base = loadConfig({ PROVENANT_DATA_DIR: dir }, dir);
    const opened = await openTransparency(base);
    const w = await startTestWitness({
      name: WITNESS,
      origin: base.transparency.origin,
      logKey: opened.signer.verifierKey,
    });
    const config = loadConfig(
      {
        PROVENANT_DATA_DIR: dir,
        PROVENANT_CHECKPOINT_EVERY: '3',
        PROVENANT_CHECKPOINT_WITNESS_URL: w.url,
        PROVENANT_CHECKPOINT_WITNESS_PROTOCOL: 'tlog-witness',
        PROVENANT_CHECKPOINT_WITNESS_KEY: w.vkey,
      },
      dir,
    );
    const { store } = await openEventStore(config, { create: true });
    const follower = await createMerkleFollower(config, store, opened);
    try {
      await follower.start();
      await store.append(
        's',
        [1, 2, 3].map((i) => ({ type: 'T.v1', data: { i } })),
      );
      await until(() => (follower.witness()?.posted ?? 0) >= 1, 'a cosigned checkpoint');
      const latest = await opened.tree.latestCheckpoint();
      assert.equal(latest?.size, w.state.size);
      assert.match(latest?.note ?? '', new RegExp(`\\n— ${WITNESS} `));
    } finally {
      await follower.stop();
      await opened.tree.close();
      await store.close();
      await w.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is configured by PROVENANT_CHECKPOINT_WITNESS_PROTOCOL and _KEY', async () => {
    const w = await startTestWitness({
      name: WITNESS,
      origin: ORIGIN,
      logKey: noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey).verifierKey,
    });
    await w.close();
    const url = { PROVENANT_CHECKPOINT_WITNESS_URL: 'https://witness.example/prefix' };
    assert.equal(loadConfig(url, '/tmp').transparency.witnesses[0]?.protocol, 'post');
    const tlog = loadConfig(
      {
        ...url,
        PROVENANT_CHECKPOINT_WITNESS_PROTOCOL: 'tlog-witness',
        PROVENANT_CHECKPOINT_WITNESS_KEY: w.vkey,
      },
      '/tmp',
    ).transparency;
    assert.deepEqual(tlog.witnesses, [
      { url: url.PROVENANT_CHECKPOINT_WITNESS_URL, protocol: 'tlog-witness', keys: [w.vkey] },
    ]);
    assert.throws(
      () => loadConfig({ ...url, PROVENANT_CHECKPOINT_WITNESS_PROTOCOL: 'tlog-witness' }, '/tmp'),
      /PROVENANT_CHECKPOINT_WITNESS_KEY.*required/,
    );
    // A note key (type 0x01) is not a cosignature key.
    const noteKey = noteSigner(WITNESS, generateKeyPairSync('ed25519').privateKey).verifierKey;
    assert.throws(
      () => loadConfig({ ...url, PROVENANT_CHECKPOINT_WITNESS_KEY: noteKey }, '/tmp'),
      /PROVENANT_CHECKPOINT_WITNESS_KEY.*0x04/,
    );
  });
});
