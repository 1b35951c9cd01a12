// `npm run bench -- ingest`: receipts posted to POST /v1/events over loopback with
// keep-alive at concurrency 32, against raw better-sqlite3 inserts of the same
// events in the same run and on the same disk (issue 4 "Benchmark").
//
// Cases (each ingest case on a fresh SQLite file, synchronous=FULL, WAL):
//   single  binary mode, one receipt per request     vs raw one-row-per-transaction inserts
//   batch   batch mode, 100 receipts per request     vs raw 100-row transactions
//
// The server runs in a child process (bench/ingestServer.ts), as it would in
// production, and the load comes from undici (the Node.js team's HTTP client),
// which costs the shared CPU less per request than node:http. The same client
// also drives a bare fastify route that parses the body and stores nothing
// (`bare*` figures): the ceiling of HTTP on this machine, which no store can beat.
// Targets: batchIngestRatio >= 0.5, singleIngestRatio >= 1.5, singleP99Ms < 20.
//
// Payloads: `sampleEvent` (~1 KiB) as receipt data; every unit gets five receipts
// (build, unit-test, sast, sca, image-scan), as one pipeline run would send.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { ClientMessage, ServerMessage, ServerMode } from './ingestServer.js';
import {
  fmtRate,
  fmtRatio,
  openRawEventTable,
  percentile,
  printTable,
  sampleEvent,
  scaled,
  tempDir,
  timed,
  type BenchContext,
} from './support.js';

const CONCURRENCY = 32;
const BATCH = 100;
const SOURCE = 'https://ci.example.com/pipelines/openssl';
const RECEIPT_TYPE = 'dev.provenant.receipt.v1';

/** Receipt data for event `i`: `sampleEvent` without its id, five receipts per unit. */
function receiptData(i: number): Record<string, unknown> {
  const { receiptId: _id, ...data } = sampleEvent(i);
  return { ...data, unit: `openssl/3.${Math.floor(i / 5)}.0/2.el9/x86_64/rpm` };
}

const cloudEvent = (run: string, i: number, data: Record<string, unknown>) => ({
  specversion: '1.0',
  id: `${run}-${i}`,
  source: SOURCE,
  type: RECEIPT_TYPE,
  time: '2024-05-01T12:00:00Z',
  datacontenttype: 'application/json',
  data,
});

/** One request, ready to send: path, headers and body bytes. */
interface Prepared {
  headers: Record<string, string>;
  body: Buffer;
  /** Events it carries. */
  events: number;
}

function binaryRequest(run: string, i: number): Prepared {
  const body = Buffer.from(JSON.stringify(receiptData(i)));
  return {
    headers: {
      'content-type': 'application/json',
      'content-length': String(body.length),
      'ce-specversion': '1.0',
      'ce-id': `${run}-${i}`,
      'ce-source': SOURCE,
      'ce-type': RECEIPT_TYPE,
      'ce-time': '2024-05-01T12:00:00Z',
    },
    body,
    events: 1,
  };
}

function batchRequest(run: string, from: number): Prepared {
  const events = Array.from({ length: BATCH }, (_, k) =>
    cloudEvent(run, from + k, receiptData(from + k)),
  );
  const body = Buffer.from(JSON.stringify(events));
  return {
    headers: {
      'content-type': 'application/cloudevents-batch+json',
      'content-length': String(body.length),
    },
    body,
    events: BATCH,
  };
}

/** A keep-alive HTTP client with `CONCURRENCY` connections, one request at a time on each. */
function client(port: number): {
  post: (p: Prepared) => Promise<{ status: number; body: string }>;
  close: () => Promise<void>;
} {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, pipelining: 1 });
  const post = async (p: Prepared): Promise<{ status: number; body: string }> => {
    const res = await pool.request({
      path: '/v1/events',
      method: 'POST',
      headers: p.headers,
      body: p.body,
    });
    return { status: res.statusCode, body: await res.body.text() };
  };
  return { post, close: () => pool.close() };
}

/** Checks that a request did what the benchmark claims: every event appended. */
function expectAccepted(p: Prepared, res: { status: number; body: string }): void {
  if (p.events === 1) {
    if (res.status !== 201) throw new Error(`ingest answered ${res.status}: ${res.body}`);
    return;
  }
  const report = JSON.parse(res.body) as { accepted?: number };
  if (res.status !== 200 || report.accepted !== p.events)
    throw new Error(`batch ingest answered ${res.status}: ${res.body.slice(0, 500)}`);
}

