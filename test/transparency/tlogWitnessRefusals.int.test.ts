// What a tlog-witness refuses, and what the client does with it: a bad
// cosignature, an untrusted log key (403), a rewritten history (422) and a
// fork at the witness's size (409, a split view) each fail visibly (logged,
// counted as failed, nothing recorded), against the loopback witness of
// test/support/tlogWitness.ts.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import { noteSigner, splitNote } from '../../src/transparency/note.js';
import { startTestWitness } from '../support/tlogWitness.js';
import { ORIGIN, WITNESS, until, witnessedLog as setup } from '../support/witnessedLog.js';

/**
 * A witness that has cosigned an honest log of three events (that log closed
 * since), the log's signer, and what the witness held then.
 */
async function cosignedHonestLog() {
  const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const w = await startTestWitness({ name: WITNESS, origin: ORIGIN, logKey: signer.verifierKey });
  const honest = setup(w, signer);
  await honest.follower.start();
  await honest.append(3);
  await until(async () => (await honest.cosigned()).length >= 1, 'a cosigned checkpoint');
  await honest.close();
  return { signer, w, held: { ...w.state } };
}

describe('tlog-witness client, refused', () => {
  it('a bad cosignature is logged and counted as failed, and never recorded', async () => {
    const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const w = await startTestWitness({ name: WITNESS, origin: ORIGIN, logKey: signer.verifierKey });
    w.tamper = 'timestamp'; // the time it reports is not the time it signed
    const s = setup(w, signer);
    try {
      await s.follower.start();
      await s.append(3);
      await until(() => (s.follower.witness()?.failed ?? 0) >= 1, 'a counted failure');
      assert.equal(s.follower.witness()?.posted, 0);
      assert.match(JSON.stringify(s.failures()[0]), /TLOG_BAD_SIGNATURE.*does not verify/);
      assert.deepEqual(await s.cosigned(), []);
      for (const c of await s.tree.checkpoints())
        assert.equal(splitNote(c.note).signatures.length, 1);
      const app = await buildApp({
        auth: anonymousAuth(),
        store: s.store,
        storeDescription: 'x',
        witnessStatus: () => s.follower.witnesses(),
      });
      const metrics = (await app.inject('/metrics')).body;
      await app.close();
      const series = (outcome: string) =>
        `provenant_checkpoint_witness_posts_total{witness="${w.url}",outcome="${outcome}"}`;
      const value = (outcome: string) =>
        metrics
          .split('\n')
          .find((line) => line.startsWith(`${series(outcome)} `))
          ?.split(' ')[1];
      assert.ok(Number(value('failed')) >= 1, metrics);
      assert.equal(value('posted'), '0', metrics);
    } finally {
      await s.close();
      await w.close();
    }
  });

  it('a log key the witness does not trust gets 403, counted as failed', async () => {
    const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const other = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const w = await startTestWitness({ name: WITNESS, origin: ORIGIN, logKey: other.verifierKey });
    const s = setup(w, signer);
    try {
      await s.follower.start();
      await s.append(3);
      await until(() => (s.follower.witness()?.failed ?? 0) >= 1, 'a counted failure');
      assert.match(JSON.stringify(s.failures()[0]), /answered 403/);
      // Not retried: a 403 will not change by asking again.
      assert.equal(w.requests.filter((r) => r.status === 403).length, s.follower.witness()?.failed);
      assert.deepEqual(await s.cosigned(), []);
    } finally {
      await s.close();
      await w.close();
    }
  });

  it('a log that rewrites history is refused with 422, and the failure is visible', async () => {
    const { signer, w, held } = await cosignedHonestLog();
    const rewritten = setup(w, signer);
    try {
      // The same origin and key, another history (as if the log were rewritten and re-signed).
      await rewritten.follower.start();
      await rewritten.append(held.size + 3, 'forged');
      await until(() => (rewritten.follower.witness()?.failed ?? 0) >= 1, 'a counted failure');
      assert.ok(w.requests.some((r) => r.old === held.size && r.status === 422));
      assert.match(JSON.stringify(rewritten.failures()[0]), /answered 422.*consistency proof/);
      assert.deepEqual(await rewritten.cosigned(), []);
      assert.deepEqual(w.state, held); // the witness still holds the honest tree
    } finally {
      await rewritten.close();
      await w.close();
    }
  });

  it('another root at the size the witness holds is a split view (409 at that size), not retried', async () => {
    const { signer, w, held } = await cosignedHonestLog();
    const forked = setup(w, signer);
    try {
      await forked.follower.start();
      await forked.append(held.size, 'fork'); // the same size, other events
      await until(() => (forked.follower.witness()?.failed ?? 0) >= 1, 'a counted failure');
      assert.deepEqual(
        w.requests.slice(-2).map((r) => [r.old, r.size, r.status]),
        [
          [0, held.size, 409],
          [held.size, held.size, 409],
        ],
      );
      assert.match(JSON.stringify(forked.failures()[0]), /split view/);
      assert.deepEqual(await forked.cosigned(), []);
      assert.deepEqual(w.state, held);
    } finally {
      await forked.close();
      await w.close();
    }
  });
});
