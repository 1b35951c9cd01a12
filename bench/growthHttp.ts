// The HTTP side of `npm run bench -- growth` (bench/growth.ts): a keep-alive
// client, the requests it measures (a receipt ingest, a revocation), and a rate
// over a time budget.
import { Pool } from 'undici';
import { RECEIPT_TYPE, SOURCE, TIME, receiptData } from './growthFill.js';

/** Connections of the client, each one request at a time. */
export const CONCURRENCY = 32;

export interface Http {
  request(
    method: 'GET' | 'POST',
    path: string,
    headers?: Record<string, string>,
    body?: Buffer | string,
  ): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

/** A keep-alive client with `CONCURRENCY` connections, one request at a time on each. */
export function httpClient(url: string): Http {
  const pool = new Pool(url, { connections: CONCURRENCY, pipelining: 1 });
  return {
    request: async (method, path, headers, body) => {
      const res = await pool.request({ method, path, ...(headers ? { headers } : {}), body });
      return { status: res.statusCode, body: await res.body.text() };
    },
    close: () => pool.close(),
  };
}

export const expectStatus = (
  what: string,
  expected: number,
  res: { status: number; body: string },
) => {
  if (res.status !== expected)
    throw new Error(`${what} answered ${res.status}, not ${expected}: ${res.body.slice(0, 500)}`);
};

/** Posts receipt `<run>-<i>` for `unit` in binary mode; returns its receipt id. */
export async function postReceipt(
  http: Http,
  run: string,
  i: number,
  unit: string,
): Promise<string> {
  const body = Buffer.from(JSON.stringify(receiptData(i, unit)));
  const res = await http.request(
    'POST',
    '/v1/events',
    {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': `${run}-${i}`,
      'ce-source': SOURCE,
      'ce-type': RECEIPT_TYPE,
      'ce-time': TIME,
    },
    body,
  );
  expectStatus('receipt ingest', 201, res);
  return (JSON.parse(res.body) as { receiptId: string }).receiptId;
}

export const revoke = (http: Http, receiptId: string) =>
  http.request(
    'POST',
    `/v1/receipts/${receiptId}/revoke`,
    { 'content-type': 'application/json' },
    JSON.stringify({ reason: 'growth benchmark' }),
  );

/**
 * Runs `op(0..ops-1)` from `concurrency` workers and returns operations per
 * second. No new operation starts after `budgetSeconds` once one has started.
 * Says on stderr what it measured (a slow operation can take long on a big log).
 */
export async function rate(
  label: string,
  ops: number,
  concurrency: number,
  budgetSeconds: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  const start = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - start) / 1e9;
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, ops) }, async () => {
      while (next < ops && (next < 1 || elapsed() < budgetSeconds)) {
        await op(next++);
        done++;
      }
    }),
  );
  const seconds = elapsed();
  process.stderr.write(
    `growth: ${label}: ${done} in ${seconds.toFixed(1)} s (${(done / seconds).toPrecision(3)}/s)\n`,
  );
  return done / seconds;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
