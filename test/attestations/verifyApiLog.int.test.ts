// POST /v1/verify checks the Merkle log as `provenant verify --store` does, in
// the server's own tree store and event store (application/attestations/ownLog.ts):
// a valid VSA passes log-checkpoint, log-inclusion and log-consistency with the
// server's own key (said so); a copy of the SQLite files tampered as an attacker
// with write access would (a receipt's leaf pointing at another event, a
// sibling's leaf hash, the receipt's stored event edited, the latest checkpoint
// re-signed over another root) fails with its VERIFY_LOG_* code; an attestation
// naming no checkpoint, and a server without the Merkle log, give a note.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  createAttestationService,
  type AttestationSigning,
} from '../../src/application/attestations/index.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import { signCheckpointNow } from '../support/exportLog.js';
import { checkpointText, noteSigner, signNote } from '../../src/transparency/note.js';
import { createTransparencyService } from '../../src/transparency/service.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { TreeBuilder } from '../../src/transparency/treeBuilder.js';
import { UNIT, fixture, passRelease, signingOf } from '../support/attestations.js';

const root = mkdtempSync(join(tmpdir(), 'provenant-verify-api-log-'));
const ORIGIN = 'verify-api.example/log';
const NO_LOG = 'zlib/1.3/1.el9/x86_64/rpm';
const LOG_FILE = 'provenant.db';
const TREE_FILE = 'provenant-merkle.db';

interface Report {
  result: string;
  checks: { name: string; outcome: string; code?: string; message: string }[];
  notes?: string[];
}

/** Each log-* check's outcome, and its code when it did not pass. */
const logChecks = (report: Report): string[] =>
  report.checks
    .filter((c) => c.name.startsWith('log-'))
    .map((c) => `${c.name} ${c.outcome}${c.code === undefined ? '' : ` ${c.code}`}`);

