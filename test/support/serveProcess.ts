// `provenant serve` as a child process on a loopback port (its data dir and
// settings in `env`), and what tests of crashes and files do with it: clients
// posting CloudEvents until stopped, and waiting for a signed checkpoint.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { isCheckpointEvent } from '../../src/domain/logEvents.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { cliArgs } from './cli.js';

export interface Server {
  url: string;
  /** Sends `signal`, resolves once the process is gone, with its exit code. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
  log(): string;
}

/** Starts `provenant serve` with `env` added; a guard kills it after 90 s at most. */
export async function serve(env: Record<string, string>): Promise<Server> {
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
export async function checkpointOf(url: string, size: number): Promise<string> {
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

/** POSTs one pipeline CloudEvent (binary mode) of `source` with `id`; the answer. */
export const postEvent = (url: string, id: string, source: string, data: unknown = {}) =>
  fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-source': source,
      'ce-type': 'com.example.pipeline.step.finished',
    },
    body: JSON.stringify(data),
  });

/**
 * Clients posting CloudEvents until `stop()`: the ids the server acknowledged
 * (201). Requests cut off by a crash are neither acknowledged nor counted lost.
 */
export function clients(url: string, round: number, count = 8) {
  const acknowledged = new Set<string>();
  let stopped = false;
  const client = async (c: number): Promise<void> => {
    for (let n = 0; !stopped; n++) {
      const id = `r${round}-c${c}-e${n}`;
      try {
        const res = await postEvent(url, id, 'https://ci.example.com/tlog-crash-test', {
          round,
          client: c,
          n,
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

/**
 * The server's checkpoint note once one covers every event of the SQLite log
 * of `dataDir` but its own checkpoint events (which are never signed work by
 * themselves: the last `CheckpointSigned` stays outside the last checkpoint).
 */
export async function checkpointOfWholeLog(url: string, dataDir: string): Promise<string> {
  const store = getSQLiteEventStore({ path: join(dataDir, 'provenant.db') });
  const newest = await store
    .readAll({ direction: 'backwards', maxCount: 100 })
    .finally(() => store.close());
  const work = newest.find((e) => !isCheckpointEvent(e.type))?.position ?? 0n;
  return checkpointOf(url, Number(work));
}
