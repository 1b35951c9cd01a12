// The Merkle log on PostgreSQL, in one process standing in for several nodes:
// two elected followers (as two workers would run them) share the log and the
// tree; one leads, follows the log and signs checkpoints; when its session is
// killed the other takes over. A third tree store (an API node) serves the
// checkpoint, the key and inclusion proofs over HTTP that verify; attestations
// issued there name the checkpoint; a candidate with another note key never
// signs. On the real server named by PROVENANT_TEST_POSTGRES_URL.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createAttestationService } from '../../src/application/attestations/index.js';
import { createDomainService } from '../../src/application/index.js';
import {
  CHECKPOINT_STREAM,
  EventTypes,
  LOG_KEY_STREAM,
  logKeyRotated,
  type AttestationIssuedData,
} from '../../src/domain/events.js';
import { getPostgresEventStore } from '../../src/eventStore/postgres/index.js';
import type { RecordedEvent } from '../../src/eventStore/types.js';
import { buildApp } from '../../src/http/app.js';
import { generateSigningKeyPair } from '../../src/provenance/signing/index.js';
import { anonymousAuth } from '../../src/security/index.js';
import type { TransparencyFollower } from '../../src/transparency/follower.js';
import { signRotation } from '../../src/transparency/keyRotation.js';
import { verifyInclusion } from '../../src/transparency/merkle.js';
import { noteSigner, openCheckpoint, parseVerifierKey } from '../../src/transparency/note.js';
import {
  electMerkleFollower,
  getPostgresTreeStore,
  MERKLE_LEADER_PURPOSE,
} from '../../src/transparency/postgres/index.js';
import { createTransparencyService } from '../../src/transparency/service.js';
import { eventLeafHash } from '../../src/transparency/treeBuilder.js';
import { verifyLog } from '../../src/transparency/verifyLog.js';
import { whileNoMerkleLeader } from '../../src/transparency/postgres/leader.js';
import { lockKey } from '../../src/postgres/index.js';
import { UNIT, passRelease, signingOf } from '../support/attestations.js';
import { requirePostgres, sql, testSchema } from '../support/postgres.js';

const ORIGIN = 'pg.example/log';
const url = requirePostgres('the Merkle log on postgres');

async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