/** Sends `requests` from `CONCURRENCY` workers; returns events/s and per-request latencies. */
async function drive(
  post: (p: Prepared) => Promise<{ status: number; body: string }>,
  requests: Prepared[],
): Promise<{ eventsPerSec: number; p50Ms: number; p99Ms: number }> {
  const latencies: number[] = [];
  let next = 0;
  const { seconds } = await timed(() =>
    Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (;;) {
          const p = requests[next++];
          if (p === undefined) return;
          const start = process.hrtime.bigint();
          const res = await post(p);
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          expectAccepted(p, res);
        }
      }),
    ),
  );
  latencies.sort((a, b) => a - b);
  const events = requests.reduce((n, p) => n + p.events, 0);
  return {
    eventsPerSec: events / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/** A running ingest server: its port, group-commit stats, and how to stop it. */
interface Server {
  port: number;
  stats: () => Promise<{ commits: number; appends: number }>;
  close: () => Promise<void>;
}

async function childServer(mode: ServerMode, path: string): Promise<Server> {
  const script = fileURLToPath(new URL('./ingestServer.ts', import.meta.url));
  const child = fork(script, [mode, path], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const nextMessage = <K extends ServerMessage['kind']>(
    kind: K,
  ): Promise<Extract<ServerMessage, { kind: K }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: ServerMessage): void => {
        if (m.kind !== kind) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m as Extract<ServerMessage, { kind: K }>);
      };
      const onExit = (code: number | null): void =>
        reject(new Error(`ingest bench server exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const tell = (m: ClientMessage): void => {
    child.send(m);
  };
  const { port } = await nextMessage('listening');
  return {
    port,
    stats: async () => {
      const reply = nextMessage('stats');
      tell({ kind: 'stats' });
      return reply;
    },
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      tell({ kind: 'close' });
      await exited;
    },
  };
}

/** One ingest case on a fresh server: warm up, then drive the measured requests. */
async function ingestCase(
  mode: ServerMode,
  path: string,
  warmup: Prepared[],
  requests: Prepared[],
): Promise<{ eventsPerSec: number; p50Ms: number; p99Ms: number; meanGroup: number }> {
  const server = await childServer(mode, path);
  const http = client(server.port);
  try {
    await drive(http.post, warmup);
    const before = await server.stats();
    const result = await drive(http.post, requests);
    const after = await server.stats();
    return {
      ...result,
      meanGroup: (after.appends - before.appends) / Math.max(1, after.commits - before.commits),
    };
  } finally {
    await http.close();
    await server.close();
  }
}

/** Raw better-sqlite3 baselines: the table bench/append.ts uses, the same event bodies. */
function rawBaselines(
  dir: string,
  batchEvents: number,
  singleEvents: number,
): { rawBatch100EventsPerSec: number; rawSingleEventsPerSec: number } {
  const open = (file: string) => openRawEventTable(join(dir, file));
  const row = (i: number): unknown[] => {
    const data = receiptData(i);
    return [
      `raw-${i}`,
      `unit-${String(data['unit'])}`,
      i % 5,
      'ReceiptRecorded.v1',
      JSON.stringify(data),
      JSON.stringify({ context: { id: `raw-${i}`, source: SOURCE, type: RECEIPT_TYPE } }),
      new Date().toISOString(),
    ];
  };
  const batchRows = Array.from({ length: batchEvents }, (_, i) => row(i));
  const singleRows = Array.from({ length: singleEvents }, (_, i) => row(i));

  const raw = open('raw-batch.db');
  const txn = raw.db.transaction((from: number) => {
    for (let i = from; i < from + BATCH && i < batchRows.length; i++)
      raw.insert.run(...(batchRows[i] as unknown[]));
  });
  let t = process.hrtime.bigint();
  for (let from = 0; from < batchRows.length; from += BATCH) txn(from);
  const batchSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  raw.db.close();

  const single = open('raw-single.db');
  t = process.hrtime.bigint();
  for (const r of singleRows) single.insert.run(...r);
  const singleSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  single.db.close();
  return {
    rawBatch100EventsPerSec: batchEvents / batchSeconds,
    rawSingleEventsPerSec: singleEvents / singleSeconds,
  };
}

export async function benchIngest(ctx: BenchContext): Promise<Record<string, number>> {
  const { dir, dispose } = tempDir('ingest');
  try {
    const singleEvents = scaled(ctx, 4_000, CONCURRENCY);
    const batchEvents = Math.max(BATCH, Math.round(scaled(ctx, 20_000) / BATCH) * BATCH);
    const rawSingle = scaled(ctx, 1_500, 50);
    const raw = rawBaselines(dir, batchEvents, rawSingle);

    // Warm-up requests go to other units (other `run` ids and unit numbers).
    const warmSingle = Array.from({ length: 300 }, (_, i) => binaryRequest('warm', 1e6 + i));
    const warmBatch = Array.from({ length: 8 }, (_, b) => batchRequest('warm', 2e6 + b * BATCH));
    const singles = Array.from({ length: singleEvents }, (_, i) => binaryRequest('single', i));
    const batches = Array.from({ length: Math.ceil(batchEvents / BATCH) }, (_, b) =>
      batchRequest('batch', b * BATCH),
    );

    const store = {
      single: await ingestCase('store', join(dir, 'single.db'), warmSingle, singles),
      batch: await ingestCase('store', join(dir, 'batch.db'), warmBatch, batches),
    };
    const bare = {
      single: await ingestCase('bare', '', warmSingle, singles),
      batch: await ingestCase('bare', '', warmBatch, batches),
    };

    const figures = {
      ...raw,
      ingestSingleEventsPerSec: store.single.eventsPerSec,
      singleP50Ms: store.single.p50Ms,
      singleP99Ms: store.single.p99Ms,
      singleMeanAppendsPerCommit: store.single.meanGroup,
      singleIngestRatio: store.single.eventsPerSec / raw.rawSingleEventsPerSec,
      ingestBatchEventsPerSec: store.batch.eventsPerSec,
      batchP50Ms: store.batch.p50Ms,
      batchP99Ms: store.batch.p99Ms,
      batchMeanAppendsPerCommit: store.batch.meanGroup,
      batchIngestRatio: store.batch.eventsPerSec / raw.rawBatch100EventsPerSec,
      bareSingleEventsPerSec: bare.single.eventsPerSec,
      bareSingleP50Ms: bare.single.p50Ms,
      bareSingleP99Ms: bare.single.p99Ms,
      bareSingleCeilingRatio: bare.single.eventsPerSec / raw.rawSingleEventsPerSec,
      bareBatchEventsPerSec: bare.batch.eventsPerSec,
      bareBatchP50Ms: bare.batch.p50Ms,
      bareBatchP99Ms: bare.batch.p99Ms,
      bareBatchCeilingRatio: bare.batch.eventsPerSec / raw.rawBatch100EventsPerSec,
    };
    const ms = (v: number): string => `${v.toFixed(1)} ms`;
    const p99 = (v: number): string => `${ms(v)} (target < 20 ms: ${v < 20 ? 'met' : 'NOT met'})`;
    printTable(
      ctx,
      `ingest (POST /v1/events over loopback, keep-alive, ${CONCURRENCY} concurrent, SQLite synchronous=FULL, ~${JSON.stringify(receiptData(0)).length} B receipts)`,
      [
        ['raw one row per transaction', fmtRate(figures.rawSingleEventsPerSec)],
        ['raw batch of 100', fmtRate(figures.rawBatch100EventsPerSec)],
        ['Provenant:', ''],
        ['  binary mode, 1 per request', fmtRate(figures.ingestSingleEventsPerSec)],
        ['  p50 / p99 per request', `${ms(figures.singleP50Ms)} / ${p99(figures.singleP99Ms)}`],
        ['  appends per commit', figures.singleMeanAppendsPerCommit.toFixed(1)],
        ['  singleIngestRatio', fmtRatio(figures.singleIngestRatio, 1.5)],
        ['  batch mode, 100 per request', fmtRate(figures.ingestBatchEventsPerSec)],
        ['  p50 / p99 per request', `${ms(figures.batchP50Ms)} / ${ms(figures.batchP99Ms)}`],
        ['  appends per commit', figures.batchMeanAppendsPerCommit.toFixed(1)],
        ['  batchIngestRatio', fmtRatio(figures.batchIngestRatio, 0.5)],
        ['ceiling: bare fastify route, parses and stores nothing:', ''],
        ['  binary mode, 1 per request', fmtRate(figures.bareSingleEventsPerSec)],
        [
          '  p50 / p99 per request',
          `${ms(figures.bareSingleP50Ms)} / ${ms(figures.bareSingleP99Ms)}`,
        ],
        ['  bareSingleCeilingRatio', `${figures.bareSingleCeilingRatio.toFixed(2)}x (informative)`],
        ['  batch mode, 100 per request', fmtRate(figures.bareBatchEventsPerSec)],
        [
          '  p50 / p99 per request',
          `${ms(figures.bareBatchP50Ms)} / ${ms(figures.bareBatchP99Ms)}`,
        ],
        ['  bareBatchCeilingRatio', `${figures.bareBatchCeilingRatio.toFixed(2)}x (informative)`],
      ],
    );
    return figures;
  } finally {
    dispose();
  }
}
