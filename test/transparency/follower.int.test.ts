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

async function setup(events: number, signAfter: boolean, intervalMs = 50) {
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
    intervalMs,
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

  it('signs a long past it catches up once, at the head, not every `every` events of it', async () => {
    // No interval signature here: only `every` signs.
    const { store, tree, follower } = await setup(0, false, 60_000);
    for (let i = 0; i < 5; i++)
      await store.append(
        `s-${i}`,
        Array.from({ length: 1000 }, (_, k) => ({ type: 'T.v1', data: { k } })),
      );
    const sizes = async () => (await tree.checkpoints()).map((c) => c.size);
    await follower.start();
    try {
      for (let i = 0; i < 500 && (await sizes()).length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(await sizes(), [5000]);
      // Live, `every` events sign again.
      await store.append(
        's-live',
        Array.from({ length: 1000 }, (_, k) => ({ type: 'T.v1', data: { k } })),
      );
      for (let i = 0; i < 500 && (await sizes()).length === 1; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(await sizes(), [5000, 6001]);
    } finally {
      await follower.stop();
    }
    const signed = await store.readStream('$checkpoints');
    assert.equal(signed.events.length, 2);
    await tree.close();
    await store.close();
  });
});