if (url !== undefined)
  describe('the Merkle log on postgres', () => {
    const schema = testSchema(url, 'tlog');
    const store = getPostgresEventStore({ connectionString: url, schema, maxConnections: 4 });
    const openTree = () =>
      getPostgresTreeStore({ connectionString: url, schema, maxConnections: 3 });
    const node = openTree(); // what an API node reads
    const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const service = createTransparencyService({
      tree: node,
      origin: ORIGIN,
      verifierKey: signer.verifierKey,
    });
    const opened: { close(): Promise<void> }[] = [store, node];
    const followers: TransparencyFollower[] = [];
    const errors: string[] = [];
    after(async () => {
      for (const f of followers) await f.stop();
      for (const o of opened) await o.close();
    });
    const elect = (key = signer) => {
      const tree = openTree();
      opened.push(tree);
      const follower = electMerkleFollower({
        eventStore: store,
        tree,
        signer: key,
        origin: ORIGIN,
        every: 10,
        intervalMs: 300,
        pollMs: 100,
        log: (level, message, fields) => {
          if (level !== 'info') errors.push(`${message} ${JSON.stringify(fields)}`);
        },
      });
      followers.push(follower);
      return follower;
    };
    const readLog = async (): Promise<RecordedEvent[]> => {
      const all: RecordedEvent[] = [];
      for (let from: bigint | 'start' = 'start'; ;) {
        const page = await store.readAll({ from, maxCount: 1000 });
        all.push(...page);
        if (page.length < 1000) return all;
        from = page.at(-1)!.position;
      }
    };
    /**
     * The tree holds every event of the log, and the latest checkpoint every event
     * but checkpoints, with that checkpoint's own event already in the log (a
     * checkpoint is saved before its event is appended: in between, the tree is
     * a leaf short of the log that is about to be).
     */
    const caughtUp = async (): Promise<boolean> => {
      const log = await readLog();
      const { size } = await node.state();
      const latest = (await node.latestCheckpoint())?.size ?? 0;
      const lastReal = log.findLastIndex((e) => e.type !== EventTypes.CheckpointSigned) + 1;
      return (
        size === log.length &&
        latest >= lastReal &&
        log.at(-1)?.type === EventTypes.CheckpointSigned
      );
    };
    const append = async (n: number, tag: string) => {
      for (let i = 0; i < n; i++)
        await store.append(`pgtree-${i % 4}`, [{ type: 'T.v1', data: { tag, i } }]);
    };
    const leaderPid = async (): Promise<number | undefined> => {
      const { rows } = await sql(
        url,
        schema,
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
        [lockKey(schema, MERKLE_LEADER_PURPOSE)],
      );
      return (rows[0] as { pid: number } | undefined)?.pid;
    };

    it('one elected follower extends the tree and signs; the standby takes over when its session dies', async () => {
      const [a, b] = [elect(), elect()];
      await Promise.all([a.start(), b.start()]);
      await append(25, 'first');
      await until(caughtUp, 'the tree and a checkpoint to cover the first events');
      assert.equal([a, b].filter((f) => f.size() > 0).length, 1, 'exactly one follower leads');
      const before = await leaderPid();
      assert.ok(before !== undefined, 'the leader holds the lock');

      // The leader's session dies (as when its process is killed): a follower carries on.
      await sql(url, schema, 'SELECT pg_terminate_backend($1)', [before]);
      await append(17, 'second');
      await until(caughtUp, 'the tree and a checkpoint to cover the later events');
      const now = await leaderPid();
      assert.ok(now !== undefined && now !== before, 'a new session leads');

      // The tree's leaves are the log's events, one to one, in order. A leader may
      // still append one more checkpoint event after `caughtUp` (its timer signs
      // what a new leader found unsigned at start; seen in CI: 45 leaves against a
      // log of 46): compare a log and a tree read while they hold the same events.
      let log: RecordedEvent[] = [];
      let leaves: Awaited<ReturnType<typeof node.leaves>> = [];
      await until(async () => {
        log = await readLog();
        leaves = await node.leaves(0, log.length + 10);
        return leaves.length === log.length;
      }, 'the tree to hold every event of the log');
      leaves.forEach((leaf, i) => {
        const event = log[i]!;
        assert.equal(leaf.index, i);
        assert.equal(leaf.position, event.position);
        assert.deepEqual(leaf.hash, eventLeafHash(event));
      });
      // Every checkpoint verifies under the one key, and no size was signed twice.
      const signed = log.filter((e) => e.stream === CHECKPOINT_STREAM);
      const sizes = signed.map((e) => (e.data as { treeSize: number }).treeSize);
      assert.equal(new Set(sizes).size, sizes.length, `sizes signed once: ${sizes.join(',')}`);
      for (const c of await node.checkpoints())
        openCheckpoint(c.note, [parseVerifierKey(signer.verifierKey)]);
    });

    it('serves the checkpoint, the key and inclusion proofs over HTTP that verify', async () => {
      const app = await buildApp({
        auth: anonymousAuth(),
        store,
        storeDescription: 'postgres',
        transparency: service,
      });
      try {
        const key = (await app.inject('/v1/log/key')).json<{ verifierKey: string }>();
        assert.equal(key.verifierKey, signer.verifierKey);
        const res = await app.inject('/v1/log/checkpoint');
        assert.equal(res.statusCode, 200, res.body);
        const checkpoint = openCheckpoint(res.body, [parseVerifierKey(key.verifierKey)]);
        const log = await readLog();
        for (const event of [log[0]!, log[20]!, log[checkpoint.size - 1]!]) {
          const proof = await app.inject(`/v1/log/proof/inclusion?position=${event.position}`);
          assert.equal(proof.statusCode, 200, proof.body);
          const view = proof.json<{ leafIndex: number; treeSize: number; proof: string[] }>();
          assert.equal(view.treeSize, checkpoint.size);
          assert.equal(
            verifyInclusion(
              view.leafIndex,
              view.treeSize,
              eventLeafHash(event),
              view.proof.map((p) => Buffer.from(p, 'base64')),
              checkpoint.root,
            ),
            undefined,
          );
        }
      } finally {
        await app.close();
      }
    });

    it('names the checkpoint and the leaf indexes in attestations issued on postgres', async () => {
      const domain = createDomainService({ eventStore: store });
      await domain.defineGate('build', { requiredActions: ['build', 'unit-test'] });
      await domain.defineStage('release', { gates: ['build'] });
      const ids = await passRelease(domain);
      await until(caughtUp, 'a checkpoint covering the receipts');
      const attestations = createAttestationService({
        eventStore: store,
        signing: signingOf(generateSigningKeyPair()),
        transparency: service,
      });
      const issued = await attestations.issueAttestation(UNIT, { kind: 'provenance' });
      const [event] = await store.readAll({ from: BigInt(issued.position) - 1n, maxCount: 1 });
      const log = (event?.data as AttestationIssuedData).log;
      assert.ok(log, 'the attestation names the log');
      const checkpoint = openCheckpoint(log.checkpoint, [parseVerifierKey(signer.verifierKey)]);
      assert.deepEqual(log.receipts.map((r) => r.receiptId).sort(), [ids.build, ids.test].sort());
      for (const { leafIndex } of log.receipts) {
        const leaf = await node.leafAt(leafIndex);
        assert.ok(leaf);
        const proof = await service.inclusionByPosition(leaf.position, checkpoint.size);
        assert.equal(
          verifyInclusion(
            leafIndex,
            checkpoint.size,
            leaf.hash,
            proof.proof.map((p) => Buffer.from(p, 'base64')),
            checkpoint.root,
          ),
          undefined,
        );
      }
    });

    it('never signs with a note key that does not verify the latest checkpoint', async () => {
      for (const f of followers.splice(0)) await f.stop();
      const intruder = elect(noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey));
      errors.length = 0;
      const { size } = await node.state();
      const latest = (await node.latestCheckpoint())?.size;
      await intruder.start();
      await append(12, 'third');
      await until(
        () =>
          Promise.resolve(errors.some((e) => /does not verify with this node's note key/.test(e))),
        'the refusal',
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(intruder.size(), 0, 'it does not lead');
      assert.equal((await node.state()).size, size, 'the tree is not extended');
      assert.equal((await node.latestCheckpoint())?.size, latest, 'nothing is signed');
      // A node with the right key takes over and covers everything.
      await intruder.stop();
      await elect().start();
      await until(caughtUp, 'the rightful leader to catch up');
    });

    it('a key rotation is refused while a Merkle leader runs, and holds its lock while it runs', async () => {
      for (const f of followers.splice(0)) await f.stop();
      const shared = { options: { connectionString: url }, schema };
      const leader = elect();
      await leader.start();
      await append(1, 'before-rotation');
      await until(() => Promise.resolve(leader.size() > 0), 'a leader');
      await assert.rejects(
        whileNoMerkleLeader(shared, () => Promise.resolve('rotated')),
        { code: 'TLOG_SIGNER_RUNNING' },
      );
      await leader.stop();
      // No leader now: the rotation runs, and a candidate started meanwhile waits for it.
      const done = await whileNoMerkleLeader(shared, async () => {
        const candidate = elect();
        await candidate.start();
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.equal(candidate.size(), 0, 'a candidate led during the rotation');
        return 'rotated';
      });
      assert.equal(done, 'rotated');
      await until(
        () => Promise.resolve(followers.at(-1)!.size() > 0),
        'the candidate to lead after',
      );
    });

    it('after a key rotation, leads with the new key and refuses the old one', async () => {
      for (const f of followers.splice(0)) await f.stop();
      const rotated = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
      const treeSize = (await node.latestCheckpoint())?.size ?? 0;
      await store.append(LOG_KEY_STREAM, [
        logKeyRotated(signRotation({ origin: ORIGIN, treeSize, previous: signer, next: rotated })),
      ]);
      // A node still configured with the old key: it verifies the latest checkpoint, yet never leads.
      const stale = elect(signer);
      errors.length = 0;
      await stale.start();
      await append(3, 'fourth');
      await until(
        () =>
          Promise.resolve(errors.some((e) => /rotated to .* does not sign it any more/.test(e))),
        'the old key refused',
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(stale.size(), 0, 'it does not lead');
      assert.equal((await node.latestCheckpoint())?.size, treeSize, 'nothing is signed');
      await stale.stop();
      // The new key leads, although the latest checkpoint is the old key's.
      await elect(rotated).start();
      await until(caughtUp, 'the new key to sign');
      const latest = await node.latestCheckpoint();
      assert.ok(latest !== undefined && latest.size > treeSize);
      openCheckpoint(latest.note, [parseVerifierKey(rotated.verifierKey)]);
      // The whole log verifies with the old key alone, across the rotation.
      const report = await verifyLog({
        eventStore: store,
        tree: node,
        verifiers: [parseVerifierKey(signer.verifierKey)],
      });
      assert.deepEqual(report.problems, []);
      assert.equal(report.keyRotations, 1);
    });
  });
