// The signer lock of a SQLite tree store (src/transparency/sqlite/signerLock.ts),
// in one process with one connection per "process" (SQLite's locks hold between
// connections of one process as between processes; keyRotationLock.e2e.test.ts
// runs real processes): one follower signs, a second stands by and takes over
// when the first stops; a rotation (whileNoSQLiteSigner) is refused while a
// follower signs, and holds off one that starts meanwhile; a follower with a
// rotated-away key does not sign.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LOG_KEY_STREAM, logKeyRotated } from '../../src/domain/events.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventStore } from '../../src/eventStore/types.js';
import { signRotation } from '../../src/transparency/keyRotation.js';
import { noteSigner, type NoteSigner } from '../../src/transparency/note.js';
import {
  lockedMerkleFollower,
  signerLockPath,
  whileNoSQLiteSigner,
} from '../../src/transparency/sqlite/signerLock.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';

const ORIGIN = 'signer-lock.example/log';
const root = mkdtempSync(join(tmpdir(), 'provenant-signerlock-'));
after(() => rmSync(root, { recursive: true, force: true }));
const newSigner = (): NoteSigner => noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
let counter = 0;

function setup() {
  const dir = join(root, `log-${++counter}`);
  mkdirSync(dir, { recursive: true });
  const store = getSQLiteEventStore({ path: join(dir, 'provenant.db') });
  const treePath = join(dir, 'provenant-merkle.db');
  const signer = newSigner();
  const closing: (() => Promise<void>)[] = [];
  /** A follower as one process runs it: its own tree store connection. */
  const follower = (key = signer) => {
    const tree = getSQLiteTreeStore({ path: treePath });
    const logged: string[] = [];
    const f = lockedMerkleFollower({
      eventStore: store,
      tree,
      signer: key,
      origin: ORIGIN,
      every: 1,
      intervalMs: 50,
      treePath,
      pollMs: 50,
      log: (level, message, fields) =>
        logged.push(`${level}: ${message} ${JSON.stringify(fields)}`),
    });
    closing.push(async () => {
      await f.stop();
      await tree.close();
    });
    return { f, tree, logged };
  };
  return {
    store,
    treePath,
    signer,
    follower,
    close: async () => {
      for (const c of closing) await c();
      await store.close();
    },
  };
}

const append = (store: EventStore, n: number) =>
  (async () => {
    for (let i = 0; i < n; i++) await store.append(`s-${i % 2}`, [{ type: 'T.v1', data: { i } }]);
  })();

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the SQLite signer lock', () => {
  it('one follower signs (holding the lock, as metrics report); a second stands by, with a log line, and takes over when the first stops', async () => {
    const log = setup();
    const first = log.follower();
    await first.f.start();
    assert.ok(existsSync(signerLockPath(log.treePath)));
    assert.match(first.logged.join('\n'), /info: signing checkpoints/);
    const second = log.follower();
    await second.f.start();
    assert.match(
      second.logged.join('\n'),
      /warn: another process signs checkpoints on this Merkle log .*serves without signing/,
    );
    await append(log.store, 3);
    await until(
      'the first to sign',
      async () => (await first.tree.latestCheckpoint()) !== undefined,
    );
    assert.equal(second.f.size(), 0, 'the second does not follow');
    // Metrics' provenant_leadership_held: the signer holds the lock, the standby does not.
    assert.deepEqual(first.f.locks?.(), [{ lock: 'merkle-log', held: true }]);
    assert.deepEqual(second.f.locks?.(), [{ lock: 'merkle-log', held: false }]);
    await assert.rejects(
      whileNoSQLiteSigner(log.treePath, () => Promise.resolve('rotated')),
      {
        code: 'TLOG_SIGNER_RUNNING',
        message:
          /A process signs checkpoints on .*provenant-merkle\.db \(it holds .*\.signer\.lock\)/,
      },
    );
    await first.f.stop();
    await until('the second to take over', () => second.f.size() > 0);
    assert.deepEqual(first.f.locks?.(), [{ lock: 'merkle-log', held: false }]);
    assert.deepEqual(second.f.locks?.(), [{ lock: 'merkle-log', held: true }]);
    assert.equal(second.logged.filter((l) => /signing checkpoints/.test(l)).length, 1);
    const before = (await second.tree.latestCheckpoint())?.size ?? 0;
    await append(log.store, 2);
    await until(
      'the second to sign',
      async () => ((await second.tree.latestCheckpoint())?.size ?? 0) > before,
    );
    await assert.rejects(
      whileNoSQLiteSigner(log.treePath, () => Promise.resolve('rotated')),
      {
        code: 'TLOG_SIGNER_RUNNING',
      },
    );
    await second.f.stop();
    assert.equal(
      await whileNoSQLiteSigner(log.treePath, () => Promise.resolve('rotated')),
      'rotated',
    );
    await log.close();
  });

  it('a rotation holds the lock while it runs: a follower started meanwhile waits for it', async () => {
    const log = setup();
    await append(log.store, 2);
    const late = log.follower();
    const done = await whileNoSQLiteSigner(log.treePath, async () => {
      await late.f.start();
      await sleep(300);
      assert.equal(late.f.size(), 0, 'a follower signed during the rotation');
      assert.match(late.logged.join('\n'), /warn: another process signs checkpoints/);
      return 'rotated';
    });
    assert.equal(done, 'rotated');
    await until('the follower to start after the rotation', () => late.f.size() > 0);
    await log.close();
  });

  it('a follower whose key a rotation replaced does not sign, and gives the lock up', async () => {
    const log = setup();
    const next = newSigner();
    await log.store.append(LOG_KEY_STREAM, [
      logKeyRotated(signRotation({ origin: ORIGIN, treeSize: 0, previous: log.signer, next })),
    ]);
    await append(log.store, 2);
    const stale = log.follower(log.signer);
    await stale.f.start();
    assert.match(stale.logged.join('\n'), /warn: not signing checkpoints.*rotated to/);
    assert.equal(stale.f.size(), 0);
    // It retries later (still refusing); meanwhile the lock is free for the follower with the new key.
    await until('the lock to be free', async () => {
      try {
        return (await whileNoSQLiteSigner(log.treePath, () => Promise.resolve(true))) === true;
      } catch {
        return false;
      }
    });
    await stale.f.stop();
    const current = log.follower(next);
    await current.f.start();
    await until(
      'the new key to sign',
      async () => (await current.tree.latestCheckpoint()) !== undefined,
    );
    assert.equal(stale.f.size(), 0);
    await log.close();
  });
});
