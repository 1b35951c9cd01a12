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
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { assertStoredOnce } from '../support/acknowledged.js';
import { cliArgs, runCli } from '../support/cli.js';

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

interface Server {
  url: string;
  /** Sends `signal`, resolves once the process is gone, with its exit code. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
  log(): string;
}

/** Starts `provenant serve` on the test's data dir; a guard kills it after 90 s at most. */
async function serve(): Promise<Server> {
  const child = spawn(process.execPath, cliArgs('serve'), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve(code);
    }),
  );
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: string): void => {
      log += chunk;
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(log);
      if (match?.[1] !== undefined) resolve(match[1]);
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    void exited.then((code) => reject(new Error(`serve exited early (${code}): ${log}`)));
  });
  return {
    url,
    log: () => log,
    stop: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The server's latest checkpoint note, once it has one covering at least `size` leaves. */
async function checkpointOf(url: string, size: number): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${url}/v1/log/checkpoint`);
    const note = await res.text();
    const signedSize = res.status === 200 ? Number(note.split('\n')[1]) : 0;
    if (signedSize >= size) return note;
    if (Date.now() > deadline)
      assert.fail(`no checkpoint of ${size} leaves or more: ${res.status} ${note}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Clients posting CloudEvents until `stop()`: the ids the server acknowledged
 * (201). Requests cut off by a crash are neither acknowledged nor counted lost.
 */
function clients(url: string, round: number, count = 8) {
  const acknowledged = new Set<string>();
  let stopped = false;
  const client = async (c: number): Promise<void> => {
    for (let n = 0; !stopped; n++) {
      const id = `r${round}-c${c}-e${n}`;
      try {
        const res = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'ce-specversion': '1.0',
            'ce-id': id,
            'ce-source': 'https://ci.example.com/tlog-crash-test',
            'ce-type': 'com.example.pipeline.step.finished',
          },
          body: JSON.stringify({ round, client: c, n }),
        });
        await res.arrayBuffer();
        if (res.status === 201) acknowledged.add(id);
        else assert.fail(`unexpected status ${res.status} for ${id}`);
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error;
        return; // the server is gone
      }
    }
  };
  const running = Promise.all(Array.from({ length: count }, (_, c) => client(c)));
  return {
    acknowledged,
    /** Resolves once `n` more events were acknowledged. */
    async after(n: number): Promise<void> {
      const target = acknowledged.size + n;
      while (acknowledged.size < target) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    async stop(): Promise<void> {
      stopped = true;
      await running;
    },
  };
}

describe('the Merkle log across SIGKILLs of the server', () => {
  it('verifies, stays consistent with a checkpoint from before the crashes, and keeps every acknowledged event', async (t) => {
    const acknowledged = new Set<string>();
    const oldCheckpoint = join(dir, 'old-checkpoint.txt');
    for (let round = 0; round < 3; round++) {
      const server = await serve();
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
    const server = await serve();
    let signedSize: number;
    try {
      const store = getSQLiteEventStore({ path: join(dir, 'provenant.db') });
      const head = Number(await store.headPosition());
      await store.close();
      signedSize = Number((await checkpointOf(server.url, head)).split('\n')[1]);
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
