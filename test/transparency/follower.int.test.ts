// A follower that starts on a tree someone else extended (a restart, or a new
// leader on PostgreSQL) signs the leaves left unsigned, but not a tree whose
// only unsigned leaf is the previous checkpoint's own event.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { createTransparencyFollower, signCheckpoint } from '../../src/transparency/follower.js';
import { noteSigner } from '../../src/transparency/note.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { TreeBuilder } from '../../src/transparency/treeBuilder.js';

const ORIGIN = 'follower.example/log';
const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);

async function setup(events: number, signAfter: boolean) {
  const store = getSQLiteEventStore({ path: ':memory:' });
  const tree = getSQLiteTreeStore({ path: ':memory:' });
  for (let i = 0; i < events; i++)
    await store.append(`s-${i % 2}`, [{ type: 'T.v1', data: { i } }]);
  const builder = await TreeBuilder.open(tree);
  await builder.catchUp(store);
  if (signAfter) {
    await signCheckpoint(builder, { eventStore: store, tree, signer, origin: ORIGIN });
    await builder.catchUp(store); // the CheckpointSigned event becomes a leaf too
  }
  const follower = createTransparencyFollower({
    eventStore: store,
    tree,
    signer,
    origin: ORIGIN,
    every: 1000,
    intervalMs: 50,
  });
  return { store, tree, follower };
}

describe('a follower taking over a tree', () => {
  it('signs the leaves a previous follower left unsigned', async () => {
    const { store, tree, follower } = await setup(7, false);
    assert.equal(await tree.latestCheckpoint(), undefined);
    await follower.start();
    for (let i = 0; i < 200 && (await tree.latestCheckpoint()) === undefined; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await follower.stop();
    assert.equal((await tree.latestCheckpoint())?.size, 7);
    await tree.close();
    await store.close();
  });

  it('does not sign again for the previous checkpoint event alone', async () => {
    const { store, tree, follower } = await setup(4, true);
    assert.deepEqual(
      (await tree.checkpoints()).map((c) => c.size),
      [4],
    );
    assert.equal((await tree.state()).size, 5);
    await follower.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await follower.stop();
    assert.deepEqual(
      (await tree.checkpoints()).map((c) => c.size),
      [4],
    );
    await tree.close();
    await store.close();
  });
});
