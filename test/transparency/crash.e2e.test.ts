// The Merkle log across crashes: `provenant serve` on SQLite, signing a
// checkpoint every few events and copying each to a witness file, takes
// CloudEvents from concurrent clients over loopback and is SIGKILLed mid-stream,
// three times, at whatever point it had reached (appending to the log, adding
// leaves to the tree's own file, signing, writing the witness copy, appending
// `CheckpointSigned`). After a last clean run, what an auditor checks must hold:
// `log verify` finds every event a leaf and every checkpoint's root right
// (against the witness copy too), `log consistency` proves the log extends a
// checkpoint saved before the first crash, and every event the server
// acknowledged is in the log exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { assertStoredOnce } from '../support/acknowledged.js';
import { runCli } from '../support/cli.js';
import { checkpointOf, checkpointOfWholeLog, clients, serve } from '../support/serveProcess.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-tlog-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const witnessFile = join(dir, 'witness-checkpoint.txt');
const env: Record<string, string> = {
  PROVENANT_DATA_DIR: dir,
  PROVENANT_PORT: '0',
  // Crashes, not authentication, are under test here.
  PROVENANT_AUTH_ANONYMOUS: 'true',
  PROVENANT_CHECKPOINT_EVERY: '7',
  PROVENANT_CHECKPOINT_SECONDS: '1',
  PROVENANT_CHECKPOINT_WITNESS_FILE: witnessFile,
};

describe('the Merkle log across SIGKILLs of the server', () => {
  it('verifies, stays consistent with a checkpoint from before the crashes, and keeps every acknowledged event', async (t) => {
    const acknowledged = new Set<string>();
    const oldCheckpoint = join(dir, 'old-checkpoint.txt');
    for (let round = 0; round < 3; round++) {
      const server = await serve(env);
      try {
        const load = clients(server.url, round);
        await load.after(150);
        if (round === 0) writeFileSync(oldCheckpoint, await checkpointOf(server.url, 100));
        // Somewhere in the next events: mid-append, mid-leaf or mid-checkpoint.
        await load.after(50 + Math.floor(Math.random() * 100));
        assert.equal(await server.stop('SIGKILL'), null, 'killed, not exited');
        await load.stop();
        for (const id of load.acknowledged) acknowledged.add(id);
      } finally {
        await server.stop('SIGKILL');
      }
    }

    // A last, clean run: the tree catches up with what the crashes left, and
    // signs a checkpoint that covers the whole log.
    const server = await serve(env);
    let signedSize: number;
    try {
      signedSize = Number((await checkpointOfWholeLog(server.url, dir)).split('\n')[1]);
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0, server.log().slice(-3000));
    }

    const verify = await runCli(
      ['log', 'verify', '--json', '--checkpoint', witnessFile],
      60_000,
      env,
    );
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    const report = JSON.parse(verify.stdout) as { ok: boolean; problems: unknown[] };
    assert.equal(report.ok, true);
    assert.deepEqual(report.problems, []);
    const witnessedSize = Number(readFileSync(witnessFile, 'utf8').split('\n')[1]);
    assert.ok(witnessedSize > 0 && witnessedSize <= signedSize, `witness copy of ${witnessedSize}`);

    const consistency = await runCli(['log', 'consistency', oldCheckpoint], 60_000, env);
    assert.equal(consistency.status, 0, consistency.stdout + consistency.stderr);

    const store = getSQLiteEventStore({ path: join(dir, 'provenant.db') });
    try {
      const stored = await assertStoredOnce(store, acknowledged, 'after the crashes');
      t.diagnostic(
        `${acknowledged.size} events acknowledged over 3 crashes; ${stored.size} stored; final checkpoint of ${signedSize} leaves`,
      );
    } finally {
      await store.close();
    }
  });
});
