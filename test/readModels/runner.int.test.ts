// The projection runner on a real SQLite log and read-model file: batches and
// checkpoints, poison events parked (or stopping one projection) while the
// others go on, retry from the dead-letter table, resume without duplicates,
// rebuild with progress, and a read-model file rebuilt from the log.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { projections, receipts, unitSummaryTable } from '../../projections/index.js';
import { openDatabase } from '../../src/eventStore/sqlite/database.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventStore, EventToAppend } from '../../src/eventStore/types.js';
import {
  createProjectionRunner,
  defineProjection,
  defineTable,
  upsert,
  type ProjectionDefinition,
  type ProjectionRunner,
  type ProjectionRunnerOptions,
  type ReadModelStore,
} from '../../src/readModels/index.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import { readModelSnapshot } from '../support/readModelSnapshot.js';
import { hasCode } from '../support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

interface Env {
  log: EventStore;
  readModels: ReadModelStore;
  logPath: string;
  rmPath: string;
  warnings: string[];
}

function openEnv(paths?: { logPath: string; rmPath: string }): Env {
  const logPath = paths?.logPath ?? join(dir, `log-${++n}.db`);
  const rmPath = paths?.rmPath ?? join(dir, `rm-${n}.db`);
  const warnings: string[] = [];
  return {
    log: getSQLiteEventStore({ path: logPath, pollIntervalMs: 20 }),
    readModels: getSQLiteReadModelStore({ path: rmPath, onWarning: (m) => warnings.push(m) }),
    logPath,
    rmPath,
    warnings,
  };
}

/** Secondary indexes in the read-model file's catalog, sorted. */
function indexesOf(path: string): string[] {
  const raw = openDatabase(path, { readonly: true });
  try {
    return raw
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%' AND tbl_name NOT LIKE 'rm_%' ORDER BY name",
      )
      .pluck()
      .all() as string[];
  } finally {
    raw.close();
  }
}

const snapshot = readModelSnapshot;

const closeEnv = async (env: Env): Promise<void> => {
  await env.readModels.close();
  await env.log.close();
};

const receipt = (i: number, extra: Record<string, unknown> = {}): EventToAppend => ({
  type: 'ReceiptRecorded.v1',
  data: { receiptId: `r${i}`, unit: `u${i % 3}`, action: 'build', multipass: true, ...extra },
});

/** A projection counting the events it sees (a duplicate would be counted twice). */
interface CountRow extends Record<string, unknown> {
  id: string;
  count: number;
  lastPosition: number;
}
const counts = defineTable<CountRow>({
  name: 'test_counts',
  columns: { id: 'TEXT', count: 'INTEGER', lastPosition: 'INTEGER' },
  primaryKey: ['id'],
});
const fault = { poisonIds: new Set<string>() };
const counter = (overrides: Partial<ProjectionDefinition> = {}): ProjectionDefinition =>
  defineProjection({
    name: 'counter',
    version: 1,
    tables: [counts],
    canHandle: ['ReceiptRecorded.v1'],
    handle: async (events, ctx) => {
      for (const e of events)
        if (fault.poisonIds.has((e.data as { receiptId: string }).receiptId))
          throw new Error(`poison ${(e.data as { receiptId: string }).receiptId}`);
      const row = (await ctx.get(counts, { id: 'all' })) ?? {
        id: 'all',
        count: 0,
        lastPosition: 0,
      };
      return [
        upsert(counts, {
          id: 'all',
          count: row.count + events.length,
          lastPosition: Number(events.at(-1)!.position),
        }),
      ];
    },
    ...overrides,
  });

const runnerOf = (
  env: Env,
  defs: ProjectionDefinition[],
  extra: Partial<ProjectionRunnerOptions> = {},
) =>
  createProjectionRunner({
    eventStore: env.log,
    readModels: env.readModels,
    projections: defs,
    batchSize: 7,
    catchUpBatchSize: 7,
    batchWindowMs: 10,
    retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });

