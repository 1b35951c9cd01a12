// `provenant log verify | prove | consistency` as a user runs them, on a real
// data directory: a witness copy checked (a file, and a URL), a proof printed and verified, an old
// checkpoint proved extended, bad input refused with its own code, and an edit
// of metadata reported with its position.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { signCheckpoint } from '../../src/transparency/follower.js';
import { verifyInclusion } from '../../src/transparency/merkle.js';
import { noteSigner } from '../../src/transparency/note.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { TreeBuilder } from '../../src/transparency/treeBuilder.js';
import { cliArgs, runCliSync } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-tlog-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => runCliSync(args, 120_000, { PROVENANT_DATA_DIR: dir });

describe('provenant log verify | prove | consistency', () => {
  const witness = join(dir, 'witness-1');
  let eventId = '';

  it('builds a log with two checkpoints (setup)', async () => {
    mkdirSync(dir, { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'log-key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const signer = noteSigner('provenant.local/log', privateKey);
    const store = getSQLiteEventStore({ path: join(dir, 'provenant.db') });
    const tree = getSQLiteTreeStore({ path: join(dir, 'provenant-merkle.db') });
    const options = { eventStore: store, tree, signer, origin: 'provenant.local/log' };
    const builder = await TreeBuilder.open(tree);
    for (let i = 0; i < 6; i++) {
      const result = await store.append(`unit-${i % 2}`, [
        { type: 'T.v1', data: { i }, metadata: { principal: 'ci' } },
      ]);
      if (i === 2) eventId = result.events[0]?.id ?? '';
      if (i === 2 || i === 5) {
        await builder.catchUp(store);
        await signCheckpoint(builder, { ...options, ...(i === 2 ? { witnessFile: witness } : {}) });
      }
    }
    await builder.catchUp(store);
    await tree.close();
    await store.close();
    assert.ok(eventId);
  });

  it('verifies the whole log against a witness copy', () => {
    const res = run(['log', 'verify', '--checkpoint', witness, '--json']);
    assert.equal(res.status, 0, res.stderr + res.stdout);
    const report = JSON.parse(res.stdout) as {
      ok: boolean;
      events: number;
      checkpointsChecked: number;
    };
    assert.equal(report.ok, true);
    assert.equal(report.events, 8);
    assert.equal(report.checkpointsChecked, 5);
  });

  it('fetches a witness copy from a URL, and refuses one that cannot be fetched', async () => {
    const note = readFileSync(witness, 'utf8');
    const server = createServer((request, response) => {
      if (request.url === '/latest')
        response.writeHead(200, { 'content-type': 'text/plain' }).end(note);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    const runAsync = (args: string[]) =>
      promisify(execFile)(process.execPath, cliArgs(...args), {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, PROVENANT_DATA_DIR: dir },
      }).then(
        (r) => ({ status: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ status: e.code, ...e }),
      );
    try {
      const res = await runAsync(['log', 'verify', '--checkpoint', `${base}/latest`, '--json']);
      assert.equal(res.status, 0, res.stderr + res.stdout);
      assert.equal(
        (JSON.parse(res.stdout) as { checkpointsChecked: number }).checkpointsChecked,
        5,
      );
      const missing = await runAsync(['log', 'verify', '--checkpoint', `${base}/gone`]);
      assert.equal(missing.status, 2, missing.stderr + missing.stdout);
      assert.match(
        missing.stderr,
        /TLOG_MALFORMED_NOTE: Checkpoint http:\/\/.*\/gone cannot be fetched: it answered 404/,
      );
    } finally {
      server.close();
    }
  });

  it('prints an inclusion proof that verifies', () => {
    const res = run(['log', 'prove', eventId]);
    assert.equal(res.status, 0, res.stderr);
    const p = JSON.parse(res.stdout) as {
      leafIndex: number;
      treeSize: number;
      leafHash: string;
      rootHash: string;
      proof: string[];
    };
    const b = (s: string) => Buffer.from(s, 'base64');
    assert.equal(p.leafIndex, 2);
    assert.equal(
      verifyInclusion(p.leafIndex, p.treeSize, b(p.leafHash), p.proof.map(b), b(p.rootHash)),
      undefined,
    );
  });

  it('proves the log extends an old checkpoint, and refuses a malformed one with its code', () => {
    const res = run(['log', 'consistency', witness]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^consistent: the log at size 7 extends the checkpoint of size 3/);
    const bad = join(dir, 'bad-note');
    writeFileSync(bad, 'provenant.local/log\nnot a size\n');
    const refused = run(['log', 'consistency', bad]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /^provenant: TLOG_MALFORMED_NOTE: /);
  });

  it('reports edited metadata with its position', () => {
    const db = new Database(join(dir, 'provenant.db'));
    db.exec('DROP TRIGGER events_append_only_update');
    db.prepare(
      `UPDATE events SET metadata = json_set(metadata, '$.principal', 'mallory') WHERE position = 2`,
    ).run();
    db.close();
    const res = run(['log', 'verify', '--checkpoint', witness]);
    assert.equal(res.status, 1, res.stderr);
    assert.match(
      res.stdout,
      /^BROKEN after 1 good event: leaf-mismatch at unit-1@0 \(position 2, event /,
    );
    assert.match(res.stdout, /checkpoint-root-mismatch \(position 3\)/);
  });
});
