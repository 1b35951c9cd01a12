// `provenant projections ...` as child processes: --help and usage errors,
// status and rebuild with progress and --json, dlq, and `projections run`
// killed with SIGKILL mid-run then restarted: the read models equal a clean
// rebuild (no event lost, none applied twice); `projections rebuild` killed
// mid-rebuild leaves the current tables intact, and `projections run` finishes
// the rebuild; while a server runs the projections (it holds the SQLite runner
// lock) a rebuild is requested of it, and a second server or `projections run`
// stands by.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { projections, receipts } from '../../projections/index.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventToAppend } from '../../src/eventStore/types.js';
import { openDatabase } from '../../src/eventStore/sqlite/database.js';
import { readModelSnapshot } from '../support/readModelSnapshot.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import { cliArgs, runCli, runCliSync } from '../support/cli.js';
import { serve } from '../support/serveProcess.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-projections-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], env: Record<string, string>) => runCliSync(args, 120_000, env);

/** A log of `count` receipts, verdicts and pipeline events under `dataDir`. */
async function seed(dataDir: string, count: number): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const store = getSQLiteEventStore({ path: join(dataDir, 'provenant.db') });
  for (let start = 0; start < count; start += 500) {
    const events: EventToAppend[] = [];
    for (let i = start; i < Math.min(start + 500, count); i++) {
      const unit = `pkg${i % 50}/1.0/1/x86_64/rpm`;
      if (i % 3 === 0)
        events.push({
          type: 'ReceiptRecorded.v1',
          data: {
            receiptId: `r${i}`,
            unit,
            action: 'build',
            multipass: i % 2 === 0,
            artifacts: [{ name: 'a.rpm', digest: { sha256: String(i % 7).repeat(64) } }],
          },
        });
      else if (i % 3 === 1)
        events.push({
          type: i % 2 ? 'GatePassed.v1' : 'GateFailed.v1',
          data: {
            unit,
            gateId: `g${i % 4}`,
            gateVersion: 1,
            verdict: i % 2 ? 'passed' : 'failed',
            previousVerdict: 'pending',
            counted: [],
            receiptIds: [],
            missingActions: [],
            trigger: { kind: 'evaluation' },
          },
        });
      else
        events.push({
          type: 'PipelineEventRecorded.v1',
          data: { cloudEvent: { specversion: '1.0', id: `e${i}`, source: 'ci', type: 'x.y' } },
        });
    }
    await store.append('seed', events);
  }
  await store.close();
}

