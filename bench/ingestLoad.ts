// The client side of `npm run bench -- ingest` (bench/ingest.ts): the server in a
// child process (bench/ingestServer.ts) driven over IPC, an undici keep-alive
// client, and the loop that sends prepared requests from `CONCURRENCY` workers,
// checks each answer and measures events/s and per-request latencies.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { ClientMessage, ServerMessage, ServerMode } from './ingestServer.js';
import type { Prepared } from './ingestRequests.js';
import { percentile, timed } from './support.js';

/** Connections of the client, each one request at a time. */
export const CONCURRENCY = 32;

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
export async function ingestCase(
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
