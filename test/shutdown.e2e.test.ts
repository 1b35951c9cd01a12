// Graceful shutdown under load: `provenant serve` takes CloudEvents from 16
// concurrent clients over loopback; SIGTERM arrives mid-stream. Every event the
// server acknowledged (2xx) must be in the log afterwards, exactly once; the
// process exits 0 and the database verifies.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import { assertStoredOnce } from './support/acknowledged.js';
import { cliArgs } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-shutdown-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('graceful shutdown under load', () => {
  it('acknowledges nothing it did not store, and stores everything it acknowledged', async (t) => {
    const child = spawn(process.execPath, cliArgs('serve'), {
      env: {
        ...process.env,
        PROVENANT_DATA_DIR: dir,
        PROVENANT_PORT: '0',
        // Load, not authentication, is under test here.
        PROVENANT_AUTH_ANONYMOUS: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      // The OS picks the port; the server logs the URL it bound.
      let log = '';
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: string): void => {
          log += chunk;
          const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(log);
          if (match?.[1]) resolve(match[1]);
        };
        child.stdout.setEncoding('utf8').on('data', onData);
        child.stderr.setEncoding('utf8').on('data', onData);
        void exited.then(({ code, signal }) =>
          reject(new Error(`server exited early (${code}, ${String(signal)}): ${log}`)),
        );
      });

      const acknowledged = new Set<string>();
      let refused = 0;
      let stop = false;
      let sent = 0;
      const client = async (c: number): Promise<void> => {
        for (let n = 0; !stop && n < 2000; n++) {
          const id = `c${c}-e${n}`;
          sent++;
          try {
            const res = await fetch(`${url}/v1/events`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'ce-specversion': '1.0',
                'ce-id': id,
                'ce-source': 'https://ci.example.com/shutdown-test',
                'ce-type': 'com.example.pipeline.step.finished',
                'ce-time': new Date().toISOString(),
              },
              body: JSON.stringify({ client: c, n }),
            });
            await res.arrayBuffer();
            if (res.status === 201) acknowledged.add(id);
            else if (res.status === 503) refused++;
            else assert.fail(`unexpected status ${res.status} for ${id}`);
          } catch {
            refused++; // connection refused or reset once the listener is gone
            return;
          }
        }
      };
      const clients = Array.from({ length: 16 }, (_, c) => client(c));
      // Let load build up, then ask the server to stop while requests are in flight.
      while (acknowledged.size < 200) await new Promise((resolve) => setTimeout(resolve, 10));
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      stop = true;
      await Promise.all(clients);
      assert.equal(signal, null);
      assert.equal(code, 0, `clean exit after SIGTERM; server log:\n${log.slice(-3000)}`);
      assert.ok(acknowledged.size >= 200);

      const store = getSQLiteEventStore({ path: join(dir, 'provenant.db') });
      try {
        await assertStoredOnce(store, acknowledged, 'after shutdown');
        assert.equal((await store.verifyAll()).ok, true);
      } finally {
        await store.close();
      }
      t.diagnostic(
        `${acknowledged.size} acknowledged of ${sent} sent; ${refused} refused once stopping`,
      );
    } finally {
      clearTimeout(guard);
      child.kill('SIGKILL');
    }
  });
});
