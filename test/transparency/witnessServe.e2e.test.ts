// The whole witness flow through `provenant serve`, with two loopback
// tlog-witnesses (test/support/tlogWitness.ts, written from the spec): one
// configured by the single-witness variables, one by PROVENANT_CHECKPOINT_WITNESSES.
// Events are posted, the checkpoint served carries both cosignatures, and
// `log verify --witness-key A --witness-key B --witness-quorum 2` passes (exit 3
// for a copy one witness cosigned, 2 for a quorum beyond the witnesses given).
// After a restart each witness is asked from the size it cosigned last: no 409.
// With PROVENANT_CHECKPOINT_WITNESS_QUORUM=2 the server presents only checkpoints
// both witnesses cosigned: none while one is down, and the last witnessed one
// (proofs at its size) while new checkpoints wait for a witness.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { noteSigner } from '../../src/transparency/note.js';
import { cliArgs, type CliRun, runCli } from '../support/cli.js';
import { startTestWitness, type TestWitness } from '../support/tlogWitness.js';
import { until } from '../support/witnessedLog.js';

const ORIGIN = 'provenant.local/log'; // the default PROVENANT_LOG_ORIGIN
const dir = mkdtempSync(join(tmpdir(), 'provenant-witness-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `provenant <args>` on the data directory, without blocking the witnesses in this process. */
const cli = (args: string[]): Promise<CliRun> => runCli(args, 120_000, { PROVENANT_DATA_DIR: dir });

interface Server {
  url: string;
  stop(): Promise<void>;
}

async function serve(env: Record<string, string>): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, cliArgs('serve'), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)".*provenant is serving/.exec(log);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`server exited early (${code}): ${log}`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      clearTimeout(guard);
      assert.equal(code, 0, log);
    },
  };
}

async function postEvents(url: string, tag: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': `${tag}-${i}`,
        'ce-source': 'https://ci.example.com/witness-test',
        'ce-type': 'com.example.pipeline.step.finished',
      },
      body: JSON.stringify({ tag, i }),
    });
    assert.equal(res.status, 201, await res.text());
  }
}

/** The served checkpoint once it is cosigned by both witnesses at a size beyond `after`. */
async function cosignedCheckpoint(
  url: string,
  after: number,
): Promise<{ note: string; size: number }> {
  let note = '';
  await until(async () => {
    note = await (await fetch(`${url}/v1/log/checkpoint`)).text();
    const size = Number(note.split('\n')[1]);
    return size > after && /\n— w1\.test\/w1 /.test(note) && /\n— w2\.test /.test(note);
  }, 'a checkpoint cosigned by both witnesses');
  return { note, size: Number(note.split('\n')[1]) };
}

