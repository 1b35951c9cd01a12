// Several tlog-witnesses (PROVENANT_CHECKPOINT_WITNESSES): each delivered to on
// its own, so that a witness that never answers holds up neither the others
// nor signing; every verified cosignature is served with the checkpoint; each
// witness's last size is recovered from the log after a restart (no 409); and
// `verifyLog` with a witness quorum counts the distinct witnesses that
// cosigned the checkpoints checked.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import type { CheckpointCosignedData } from '../../src/domain/events.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { createTransparencyFollower } from '../../src/transparency/follower.js';
import { noteSigner, parseVerifierKey, type NoteSigner } from '../../src/transparency/note.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { verifyLog } from '../../src/transparency/verifyLog.js';
import { parseCosignerKey } from '../../src/transparency/witness/cosignature.js';
import type { WitnessTarget } from '../../src/transparency/witness/index.js';
import { startTestWitness, type TestWitness } from '../support/tlogWitness.js';
import { assertRecoveryPastPages } from '../support/witnessRecovery.js';
import { ORIGIN, until } from '../support/witnessedLog.js';

const tlog = (w: { url: string; vkey: string }): WitnessTarget => ({
  url: w.url,
  protocol: 'tlog-witness',
  keys: [w.vkey],
});

/** A log on in-memory SQLite whose follower hands each checkpoint (every 3 events) to `targets`. */
function multiWitnessed(
  signer: NoteSigner,
  targets: WitnessTarget[],
  shared?: {
    store: ReturnType<typeof getSQLiteEventStore>;
    tree: ReturnType<typeof getSQLiteTreeStore>;
  },
) {
  const store = shared?.store ?? getSQLiteEventStore({ path: ':memory:' });
  const tree = shared?.tree ?? getSQLiteTreeStore({ path: ':memory:' });
  const follower = createTransparencyFollower({
    eventStore: store,
    tree,
    signer,
    origin: ORIGIN,
    every: 3,
    intervalMs: 60_000,
    witnesses: targets,
    witnessTimeoutMs: 30_000,
    witnessBackoffMs: 10,
  });
  let tag = 0;
  const append = async (): Promise<void> => {
    tag++;
    await store.append(
      `s-${tag}`,
      [0, 1, 2].map((i) => ({ type: 'T.v1', data: { tag, i } })),
    );
  };
  const latestSize = async (): Promise<number> => (await tree.latestCheckpoint())?.size ?? 0;
  /** Appends three events and waits for the checkpoint they make; its size. */
  const checkpoint = async (): Promise<number> => {
    const before = await latestSize();
    await append();
    await until(async () => (await latestSize()) > before, 'a new checkpoint');
    return latestSize();
  };
  const cosignedBy = async (w: TestWitness): Promise<number[]> =>
    (await store.readAll({ filter: { eventTypePrefix: ['CheckpointCosigned.'] } }))
      .map((e) => e.data as CheckpointCosignedData)
      .filter((d) => d.witnessKey === w.vkey)
      .map((d) => d.treeSize);
  return { store, tree, follower, checkpoint, cosignedBy };
}

const startWitnesses = async (signer: NoteSigner): Promise<[TestWitness, TestWitness]> => [
  await startTestWitness({ name: 'w1.test/w1', origin: ORIGIN, logKey: signer.verifierKey }),
  await startTestWitness({ name: 'w2.test', origin: ORIGIN, logKey: signer.verifierKey }),
];

