// tlog-witnesses of the Merkle log on PostgreSQL (the SQLite counterpart is
// tlogWitnesses.int.test.ts): two elected followers share the log and the tree;
// the leader's checkpoints are cosigned by two loopback witnesses (one of them
// down for the second checkpoint), while a third never answers. The leader
// stops, the standby takes the lead, and each witness's first request to the
// new leader carries the size the log records it cosigned last (no 409); the
// witness that never cosigned is asked from 0 (its recovery read all of
// `$checkpoints` and found nothing), and neither held up the start. The
// recovery itself is also run past pages of other checkpoint events. On the
// real server named by PROVENANT_TEST_POSTGRES_URL.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  CHECKPOINT_STREAM,
  EventTypes,
  type CheckpointCosignedData,
} from '../../src/domain/events.js';
import { getPostgresEventStore } from '../../src/eventStore/postgres/index.js';
import type { TransparencyFollower } from '../../src/transparency/follower.js';
import { noteSigner, parseVerifierKey } from '../../src/transparency/note.js';
import {
  electMerkleFollower,
  getPostgresTreeStore,
} from '../../src/transparency/postgres/index.js';
import { verifyLog } from '../../src/transparency/verifyLog.js';
import { parseCosignerKey } from '../../src/transparency/witness/cosignature.js';
import {
  lastCosigned,
  witnessName,
  type WitnessTarget,
} from '../../src/transparency/witness/index.js';
import { requirePostgres, testSchema } from '../support/postgres.js';
import { startTestWitness, type TestWitness } from '../support/tlogWitness.js';
import { assertRecoveryPastPages, cosignedEvent } from '../support/witnessRecovery.js';

const ORIGIN = 'pg.example/witnessed';
const url = requirePostgres('tlog-witnesses of the Merkle log on postgres');

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const tlog = (w: TestWitness): WitnessTarget => ({
  url: w.url,
  protocol: 'tlog-witness',
  keys: [w.vkey],
});

const seen = (w: TestWitness) => w.requests.map((r) => ({ old: r.old, status: r.status }));