async function caughtUp(runner: ProjectionRunner, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await runner.status();
    // Caught up: nothing left to read, and its catch-up ended (deferred indexes
    // are built on a worker thread while the store answers reads).
    if (status.every((s) => (s.lag === 0n && s.state === 'caught-up') || s.state === 'failed'))
      return;
    if (Date.now() > deadline)
      assert.fail(
        `not caught up: ${JSON.stringify(status, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Twelve receipts, projected by a runner whose counter projection parked r5 (position 6). */
async function withR5Parked() {
  const env = openEnv();
  fault.poisonIds = new Set(['r5']);
  for (let i = 0; i < 12; i++) await env.log.append(`unit-u${i % 3}`, [receipt(i)]);
  const runner = runnerOf(env, [counter(), ...projections]);
  await runner.start();
  await caughtUp(runner);
  return { env, runner };
}

describe('projection runner', () => {
  it('projects catch-up and live events in batches, checkpointing every event', async () => {
    const env = openEnv();
    for (let i = 0; i < 20; i++) await env.log.append(`unit-u${i % 3}`, [receipt(i)]);
    await env.log.append('other', [{ type: 'Unrelated.v1', data: {} }]);
    const runner = runnerOf(env, [...projections, counter()]);
    await runner.start();
    await caughtUp(runner);
    for (let i = 20; i < 30; i++) await env.log.append(`unit-u${i % 3}`, [receipt(i)]);
    await caughtUp(runner);
    const status = await runner.status();
    assert.deepEqual(new Set(status.map((s) => s.checkpoint)), new Set([31n]));
    assert.ok(status.every((s) => s.state === 'caught-up' && s.parked === 0));
    assert.equal((await env.readModels.get(counts, { id: 'all' }))?.count, 30);
    assert.equal((await env.readModels.find(receipts)).rows.length, 30);
    assert.equal((await env.readModels.get(unitSummaryTable, { unit: 'u0' }))?.receiptCount, 10);
    await runner.stop();
    assert.ok((await runner.status()).every((s) => s.state === 'stopped'));
    await closeEnv(env);
  });

  it('parks a poison event and goes on; other projections are unaffected; dlq retry re-applies it', async () => {
    const { env, runner } = await withR5Parked();
    const [counterStatus, ...others] = await runner.status();
    assert.equal(counterStatus?.parked, 1);
    assert.equal(counterStatus?.checkpoint, 12n);
    assert.ok(others.every((s) => s.parked === 0 && s.checkpoint === 12n));
    assert.equal((await env.readModels.get(counts, { id: 'all' }))?.count, 11);
    assert.equal((await env.readModels.find(receipts)).rows.length, 12);
    const [parked] = await env.readModels.listParked('counter');
    assert.equal(parked?.position, 6n);
    assert.equal(parked?.attempts, 3);
    assert.match(parked?.error ?? '', /poison r5/);
    await assert.rejects(runner.retryParked(parked.id), /poison r5/); // still faulty: stays parked
    assert.equal((await env.readModels.listParked()).length, 1);
    fault.poisonIds = new Set();
    await runner.retryParked(parked.id);
    assert.deepEqual(await env.readModels.listParked(), []);
    assert.equal((await env.readModels.get(counts, { id: 'all' }))?.count, 12);
    await runner.stop();
    await closeEnv(env);
  });

  it('applies a parked event once when two retries of it race; the other finds it gone', async () => {
    const { env, runner } = await withR5Parked();
    const [parked] = await env.readModels.listParked('counter');
    assert.ok(parked !== undefined);
    fault.poisonIds = new Set();
    try {
      // Two `dlq retry` of one id at once (two shells, or a retry beside another process's).
      const outcomes = await Promise.allSettled([
        runner.retryParked(parked.id),
        runner.retryParked(parked.id),
      ]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      const [refused] = outcomes.filter((o) => o.status === 'rejected');
      assert.ok(refused !== undefined);
      hasCode('READ_MODEL_PARKED_NOT_FOUND')(refused.reason);
      assert.deepEqual(await env.readModels.listParked(), []);
      assert.equal((await env.readModels.get(counts, { id: 'all' }))?.count, 12);
    } finally {
      await runner.stop();
      await closeEnv(env);
    }
  });

  it("stops only the failing projection when its policy is 'stop'", async () => {
    const env = openEnv();
    fault.poisonIds = new Set(['r4']);
    for (let i = 0; i < 10; i++) await env.log.append(`unit-u${i % 3}`, [receipt(i)]);
    const runner = runnerOf(env, [counter({ onPoison: 'stop' }), ...projections]);
    await runner.start();
    await caughtUp(runner);
    const [counterStatus, ...others] = await runner.status();
    assert.equal(counterStatus?.state, 'failed');
    assert.match(counterStatus?.lastError ?? '', /position 5 .*poison r4/);
    assert.equal(counterStatus?.checkpoint, 4n);
    assert.equal(counterStatus?.parked, 0);
    assert.ok(others.every((s) => s.checkpoint === 10n));
    fault.poisonIds = new Set();
    await runner.stop();
    await closeEnv(env);
  });

  it('restarts a loop that failed on an infrastructure error, from its checkpoint', async () => {
    const env = openEnv();
    for (let i = 0; i < 10; i++) await env.log.append(`unit-u${i % 3}`, [receipt(i)]);
    let failures = 2;
    const flaky: ReadModelStore = {
      ...env.readModels,
      getCheckpoint: (name) =>
        failures-- > 0
          ? Promise.reject(new Error('SQLITE_BUSY: database is locked'))
          : env.readModels.getCheckpoint(name),
    };
    const logged: string[] = [];
    const runner = createProjectionRunner({
      eventStore: env.log,
      readModels: flaky,
      projections: [counter()],
      restartDelayMs: 5,
      log: (level, message) => logged.push(`${level}: ${message}`),
    });
    await runner.start();
    const deadline = Date.now() + 10_000;
    while ((await env.readModels.get(counts, { id: 'all' }))?.count !== 10)
      if (Date.now() > deadline) assert.fail('the loop did not restart');
      else await new Promise((resolve) => setTimeout(resolve, 10));
    const [status] = await runner.status();
    assert.equal(status?.state, 'caught-up');
    assert.match(status?.lastError ?? '', /SQLITE_BUSY/); // kept after the restart, for the record
    assert.equal(logged.filter((l) => /restarting from its checkpoint/.test(l)).length, 2);
    assert.equal((await env.readModels.get(counts, { id: 'all' }))?.count, 10);
    await runner.stop();
    await closeEnv(env);
  });

  it('logs the progress of a long catch-up, and nothing for a short one', async () => {
    const env = openEnv();
    for (let i = 0; i < 25; i++) await env.log.append(`unit-u${i % 3}`, [receipt(i)]);
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const log = (_level: string, message: string, fields: Record<string, unknown> = {}) => {
      if (/^projections catching up|^projections caught up/.test(message))
        lines.push({ message, fields });
    };
    // A catch-up as long as the interval logs (pages of 7: positions 7, 14, 21, 25).
    const runner = runnerOf(env, [counter()], { progressIntervalMs: 0, log });
    await runner.start();
    await caughtUp(runner);
    await runner.stop();
    assert.deepEqual(
      lines.map((l) => [l.message, l.fields['position'], l.fields['head'], l.fields['events']]),
      [
        ['projections catching up', '7', '25', 7],
        ['projections catching up', '14', '25', 14],
        ['projections catching up', '21', '25', 21],
        ['projections catching up', '25', '25', 25],
        ['projections caught up', '25', undefined, 25],
      ],
    );
    const first = lines[0]?.fields;
    assert.equal(typeof first?.['eventsPerSecond'], 'number');
    // A rate and a time left on each line (their values depend on the clock); none left at the head.
    assert.equal(typeof first?.['etaSeconds'], 'number');
    assert.equal(lines[3]?.fields['etaSeconds'], 0);
    // A catch-up shorter than the interval (the default, 5 s) logs nothing.
    lines.length = 0;
    await env.readModels.dropProjection('counter');
    const quiet = runnerOf(env, [counter()], { log });
    await quiet.start();
    await caughtUp(quiet);
    await quiet.stop();
    assert.deepEqual(lines, []);
    assert.equal((await env.readModels.get(counts, { id: 'all' }))?.count, 25);
    await closeEnv(env);
  });

  it('resumes from its checkpoint after a restart without duplicating anything', async () => {
    const first = openEnv();
    for (let i = 0; i < 15; i++) await first.log.append(`unit-u${i % 3}`, [receipt(i)]);
    const runner = runnerOf(first, [counter()]);
    await runner.start();
    await caughtUp(runner);
    await runner.stop();
    for (let i = 15; i < 25; i++) await first.log.append(`unit-u${i % 3}`, [receipt(i)]);
    await closeEnv(first);
    const second = openEnv(first);
    const again = runnerOf(second, [counter()]);
    await again.start();
    await caughtUp(again);
    assert.deepEqual(await second.readModels.get(counts, { id: 'all' }), {
      id: 'all',
      count: 25,
      lastPosition: 25,
    });
    await again.stop();
    await closeEnv(second);
  });

  it('rebuilds one read model from position 0 with progress, equal to the incremental one', async () => {
    const env = openEnv();
    for (let i = 0; i < 40; i++) await env.log.append(`unit-u${i % 3}`, [receipt(i)]);
    const runner = runnerOf(env, [...projections, counter()]);
    await runner.start();
    await caughtUp(runner);
    const before = (await env.readModels.find(receipts)).rows;
    const progress: number[] = [];
    const result = await runner.rebuild('receiptsLedger', {
      onProgress: (p) => {
        progress.push(p.processed);
        assert.equal(p.total, 40n);
        assert.ok(p.rate > 0);
      },
    });
    assert.equal(result.processed, 40);
    assert.equal(result.position, 40n);
    assert.deepEqual(progress, [7, 14, 21, 28, 35, 40]);
    assert.deepEqual((await env.readModels.find(receipts)).rows, before);
    await env.log.append('unit-u1', [receipt(40)]); // the loop was restarted after the rebuild
    await caughtUp(runner);
    assert.equal((await env.readModels.find(receipts)).rows.length, 41);
    await assert.rejects(runner.rebuild('nope'), /no projection is named 'nope'/);
    await runner.stop();
    await closeEnv(env);
  });

  it('reports progress against the head as it grows when events arrive during a rebuild', async () => {
    const env = openEnv();
    for (let i = 0; i < 40; i++) await env.log.append(`unit-u${i % 3}`, [receipt(i)]);
    // The API goes on during a rebuild: ten events arrive once its first page is read.
    const readAll = env.log.readAll.bind(env.log);
    let arrived = false;
    env.log.readAll = async (options) => {
      const page = await readAll(options);
      if (!arrived) {
        arrived = true;
        for (let i = 40; i < 50; i++) await env.log.append('unit-u1', [receipt(i)]);
      }
      return page;
    };
    const runner = runnerOf(env, [...projections]);
    const seen: [bigint, bigint][] = [];
    const result = await runner.rebuild('receiptsLedger', {
      onProgress: (p) => seen.push([p.position, p.total]),
    });
    assert.equal(result.processed, 50);
    assert.equal(seen[0]?.[1], 40n, 'the head at the start');
    assert.ok(
      seen.every(([position, total]) => position <= total),
      `position beyond total: ${seen.map(([p, t]) => `${p}/${t}`).join(' ')}`,
    );
    assert.deepEqual(seen.at(-1), [50n, 50n]);
    await runner.stop();
    await closeEnv(env);
  });

  it('bulk-loads never-run projections at start (indexes after), equal to following live', async () => {
    const live = openEnv();
    const incremental = runnerOf(live, [...projections]);
    await incremental.start();
    for (let i = 0; i < 40; i++) {
      await live.log.append(`unit-u${i % 3}`, [receipt(i, { producer: `p${i % 2}` })]);
      if (i % 10 === 9) await caughtUp(incremental);
    }
    await caughtUp(incremental);
    const expected = await snapshot(live.readModels);
    await incremental.stop();
    await closeEnv(live);

    const bulk = openEnv({ logPath: live.logPath, rmPath: join(dir, `rm-bulk-${n}.db`) });
    const deferred: string[][] = [];
    const readModels: ReadModelStore = {
      ...bulk.readModels,
      // What the catalog holds while the first page commits.
      transaction: (fn) => {
        if (deferred.length === 0) deferred.push(indexesOf(bulk.rmPath));
        return bulk.readModels.transaction(fn);
      },
    };
    const runner = runnerOf({ ...bulk, readModels }, [...projections], { catchUpBatchSize: 15 });
    await runner.start();
    await caughtUp(runner);
    assert.deepEqual(deferred, [[]]);
    assert.deepEqual(indexesOf(bulk.rmPath), indexesOf(live.rmPath));
    assert.ok(indexesOf(bulk.rmPath).includes('receipts_ledger_by_unit_position'));
    assert.deepEqual(await snapshot(bulk.readModels), expected);
    await runner.stop();
    await closeEnv(bulk);
  });

  it('a bulk load cut short resumes from its checkpoint and still builds the indexes', async () => {
    const env = openEnv();
    for (let i = 0; i < 45; i++) await env.log.append(`unit-u${i % 3}`, [receipt(i)]);
    let commits = 0;
    const readModels: ReadModelStore = {
      ...env.readModels,
      transaction: (fn) =>
        ++commits === 3
          ? Promise.reject(new Error('SQLITE_IOERR: disk I/O error'))
          : env.readModels.transaction(fn),
    };
    const runner = runnerOf({ ...env, readModels }, [...projections], {
      catchUpBatchSize: 10,
      restartDelayMs: 5,
    });
    await runner.start();
    await caughtUp(runner);
    assert.ok(commits > 3);
    assert.ok(indexesOf(env.rmPath).includes('receipts_ledger_by_unit_position'));
    const resumed = await snapshot(env.readModels);
    await runner.stop();
    await closeEnv(env);
    const clean = openEnv({ logPath: env.logPath, rmPath: join(dir, `rm-clean-${n}.db`) });
    const again = runnerOf(clean, [...projections]);
    await again.start();
    await caughtUp(again);
    assert.deepEqual(resumed, await snapshot(clean.readModels));
    await again.stop();
    await closeEnv(clean);
  });

  it('rebuilds every read model from the log when the read-model file is corrupt', async () => {
    const env = openEnv();
    for (let i = 0; i < 9; i++) await env.log.append(`unit-u${i % 3}`, [receipt(i)]);
    const runner = runnerOf(env, [...projections]);
    await runner.start();
    await caughtUp(runner);
    const before = (await env.readModels.find(unitSummaryTable)).rows;
    await runner.stop();
    await closeEnv(env);
    writeFileSync(env.rmPath, 'garbage '.repeat(2000));
    const reopened = openEnv(env);
    assert.match(reopened.warnings.join('\n'), /not trusted/);
    const again = runnerOf(reopened, [...projections]);
    await again.start();
    await caughtUp(again);
    assert.deepEqual((await reopened.readModels.find(unitSummaryTable)).rows, before);
    await again.stop();
    await closeEnv(reopened);
  });
});
