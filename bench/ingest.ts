// `npm run bench -- ingest`: receipts posted to POST /v1/events over loopback with
// keep-alive at concurrency 32, against raw better-sqlite3 inserts of the same
// events in the same run and on the same disk (issue 4 "Benchmark").
//
// Cases (each ingest case on a fresh SQLite file, synchronous=FULL, WAL):
//   single  binary mode, one receipt per request     vs raw one-row-per-transaction inserts
//   batch   batch mode, 100 receipts per request     vs raw 100-row transactions
//
// The server runs in a child process (bench/ingestServer.ts), as it would in
// production: the load generator does not eat the server's CPU. The same cases
// are also run against a server in this process (`inline*` figures), which shows
// what the client's share of the CPU costs. Targets: batchIngestRatio >= 0.5,
// singleIngestRatio >= 1.5, singleP99Ms < 20.
//
// Payloads: `sampleEvent` (~1 KiB) as receipt data; every unit gets five receipts
// (build, unit-test, sast, sca, image-scan), as one pipeline run would send.
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import { buildApp } from '../src/http/app.js';
import type { ClientMessage, ServerMessage } from './ingestServer.js';
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
  headers: Record<string, string | number>;
  body: Buffer;
  /** Events it carries. */
  events: number;
}

function binaryRequest(run: string, i: number): Prepared {
  const body = Buffer.from(JSON.stringify(receiptData(i)));
  return {
    headers: {
      'content-type': 'application/json',
      'content-length': body.length,
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
      'content-length': body.length,
    },
    body,
    events: BATCH,
  };
}

/** A keep-alive HTTP client with at most `CONCURRENCY` sockets. */
function client(port: number): {
  post: (p: Prepared) => Promise<{ status: number; body: string }>;
  close: () => void;
} {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const post = (p: Prepared): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/v1/events', agent, headers: p.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(p.body);
    });
  return { post, close: () => agent.destroy() };
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

async function childServer(path: string): Promise<Server> {
  const script = fileURLToPath(new URL('./ingestServer.ts', import.meta.url));
  const child = fork(script, [path], {
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

async function inlineServer(path: string): Promise<Server> {
  const store = getSQLiteEventStore({ path, synchronous: 'FULL' });
  const app = await buildApp({ store, storeDescription: `bench ${path}`, ownsStore: true });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    stats: () => Promise.resolve(store.stats()),
    close: () => app.close(),
  };
}

/** One ingest case on a fresh server: warm up, then drive the measured requests. */
async function ingestCase(
  start: (path: string) => Promise<Server>,
  path: string,
  warmup: Prepared[],
  requests: Prepared[],
): Promise<{ eventsPerSec: number; p50Ms: number; p99Ms: number; meanGroup: number }> {
  const server = await start(path);
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
    http.close();
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

    const child = {
      single: await ingestCase(childServer, join(dir, 'child-single.db'), warmSingle, singles),
      batch: await ingestCase(childServer, join(dir, 'child-batch.db'), warmBatch, batches),
    };
    const inline = {
      single: await ingestCase(inlineServer, join(dir, 'inline-single.db'), warmSingle, singles),
      batch: await ingestCase(inlineServer, join(dir, 'inline-batch.db'), warmBatch, batches),
    };

    const figures = {
      ...raw,
      ingestSingleEventsPerSec: child.single.eventsPerSec,
      singleP50Ms: child.single.p50Ms,
      singleP99Ms: child.single.p99Ms,
      singleMeanAppendsPerCommit: child.single.meanGroup,
      singleIngestRatio: child.single.eventsPerSec / raw.rawSingleEventsPerSec,
      ingestBatchEventsPerSec: child.batch.eventsPerSec,
      batchP50Ms: child.batch.p50Ms,
      batchP99Ms: child.batch.p99Ms,
      batchMeanAppendsPerCommit: child.batch.meanGroup,
      batchIngestRatio: child.batch.eventsPerSec / raw.rawBatch100EventsPerSec,
      inlineSingleEventsPerSec: inline.single.eventsPerSec,
      inlineSingleP50Ms: inline.single.p50Ms,
      inlineSingleP99Ms: inline.single.p99Ms,
      inlineSingleIngestRatio: inline.single.eventsPerSec / raw.rawSingleEventsPerSec,
      inlineBatchEventsPerSec: inline.batch.eventsPerSec,
      inlineBatchP50Ms: inline.batch.p50Ms,
      inlineBatchP99Ms: inline.batch.p99Ms,
      inlineBatchIngestRatio: inline.batch.eventsPerSec / raw.rawBatch100EventsPerSec,
    };
    const ms = (v: number): string => `${v.toFixed(1)} ms`;
    const p99 = (v: number): string => `${ms(v)} (target < 20 ms: ${v < 20 ? 'met' : 'NOT met'})`;
    printTable(
      ctx,
      `ingest (POST /v1/events over loopback, keep-alive, ${CONCURRENCY} concurrent, SQLite synchronous=FULL, ~${JSON.stringify(receiptData(0)).length} B receipts)`,
      [
        ['raw one row per transaction', fmtRate(figures.rawSingleEventsPerSec)],
        ['raw batch of 100', fmtRate(figures.rawBatch100EventsPerSec)],
        ['server in a child process:', ''],
        ['  binary mode, 1 per request', fmtRate(figures.ingestSingleEventsPerSec)],
        ['  p50 / p99 per request', `${ms(figures.singleP50Ms)} / ${p99(figures.singleP99Ms)}`],
        ['  appends per commit', figures.singleMeanAppendsPerCommit.toFixed(1)],
        ['  singleIngestRatio', fmtRatio(figures.singleIngestRatio, 1.5)],
        ['  batch mode, 100 per request', fmtRate(figures.ingestBatchEventsPerSec)],
        ['  p50 / p99 per request', `${ms(figures.batchP50Ms)} / ${ms(figures.batchP99Ms)}`],
        ['  appends per commit', figures.batchMeanAppendsPerCommit.toFixed(1)],
        ['  batchIngestRatio', fmtRatio(figures.batchIngestRatio, 0.5)],
        ['server in this process:', ''],
        ['  binary mode, 1 per request', fmtRate(figures.inlineSingleEventsPerSec)],
        [
          '  p50 / p99 per request',
          `${ms(figures.inlineSingleP50Ms)} / ${ms(figures.inlineSingleP99Ms)}`,
        ],
        ['  inlineSingleIngestRatio', fmtRatio(figures.inlineSingleIngestRatio, 1.5)],
        ['  batch mode, 100 per request', fmtRate(figures.inlineBatchEventsPerSec)],
        [
          '  p50 / p99 per request',
          `${ms(figures.inlineBatchP50Ms)} / ${ms(figures.inlineBatchP99Ms)}`,
        ],
        ['  inlineBatchIngestRatio', fmtRatio(figures.inlineBatchIngestRatio, 0.5)],
      ],
    );
    return figures;
  } finally {
    dispose();
  }
}
