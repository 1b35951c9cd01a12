// `npm run bench -- postgres`: the PostgreSQL backends (issue 17 §6), on the
// server named by PROVENANT_BENCH_POSTGRES_URL (or PROVENANT_TEST_POSTGRES_URL,
// or postgres://postgres@127.0.0.1:5432/test), each run in a schema of its own,
// dropped afterwards.
//
// - Append: 32 concurrent single-event appenders on the PostgreSQL log ÷ 32
//   concurrent raw `INSERT`s of the same rows (same columns, one row per
//   autocommit statement) through `pg` in the same run (`appendRatio`, target
//   >= 0.5). Group commit is what lets the single-writer log keep up.
// - Rebuild: every projection rebuilt from the same SQLite log (1,000,000 events
//   × scale) into PostgreSQL read models ÷ into SQLite read models
//   (`rebuildPgVsSqliteRatio`, informative).
// - Merkle log: leaves appended to the PostgreSQL tree store in the follower's
//   batches of 1,000 ÷ to the SQLite one (`merklePgVsSqliteAppendRatio`,
//   informative), and inclusion proofs read from it (`merklePgProofMs`).
// - Ingest: POST /v1/events over loopback with two API node processes ÷ one
//   (`twoNodesRatio`, informative): both nodes append through the one log lock
//   and share the machine's cores with the server and the load generator.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { projections } from '../projections/index.js';
import { getPostgresEventStore } from '../src/eventStore/postgres/index.js';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import { prepareEvent } from '../src/eventStore/validation.js';
import { newEventId } from '../src/eventStore/ids.js';
import { createProjectionRunner, type ReadModelStore } from '../src/readModels/index.js';
import { getPostgresReadModelStore } from '../src/readModels/postgres/index.js';
import { getSQLiteReadModelStore } from '../src/readModels/sqlite/index.js';
import { CompactRange } from '../src/transparency/compactRange.js';
import { inclusionProof } from '../src/transparency/merkle.js';
import type { AppendedLeaf, TreeStore } from '../src/transparency/port.js';
import { getPostgresTreeStore } from '../src/transparency/postgres/index.js';
import { getSQLiteTreeStore } from '../src/transparency/sqlite/treeStore.js';
import { fillLog } from './projectionsLog.js';
import {
  fmtRate,
  fmtRatio,
  printTable,
  sampleEvent,
  scaled,
  tempDir,
  timed,
  type BenchContext,
} from './support.js';

const CONCURRENCY = 32;
const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

const serverUrl = (): string =>
  process.env.PROVENANT_BENCH_POSTGRES_URL ||
  process.env.PROVENANT_TEST_POSTGRES_URL ||
  'postgres://postgres@127.0.0.1:5432/test';

async function admin(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Runs `total` tasks with `CONCURRENCY` workers. */
async function concurrently(total: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < total; i = next++) await task(i);
    }),
  );
}