describe('witnesses through provenant serve', () => {
  it('serves both cosignatures, passes a quorum of 2, and resumes each witness without a 409', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'log-key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const logKey = noteSigner(ORIGIN, privateKey).verifierKey;
    const a = await startTestWitness({ name: 'w1.test/w1', origin: ORIGIN, logKey });
    const b = await startTestWitness({ name: 'w2.test', origin: ORIGIN, logKey });
    const env = {
      PROVENANT_DATA_DIR: dir,
      PROVENANT_HOST: '127.0.0.1',
      PROVENANT_PORT: '0',
      PROVENANT_AUTH_ANONYMOUS: 'true',
      PROVENANT_CHECKPOINT_EVERY: '3',
      PROVENANT_CHECKPOINT_SECONDS: '1',
      PROVENANT_CHECKPOINT_WITNESS_URL: a.url,
      PROVENANT_CHECKPOINT_WITNESS_PROTOCOL: 'tlog-witness',
      PROVENANT_CHECKPOINT_WITNESS_KEY: a.vkey,
      PROVENANT_CHECKPOINT_WITNESSES: `${b.url} ${b.vkey}`,
    };
    const both = ['--witness-key', a.vkey, '--witness-key', b.vkey];
    let server: Server | undefined;
    try {
      server = await serve(env);
      await postEvents(server.url, 'one', 3);
      const first = await cosignedCheckpoint(server.url, 0);

      const served = await cli([
        'log',
        'verify',
        '--checkpoint',
        `${server.url}/v1/log/checkpoint`,
        ...both,
        '--witness-quorum',
        '2',
      ]);
      assert.equal(served.status, 0, served.stderr + served.stdout);
      assert.match(served.stdout, /^ok: .* witness cosignatures verified/m);

      // A copy that only w1 cosigned falls short of 2 (exit 3), meets 1.
      const onlyA = join(dir, 'only-a.txt');
      const lines = first.note.split('\n');
      writeFileSync(onlyA, lines.filter((l) => !l.startsWith('— w2.test ')).join('\n'));
      const short = await cli([
        'log',
        'verify',
        '--checkpoint',
        onlyA,
        ...both,
        '--witness-quorum',
        '2',
      ]);
      assert.equal(short.status, 3, short.stderr + short.stdout);
      assert.match(
        short.stdout,
        /QUORUM NOT MET[\s\S]*TLOG_WITNESS_QUORUM: witness .*only-a\.txt is cosigned by 1 of the given witnesses \(w1\.test\/w1\)/,
      );
      const beyond = await cli(['log', 'verify', ...both, '--witness-quorum', '3']);
      assert.equal(beyond.status, 2, beyond.stderr + beyond.stdout);
      assert.match(beyond.stderr, /TLOG_BAD_QUORUM/);

      await server.stop();
      server = undefined;
      // The log as it stands (its latest checkpoint by the recorded cosignatures) meets 2.
      const offline = await cli(['log', 'verify', ...both, '--witness-quorum', '2']);
      assert.equal(offline.status, 0, offline.stderr + offline.stdout);

      // Restarted: each witness is asked from the size the log recorded it cosigned.
      const held = { a: a.state.size, b: b.state.size };
      a.requests.length = 0;
      b.requests.length = 0;
      server = await serve(env);
      await postEvents(server.url, 'two', 3);
      const second = await cosignedCheckpoint(server.url, first.size);
      const seen = (w: TestWitness) => w.requests.map((r) => ({ old: r.old, status: r.status }));
      assert.deepEqual(seen(a)[0], { old: held.a, status: 200 }, JSON.stringify(a.requests));
      assert.deepEqual(seen(b)[0], { old: held.b, status: 200 }, JSON.stringify(b.requests));
      assert.ok(
        [...a.requests, ...b.requests].every((r) => r.status === 200),
        JSON.stringify([a.requests, b.requests]),
      );
      assert.equal(a.state.size, second.size);
      assert.equal(b.state.size, second.size);
    } finally {
      await server?.stop();
      await a.close();
      await b.close();
    }
  });

  it('with a quorum of 2, presents only checkpoints both witnesses cosigned', async () => {
    const data = join(dir, 'quorum');
    mkdirSync(data);
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(data, 'log-key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const logKey = noteSigner(ORIGIN, privateKey).verifierKey;
    const a = await startTestWitness({ name: 'w1.test/w1', origin: ORIGIN, logKey });
    const b = await startTestWitness({ name: 'w2.test', origin: ORIGIN, logKey });
    b.unavailable = true;
    let server: Server | undefined;
    try {
      server = await serve({
        PROVENANT_DATA_DIR: data,
        PROVENANT_HOST: '127.0.0.1',
        PROVENANT_PORT: '0',
        PROVENANT_AUTH_ANONYMOUS: 'true',
        PROVENANT_CHECKPOINT_EVERY: '3',
        PROVENANT_CHECKPOINT_SECONDS: '1',
        PROVENANT_CHECKPOINT_WITNESSES: `${a.url} ${a.vkey}; ${b.url} ${b.vkey}`,
        PROVENANT_CHECKPOINT_WITNESS_QUORUM: '2',
      });
      const url = server.url;
      const checkpoint = () => fetch(`${url}/v1/log/checkpoint`);

      // Signed and cosigned by w1 only: nothing is presented yet.
      await postEvents(url, 'q1', 3);
      await until(() => a.state.size >= 3, 'w1 to cosign the first checkpoint');
      const none = await checkpoint();
      assert.equal(none.status, 404);
      const problem = (await none.json()) as { code: string; detail: string };
      assert.equal(problem.code, 'TLOG_NO_CHECKPOINT');
      assert.match(problem.detail, /cosigned by 2 witness\(es\)/);

      // w2 comes back (it may have given up on that checkpoint: one event more
      // makes a new one): the checkpoint both cosigned is presented.
      b.unavailable = false;
      const signedBefore = a.state.size;
      await postEvents(url, 'q1b', 1);
      const first = await cosignedCheckpoint(url, signedBefore);

      // w2 down again: newer checkpoints are signed (w1 cosigns them), the witnessed one stays.
      b.unavailable = true;
      await postEvents(url, 'q2', 3);
      await until(() => a.state.size > first.size, 'w1 to cosign a newer checkpoint');
      const still = await (await checkpoint()).text();
      assert.equal(still, first.note);
      const proof = (await (await fetch(`${url}/v1/log/proof/inclusion?position=1`)).json()) as {
        treeSize: number;
      };
      assert.equal(proof.treeSize, first.size);
    } finally {
      await server?.stop();
      await a.close();
      await b.close();
    }
  });
});