describe('several tlog-witnesses', () => {
  it('a witness that never answers delays neither the other witness nor signing', async () => {
    const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const good = await startTestWitness({
      name: 'w1.test/w1',
      origin: ORIGIN,
      logKey: signer.verifierKey,
    });
    const held: IncomingMessage[] = [];
    const silent = createServer((request) => void held.push(request)); // never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    // Its key is never checked (it never answers): a key of a witness closed at once will do.
    const other = await startTestWitness({
      name: 'w9.test',
      origin: ORIGIN,
      logKey: signer.verifierKey,
    });
    await other.close();
    const silentTarget = tlog({ url: `http://127.0.0.1:${port}/w`, vkey: other.vkey });
    const s = multiWitnessed(signer, [silentTarget, tlog(good)]);
    try {
      await s.follower.start();
      let size = 0;
      for (let round = 1; round <= 3; round++) {
        size = await s.checkpoint();
        await until(async () => (await s.cosignedBy(good)).includes(size), `size ${size} cosigned`);
      }
      // All the while, the first request to the silent witness is still unanswered.
      assert.equal(held.length, 1);
      const latest = await s.tree.latestCheckpoint();
      assert.equal(latest?.size, size);
      assert.match(latest?.note ?? '', /\n— w1\.test\/w1 /);
      assert.equal(s.follower.witness()?.posted, 3);
      assert.equal(s.follower.witness()?.failed, 0);
    } finally {
      silent.closeAllConnections();
      silent.close();
      await s.follower.stop();
      await s.tree.close();
      await s.store.close();
      await good.close();
    }
  });

  it('serves both cosignatures, recovers each witness size after a restart, and counts the quorum', async () => {
    const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const [a, b] = await startWitnesses(signer);
    const verifiers = [parseVerifierKey(signer.verifierKey)];
    const witnessKeys = [parseCosignerKey(a.vkey), parseCosignerKey(b.vkey)];
    const first = multiWitnessed(signer, [tlog(a), tlog(b)]);
    const { store, tree } = first;
    try {
      await first.follower.start();
      const s1 = await first.checkpoint();
      await until(
        async () =>
          (await first.cosignedBy(a)).includes(s1) && (await first.cosignedBy(b)).includes(s1),
        'the first checkpoint cosigned by both',
      );
      const note = (await tree.latestCheckpoint())?.note ?? '';
      assert.match(
        note,
        /\n— w1\.test\/w1 [^\n]+\n— w2\.test [^\n]+\n$|\n— w2\.test [^\n]+\n— w1\.test\/w1 [^\n]+\n$/,
      );
      const both = await verifyLog({
        eventStore: store,
        tree,
        verifiers,
        witnessKeys,
        witnessQuorum: 2,
      });
      assert.deepEqual(both.problems, []);
      // The served note as a witness copy meets the quorum too.
      const copy = await verifyLog({
        eventStore: store,
        verifiers,
        witnesses: [{ source: 'served', note }],
        witnessKeys,
        witnessQuorum: 2,
      });
      assert.deepEqual(copy.problems, []);

      // b goes down: a cosigns the next checkpoint alone.
      b.unavailable = true;
      const s2 = await first.checkpoint();
      await until(async () => (await first.cosignedBy(a)).includes(s2), 'cosigned by a');
      await until(() => (first.follower.witness()?.failed ?? 0) >= 1, 'b given up on');
      await first.follower.stop();
      const short = await verifyLog({
        eventStore: store,
        tree,
        verifiers,
        witnessKeys,
        witnessQuorum: 2,
      });
      assert.deepEqual(
        short.problems.map((p) => p.kind),
        ['witness-quorum'],
      );
      assert.match(
        short.problems[0]?.message ?? '',
        new RegExp(
          `TLOG_WITNESS_QUORUM: the latest checkpoint \\(size ${s2}\\) is cosigned by 1 of the given witnesses \\(w1\\.test/w1\\), fewer than the quorum of 2`,
        ),
      );
      const one = await verifyLog({
        eventStore: store,
        tree,
        verifiers,
        witnessKeys,
        witnessQuorum: 1,
      });
      assert.deepEqual(one.problems, []);
      const bare = note.slice(0, note.indexOf('\n— w') + 1);
      const uncosigned = await verifyLog({
        eventStore: store,
        verifiers,
        witnesses: [{ source: 'bare', note: bare }],
        witnessKeys,
        witnessQuorum: 1,
      });
      assert.match(
        uncosigned.problems[0]?.message ?? '',
        /bare is cosigned by 0 of the given witnesses, fewer than the quorum of 1/,
      );

      // A restarted follower asks each witness from the size the log records it cosigned.
      b.unavailable = false;
      a.requests.length = 0;
      b.requests.length = 0;
      const second = multiWitnessed(signer, [tlog(a), tlog(b)], { store, tree });
      await second.follower.start();
      const s3 = await second.checkpoint();
      await until(
        async () =>
          (await second.cosignedBy(a)).includes(s3) && (await second.cosignedBy(b)).includes(s3),
        'the third checkpoint cosigned by both',
      );
      const seen = (w: TestWitness) => w.requests.map((r) => ({ old: r.old, status: r.status }));
      assert.deepEqual(seen(a), [{ old: s2, status: 200 }]);
      assert.deepEqual(seen(b), [{ old: s1, status: 200 }]);
      await second.follower.stop();
      const again = await verifyLog({
        eventStore: store,
        tree,
        verifiers,
        witnessKeys,
        witnessQuorum: 2,
      });
      assert.deepEqual(again.problems, []);
    } finally {
      await first.follower.stop();
      await tree.close();
      await store.close();
      await a.close();
      await b.close();
    }
  });

  it('recovers a witness size past pages of other checkpoint events, by origin and key', async () => {
    const store = getSQLiteEventStore({ path: ':memory:' });
    try {
      await assertRecoveryPastPages(store, ORIGIN);
      // An auditor's quorum over a log without a checkpoint falls short.
      const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
      const [a, b] = await startWitnesses(signer);
      await Promise.all([a.close(), b.close()]);
      const empty = getSQLiteEventStore({ path: ':memory:' });
      const report = await verifyLog({
        eventStore: empty,
        verifiers: [parseVerifierKey(signer.verifierKey)],
        witnessKeys: [parseCosignerKey(a.vkey)],
        witnessQuorum: 1,
      });
      await empty.close();
      assert.deepEqual(
        report.problems.map((p) => p.kind),
        ['witness-quorum'],
      );
      assert.match(
        report.problems[0]?.message ?? '',
        /the log, which has no checkpoint yet, is cosigned by 0/,
      );
    } finally {
      await store.close();
    }
  });
});
