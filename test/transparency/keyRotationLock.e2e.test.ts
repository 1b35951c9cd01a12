// `provenant log rotate-key` on a SQLite store while signers run, through the
// CLI in real processes (src/transparency/sqlite/signerLock.ts): refused with
// TLOG_SIGNER_RUNNING while a `serve` signs, and while a `projections run` that
// stood by took over after the server was SIGKILLed; a second signer on the
// store (`projections run`, or a second `serve`, which answers requests) stands
// by with a log line and takes over when the first dies or stops; the rotation
// goes through once the signers were SIGKILLed (a dead holder leaves no lock)
// or stopped; a server with the rotated-away key signs nothing, one with the
// new key signs.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { cliArgs, type CliRun } from '../support/cli.js';

const root = mkdtempSync(join(tmpdir(), 'provenant-rotatelock-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Signer {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves once its output matches `pattern`; rejects if it exits first. */
  waitFor(pattern: RegExp): Promise<void>;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Starts `provenant <args>` as a process; killed by a guard after two minutes at most. */
function start(args: string[], env: NodeJS.ProcessEnv): Signer {
  const child = spawn(process.execPath, cliArgs(...args), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  let output = '';
  const waiting = new Set<() => void>();
  const onData = (chunk: string): void => {
    output += chunk;
    for (const check of [...waiting]) check();
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      for (const check of [...waiting]) check();
      resolve(code);
    }),
  );
  return {
    child,
    output: () => output,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(output)) {
            waiting.delete(check);
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiting.delete(check);
            reject(new Error(`${args.join(' ')} exited before ${pattern}: ${output}`));
          }
        };
        waiting.add(check);
        check();
      }),
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

describe('provenant log rotate-key on SQLite, with signers running', () => {
  const dir = join(root, 'data');
  const keyFile = (n: number) => join(dir, `log-key-${n}.pem`);
  const env = (key: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PROVENANT_DATA_DIR: dir,
    PROVENANT_LOG_KEY: keyFile(key),
    PROVENANT_PORT: '0',
    PROVENANT_HOST: '127.0.0.1',
    PROVENANT_CHECKPOINT_EVERY: '1',
    ...extra,
  });
  const serve = (key: number, extra: NodeJS.ProcessEnv = {}) =>
    start(['serve', '--dev-anonymous'], env(key, extra));
  // Its own read models: the SQLite read models elect no leader, the Merkle log does.
  const worker = (key: number) =>
    start(
      ['projections', 'run'],
      env(key, { PROVENANT_READ_MODELS_PATH: join(dir, 'worker-read-models.db') }),
    );
  /** `log rotate-key` with key `key` configured, to the new key `next` (without blocking the loop). */
  const rotate = async (key: number, next: number): Promise<CliRun> => {
    const args = cliArgs('log', 'rotate-key', '--new-key', keyFile(next), '--json');
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, args, {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, ...env(key) },
      });
      return { status: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout: string; stderr: string };
      return { status: e.code ?? -1, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const signing = /(?:"msg":"|info: )signing checkpoints/;
  const standingBy = /another process signs checkpoints on this Merkle log/;
  const running: Signer[] = [];
  after(async () => {
    for (const s of running) await s.kill('SIGKILL');
  });

  it('is refused while a serve signs, and while a projections run that took over signs; goes through once both were SIGKILLed', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      keyFile(0),
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    const store = getSQLiteEventStore({ path: join(dir, 'provenant.db') });
    for (let i = 0; i < 3; i++) await store.append(`unit-${i}`, [{ type: 'T.v1', data: { i } }]);
    await store.close();

    const server = serve(0);
    running.push(server);
    await server.waitFor(signing);
    await server.waitFor(/"treeSize":3.*checkpoint signed|checkpoint signed.*"treeSize":3/);
    // A second signer on the store serves without signing, and says so.
    const standby = worker(0);
    running.push(standby);
    await standby.waitFor(/projections running/);
    await standby.waitFor(standingBy);
    assert.doesNotMatch(standby.output(), signing);

    let res = await rotate(0, 1);
    assert.equal(res.status, 2, res.stdout + res.stderr);
    assert.match(
      res.stderr,
      /TLOG_SIGNER_RUNNING: A process signs checkpoints on .*provenant-merkle\.db/,
    );
    assert.equal(res.stdout, '');

    // The server dies without a word: its lock goes with it, and the standby takes over.
    assert.equal(await server.kill('SIGKILL'), null);
    await standby.waitFor(signing);
    res = await rotate(0, 1);
    assert.equal(res.status, 2, res.stdout + res.stderr);
    assert.match(res.stderr, /TLOG_SIGNER_RUNNING/);

    // Both killed: the lock file stays behind, but nothing holds it.
    assert.equal(await standby.kill('SIGKILL'), null);
    res = await rotate(0, 1);
    assert.equal(res.status, 0, res.stdout + res.stderr);
    const rotated = JSON.parse(res.stdout) as { treeSize: number };
    assert.ok(rotated.treeSize >= 3, res.stdout);
  });

  it('a second serve serves without signing and takes over; the rotation goes through after both stopped; the new key signs on', async () => {
    // PROVENANT_LOG_KEY now names the key of the rotation above.
    const server = serve(1);
    running.push(server);
    await server.waitFor(signing);
    const second = serve(1, { PROVENANT_READ_MODELS_PATH: join(dir, 'second-read-models.db') });
    running.push(second);
    await second.waitFor(/provenant is serving/);
    await second.waitFor(standingBy);
    const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(second.output())?.[1];
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'the second server serves');
    assert.doesNotMatch(second.output(), signing);
    let refused = await rotate(1, 2);
    assert.equal(refused.status, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /TLOG_SIGNER_RUNNING/);
    // The first stops cleanly: the second signs from then on, and the rotation is still refused.
    assert.equal(await server.kill('SIGTERM'), 0);
    await second.waitFor(signing);
    refused = await rotate(1, 2);
    assert.equal(refused.status, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /TLOG_SIGNER_RUNNING/);
    assert.equal(await second.kill('SIGTERM'), 0);

    const res = await rotate(1, 2);
    assert.equal(res.status, 0, res.stdout + res.stderr);
    // A server still configured with the rotated-away key signs nothing.
    const stale = serve(1);
    running.push(stale);
    await stale.waitFor(/not signing checkpoints; trying again later/);
    assert.match(stale.output(), /Not signing: the log's note key was rotated to/);
    assert.doesNotMatch(stale.output(), signing);
    assert.equal(await stale.kill('SIGTERM'), 0);
    // The new key's server takes the lock and signs.
    const next = serve(2);
    running.push(next);
    await next.waitFor(signing);
    assert.equal(await next.kill('SIGTERM'), 0);
  });
});
