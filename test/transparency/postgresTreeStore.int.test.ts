// The PostgreSQL tree store against the tree store conformance suite, on the
// real server named by PROVENANT_TEST_POSTGRES_URL (each store in a schema of
// its own, dropped afterwards), plus what only it has: migrations applied once
// under a lock, a refused newer schema, a server that does not answer, batch
// appends, and a pinned session that ends.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { CompactRange } from '../../src/transparency/compactRange.js';
import { inclusionProof, rootHash, verifyInclusion } from '../../src/transparency/merkle.js';
import type { AppendedLeaf, TreeStore } from '../../src/transparency/port.js';
import {
  getPostgresTreeStore,
  type PostgresTreeStore,
} from '../../src/transparency/postgres/index.js';
import { hasCode } from '../support/errors.js';
import { dropSchema, requirePostgres, sql, testSchema } from '../support/postgres.js';
import { treeStoreConformance } from './treeStoreConformance.js';

const url = requirePostgres('tree store: postgres');
if (url !== undefined) {
  const schemas: string[] = [];
  after(() => Promise.all(schemas.map((s) => dropSchema(url, s))));
  let n = 0;
  const open = (schema: string): PostgresTreeStore =>
    getPostgresTreeStore({ connectionString: url, schema, maxConnections: 4 });
  const fresh = (): PostgresTreeStore => {
    const schema = `pvt_tree_${process.pid}_${Date.now().toString(36)}_${++n}`;
    schemas.push(schema);
    return open(schema);
  };

  treeStoreConformance('postgres', {
    createStore: () => Promise.resolve(fresh()),
    reopen: (tree) => Promise.resolve(open((tree as PostgresTreeStore).schema)),
  });

  const batch = (range: CompactRange, count: number): AppendedLeaf[] => {
    const leaves: AppendedLeaf[] = [];
    for (let k = 0; k < count; k++) {
      const i = range.size;
      const hash = createHash('sha256').update(`pg leaf ${i}`).digest();
      const completed = range.append(hash);
      leaves.push({ index: i, position: BigInt(i + 1), eventId: `e${i}`, hash, completed });
    }
    return leaves;
  };

  describe('postgres tree store specifics', () => {
    it('applies its migrations once when nodes start together, and refuses a newer schema', async () => {
      const schema = testSchema(url, 'treemig');
      const stores = Array.from({ length: 4 }, () => open(schema));
      await Promise.all(stores.map((s) => s.start()));
      const { rows } = await sql(url, schema, 'SELECT version FROM merkle_migrations');
      assert.equal(rows.length, 1);
      await Promise.all(stores.map((s) => s.close()));
      await sql(url, schema, "INSERT INTO merkle_migrations (version, name) VALUES (9, 'x')");
      const newer = open(schema);
      try {
        await assert.rejects(newer.start(), hasCode('POSTGRES_SCHEMA_NEWER'));
      } finally {
        await newer.close();
      }
    });

    it('answers TLOG_NOT_AVAILABLE (503) for a server that does not answer', async () => {
      const tree = getPostgresTreeStore({
        connectionString: 'postgres://postgres@127.0.0.1:1/none',
        schema: 'pvt_nowhere',
        connectTimeoutMs: 500,
      });
      try {
        await assert.rejects(tree.latestCheckpoint(), (error: unknown) => {
          hasCode('TLOG_NOT_AVAILABLE')(error);
          assert.equal((error as { status?: number }).status, 503);
          return true;
        });
      } finally {
        await tree.close();
      }
    });

    it('appends 20,000 leaves in one batch and proves any of them', async () => {
      const tree = fresh();
      try {
        const range = new CompactRange();
        const leaves = batch(range, 20_000);
        const t0 = process.hrtime.bigint();
        await tree.append(leaves);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        assert.equal((await tree.state()).size, 20_000);
        const root = await rootHash(20_000, tree.readNodes);
        assert.deepEqual(root, range.root());
        const leaf = leaves[12_345]!;
        assert.equal(
          verifyInclusion(
            12_345,
            20_000,
            leaf.hash,
            await inclusionProof(12_345, 20_000, tree.readNodes),
            root,
          ),
          undefined,
        );
        console.log(`# 20,000 leaves appended in ${ms.toFixed(0)} ms`);
      } finally {
        await tree.close();
      }
    });

    it('commits nothing on a pinned session that has ended, and two writers cannot both append a leaf', async () => {
      const shared = fresh();
      const range = new CompactRange();
      const first = batch(range, 3);
      await shared.append(first);
      const session = new pg.Client({
        connectionString: url,
        options: `-c search_path=${shared.schema}`,
      });
      session.on('error', () => undefined);
      await session.connect();
      const pinned: TreeStore = shared.pinnedTo(session);
      try {
        assert.equal((await pinned.state()).size, 3);
        // A stale writer (its view of the tree is behind) and the pinned one append leaf 3.
        const stale = new CompactRange();
        batch(stale, 3);
        const next = batch(range, 2);
        await pinned.append(next);
        const again = batch(stale, 1);
        await assert.rejects(shared.append(again));
        assert.equal((await shared.state()).size, 5);
        // The session ends (as a leader's does when it dies): its store commits nothing more.
        await sql(
          url,
          shared.schema,
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1',
          [(session as unknown as { processID: number }).processID],
        );
        const more = batch(range, 2);
        await assert.rejects(pinned.append(more), hasCode('TLOG_NOT_AVAILABLE'));
        assert.equal((await shared.state()).size, 5);
      } finally {
        await session.end().catch(() => undefined);
        await shared.close();
      }
    });
  });
}
