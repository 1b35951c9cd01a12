// Durability under SIGKILL: a child process appends continuously and prints each
// acknowledged event id; we kill it at random moments over several rounds, reopen
// the store, and check that every acknowledged event is present exactly once,
// that the chains verify, and that appending continues.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getPostgresEventStore } from '../../src/eventStore/postgres/index.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventStore } from '../../src/eventStore/types.js';
import { postgresUrl, SKIP_REASON, testSchema } from '../support/postgres.js';

const ROUNDS = 5;
const writerScript = fileURLToPath(new URL('./crashWriter.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'provenant-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer until it has acknowledged a few events, waits a random while, then SIGKILLs it. */
function runAndKill(path: string, round: number, writer: 'inline' | 'worker'): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', writerScript, path, String(round), writer],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let killTimer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (killTimer === undefined && out.length > 0)
        killTimer = setTimeout(() => child.kill('SIGKILL'), 50 + Math.floor(Math.random() * 400));
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (killTimer) clearTimeout(killTimer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer exited on its own (code ${code}): ${err}`));
        return;
      }
      // Only complete lines were acknowledged; a torn last line is not.
      const lines = out.split('\n');
      lines.pop();
      resolve(lines.filter((l) => l.length > 0));
    });
  });
}

/** The stores under test: SQLite with each writer, and PostgreSQL when a server is given. */
const targets: {
  name: string;
  path: () => string;
  open: (path: string) => EventStore;
  writer: 'inline' | 'worker';
}[] = [
  ...(['inline', 'worker'] as const).map((writer) => ({
    name: `${writer} writer`,
    path: () => join(dir, `crash-${writer}.db`),
    open: (path: string) => getSQLiteEventStore({ path }),
    writer,
  })),
  {
    name: 'postgres',
    path: () => `postgres:${testSchema(postgresUrl ?? '', 'crash')}`,
    open: (path: string) =>
      getPostgresEventStore({
        connectionString: postgresUrl ?? '',
        schema: path.slice('postgres:'.length),
      }),
    writer: 'inline',
  },
];

describe('crash safety (SIGKILL during continuous appends)', () => {
  for (const target of targets)
    it(
      `keeps every acknowledged event exactly once, with intact chains, across rounds (${target.name})`,
      {
        skip: target.name === 'postgres' && postgresUrl === undefined ? SKIP_REASON : false,
      },
      async (t) => {
        const writer = target.writer;
        const path = target.path();
        const acknowledged: string[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const ids = await runAndKill(path, round, writer);
          assert.ok(ids.length > 0, `round ${round}: the writer acknowledged nothing`);
          acknowledged.push(...ids);
          t.diagnostic(`round ${round}: killed after ${ids.length} acknowledged events`);

          const store = target.open(path);
          try {
            const stored = new Map<string, number>();
            let from: bigint | 'start' = 'start';
            for (;;) {
              const page = await store.readAll({ from, maxCount: 1000 });
              for (const e of page) stored.set(e.id, (stored.get(e.id) ?? 0) + 1);
              if (page.length < 1000) break;
              from = page.at(-1)!.position;
            }
            const missing = acknowledged.filter((id) => !stored.has(id));
            assert.deepEqual(missing, [], `round ${round}: acknowledged events lost`);
            assert.ok(
              [...stored.values()].every((count) => count === 1),
              'an event is stored twice',
            );
            assert.equal(
              new Set(acknowledged).size,
              acknowledged.length,
              'an id was acknowledged twice',
            );
            const verdict = await store.verifyAll();
            assert.equal(verdict.ok, true, verdict.problem?.message);
            const appended = await store.append('unit-after-crash', [
              { type: 'AfterCrash.v1', data: { round } },
            ]);
            assert.equal(appended.duplicate, false);
          } finally {
            await store.close();
          }
        }
      },
    );
});