async function benchAppend(url: string, schema: string, count: number) {
  // Raw: a plain table with the log's columns, one autocommit INSERT per row.
  const pool = new pg.Pool({ connectionString: url, max: 10, options: `-c search_path=${schema}` });
  await pool.query(`CREATE TABLE raw_events (
    position bigserial PRIMARY KEY, id text NOT NULL UNIQUE, stream text NOT NULL, revision integer NOT NULL,
    type text NOT NULL, data text NOT NULL, metadata text NOT NULL, content_digest text NOT NULL,
    prev_digest text NOT NULL, recorded_at text NOT NULL, UNIQUE (stream, revision))`);
  const rows = Array.from({ length: count }, (_, i) =>
    prepareEvent({ type: 'ReceiptRecorded.v1', data: sampleEvent(i) }, i),
  );
  const raw = await timed(() =>
    concurrently(count, async (i) => {
      const p = rows[i]!;
      await pool.query(
        `INSERT INTO raw_events (id, stream, revision, type, data, metadata, content_digest, prev_digest, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          newEventId(),
          `unit-${i % CONCURRENCY}`,
          i,
          p.type,
          p.dataJson,
          p.metadataJson,
          p.contentDigest,
          p.contentDigest,
          new Date().toISOString(),
        ],
      );
    }),
  );
  await pool.end();
  const store = getPostgresEventStore({ connectionString: url, schema });
  await store.start();
  const log = await timed(() =>
    concurrently(count, async (i) => {
      await store.append(`unit-${i % CONCURRENCY}`, [
        { type: 'ReceiptRecorded.v1', data: sampleEvent(i) },
      ]);
    }),
  );
  const stats = store.stats();
  await store.close();
  return {
    rawRate: count / raw.seconds,
    logRate: count / log.seconds,
    eventsPerCommit: stats.events / Math.max(1, stats.commits),
  };
}

async function rebuildRate(
  store: ReturnType<typeof getSQLiteEventStore>,
  readModels: ReadModelStore,
) {
  const runner = createProjectionRunner({ eventStore: store, readModels, projections });
  const { seconds } = await timed(async () => {
    for (const p of projections) await runner.rebuild(p.name);
  });
  return Number(await store.headPosition()) / seconds;
}

/** Leaves per second into `tree` (batches of 1,000), then ms per inclusion proof at that size. */
async function treeRates(tree: TreeStore, count: number) {
  const range = new CompactRange();
  const appended = await timed(async () => {
    while (range.size < count) {
      const leaves: AppendedLeaf[] = [];
      for (let k = 0; k < 1000 && range.size < count; k++) {
        const i = range.size;
        const hash = createHash('sha256').update(`leaf ${i}`).digest();
        const completed = range.append(hash);
        leaves.push({ index: i, position: BigInt(i + 1), eventId: `e${i}`, hash, completed });
      }
      await tree.append(leaves);
    }
  });
  const proofs = 200;
  const proved = await timed(async () => {
    for (let k = 0; k < proofs; k++)
      await inclusionProof((k * 7919) % count, count, tree.readNodes);
  });
  await tree.close();
  return { appendRate: count / appended.seconds, proofMs: (proved.seconds * 1000) / proofs };
}

async function startNode(env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: string) => {
      log += chunk;
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(log);
      if (m?.[1]) resolve(m[1]);
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('exit', () => reject(new Error(`node exited: ${log.slice(-2000)}`)));
    setTimeout(
      () => reject(new Error(`node did not start in 120 s: ${log.slice(-2000)}`)),
      120_000,
    ).unref();
  });
  return { url, child };
}

/** Events acknowledged per second by `urls` under 32 concurrent clients for `ms`. */
async function ingestRate(urls: string[], ms: number, tag: string): Promise<number> {
  let ok = 0;
  let refused: string | undefined;
  const until = Date.now() + ms;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, c) => {
      for (let n = 0; Date.now() < until; n++) {
        const res = await fetch(`${urls[(c + n) % urls.length]}/v1/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'ce-specversion': '1.0',
            'ce-id': `${tag}-${c}-${n}`,
            'ce-source': 'https://ci.example.com/bench',
            'ce-type': 'com.example.pipeline.step.finished',
          },
          body: JSON.stringify({ c, n }),
        });
        const body = await res.text();
        if (res.status === 201) ok++;
        else refused ??= `${res.status} ${body.slice(0, 300)}`;
      }
    }),
  );
  // A run where nothing is acknowledged measures nothing: say why instead of reporting 0/s.
  if (ok === 0) throw new Error(`no event was acknowledged: ${refused ?? 'no answer'}`);
  return ok / ((Date.now() - started) / 1000);
}

