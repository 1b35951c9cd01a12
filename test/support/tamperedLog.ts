// The attacker's side of test/transparency/tamper.int.test.ts: a real SQLite log
// with two signed checkpoints and their witness copies (`build`), the file opened
// with the append-only triggers dropped (`attack`), a stream rewritten with every
// digest and chain link recomputed (`rechain`), an event moved, and `log verify`'s
// walk over the result (`verify`).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ZERO_DIGEST, contentDigest, eventDigest } from '../../src/eventStore/integrity.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventContext } from '../../src/eventStore/types.js';
import { signCheckpoint } from '../../src/transparency/follower.js';
import { noteSigner, parseVerifierKey } from '../../src/transparency/note.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { TreeBuilder } from '../../src/transparency/treeBuilder.js';
import { verifyLog, type LogProblem } from '../../src/transparency/verifyLog.js';

const root = mkdtempSync(join(tmpdir(), 'provenant-tamper-'));
/** Deletes every log `build` made (the test file calls it in `after`). */
export const removeBuiltLogs = (): void => rmSync(root, { recursive: true, force: true });

export const ORIGIN = 'test.example/log';
export const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
export const verifiers = [parseVerifierKey(signer.verifierKey)];
let counter = 0;

export interface Built {
  logPath: string;
  treePath: string;
  witnesses: string[];
}

/**
 * A log of 12 events: unit-a, unit-b, unit-c interleaved (positions 1–8), a
 * checkpoint of size 8 (position 9), unit-a@3 and unit-c@2 (10, 11), a
 * checkpoint of size 11 (12); the tree holds all 12; each checkpoint is also
 * written to a witness file.
 */
export async function build(): Promise<Built> {
  const dir = join(root, `log-${++counter}`);
  const logPath = join(dir, 'provenant.db');
  const treePath = join(dir, 'provenant-merkle.db');
  const witnesses = [join(dir, 'witness-1'), join(dir, 'witness-2')];
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const store = getSQLiteEventStore({ path: logPath });
  const tree = getSQLiteTreeStore({ path: treePath });
  const meta = (n: number) => ({ principal: `producer-${n}`, correlationId: `c-${n}` });
  for (const [i, stream] of [
    'unit-a',
    'unit-b',
    'unit-c',
    'unit-a',
    'unit-b',
    'unit-c',
    'unit-a',
    'unit-b',
  ].entries())
    await store.append(stream, [{ type: 'T.v1', data: { n: i }, metadata: meta(i) }]);
  const builder = await TreeBuilder.open(tree);
  /** Brings the tree up to the log and signs a checkpoint, its witness copy in `witnessFile`. */
  const checkpoint = async (witnessFile: string | undefined) => {
    await builder.catchUp(store);
    await signCheckpoint(builder, { eventStore: store, tree, signer, origin: ORIGIN, witnessFile });
  };
  await checkpoint(witnesses[0]);
  await store.append('unit-a', [{ type: 'T.v1', data: { n: 8 }, metadata: meta(8) }]);
  await store.append('unit-c', [{ type: 'T.v1', data: { n: 9 }, metadata: meta(9) }]);
  await checkpoint(witnesses[1]);
  await builder.catchUp(store);
  assert.equal(builder.size, 12);
  await tree.close();
  await store.close();
  return { logPath, treePath, witnesses };
}

/** Opens the file as the attacker: triggers gone. */
export function attack(path: string): Database.Database {
  const db = new Database(path);
  db.exec(
    'DROP TRIGGER IF EXISTS events_append_only_update; DROP TRIGGER IF EXISTS events_append_only_delete;',
  );
  return db;
}

export interface Row {
  position: number;
  revision: number;
  type: string;
  data: string;
  metadata: string;
}

/** Rewrites a stream with `edit` applied and every digest and chain link recomputed. */
export function rechain(db: Database.Database, stream: string, edit: (row: Row) => Row): void {
  const rows = db
    .prepare<[string], Row>(
      'SELECT position, revision, type, data, metadata FROM events WHERE stream = ? ORDER BY revision',
    )
    .all(stream);
  let prev = ZERO_DIGEST;
  for (const original of rows) {
    const row = edit(original);
    const context = (JSON.parse(row.metadata) as { context?: EventContext }).context;
    const digest = contentDigest(row.type, JSON.parse(row.data), context);
    db.prepare(
      'UPDATE events SET data = ?, metadata = ?, content_digest = ?, prev_digest = ? WHERE position = ?',
    ).run(row.data, row.metadata, digest, prev, row.position);
    prev = eventDigest(prev, digest);
  }
}

/** Moves an event to another position (positions are the primary key). */
export const move = (db: Database.Database, from: number, to: number): void => {
  db.prepare('UPDATE events SET position = ? WHERE position = ?').run(to, from);
};

export async function verify(built: Built, { tree = true, witness = false } = {}) {
  const store = getSQLiteEventStore({ path: built.logPath });
  const treeStore = tree ? getSQLiteTreeStore({ path: built.treePath }) : undefined;
  try {
    return await verifyLog({
      eventStore: store,
      ...(treeStore === undefined ? {} : { tree: treeStore }),
      verifiers,
      witnesses: witness
        ? built.witnesses.map((f) => ({ source: f, note: readFileSync(f, 'utf8') }))
        : [],
    });
  } finally {
    await treeStore?.close();
    await store.close();
  }
}

export const find = (problems: LogProblem[], kind: LogProblem['kind']): LogProblem | undefined =>
  problems.find((p) => p.kind === kind);

/** A raw row as the port returns it (for the attacker's own root computation). */
export function toRecordedRow(r: Record<string, unknown>) {
  return {
    id: r.id as string,
    type: r.type as string,
    stream: r.stream as string,
    revision: r.revision as number,
    position: BigInt(r.position as number),
    recordedAt: r.recorded_at as string,
    data: JSON.parse(r.data as string) as unknown,
    metadata: {
      ...(JSON.parse(r.metadata as string) as object),
      contentDigest: r.content_digest as string,
      prevDigest: r.prev_digest as string,
    },
  };
}
