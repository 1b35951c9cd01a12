// The Merkle log's tree lives with the read models when they are on PostgreSQL
// and the log is not (a KurrentDB log whose API nodes and workers share
// PostgreSQL read models; a SQLite log stands in for it here): the composition
// opens the tree in PostgreSQL, not in a SQLite file of one machine; of two
// followers (two workers) exactly one signs, under the PostgreSQL leader's lock;
// a third opening (an API node) serves its checkpoint and proofs; when the
// leader stops, the standby takes over. `log rotate-key` refuses while it signs.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createDomainService } from '../../src/application/index.js';
import {
  createMerkleFollower,
  openEventStore,
  openTransparency,
  treeOnPostgres,
  type OpenedTransparency,
} from '../../src/composition.js';
import { loadConfig } from '../../src/config.js';
import type { TransparencyFollower } from '../../src/transparency/follower.js';
import { verifyInclusion } from '../../src/transparency/merkle.js';
import { runCli } from '../support/cli.js';
import { requirePostgres, sql, testSchema } from '../support/postgres.js';
import { until as poll } from '../support/witnessedLog.js';

const until = (check: () => boolean | Promise<boolean>, what: string) => poll(check, what, 20_000);

const url = requirePostgres('the Merkle tree with PostgreSQL read models');

if (url !== undefined)
  describe('the Merkle tree with PostgreSQL read models', () => {
    const schema = testSchema(url, 'tree_rm');
    const dir = mkdtempSync(join(tmpdir(), 'provenant-tree-rm-'));
    const env = {
      PROVENANT_STORE: 'sqlite',
      PROVENANT_READ_MODELS: 'postgres',
      PROVENANT_POSTGRES_URL: url,
      PROVENANT_POSTGRES_SCHEMA: schema,
      PROVENANT_DATA_DIR: dir,
      PROVENANT_CHECKPOINT_EVERY: '3',
      PROVENANT_CHECKPOINT_SECONDS: '1',
    };
    const config = loadConfig(env, dir);
    const closing: { close(): Promise<void> }[] = [];
    const followers: TransparencyFollower[] = [];
    after(async () => {
      for (const f of followers) await f.stop();
      for (const c of closing.reverse()) await c.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps the tree in PostgreSQL, signed by one elected follower, served to every node', async () => {
      assert.equal(treeOnPostgres(config), true);
      const { store } = await openEventStore(config, { create: true });
      closing.push(store);
      const open = async (): Promise<OpenedTransparency> => {
        const opened = await openTransparency(config, store);
        closing.push(opened.tree);
        return opened;
      };
      const follow = async (): Promise<TransparencyFollower> => {
        const follower = await createMerkleFollower(config, store, await open());
        followers.push(follower);
        await follower.start();
        return follower;
      };
      const [a, b] = [await follow(), await follow()];
      const api = await open();
      const domain = createDomainService({ eventStore: store });
      const record = (version: string) =>
        domain.recordReceipt({
          unit: `zlib/${version}/1/x86_64/rpm`,
          action: 'build',
          multipass: true,
        });
      const receipts = [];
      for (let i = 0; i < 4; i++) receipts.push(await record(`1.3.${i}`));

      // One leader under the lock, the other stands by; the tree is in PostgreSQL only.
      const held = () => [a, b].map((f) => f.locks?.().find((l) => l.lock === 'merkle-log')?.held);
      await until(() => held().filter(Boolean).length === 1, 'a leader');
      assert.deepEqual(held().sort(), [false, true]);
      const signedSize = async (): Promise<number> =>
        api.service.latestCheckpoint().then(
          (c) => c.size,
          () => 0,
        );
      // Positions count from 1 without gaps: a tree of `position` leaves holds the event at `position`.
      const last = Number(receipts.at(-1)?.position);
      await until(async () => (await signedSize()) >= last, 'a checkpoint covering the receipts');
      assert.equal(existsSync(config.transparency.path), false, 'no SQLite tree file');
      const leaves = await sql(url, schema, 'SELECT count(*)::int AS n FROM merkle_leaves');
      assert.ok((leaves.rows[0] as { n: number }).n >= 4);

      // Every node proves inclusion from the shared tree.
      const proof = await api.service.inclusionByEventId(receipts[0]?.eventId ?? '');
      assert.equal(
        verifyInclusion(
          proof.leafIndex,
          proof.treeSize,
          Buffer.from(proof.leafHash, 'base64'),
          proof.proof.map((p) => Buffer.from(p, 'base64')),
          Buffer.from(proof.rootHash, 'base64'),
        ),
        undefined,
      );

      // The leader stops: the standby leads and signs what comes next.
      const [leader, standby] = held()[0] === true ? [a, b] : [b, a];
      await leader.stop();
      await until(() => standby.locks?.()[0]?.held === true, 'the standby to lead');
      const later = Number((await record('1.3.9')).position);
      await until(async () => (await signedSize()) >= later, 'the new leader to sign');

      // `log rotate-key` sees the leader on another node through the same lock.
      const rotate = await runCli(
        ['log', 'rotate-key', '--new-key', join(dir, 'next.pem')],
        60_000,
        env,
      );
      assert.equal(rotate.status, 2, rotate.stderr);
      assert.match(rotate.stderr, /TLOG_SIGNER_RUNNING/);
    });
  });
