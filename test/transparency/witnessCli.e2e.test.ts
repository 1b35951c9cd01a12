// `provenant log verify --witness-key` as an auditor runs it, on a data
// directory whose checkpoints a loopback tlog-witness cosigned: the cosigned
// note and the CheckpointCosigned events verify; a copy without the witness's
// cosignature fails; a malformed witness key is a usage error.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { createTransparencyFollower } from '../../src/transparency/follower.js';
import { noteSigner } from '../../src/transparency/note.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { runCliSync } from '../support/cli.js';
import { startTestWitness } from '../support/tlogWitness.js';

const ORIGIN = 'provenant.local/log';
const dir = mkdtempSync(join(tmpdir(), 'provenant-witness-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => runCliSync(args, 120_000, { PROVENANT_DATA_DIR: dir });

describe('provenant log verify --witness-key', () => {
  let vkey = '';
  const cosigned = join(dir, 'cosigned.txt');
  const bare = join(dir, 'bare.txt');

  it('builds a log whose checkpoints a witness cosigned (setup)', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'log-key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const signer = noteSigner(ORIGIN, privateKey);
    const w = await startTestWitness({
      name: 'witness.test/w1',
      origin: ORIGIN,
      logKey: signer.verifierKey,
    });
    vkey = w.vkey;
    const store = getSQLiteEventStore({ path: join(dir, 'provenant.db') });
    const tree = getSQLiteTreeStore({ path: join(dir, 'provenant-merkle.db') });
    const follower = createTransparencyFollower({
      eventStore: store,
      tree,
      signer,
      origin: ORIGIN,
      every: 3,
      intervalMs: 60_000,
      witnessUrl: w.url,
      witnessProtocol: 'tlog-witness',
      witnessKeys: [w.vkey],
      witnessTimeoutMs: 2000,
      witnessBackoffMs: 10,
    });
    try {
      await follower.start();
      for (let round = 0; round < 2; round++) {
        await store.append(`unit-${round}`, [
          { type: 'T.v1', data: { round, i: 0 } },
          { type: 'T.v1', data: { round, i: 1 } },
          { type: 'T.v1', data: { round, i: 2 } },
        ]);
        for (let i = 0; i < 500 && (follower.witness()?.posted ?? 0) <= round; i++)
          await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(follower.witness()?.posted, 2);
      await follower.stop();
      const latest = await tree.latestCheckpoint();
      assert.ok(latest);
      writeFileSync(cosigned, latest.note);
      writeFileSync(bare, latest.note.slice(0, latest.note.indexOf('\n— witness.test/w1 ') + 1));
    } finally {
      await follower.stop();
      await tree.close();
      await store.close();
      await w.close();
    }
  });

  it('verifies the cosigned note and the cosignatures in the log', () => {
    const res = run(['log', 'verify', '--checkpoint', cosigned, '--witness-key', vkey, '--json']);
    assert.equal(res.status, 0, res.stderr + res.stdout);
    const report = JSON.parse(res.stdout) as { ok: boolean; cosignaturesChecked: number };
    assert.equal(report.ok, true);
    assert.equal(report.cosignaturesChecked, 3); // the note's and two CheckpointCosigned events
    const text = run(['log', 'verify', '--checkpoint', cosigned, '--witness-key', vkey]);
    assert.match(text.stdout, /3 witness cosignatures verified/);
  });

  it('fails a witness copy the witness did not cosign, and refuses a malformed key', () => {
    const res = run(['log', 'verify', '--checkpoint', bare, '--witness-key', vkey]);
    assert.equal(res.status, 1, res.stderr + res.stdout);
    assert.match(res.stdout, /cosignature-invalid[\s\S]*TLOG_UNKNOWN_KEY/);
    // Without --witness-key the same copy is a good checkpoint.
    assert.equal(run(['log', 'verify', '--checkpoint', bare]).status, 0);
    const bad = run(['log', 'verify', '--witness-key', 'witness.test/w1+00000000+AAAA']);
    assert.equal(bad.status, 2, bad.stderr + bad.stdout);
    assert.match(bad.stderr, /TLOG_BAD_KEY/);
  });
});
