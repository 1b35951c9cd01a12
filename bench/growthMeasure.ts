// What one turn of `npm run bench -- growth` (bench/growth.ts) measures, over
// HTTP against a server started on a prepared store: the log-size operations
// (ingest, unit status, revocations of recent and of unknown receipts), the time
// from a start to the first answered ingest, and reads of and records into one
// unit. Each rate stops issuing requests after its time budget.
import { randomUUID } from 'node:crypto';
import type { Config } from '../src/config.js';
import { startServer } from '../src/http/server.js';
import {
  CONCURRENCY,
  expectStatus,
  httpClient,
  postReceipt,
  rate,
  revoke,
  type Http,
} from './growthHttp.js';

export interface Counts {
  ingest: number;
  reads: number;
  revocations: number;
  restarts: number;
  budgetSeconds: number;
}

export interface LogRates {
  ingest: number;
  unitStatus: number;
  revokeRecent: number;
  revokeUnknown: number;
}

/**
 * Measures the log-size operations on the store at `config` (already prepared).
 * `warmRevocations`: warm the revocation path up first (only the first turn needs
 * it: the JIT is the process's, and on a large log each revocation can take long).
 */
export async function measureLog(
  config: Config,
  run: string,
  n: Counts,
  warmRevocations: boolean,
): Promise<LogRates> {
  const unitOf = (i: number): string => `${run}-http${Math.floor(i / 5)}/2.0.0/1.el9/x86_64/rpm`;
  const server = await startServer(config);
  const http = httpClient(server.url);
  try {
    // Warm-up (JIT, caches) on units and ids the measurements do not use.
    const warm = Array.from({ length: 50 }, (_, i) => i);
    await Promise.all(
      warm.map((i) => postReceipt(http, `${run}-warm`, i, `${run}-warm${i}/1/1/x/rpm`)),
    );
    for (const i of warm.slice(0, 5)) {
      expectStatus(
        'unit read',
        200,
        await http.request('GET', `/v1/units/${run}-warm${i}/1/1/x/rpm`),
      );
      if (warmRevocations)
        expectStatus('unknown revocation', 404, await revoke(http, randomUUID()));
    }

    const receiptIds: string[] = [];
    const ingest = await rate(
      `${run}: ingest`,
      n.ingest,
      CONCURRENCY,
      n.budgetSeconds,
      async (i) => {
        receiptIds[i] = await postReceipt(http, run, i, unitOf(i));
      },
    );
    const recorded = receiptIds.filter((id) => id !== undefined);
    const units = Math.ceil(recorded.length / 5);
    const unitStatus = await rate(
      `${run}: unit status`,
      n.reads,
      CONCURRENCY,
      n.budgetSeconds,
      async (i) =>
        expectStatus(
          'unit read',
          200,
          await http.request('GET', `/v1/units/${unitOf((i % units) * 5)}`),
        ),
    );
    const revokeRecent = await rate(
      `${run}: revoke recent`,
      Math.min(n.revocations, recorded.length),
      1,
      n.budgetSeconds,
      async (i) =>
        expectStatus(
          'revocation',
          200,
          await revoke(http, recorded[recorded.length - 1 - i] ?? ''),
        ),
    );
    const revokeUnknown = await rate(
      `${run}: revoke unknown`,
      n.revocations,
      1,
      n.budgetSeconds,
      async () => expectStatus('unknown revocation', 404, await revoke(http, randomUUID())),
    );
    return { ingest, unitStatus, revokeRecent, revokeUnknown };
  } finally {
    await http.close();
    await server.shutdown();
  }
}

/** ms from startServer to the first answered receipt ingest (which needs the definitions). */
export async function firstRequestMs(config: Config, run: string): Promise<number> {
  const start = process.hrtime.bigint();
  const server = await startServer(config);
  const http = httpClient(server.url);
  try {
    await postReceipt(http, run, 0, `${run}/1/1/x/rpm`);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    process.stderr.write(
      `growth: ${run}: first request answered ${ms.toFixed(0)} ms after start\n`,
    );
    return ms;
  } finally {
    await http.close();
    await server.shutdown();
  }
}

export interface UnitFigures {
  readReceiptsPerSec: number;
  recordPerSec: number;
}

/** Reads, then records into, the unit `key` of `receipts` receipts, one request at a time. */
export async function measureUnit(
  http: Http,
  key: string,
  receipts: number,
  reads: number,
  records: number,
  budgetSeconds: number,
): Promise<UnitFigures> {
  const read = async (): Promise<string> => {
    const res = await http.request('GET', `/v1/units/${key}`);
    expectStatus('unit read', 200, res);
    return res.body;
  };
  const served = (JSON.parse(await read()) as { receipts: unknown[] }).receipts.length;
  if (served !== receipts)
    throw new Error(`unit ${key} served ${served} receipts, not ${receipts}`);
  const readsPerSec = await rate(`unit ${key}: read`, reads, 1, budgetSeconds, read);
  await postReceipt(http, `warm-${key}`, 0, key);
  const recordPerSec = await rate(`unit ${key}: record`, records, 1, budgetSeconds, (i) =>
    postReceipt(http, `more-${key}`, i, key),
  );
  return { readReceiptsPerSec: readsPerSec * receipts, recordPerSec };
}