/** The snapshot of the read models at `path` once every projection's checkpoint is `head`. */
async function waitForCheckpoints(path: string, head: bigint): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const state = await snapshot(path);
    if (projections.every((p) => state[`${p.name}@`] === head)) return state;
    if (Date.now() > deadline) assert.fail(`the read models did not reach ${head}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every row of every read model in the file at `path`, plus checkpoints. */
async function snapshot(path: string): Promise<Record<string, unknown>> {
  const store = getSQLiteReadModelStore({ path, onWarning: () => undefined });
  try {
    return await readModelSnapshot(store);
  } finally {
    await store.close();
  }
}

const checkpointOf = async (path: string, name: string): Promise<bigint> => {
  const store = getSQLiteReadModelStore({ path, onWarning: () => undefined });
  try {
    return (await store.getCheckpoint(name)) ?? 0n;
  } finally {
    await store.close();
  }
};

/** The position the out-of-sight rebuild of `name` reached, or undefined when none is under way. */
const rebuildOf = async (path: string, name: string): Promise<bigint | undefined> => {
  const store = getSQLiteReadModelStore({ path, onWarning: () => undefined });
  try {
    const definition = projections.find((p) => p.name === name)!;
    const rebuild = await store.getRebuild(definition);
    return rebuild === undefined ? undefined : (rebuild.checkpoint ?? 0n);
  } finally {
    await store.close();
  }
};

/**
 * Whether every declared secondary index is in the file: a catch-up ends by
 * building the indexes it deferred, on a worker thread, while the runner's
 * process goes on (its Merkle follower appends checkpoint events meanwhile).
 */
const indexesBuilt = (path: string): boolean => {
  const raw = openDatabase(path, { readonly: true });
  try {
    const count = raw.prepare("SELECT count(*) FROM pragma_index_list(?) WHERE origin = 'c'");
    return projections.every((p) =>
      p.tables.every((t) => Number(count.pluck().get(t.name)) >= (t.indexes?.length ?? 0)),
    );
  } finally {
    raw.close();
  }
};

/** Tables of the read-model file named like a rebuild's. */
const rebuildTables = (path: string): string[] => {
  const raw = openDatabase(path, { readonly: true });
  try {
    return raw
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'rm_next_%'")
      .pluck()
      .all() as string[];
  } finally {
    raw.close();
  }
};

describe('provenant projections', () => {
  it('has --help on each command, and exits 2 on usage errors', () => {
    const env = { PROVENANT_DATA_DIR: join(dir, 'help') };
    for (const command of [['run'], ['rebuild'], ['dlq', 'retry']]) {
      const res = run(['projections', ...command, '--help'], env);
      assert.equal(res.status, 0, command.join(' '));
      assert.match(res.stdout, new RegExp(`provenant projections ${command.join(' ')}`.trim()));
    }
    assert.equal(run(['projections', 'dlq', 'retry', 'x'], env).status, 2);
    const unknown = run(['projections', 'rebuild', 'nope'], env);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /READ_MODEL_UNKNOWN_PROJECTION/);
  });

  it('rebuilds with progress lines and --json, reports status and an empty dlq', async () => {
    const dataDir = join(dir, 'rebuild');
    await seed(dataDir, 1200);
    const env = { PROVENANT_DATA_DIR: dataDir };
    const plain = run(['projections', 'rebuild', 'unitSummary'], env);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stderr, /unitSummary: 1200 events, position 1200 of 1200/);
    assert.match(plain.stdout, /unitSummary: rebuilt from 1,200 events/);
    const json = run(['projections', 'rebuild', '--json'], env);
    assert.equal(json.status, 0, json.stderr);
    const results = JSON.parse(json.stdout) as {
      name: string;
      processed: number;
      position: string;
    }[];
    assert.deepEqual(
      results.map((r) => [r.name, r.processed, r.position]),
      projections.map((p) => [p.name, 1200, '1200']),
    );
    const status = JSON.parse(run(['projections', 'status', '--json'], env).stdout) as {
      lag: string;
    }[];
    assert.ok(status.every((s) => s.lag === '0'));
    assert.match(run(['projections', 'dlq', 'list'], env).stdout, /no parked events/);
    assert.deepEqual(JSON.parse(run(['projections', 'dlq', 'list', '--json'], env).stdout), []);
  });

  it('asks the server that runs the projections to rebuild, and a second server and a projections run stand by', async () => {
    const dataDir = join(dir, 'locked');
    await seed(dataDir, 200);
    const env = {
      PROVENANT_DATA_DIR: dataDir,
      PROVENANT_PORT: '0',
      PROVENANT_AUTH_ANONYMOUS: 'true',
    };
    const rmPath = join(dataDir, 'provenant-readmodels.db');
    const first = await serve(env);
    try {
      const caughtUp = await waitForCheckpoints(rmPath, 200n);
      // A row lost behind the server's back: only a replay of the log brings it back.
      const readModels = getSQLiteReadModelStore({ path: rmPath, onWarning: () => undefined });
      await readModels.transaction((tx) => tx.delete(receipts, { receiptId: 'r0' }));
      await readModels.close();
      assert.notDeepEqual(await snapshot(rmPath), caughtUp);

      const rebuilt = await runCli(['projections', 'rebuild'], 60_000, env);
      assert.equal(rebuilt.status, 0, rebuilt.stderr);
      assert.match(
        rebuilt.stderr,
        /^all projections: another process runs the projections; the rebuild is requested of it/m,
      );
      assert.match(
        rebuilt.stdout,
        /^all projections: rebuilt by the process that runs the projections in \d+ ms$/m,
      );
      assert.match(first.log(), /a rebuild was requested: catching it up/);
      assert.match(first.log(), /rebuilt out of sight and swapped in/);
      assert.deepEqual(await snapshot(rmPath), caughtUp);
      const one = await runCli(['projections', 'rebuild', 'unitSummary', '--json'], 60_000, env);
      assert.equal(one.status, 0, one.stderr);
      const [result, ...others] = JSON.parse(one.stdout) as Record<string, unknown>[];
      assert.deepEqual(others, []);
      assert.deepEqual(
        { ...result, durationMs: typeof result?.durationMs },
        { name: 'unitSummary', requested: true, position: '200', parked: 0, durationMs: 'number' },
      );
      // A mistyped name is named as such, not answered with the lock.
      const mistyped = await runCli(['projections', 'rebuild', 'unitSumary'], 60_000, env);
      assert.equal(mistyped.status, 2, mistyped.stderr);
      assert.match(
        mistyped.stderr,
        /^provenant: READ_MODEL_UNKNOWN_PROJECTION: no projection is named 'unitSumary' \(one of receiptsLedger, .*unitSummary/m,
      );
      const second = await serve(env);
      try {
        // It logs so once its projections' first try is over, after it listens.
        const deadline = Date.now() + 20_000;
        while (!/projections standing by: another process runs them/.test(second.log())) {
          if (Date.now() > deadline)
            assert.fail(`the second server did not stand by: ${second.log()}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.match(second.log(), /another process runs the projections on these read models/);
        assert.doesNotMatch(second.log(), /projections running/);
      } finally {
        assert.equal(await second.stop('SIGTERM'), 0, second.log());
      }
      // `projections run` on the same file stands by too, and says so.
      const worker = spawn(process.execPath, cliArgs('projections', 'run'), {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
      const deadline = Date.now() + 20_000;
      while (!/^projections (standing by|running)/m.test(stderr) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      worker.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.match(
        stderr,
        /^projections standing by: receiptsLedger, .* \(another process runs them on these read models\)/m,
      );
      assert.doesNotMatch(stderr, /projections running/);
    } finally {
      assert.equal(await first.stop('SIGTERM'), 0, first.log());
    }
    // With the server gone, the rebuild goes through.
    const rebuilt = await runCli(['projections', 'rebuild', '--json'], 60_000, env);
    assert.equal(rebuilt.status, 0, rebuilt.stderr);
  });

  it('parks an event no projection can apply; dlq list shows it, dlq retry keeps it while it fails', async () => {
    const dataDir = join(dir, 'dlq');
    await seed(dataDir, 10);
    const store = getSQLiteEventStore({ path: join(dataDir, 'provenant.db') });
    await store.append('broken', [
      { type: 'GatePassed.v1', data: { gateId: 'g', verdict: 'passed' } },
    ]);
    await store.close();
    const env = { PROVENANT_DATA_DIR: dataDir };
    const rebuilt = run(['projections', 'rebuild', '--json'], env);
    assert.equal(rebuilt.status, 0, rebuilt.stderr);
    const parkedBy = Object.fromEntries(
      (JSON.parse(rebuilt.stdout) as { name: string; parked: number }[]).map((r) => [
        r.name,
        r.parked,
      ]),
    );
    assert.deepEqual(parkedBy, {
      receiptsLedger: 0,
      gateStatus: 1,
      stageStatus: 0,
      unitSummary: 1,
      pipelineEvents: 0,
      attestationIndex: 0,
    });
    const parked = JSON.parse(run(['projections', 'dlq', 'list', '--json'], env).stdout) as {
      id: number;
      projection: string;
      position: string;
      error: string;
    }[];
    assert.deepEqual(
      parked.map((p) => [p.projection, p.position]),
      [
        ['gateStatus', '11'],
        ['unitSummary', '11'],
      ],
    );
    assert.match(parked[1]!.error, /names no unit/);
    const retry = run(['projections', 'dlq', 'retry', String(parked[1]!.id)], env);
    assert.equal(retry.status, 1);
    assert.match(retry.stderr, /still failing: .*names no unit/);
    assert.equal(run(['projections', 'dlq', 'retry', '999'], env).status, 2);
    assert.equal(
      (JSON.parse(run(['projections', 'dlq', 'list', '--json'], env).stdout) as unknown[]).length,
      2,
    );
  });

  it('after a SIGKILL mid-run, a restart ends with the same rows as a clean rebuild', async () => {
    const dataDir = join(dir, 'kill');
    const total = 30_000;
    await seed(dataDir, total);
    const rmPath = join(dataDir, 'provenant-readmodels.db');
    const env = { ...process.env, PROVENANT_DATA_DIR: dataDir };
    const start = () =>
      spawn(process.execPath, cliArgs('projections', 'run'), {
        env,
        stdio: 'ignore',
      });
    const first = start();
    const exited = new Promise((resolve) => first.on('exit', resolve));
    const deadline = Date.now() + 60_000;
    let at = 0n;
    while (at === 0n && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      try {
        at = await checkpointOf(rmPath, 'unitSummary');
      } catch {
        // not created yet
      }
    }
    first.kill('SIGKILL');
    await exited;
    assert.ok(at > 0n && at < BigInt(total), `killed at checkpoint ${at}`);

    const second = start();
    while (
      (await checkpointOf(rmPath, 'pipelineEvents')) < BigInt(total) ||
      (await checkpointOf(rmPath, 'unitSummary')) < BigInt(total) ||
      !indexesBuilt(rmPath) // the catch-up's end: it goes live after
    ) {
      assert.ok(Date.now() < deadline + 60_000, 'the restarted runner did not catch up');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // the other projections
    const stopped = new Promise<number | null>((resolve) => second.on('exit', resolve));
    second.kill('SIGTERM');
    assert.equal(await stopped, 0);

    const cleanPath = join(dataDir, 'clean.db');
    const clean = run(['projections', 'rebuild', '--json'], {
      PROVENANT_DATA_DIR: dataDir,
      PROVENANT_READ_MODELS_PATH: cleanPath,
    });
    assert.equal(clean.status, 0, clean.stderr);
    assert.deepStrictEqual(await snapshot(rmPath), await snapshot(cleanPath));
  });

  it('after a SIGKILL mid-rebuild the current tables are intact, and `projections run` finishes the rebuild', async () => {
    const dataDir = join(dir, 'kill-rebuild');
    const total = 20_000;
    await seed(dataDir, total);
    const rmPath = join(dataDir, 'provenant-readmodels.db');
    const env = { ...process.env, PROVENANT_DATA_DIR: dataDir };
    const built = run(['projections', 'rebuild', '--json'], { PROVENANT_DATA_DIR: dataDir });
    assert.equal(built.status, 0, built.stderr);
    const before = await snapshot(rmPath);

    const rebuild = spawn(process.execPath, cliArgs('projections', 'rebuild'), {
      env,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => rebuild.on('exit', resolve));
    const deadline = Date.now() + 60_000;
    let at: bigint | undefined;
    while ((at ?? 0n) === 0n && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      at = await rebuildOf(rmPath, 'unitSummary');
    }
    rebuild.kill('SIGKILL');
    await exited;
    assert.ok(at !== undefined && at > 0n && at < BigInt(total), `killed at ${at}`);
    // Killed midway: the current tables, checkpoints and parked events are as they were.
    assert.deepStrictEqual(await snapshot(rmPath), before);
    const left = (await rebuildOf(rmPath, 'unitSummary')) ?? 0n;
    assert.ok(left > 0n);
    // `projections status` shows the rebuild left under way, and how far it got.
    const shown = run(['projections', 'status'], { PROVENANT_DATA_DIR: dataDir });
    assert.equal(shown.status, 0, shown.stderr);
    const row = shown.stdout.split('\n').find((line) => line.startsWith('unitSummary '));
    assert.match(row ?? '', new RegExp(` v\\d+ at ${left} of \\d+$`), shown.stdout);

    const runner = spawn(process.execPath, cliArgs('projections', 'run'), {
      env,
      stdio: 'ignore',
    });
    const stopped = new Promise<number | null>((resolve) => runner.on('exit', resolve));
    const pending = async () => {
      for (const p of projections) if ((await rebuildOf(rmPath, p.name)) !== undefined) return true;
      return false;
    };
    while (await pending()) {
      assert.ok(Date.now() < deadline + 60_000, 'the restarted runner did not finish the rebuild');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    runner.kill('SIGTERM');
    assert.equal(await stopped, 0);
    assert.deepStrictEqual(rebuildTables(rmPath), []);
    // The same events: the same rows (the runner's Merkle follower appends signed
    // checkpoints to the log, which no read model handles but every checkpoint passes).
    const rowsOf = (all: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(all).filter(([key]) => !key.endsWith('@')));
    const finished = await snapshot(rmPath);
    assert.deepStrictEqual(rowsOf(finished), rowsOf(before));
    for (const p of projections)
      assert.ok((finished[`${p.name}@`] as bigint) >= BigInt(total), p.name);
  });
});
