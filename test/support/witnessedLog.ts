// A log whose Merkle follower delivers checkpoints to a loopback tlog-witness
// (tlogWitness.ts), for the tlog-witness tests.
import assert from 'node:assert/strict';
import type { CheckpointCosignedData } from '../../src/domain/events.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { createTransparencyFollower } from '../../src/transparency/follower.js';
import type { NoteSigner } from '../../src/transparency/note.js';
import type { TreeStore } from '../../src/transparency/port.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import type { TestWitness } from './tlogWitness.js';

export const ORIGIN = 'provenant.test/log';
export const WITNESS = 'witness.test/w1';

/** Polls `check` every 10 ms, for up to about `ms` (10 s by default). */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  for (let i = 0; i < ms / 10; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

export interface LogLine {
  level: string;
  message: string;
  fields?: object;
}

/**
 * A log on in-memory SQLite whose follower hands checkpoints to the tlog-witness
 * `w` (every 3 events, or 100 ms after the first unsigned one), with what a
 * test looks at: its cosignature events and its failure log lines. With
 * `shared`, it follows an existing log (a restarted follower) and leaves it open.
 */
export function witnessedLog(
  w: TestWitness,
  signer: NoteSigner,
  shared?: { store: SQLiteEventStore; tree: TreeStore },
) {
  const store = shared?.store ?? getSQLiteEventStore({ path: ':memory:' });
  const tree = shared?.tree ?? getSQLiteTreeStore({ path: ':memory:' });
  const lines: LogLine[] = [];
  const follower = createTransparencyFollower({
    eventStore: store,
    tree,
    signer,
    origin: ORIGIN,
    every: 3,
    intervalMs: 100,
    witnessUrl: w.url,
    witnessProtocol: 'tlog-witness',
    witnessKeys: [w.vkey],
    witnessTimeoutMs: 2000,
    witnessBackoffMs: 10,
    log: (level, message, fields) => lines.push({ level, message, ...(fields ? { fields } : {}) }),
  });
  const append = async (n: number, tag = 'a'): Promise<void> => {
    await store.append(
      `s-${tag}`,
      Array.from({ length: n }, (_, i) => ({ type: 'T.v1', data: { tag, i } })),
    );
  };
  const cosigned = async (): Promise<CheckpointCosignedData[]> =>
    (await store.readAll({ filter: { eventTypePrefix: ['CheckpointCosigned.'] } })).map(
      (e) => e.data as CheckpointCosignedData,
    );
  const failures = (): LogLine[] =>
    lines.filter((l) => l.message === 'checkpoint witness cosigning failed');
  const close = async (): Promise<void> => {
    await follower.stop();
    if (shared === undefined) {
      await tree.close();
      await store.close();
    }
  };
  return { store, tree, follower, append, cosigned, failures, lines, close };
}