export async function benchPostgres(ctx: BenchContext): Promise<Record<string, number>> {
  const url = serverUrl();
  const schema = `pvb_${randomBytes(5).toString('hex')}`;
  const tmp = tempDir('postgres');
  const children: ChildProcess[] = [];
  try {
    await admin(url, `CREATE SCHEMA ${schema}`);
    const append = await benchAppend(url, schema, scaled(ctx, 20_000, 500));
    const appendRatio = append.logRate / append.rawRate;
    printTable(ctx, 'PostgreSQL log: 32 concurrent single-event appends', [
      ['raw INSERT through pg', fmtRate(append.rawRate)],
      ['PostgreSQL log (port)', fmtRate(append.logRate)],
      ['events per group commit', append.eventsPerCommit.toFixed(1)],
      ['appendRatio', fmtRatio(appendRatio, 0.5)],
    ]);

    const store = getSQLiteEventStore({ path: join(tmp.dir, 'log.db'), synchronous: 'NORMAL' });
    await fillLog(store, scaled(ctx, 1_000_000, 1000));
    const sqliteRm = getSQLiteReadModelStore({
      path: join(tmp.dir, 'rm.db'),
      onWarning: () => undefined,
    });
    const sqliteRate = await rebuildRate(store, sqliteRm);
    await sqliteRm.close();
    const pgRm = getPostgresReadModelStore({ connectionString: url, schema });
    const pgRate = await rebuildRate(store, pgRm);
    await pgRm.close();
    await store.close();
    printTable(ctx, 'Projection rebuild (every read model, same SQLite log)', [
      ['into SQLite read models', fmtRate(sqliteRate)],
      ['into PostgreSQL read models', fmtRate(pgRate)],
      ['rebuildPgVsSqliteRatio', `${(pgRate / sqliteRate).toFixed(2)}x (informative)`],
    ]);

    const leaves = scaled(ctx, 200_000, 2000);
    const sqliteTree = await treeRates(
      getSQLiteTreeStore({ path: join(tmp.dir, 'tree.db') }),
      leaves,
    );
    const pgTree = await treeRates(getPostgresTreeStore({ connectionString: url, schema }), leaves);
    printTable(ctx, `Merkle log tree store (${leaves.toLocaleString('en-US')} leaves)`, [
      ['SQLite appends', fmtRate(sqliteTree.appendRate)],
      ['PostgreSQL appends', fmtRate(pgTree.appendRate)],
      [
        'merklePgVsSqliteAppendRatio',
        `${(pgTree.appendRate / sqliteTree.appendRate).toFixed(2)}x (informative)`,
      ],
      ['SQLite inclusion proof', `${sqliteTree.proofMs.toFixed(2)} ms`],
      ['PostgreSQL inclusion proof (one query)', `${pgTree.proofMs.toFixed(2)} ms`],
    ]);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PROVENANT_STORE: 'postgres',
      PROVENANT_READ_MODELS: 'postgres',
      PROVENANT_POSTGRES_URL: url,
      PROVENANT_POSTGRES_SCHEMA: schema,
      PROVENANT_PROJECTIONS: 'off',
      PROVENANT_DATA_DIR: tmp.dir,
      PROVENANT_PORT: '0',
      // `info`: the node logs the URL it bound (the port is picked by the OS).
      PROVENANT_LOG_LEVEL: 'info',
      PROVENANT_ATTEST_ON_STAGE_PASSED: 'false',
      // The load generator sends no credentials (as the ingest bench): anonymous, as in development.
      PROVENANT_AUTH_ANONYMOUS: 'true',
    };
    const nodes = await Promise.all([startNode(env), startNode(env)]);
    children.push(...nodes.map((n) => n.child));
    const ms = Math.max(2000, Math.round(8000 * Math.min(1, ctx.scale)));
    await ingestRate([nodes[0].url], 1000, 'warm');
    const one = await ingestRate([nodes[0].url], ms, 'one');
    const two = await ingestRate(
      nodes.map((n) => n.url),
      ms,
      'two',
    );
    printTable(ctx, 'Ingest (POST /v1/events, 32 clients)', [
      ['one API node', fmtRate(one)],
      ['two API nodes', fmtRate(two)],
      ['twoNodesRatio', `${(two / one).toFixed(2)}x (informative: one log lock, shared cores)`],
    ]);
    return {
      appendRawRate: Math.round(append.rawRate),
      appendLogRate: Math.round(append.logRate),
      appendEventsPerCommit: append.eventsPerCommit,
      appendRatio,
      rebuildSqliteRate: Math.round(sqliteRate),
      rebuildPostgresRate: Math.round(pgRate),
      rebuildPgVsSqliteRatio: pgRate / sqliteRate,
      merkleSqliteAppendRate: Math.round(sqliteTree.appendRate),
      merklePgAppendRate: Math.round(pgTree.appendRate),
      merklePgVsSqliteAppendRatio: pgTree.appendRate / sqliteTree.appendRate,
      merkleSqliteProofMs: sqliteTree.proofMs,
      merklePgProofMs: pgTree.proofMs,
      ingestOneNodeRate: Math.round(one),
      ingestTwoNodesRate: Math.round(two),
      twoNodesRatio: two / one,
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await admin(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    tmp.dispose();
  }
}
