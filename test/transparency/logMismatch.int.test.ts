// A signer continues a Merkle log only over the log it recorded: one whose
// tail was truncated (or restored from an older copy), another log put in its
// place, or one whose last recorded event was edited is refused with
// TLOG_LOG_MISMATCH, and nothing is appended to the tree or signed. The same
// log, grown, is signed on.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { startSigningFollower } from '../../src/transparency/follower.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { hasCode } from '../support/errors.js';
import {
  ORIGIN,
  attack,
  build,
  removeBuiltLogs,
  signer,
  type Built,
} from '../support/tamperedLog.js';

after(removeBuiltLogs);

/** Starts a signing follower on the built files, appends one event; the tree's size and checkpoints. */
async function signOn(built: Built) {
  const eventStore = getSQLiteEventStore({ path: built.logPath, pollIntervalMs: 10 });
  const tree = getSQLiteTreeStore({ path: built.treePath });
  const follower = await startSigningFollower({
    eventStore,
    tree,
    signer,
    origin: ORIGIN,
    every: 1,
    intervalMs: 20,
  });
  await eventStore.append('unit-z', [{ type: 'T.v1', data: { n: 'after' } }]);
  for (let i = 0; i < 500 && (await tree.latestCheckpoint())?.size !== 13; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  await follower.stop();
  const size = (await tree.state()).size;
  const sizes = (await tree.checkpoints()).map((c) => c.size);
  await tree.close();
  await eventStore.close();
  return { size, sizes };
}

/** Asserts that no signer starts on the built files, with a message matching `why`. */
async function refused(built: Built, why: RegExp): Promise<void> {
  const eventStore = getSQLiteEventStore({ path: built.logPath });
  const tree = getSQLiteTreeStore({ path: built.treePath });
  try {
    await assert.rejects(
      startSigningFollower({ eventStore, tree, signer, origin: ORIGIN, every: 1, intervalMs: 20 }),
      (error: unknown) => hasCode('TLOG_LOG_MISMATCH')(error) && why.test(String(error)),
    );
    // Nothing was added to the tree, nothing signed.
    assert.equal((await tree.state()).size, 12);
    assert.deepEqual(
      (await tree.checkpoints()).map((c) => c.size),
      [8, 11],
    );
  } finally {
    await tree.close();
    await eventStore.close();
  }
}

describe('a signer over a log that is not the one its Merkle log recorded', () => {
  it('refuses a log whose tail was truncated (or restored from an older copy)', async () => {
    const built = await build();
    const db = attack(built.logPath);
    db.exec('DELETE FROM events WHERE position > 10');
    db.close();
    await refused(
      built,
      /last leaf \(11\) is event \S+ at position 12, but the log ends at position 10: the log was truncated, restored from an older copy, or replaced; run `provenant log verify`/,
    );
  });

  it('refuses another log put in its place, even a longer one', async () => {
    const built = await build();
    const other = await build();
    const log = getSQLiteEventStore({ path: other.logPath });
    for (let i = 0; i < 5; i++) await log.append('unit-y', [{ type: 'T.v1', data: { i } }]);
    await log.close();
    copyFileSync(other.logPath, built.logPath);
    await refused(
      built,
      /at position 12, but the log holds event \S+ there: the log was replaced by another one/,
    );
  });

  it('refuses a log whose last recorded event was edited', async () => {
    const built = await build();
    const db = attack(built.logPath);
    db.prepare(
      "UPDATE events SET recorded_at = '2020-01-01T00:00:00.000Z' WHERE position = 12",
    ).run();
    db.close();
    await refused(built, /differs from the one the leaf recorded/);
  });

  it('signs on over the same log, grown', async () => {
    const built = await build();
    const { size, sizes } = await signOn(built);
    assert.ok(size >= 13, `tree size ${size}`); // the new event (and, once read, the checkpoint of 13)
    assert.deepEqual(sizes, [8, 11, 13]);
  });
});
