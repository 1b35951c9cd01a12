// The requests `npm run bench -- ingest` sends (bench/ingest.ts): ~1 KiB
// receipts (`sampleEvent`) as CloudEvents, one per request in binary mode or 100
// per request in batch mode, ready to send as bytes; and the receipt data the raw
// better-sqlite3 baselines insert.
import { sampleEvent } from './support.js';

/** Receipts per batch-mode request (and rows per raw baseline transaction). */
export const BATCH = 100;
export const SOURCE = 'https://ci.example.com/pipelines/openssl';
export const RECEIPT_TYPE = 'dev.provenant.receipt.v1';

/**
 * Receipt data for event `i`: `sampleEvent` without its id. Single mode: five
 * receipts per unit. Batch mode: a unit per receipt, so each request of 100
 * names 100 units (event numbers of the two modes never meet in one store).
 */
export function receiptData(i: number, perUnit: 1 | 5 = 5): Record<string, unknown> {
  const { receiptId: _id, ...data } = sampleEvent(i);
  const unit =
    perUnit === 5
      ? `openssl/3.${Math.floor(i / 5)}.0/2.el9/x86_64/rpm`
      : `openssl/4.${i}.0/2.el9/x86_64/rpm`;
  return { ...data, unit };
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
export interface Prepared {
  headers: Record<string, string>;
  body: Buffer;
  /** Events it carries. */
  events: number;
}

export function binaryRequest(run: string, i: number): Prepared {
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

export function batchRequest(run: string, from: number): Prepared {
  const events = Array.from({ length: BATCH }, (_, k) =>
    cloudEvent(run, from + k, receiptData(from + k, 1)),
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
