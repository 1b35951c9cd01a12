// The logs `npm run bench -- growth` measures (bench/growth.ts): receipts shaped
// as ingest records them, appended through the EventStore port in bulk (five per
// unit, 200 units' appends at a time, so group commit writes ~1,000 events per
// transaction) or to one unit's stream, with fill progress on stderr; each log
// starts with two gates and a stage defined through the API.
import { monotonicFactory } from 'ulid';
import { openEventStore } from '../src/composition.js';
import type { Config } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { anonymousAuth } from '../src/security/index.js';
import type { EventStore, EventToAppend } from '../src/eventStore/types.js';
import { sampleEvent } from './support.js';

export const SOURCE = 'https://ci.example.com/pipelines/openssl';
export const RECEIPT_TYPE = 'dev.provenant.receipt.v1';
export const TIME = '2024-05-01T12:00:00Z';
/** Units appended concurrently while filling: five events each, one group commit. */
const FILL_PARALLEL_UNITS = 200;
/** Events per append when filling one unit's stream. */
const FILL_STREAM_BATCH = 1_000;

export const unitStream = (key: string): string => `unit-${key}`;

/** Receipt data for event `i` (`sampleEvent`, action by `i % 5`) naming `unit`. */
export function receiptData(i: number, unit: string): Record<string, unknown> {
  const { receiptId: _id, ...data } = sampleEvent(i);
  return { ...data, unit };
}

const newUlid = monotonicFactory();

/** A `ReceiptRecorded.v1` event as ingest appends it for CloudEvent `<run>-<i>`. */
function receiptEvent(run: string, i: number, unit: string): EventToAppend {
  const id = `${run}-${i}`;
  const origin = { id, source: SOURCE, time: TIME, type: RECEIPT_TYPE };
  return {
    type: 'ReceiptRecorded.v1',
    data: { ...receiptData(i, unit), receiptId: newUlid(), origin },
    metadata: { context: origin },
    idempotencyKey: `ce:${SOURCE.length}:${SOURCE}#${id}`,
  };
}

/** Prints fill progress to stderr: a line per tenth, or one rewritten line on a TTY. */
function progress(label: string, total: number): (done: number) => void {
  const tty = process.stderr.isTTY;
  const start = process.hrtime.bigint();
  let nextAt = 0;
  return (done) => {
    if (done < nextAt && done < total) return;
    nextAt = done + Math.max(1, Math.floor(total / (tty ? 100 : 10)));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const line = `growth: ${label}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} events (${seconds.toFixed(1)} s)`;
    process.stderr.write(tty ? `\r${line}${done >= total ? '\n' : ''}` : `${line}\n`);
  };
}

/** Fills `store` with `events` receipts, five per unit, through the port. Returns events/s. */
export async function fillBulk(store: EventStore, run: string, events: number): Promise<number> {
  const report = progress(`filling ${run} log`, events);
  const units = Math.ceil(events / 5);
  const start = process.hrtime.bigint();
  for (let first = 0; first < units; first += FILL_PARALLEL_UNITS) {
    const batch = Array.from(
      { length: Math.min(FILL_PARALLEL_UNITS, units - first) },
      (_, k) => first + k,
    );
    await Promise.all(
      batch.map((u) => {
        const key = `${run}-pkg${u % 1000}/1.${Math.floor(u / 1000)}.0/1.el9/x86_64/rpm`;
        const count = Math.min(5, events - u * 5);
        return store.append(
          unitStream(key),
          Array.from({ length: count }, (_, k) => receiptEvent(`bulk-${run}`, u * 5 + k, key)),
        );
      }),
    );
    report(Math.min(events, (first + batch.length) * 5));
  }
  return events / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Appends `receipts` receipts to one unit's stream, `FILL_STREAM_BATCH` per append. */
export async function fillUnit(store: EventStore, key: string, receipts: number): Promise<void> {
  const report = progress(`filling unit ${key}`, receipts);
  for (let from = 0; from < receipts; from += FILL_STREAM_BATCH) {
    const count = Math.min(FILL_STREAM_BATCH, receipts - from);
    await store.append(
      unitStream(key),
      Array.from({ length: count }, (_, k) => receiptEvent(`fill-${key}`, from + k, key)),
    );
    report(from + count);
  }
}

export const GATES: Record<string, string[]> = {
  build: ['build', 'unit-test'],
  security: ['sast', 'sca', 'image-scan'],
};
export const STAGES: Record<string, string[]> = { release: ['build', 'security'] };

/**
 * Opens a new store at `config`, defines the gates and the stage through the API
 * (in process, no listener), then runs `fill` on the same store through the port.
 * Returns the events the log holds.
 */
export async function prepareStore(
  config: Config,
  fill: (store: EventStore) => Promise<number>,
): Promise<number> {
  const { store, description } = await openEventStore(config, { create: true });
  const app = await buildApp({ auth: anonymousAuth(), store, storeDescription: description });
  try {
    const define = async (url: string, payload: Record<string, unknown>): Promise<void> => {
      const res = await app.inject({ method: 'PUT', url, payload });
      if (res.statusCode !== 201)
        throw new Error(`PUT ${url} answered ${res.statusCode}: ${res.body}`);
    };
    for (const [id, requiredActions] of Object.entries(GATES))
      await define(`/v1/gates/${id}`, { requiredActions });
    for (const [id, gates] of Object.entries(STAGES)) await define(`/v1/stages/${id}`, { gates });
    const filled = await fill(store);
    return Object.keys(GATES).length + Object.keys(STAGES).length + filled;
  } finally {
    await app.close();
    await store.close();
  }
}