if (url !== undefined)
  describe('tlog-witnesses of the Merkle log on postgres', () => {
    const [schema, recovery, paging] = ['pgwit', 'pgwitrec', 'pgwitpage'].map((label) =>
      testSchema(url, label),
    ) as [string, string, string];

    it('a new leader asks each witness from the size the log records it cosigned, without a 409', async () => {
      const store = getPostgresEventStore({ connectionString: url, schema, maxConnections: 4 });
      const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
      const start = (name: string) =>
        startTestWitness({ name, origin: ORIGIN, logKey: signer.verifierKey });
      const [a, b, never] = [await start('w1.test/w1'), await start('w2.test'), await start('w3')];
      never.unavailable = true; // answers 503 until the new leader runs
      const opened: { close(): Promise<void> }[] = [store];
      const followers: TransparencyFollower[] = [];
      const warnings: string[] = [];
      // The followers' view of the log, with the witness recoveries (reads of
      // `$checkpoints` backwards) held while `held` is set.
      let held: Promise<void> | undefined;
      let recoveries = 0;
      const followed = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop !== 'readStream') return Reflect.get(target, prop, receiver) as unknown;
          return async (...args: Parameters<typeof store.readStream>) => {
            if (args[0] === CHECKPOINT_STREAM && args[1]?.direction === 'backwards') {
              recoveries++;
              await held;
            }
            return target.readStream(...args);
          };
        },
      });
      const elect = (): TransparencyFollower => {
        const tree = getPostgresTreeStore({ connectionString: url, schema, maxConnections: 3 });
        opened.push(tree);
        const follower = electMerkleFollower({
          eventStore: followed,
          tree,
          signer,
          origin: ORIGIN,
          every: 3,
          intervalMs: 60_000, // a checkpoint per three events appended, none by time
          pollMs: 100,
          witnesses: [tlog(a), tlog(b), tlog(never)],
          witnessTimeoutMs: 10_000,
          witnessBackoffMs: 10,
          log: (level, message, fields) => {
            if (level !== 'info') warnings.push(`${message} ${JSON.stringify(fields)}`);
          },
        });
        followers.push(follower);
        return follower;
      };
      const reader = getPostgresTreeStore({ connectionString: url, schema, maxConnections: 2 });
      opened.push(reader);
      const latestSize = async () => (await reader.latestCheckpoint())?.size ?? 0;
      let tag = 0;
      /** Appends three events in one go and waits for the checkpoint they make; its size. */
      const checkpoint = async (): Promise<number> => {
        const before = await latestSize();
        tag++;
        await store.append(
          `pgwit-${tag}`,
          [0, 1, 2].map((i) => ({ type: 'T.v1', data: { tag, i } })),
        );
        await until(async () => (await latestSize()) > before, 'a new checkpoint');
        return latestSize();
      };
      const cosignedBy = async (w: TestWitness): Promise<number[]> =>
        (await store.readStream(CHECKPOINT_STREAM)).events
          .filter((e) => e.type === EventTypes.CheckpointCosigned)
          .map((e) => e.data as CheckpointCosignedData)
          .filter((d) => d.witnessKey === w.vkey)
          .map((d) => d.treeSize);
      const countsOf = (f: TransparencyFollower, w: TestWitness) =>
        f.witnesses().find((c) => c.witness === witnessName(w.url))?.stats;

      try {
        const candidates = [elect(), elect()];
        await Promise.all(candidates.map((f) => f.start()));
        const s1 = await checkpoint();
        const leader = candidates.find((f) => f.size() > 0);
        const standby = candidates.find((f) => f !== leader);
        assert.ok(leader !== undefined && standby !== undefined, 'one candidate leads');
        await until(
          async () => (await cosignedBy(a)).includes(s1) && (await cosignedBy(b)).includes(s1),
          'the first checkpoint cosigned by a and b',
        );
        // b goes down: a cosigns the second checkpoint alone.
        b.unavailable = true;
        const s2 = await checkpoint();
        assert.ok(s2 > s1);
        await until(async () => (await cosignedBy(a)).includes(s2), 'the second cosigned by a');
        // Every delivery has ended: b's and the silent witness's given up on.
        await until(() => {
          const [cb, cn] = [countsOf(leader, b), countsOf(leader, never)];
          return cb?.failed === 1 && (cn?.failed ?? 0) + (cn?.superseded ?? 0) === 2;
        }, 'b and the silent witness given up on');
        assert.deepEqual(await cosignedBy(b), [s1]);
        assert.deepEqual(await cosignedBy(never), []);
        assert.ok(
          [...a.requests, ...b.requests, ...never.requests].every((r) => r.status !== 409),
          JSON.stringify([seen(a), seen(b), seen(never)]),
        );

        // The leader stops; the standby takes over, and the witnesses are all up.
        await leader.stop();
        let release = (): void => undefined;
        held = new Promise((resolve) => (release = resolve));
        recoveries = 0;
        b.unavailable = false;
        never.unavailable = false;
        for (const w of [a, b, never]) w.requests.length = 0;
        await until(() => standby.size() > 0, 'the standby to lead');
        // The new leader signs while every witness's recovery is held: it waits
        // for none (nor does its start), and no witness is asked before its own.
        const s3 = await checkpoint();
        assert.ok(s3 > s2);
        await until(() => recoveries === 3, 'a recovery per witness');
        assert.deepEqual([a, b, never].map(seen), [[], [], []]);
        release();
        await until(async () => {
          const sizes = await Promise.all([a, b, never].map(cosignedBy));
          return sizes.every((s) => s.includes(s3));
        }, 'the third checkpoint cosigned by every witness');
        assert.deepEqual(seen(a), [{ old: s2, status: 200 }]);
        assert.deepEqual(seen(b), [{ old: s1, status: 200 }]);
        assert.deepEqual(seen(never), [{ old: 0, status: 200 }]);
        assert.deepEqual(
          warnings.filter((w) => /could not be read from the log/.test(w)),
          [],
          'every recovery read the log',
        );
        const report = await verifyLog({
          eventStore: store,
          tree: reader,
          verifiers: [parseVerifierKey(signer.verifierKey)],
          witnessKeys: [a, b, never].map((w) => parseCosignerKey(w.vkey)),
          witnessQuorum: 3,
        });
        assert.deepEqual(report.problems, []);
      } finally {
        for (const f of followers) await f.stop();
        for (const o of opened) await o.close();
        for (const w of [a, b, never]) await w.close();
      }
    });

    it('recovers a witness size past pages of other checkpoint events, by origin and key', async () => {
      const store = getPostgresEventStore({ connectionString: url, schema: recovery });
      try {
        await assertRecoveryPastPages(store, ORIGIN);
        // Exactly a whole number of pages (400 events after k1's): the last page ends at 0.
        const paged = getPostgresEventStore({ connectionString: url, schema: paging });
        try {
          await paged.append(
            CHECKPOINT_STREAM,
            Array.from({ length: 400 }, (_, j) => cosignedEvent(j, 'k2', ORIGIN)),
          );
          assert.equal(await lastCosigned(paged, ORIGIN, ['k1']), 0);
          assert.equal(await lastCosigned(paged, ORIGIN, ['k2']), 399);
        } finally {
          await paged.close();
        }
      } finally {
        await store.close();
      }
    });
  });
