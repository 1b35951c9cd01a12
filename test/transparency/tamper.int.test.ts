// Tampering with a real SQLite log as an attacker with write access to the file
// would (append-only triggers dropped, rows edited with better-sqlite3), and
// `log verify`'s walk (transparency/verifyLog.ts) finding each edit, naming the
// position; where only a witness copy of a checkpoint can see an edit, it does.// The attacker's tools and the log they edit: test/support/tamperedLog.ts.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ZERO_DIGEST, contentDigest } from '../../src/eventStore/integrity.js';
import { CompactRange } from '../../src/transparency/compactRange.js';
import { verifyConsistency } from '../../src/transparency/merkle.js';
import {
  checkpointText,
  noteSigner,
  readCheckpointUnverified,
  signNote,
} from '../../src/transparency/note.js';
import { createTransparencyService } from '../../src/transparency/service.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { eventLeafHash } from '../../src/transparency/treeBuilder.js';
import {
  ORIGIN,
  attack,
  build,
  find,
  move,
  rechain,
  removeBuiltLogs,
  signer,
  toRecordedRow,
  verify,
} from '../support/tamperedLog.js';

after(removeBuiltLogs);

describe('log verify against an attacker with the SQLite file', () => {
  it('passes an untouched log, with every checkpoint and witness matched', async () => {
    const report = await verify(await build(), { witness: true });
    assert.deepEqual(report.problems, []);
    assert.equal(report.events, 12);
    assert.equal(report.checkpointsChecked, 6); // each of 2 checkpoints: log event, tree store, witness
    assert.equal(report.checkpointSizesChecked, 2);
  });

  it('finds edited event data at its position', async () => {
    const built = await build();
    const db = attack(built.logPath);
    db.prepare(`UPDATE events SET data = '{"n":99}' WHERE position = 5`).run();
    db.close();
    const { problems } = await verify(built);
    assert.equal(find(problems, 'content-digest-mismatch')?.position, 5n);
    assert.equal(find(problems, 'leaf-mismatch')?.position, 5n);
    assert.equal(find(problems, 'checkpoint-root-mismatch')?.position, 8n);
  });

  it('checks data stored in another spelling by its canonical form: the same value is no problem', async () => {
    // The walk hashes the stored text first; text that is not canonical (here
    // spaced and reordered) is parsed and canonicalised before it is judged.
    const built = await build();
    const db = attack(built.logPath);
    db.prepare(`UPDATE events SET data = '{ "n" : 4 }' WHERE position = 5`).run();
    db.prepare(`UPDATE events SET data = '{"n": 9, "x": 1}' WHERE position = 6`).run();
    db.close();
    const { problems } = await verify(built);
    assert.deepEqual(
      problems.map((p) => [p.kind, p.position]),
      [
        ['content-digest-mismatch', 6n],
        ['leaf-mismatch', 6n],
        // Each checkpoint twice: as logged and as kept in the tree store.
        ['checkpoint-root-mismatch', 8n],
        ['checkpoint-root-mismatch', 8n],
        ['checkpoint-root-mismatch', 11n],
        ['checkpoint-root-mismatch', 11n],
      ],
    );
  });

  it('reports unparseable metadata and data as unreadable at their positions, and goes on', async () => {
    const built = await build();
    const db = attack(built.logPath);
    db.prepare(`UPDATE events SET metadata = '{"principal":' WHERE position = 2`).run();
    db.prepare(`UPDATE events SET data = '{"n":' WHERE position = 4`).run();
    db.close();
    const report = await verify(built);
    const unreadable = report.problems.filter((p) => p.kind === 'unreadable');
    assert.deepEqual(
      unreadable.map((p) => p.position),
      [2n, 4n],
    );
    assert.equal(find(report.problems, 'leaf-mismatch')?.position, 2n);
    assert.equal(report.events, 12);
  });

  it('finds edited metadata (outside the content digest) at its position', async () => {
    const built = await build();
    const db = attack(built.logPath);
    db.prepare(
      `UPDATE events SET metadata = json_set(metadata, '$.principal', 'mallory') WHERE position = 3`,
    ).run();
    db.close();
    const { problems } = await verify(built);
    assert.equal(find(problems, 'content-digest-mismatch'), undefined);
    assert.equal(find(problems, 'leaf-mismatch')?.position, 3n);
    assert.ok(find(problems, 'checkpoint-root-mismatch'));
  });

  it('finds an edited recorded time at its position', async () => {
    const built = await build();
    const db = attack(built.logPath);
    db.prepare(
      `UPDATE events SET recorded_at = '2020-01-01T00:00:00.000Z' WHERE position = 7`,
    ).run();
    db.close();
    const { problems } = await verify(built);
    assert.equal(find(problems, 'leaf-mismatch')?.position, 7n);
  });

  it('finds a deleted event', async () => {
    const built = await build();
    const db = attack(built.logPath);
    db.prepare('DELETE FROM events WHERE position = 4').run(); // unit-a@1
    db.close();
    const { problems } = await verify(built);
    assert.equal(find(problems, 'leaf-mismatch')?.position, 4n);
    assert.equal(find(problems, 'revision-gap')?.position, 7n); // unit-a jumps to revision 2
  });

  it('finds two events of a stream swapped', async () => {
    const built = await build();
    const db = attack(built.logPath);
    move(db, 1, 100);
    move(db, 4, 1);
    move(db, 100, 4);
    db.close();
    const { problems } = await verify(built);
    assert.equal(find(problems, 'leaf-mismatch')?.position, 1n);
    assert.equal(find(problems, 'revision-gap')?.position, 1n);
  });

  it('finds the global order changed (streams intact)', async () => {
    const built = await build();
    const db = attack(built.logPath);
    move(db, 2, 100); // unit-b@0 and unit-c@0 change places
    move(db, 3, 2);
    move(db, 100, 3);
    db.close();
    const { problems } = await verify(built);
    assert.equal(find(problems, 'revision-gap'), undefined);
    assert.equal(find(problems, 'chain-broken'), undefined);
    assert.equal(find(problems, 'leaf-mismatch')?.position, 2n);
  });

  it('finds an event inserted in the middle with a valid chain of its own', async () => {
    const built = await build();
    const db = attack(built.logPath);
    db.prepare('UPDATE events SET position = position + 1000 WHERE position >= 6').run();
    db.prepare('UPDATE events SET position = position - 999 WHERE position >= 1000').run();
    const data = '{"n":"forged"}';
    db.prepare(
      `INSERT INTO events (position, id, stream, revision, type, data, metadata, content_digest, prev_digest, recorded_at)
       VALUES (6, '01J0000000000000000000FAKE', 'unit-z', 0, 'T.v1', ?, '{}', ?, ?, '2026-01-01T00:00:00.000Z')`,
    ).run(data, contentDigest('T.v1', JSON.parse(data), undefined), ZERO_DIGEST);
    db.close();
    const { problems } = await verify(built);
    assert.equal(find(problems, 'content-digest-mismatch'), undefined);
    assert.equal(find(problems, 'leaf-mismatch')?.position, 6n);
  });

  it('finds a truncated tail, in the tree store and against the witness alone', async () => {
    const built = await build();
    const db = attack(built.logPath);
    db.prepare('DELETE FROM events WHERE position >= 10').run();
    db.close();
    const { problems } = await verify(built);
    assert.equal(find(problems, 'leaves-missing')?.position, 10n);
    assert.equal(find(problems, 'checkpoint-beyond-log')?.position, 10n);
    // The attacker also deletes the Merkle log: only the witness copy sees the cut.
    rmSync(built.treePath);
    const alone = await verify(built, { tree: false, witness: true });
    const beyond = find(alone.problems, 'checkpoint-beyond-log');
    assert.match(
      beyond?.message ?? '',
      /witness-2 signs 11 events but the log has 9 \(last position 9\)/,
    );
    assert.equal(beyond?.position, 9n);
  });

  it('finds a whole stream deleted', async () => {
    const built = await build();
    const db = attack(built.logPath);
    db.prepare(`DELETE FROM events WHERE stream = 'unit-b'`).run();
    db.close();
    const { problems } = await verify(built);
    assert.equal(find(problems, 'leaf-mismatch')?.position, 2n);
    assert.ok(find(problems, 'checkpoint-root-mismatch'));
  });

  it('finds a whole stream rewritten with recomputed digests and chain', async () => {
    const built = await build();
    const db = attack(built.logPath);
    rechain(db, 'unit-c', (row) => ({ ...row, data: JSON.stringify({ n: 'rewritten' }) }));
    db.close();
    const { problems } = await verify(built);
    assert.equal(find(problems, 'content-digest-mismatch'), undefined);
    assert.equal(find(problems, 'chain-broken'), undefined);
    assert.equal(find(problems, 'leaf-mismatch')?.position, 3n);
    assert.equal(find(problems, 'checkpoint-root-mismatch')?.position, 8n);
  });

  it('finds a checkpoint replaced by one under another key', async () => {
    const built = await build();
    const db = attack(built.logPath);
    const forger = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    rechain(db, '$checkpoints', (row) => {
      const data = JSON.parse(row.data) as { note: string };
      const c = readCheckpointUnverified(data.note);
      return {
        ...row,
        data: JSON.stringify({ ...data, note: signNote(checkpointText(c), forger) }),
      };
    });
    db.close();
    const { problems } = await verify(built);
    const invalid = problems.filter((p) => p.kind === 'checkpoint-invalid');
    assert.deepEqual(
      invalid.map((p) => p.position),
      [9n, 12n],
    );
    assert.match(invalid[0]?.message ?? '', /TLOG_UNKNOWN_KEY/);
  });

  it('sees, through the witness alone, a history re-signed with the stolen key (a split view)', async () => {
    const built = await build();
    const db = attack(built.logPath);
    db.prepare(
      `UPDATE events SET metadata = json_set(metadata, '$.principal', 'mallory') WHERE position = 2`,
    ).run();
    // Re-sign both checkpoints over the forged history, in order, and drop the Merkle log.
    for (const checkpointPosition of [9, 12]) {
      const rows = db
        .prepare<[number], Record<string, unknown>>(
          'SELECT * FROM events WHERE position < ? ORDER BY position',
        )
        .all(checkpointPosition);
      const range = new CompactRange();
      for (const r of rows) range.append(eventLeafHash(toRecordedRow(r)));
      const note = signNote(
        checkpointText({ origin: ORIGIN, size: range.size, root: range.root() }),
        signer,
      );
      rechain(db, '$checkpoints', (row) =>
        row.position === checkpointPosition
          ? {
              ...row,
              data: JSON.stringify({
                ...(JSON.parse(row.data) as object),
                note,
                rootHash: range.root().toString('base64'),
              }),
            }
          : row,
      );
    }
    db.close();
    rmSync(built.treePath);
    const blind = await verify(built, { tree: false });
    assert.deepEqual(blind.problems, [], 'without a witness the forgery is consistent');
    const { problems } = await verify(built, { tree: false, witness: true });
    assert.ok(find(problems, 'split-view'));
    assert.equal(find(problems, 'checkpoint-root-mismatch')?.position, 8n);
  });
});

describe('proofs between successive checkpoints', () => {
  it('proves each checkpoint consistent with the next, and each event included', async () => {
    const built = await build();
    const tree = getSQLiteTreeStore({ path: built.treePath });
    try {
      const service = createTransparencyService({
        tree,
        origin: ORIGIN,
        verifierKey: signer.verifierKey,
      });
      const [c1, c2] = await tree.checkpoints();
      assert.ok(c1 && c2);
      const proof = await service.consistency(c1.size, c2.size);
      const hashes = proof.proof.map((p) => Buffer.from(p, 'base64'));
      assert.equal(verifyConsistency(c1.size, c2.size, hashes, c1.root, c2.root), undefined);
      assert.notEqual(verifyConsistency(c1.size, c2.size, hashes, c2.root, c1.root), undefined);
      const inclusion = await service.inclusionByPosition(5n);
      assert.equal(inclusion.treeSize, 11);
      assert.equal(inclusion.checkpoint, c2.note);
    } finally {
      await tree.close();
    }
  });
});