describe('POST /v1/verify and the server’s own Merkle log', () => {
  const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const built = join(root, 'built');
  let signing: AttestationSigning;
  let vsa: unknown;
  let noLogVsa: unknown;
  /** The build receipt's leaf and its event's position. */
  let buildLeaf = 0;
  let buildPosition = 0;

  before(async () => {
    mkdirSync(built);
    const f = await fixture({ path: join(built, LOG_FILE) });
    signing = signingOf(f.pair);
    const tree = getSQLiteTreeStore({ path: join(built, TREE_FILE) });
    const transparency = createTransparencyService({
      tree,
      origin: ORIGIN,
      verifierKey: signer.verifierKey,
    });
    const builder = await TreeBuilder.open(tree);
    const checkpointNow = (): Promise<void> =>
      signCheckpointNow(builder, { eventStore: f.store, tree, signer, origin: ORIGIN });
    const attestations = createAttestationService({ eventStore: f.store, signing, transparency });

    // A VSA issued under a checkpoint; the log grows and is signed again after it.
    const receipts = await passRelease(f.domain);
    await checkpointNow();
    const issued = await attestations.issueAttestation(UNIT, { kind: 'vsa', stageId: 'release' });
    await checkpointNow();
    // A VSA issued where the Merkle log was off: it names no checkpoint.
    await passRelease(f.domain, NO_LOG);
    const noLog = await f.attestations.issueAttestation(NO_LOG, {
      kind: 'vsa',
      stageId: 'release',
    });
    await checkpointNow();

    vsa = issued.bundle;
    noLogVsa = noLog.bundle;
    const record = (await attestations.getAttestation(issued.attestationId)).log;
    const leaf = record?.receipts.find((r) => r.receiptId === receipts.build)?.leafIndex;
    assert.ok(leaf !== undefined, 'the VSA names the build receipt’s leaf');
    buildLeaf = leaf;
    buildPosition = Number((await tree.leafAt(leaf))?.position);
    await tree.close();
    await f.store.close();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  let copies = 0;
  /**
   * A server on a copy of the built files, tampered first with `tamper` (the log
   * file and the tree file, opened as an attacker); `merkle: false` serves without
   * the Merkle log. Verifies `bundle` as the release gate does, over inject().
   */
  async function verifyOn(
    bundle: unknown,
    unit: string,
    options: {
      tamper?: (db: { log: Database.Database; tree: Database.Database }) => void;
      merkle?: boolean;
    } = {},
  ): Promise<Report> {
    const dir = join(root, `copy-${++copies}`);
    mkdirSync(dir);
    for (const file of readdirSync(built)) copyFileSync(join(built, file), join(dir, file));
    if (options.tamper !== undefined) {
      const log = new Database(join(dir, LOG_FILE));
      log.exec(
        'DROP TRIGGER IF EXISTS events_append_only_update; DROP TRIGGER IF EXISTS events_append_only_delete;',
      );
      const tree = new Database(join(dir, TREE_FILE));
      try {
        options.tamper({ log, tree });
      } finally {
        log.close();
        tree.close();
      }
    }
    assert.ok(existsSync(join(dir, TREE_FILE)), 'the tree file was copied');
    const store = getSQLiteEventStore({ path: join(dir, LOG_FILE) });
    const tree = getSQLiteTreeStore({ path: join(dir, TREE_FILE) });
    const transparency =
      options.merkle === false
        ? undefined
        : createTransparencyService({ tree, origin: ORIGIN, verifierKey: signer.verifierKey });
    const app = await buildApp({
      auth: anonymousAuth(),
      store,
      ownsStore: true,
      attestations: createAttestationService({
        eventStore: store,
        signing,
        ...(transparency === undefined ? {} : { transparency }),
      }),
      ...(transparency === undefined ? {} : { transparency }),
      storeDescription: `sqlite ${dir}`,
    });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/verify',
        payload: { bundle, expected: { kind: 'vsa', unit, stageId: 'release' } },
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<Report>();
    } finally {
      await app.close();
      await tree.close();
    }
  }

  const VALID = ['log-checkpoint passed', 'log-inclusion passed', 'log-consistency passed'];

  it('passes a valid VSA with the three log checks, under the server’s own key (said so)', async () => {
    const report = await verifyOn(vsa, UNIT);
    assert.equal(report.result, 'valid', JSON.stringify(report));
    assert.deepEqual(logChecks(report), VALID);
    const checkpoint = report.checks.find((c) => c.name === 'log-checkpoint');
    assert.match(checkpoint?.message ?? '', /the server checks its own log/);
    assert.match(checkpoint?.message ?? '', /--log-key/);
    assert.match(
      report.checks.find((c) => c.name === 'log-inclusion')?.message ?? '',
      /2 receipt\(s\) included under the checkpoint/,
    );
    assert.match(
      report.checks.find((c) => c.name === 'log-consistency')?.message ?? '',
      /the latest checkpoint of this server \(\d+ leaves\) extends the attestation's/,
    );
    assert.equal(report.notes, undefined, 'no trust-on-first-use note: the key is the server’s');
  });

  it('fails a receipt whose leaf in the tree store holds another event', async () => {
    const report = await verifyOn(vsa, UNIT, {
      tamper: ({ tree }) => {
        // Leaf 0 (a definition event) and the build receipt's leaf trade events.
        const swap = tree.prepare(
          'UPDATE merkle_leaves SET position = ?, event_id = ? WHERE leaf_index = ?',
        );
        const row = tree.prepare<[number], { position: number; event_id: string }>(
          'SELECT position, event_id FROM merkle_leaves WHERE leaf_index = ?',
        );
        const first = row.get(0);
        const ours = row.get(buildLeaf);
        assert.ok(first !== undefined && ours !== undefined, 'leaf 0 and the receipt’s leaf exist');
        swap.run(ours.position, 'placeholder', 0);
        swap.run(first.position, first.event_id, buildLeaf);
        swap.run(ours.position, ours.event_id, 0);
      },
    });
    assert.equal(report.result, 'invalid');
    assert.deepEqual(logChecks(report), [
      'log-checkpoint passed',
      'log-inclusion failed VERIFY_LOG_WRONG_LEAF',
      'log-consistency passed',
    ]);
    assert.match(
      report.checks.find((c) => c.name === 'log-inclusion')?.message ?? '',
      new RegExp(`leaf ${buildLeaf}\\): it holds a \\w+`),
    );
  });

  it('fails a receipt whose proof the tree store serves is tampered (a sibling leaf’s hash)', async () => {
    const report = await verifyOn(vsa, UNIT, {
      tamper: ({ tree }) => {
        tree
          .prepare('UPDATE merkle_leaves SET hash = ? WHERE leaf_index = ?')
          .run(Buffer.alloc(32, 9), buildLeaf ^ 1);
      },
    });
    assert.equal(report.result, 'invalid');
    const inclusion = report.checks.find((c) => c.name === 'log-inclusion');
    assert.equal(inclusion?.code, 'VERIFY_LOG_NOT_INCLUDED', JSON.stringify(report.checks));
    assert.match(inclusion.message, new RegExp(`leaf ${buildLeaf}\\) is not included`));
  });

  it('fails a receipt whose stored event was edited (outside its content digest)', async () => {
    const report = await verifyOn(vsa, UNIT, {
      tamper: ({ log }) => {
        const edited = log
          .prepare(
            `UPDATE events SET metadata = json_set(metadata, '$.principal', 'mallory') WHERE position = ?`,
          )
          .run(buildPosition);
        assert.equal(edited.changes, 1);
      },
    });
    assert.equal(report.result, 'invalid');
    assert.deepEqual(logChecks(report), [
      'log-checkpoint passed',
      'log-inclusion failed VERIFY_LOG_NOT_INCLUDED',
      'log-consistency passed',
    ]);
    // The receipt's own data is untouched: only the Merkle log sees the edit.
    assert.equal(report.checks.find((c) => c.name === 'evidence')?.outcome, 'passed');
  });

  it('fails when the latest checkpoint was re-signed over another root (the log rewritten)', async () => {
    const report = await verifyOn(vsa, UNIT, {
      tamper: ({ tree }) => {
        const latest = tree
          .prepare<[], { tree_size: number }>(
            'SELECT tree_size FROM merkle_checkpoints ORDER BY tree_size DESC LIMIT 1',
          )
          .get();
        assert.ok(latest !== undefined, 'the tree has a checkpoint');
        const root = Buffer.alloc(32, 7);
        const note = signNote(
          checkpointText({ origin: ORIGIN, size: latest.tree_size, root }),
          signer,
        );
        tree
          .prepare('UPDATE merkle_checkpoints SET root = ?, note = ? WHERE tree_size = ?')
          .run(root, note, latest.tree_size);
      },
    });
    assert.equal(report.result, 'invalid');
    assert.deepEqual(logChecks(report), [
      'log-checkpoint passed',
      'log-inclusion passed',
      'log-consistency failed VERIFY_LOG_INCONSISTENT',
    ]);
  });

  it('notes an attestation that names no checkpoint (valid, as the CLI without --log-key)', async () => {
    const report = await verifyOn(noLogVsa, NO_LOG);
    assert.equal(report.result, 'valid', JSON.stringify(report));
    assert.deepEqual(logChecks(report), []);
    assert.ok(
      (report.notes ?? []).some((n) =>
        /names no checkpoint.*: inclusion in the Merkle log not checked/.test(n),
      ),
      `notes: ${JSON.stringify(report.notes)}`,
    );
  });

  it('a server without the Merkle log answers with a note, not a failure', async () => {
    const report = await verifyOn(vsa, UNIT, { merkle: false });
    assert.equal(report.result, 'valid', JSON.stringify(report));
    assert.deepEqual(logChecks(report), []);
    assert.deepEqual(report.notes, [
      'this server serves no Merkle log key: inclusion in the Merkle log not checked',
    ]);
  });
});
