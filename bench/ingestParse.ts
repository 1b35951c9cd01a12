// `npm run bench -- ingest-parse`: the CPU cost of parsing and validating one
// event (`ingestRequest`: the guarded JSON parse, our CloudEvent schema, the
// `cloudevents` SDK, the receipt schema and the canonical idempotency digest),
// without HTTP or storage, against a bare `JSON.parse` of the same bytes as the
// raw baseline (docs/ingest.md "Benchmark").
//
// Cases, all with the ~1 KiB receipts of `npm run bench -- ingest`:
//   binary      one event per request, attributes in ce-* headers, JSON data
//   structured  one event per request, application/cloudevents+json
//   batch       100 events per request, application/cloudevents-batch+json
//
// Figures are µs per event (lower is better) and `<case>ParseRatio` = the rate
// of `ingestRequest` ÷ the rate of `JSON.parse` of the same body (higher is
// better, 1 would mean validation is free).
import { ingestRequest, type CloudEventsRequest } from '../src/ingest/index.js';
import { printTable, sampleEvent, scaled, type BenchContext } from './support.js';

const BATCH = 100;
const SOURCE = 'https://ci.example.com/pipelines/openssl';
const RECEIPT_TYPE = 'dev.provenant.receipt.v1';
const TIME = '2024-05-01T12:00:00Z';

/** Receipt data for event `i`, as `npm run bench -- ingest` sends it. */
function receiptData(i: number): Record<string, unknown> {
  const { receiptId: _id, ...data } = sampleEvent(i);
  return { ...data, unit: `openssl/3.${Math.floor(i / 5)}.0/2.el9/x86_64/rpm` };
}

const cloudEvent = (i: number): Record<string, unknown> => ({
  specversion: '1.0',
  id: `parse-${i}`,
  source: SOURCE,
  type: RECEIPT_TYPE,
  time: TIME,
  datacontenttype: 'application/json',
  data: receiptData(i),
});

/** A request to parse, and the events it carries. */
export interface Case {
  readonly requests: readonly CloudEventsRequest[];
  readonly eventsPerRequest: number;
}

const binaryCase = (n: number): Case => ({
  eventsPerRequest: 1,
  requests: Array.from({ length: n }, (_, i) => ({
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': `parse-${i}`,
      'ce-source': SOURCE,
      'ce-type': RECEIPT_TYPE,
      'ce-time': TIME,
    },
    body: Buffer.from(JSON.stringify(receiptData(i))),
  })),
});

const structuredCase = (n: number): Case => ({
  eventsPerRequest: 1,
  requests: Array.from({ length: n }, (_, i) => ({
    headers: { 'content-type': 'application/cloudevents+json' },
    body: Buffer.from(JSON.stringify(cloudEvent(i))),
  })),
});

const batchCase = (n: number): Case => ({
  eventsPerRequest: BATCH,
  requests: Array.from({ length: Math.max(1, Math.round(n / BATCH)) }, (_, b) => ({
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    body: Buffer.from(
      JSON.stringify(Array.from({ length: BATCH }, (_, k) => cloudEvent(b * BATCH + k))),
    ),
  })),
});

/**
 * Runs `fn` over every request `rounds` times; returns µs of CPU time (user +
 * system) per event, from the best round. CPU time, not wall time, so that other
 * processes on a shared machine do not count.
 */
export function measure(c: Case, rounds: number, fn: (r: CloudEventsRequest) => void): number {
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const start = process.cpuUsage();
    for (const r of c.requests) fn(r);
    const { user, system } = process.cpuUsage(start);
    best = Math.min(best, (user + system) / (c.requests.length * c.eventsPerRequest));
  }
  return best;
}

/** Parses and validates one request as POST /v1/events does; throws if an event is rejected. */
export const ingest = (r: CloudEventsRequest): void => {
  const { results } = ingestRequest(r);
  for (const result of results)
    if (!result.ok) throw new Error(`bench event rejected: ${result.error.message}`);
};
/**
 * µs of CPU time per event to parse and validate `c` (`ingestRequest`), best of
 * `rounds` after two warm-up rounds. bench/ingest.ts uses it on its own batches.
 */
export function parseUsPerEvent(c: Case, rounds = 7): number {
  measure(c, 2, ingest);
  return measure(c, rounds, ingest);
}

const rawParse = (r: CloudEventsRequest): void => {
  JSON.parse(Buffer.from(r.body.buffer, r.body.byteOffset, r.body.length).toString('utf8'));
};

/** The three cases: `ingestRequest` and `JSON.parse` µs per event, and their rate ratio. */
export function benchIngestParse(ctx: BenchContext): Promise<Record<string, number>> {
  const n = scaled(ctx, 5_000, BATCH);
  const rounds = 7;
  const cases = { binary: binaryCase(n), structured: structuredCase(n), batch: batchCase(n) };
  const figures: Record<string, number> = {};
  for (const [name, c] of Object.entries(cases)) {
    measure(c, 2, ingest); // warm-up: JIT and ajv's lazily created closures
    measure(c, 2, rawParse);
    const us = measure(c, rounds, ingest);
    const rawUs = measure(c, rounds, rawParse);
    figures[`${name}UsPerEvent`] = us;
    figures[`${name}RawJsonParseUsPerEvent`] = rawUs;
    figures[`${name}ParseRatio`] = rawUs / us;
  }
  const row = (name: string): [string, string] => [
    name,
    `${(figures[`${name}UsPerEvent`] ?? 0).toFixed(1)} µs/event (JSON.parse ${(figures[`${name}RawJsonParseUsPerEvent`] ?? 0).toFixed(1)} µs, ${name}ParseRatio ${(figures[`${name}ParseRatio`] ?? 0).toFixed(3)})`,
  ];
  printTable(
    ctx,
    `ingest-parse (ingestRequest per event, ~${JSON.stringify(cloudEvent(0)).length} B receipts, CPU time, best of ${rounds} rounds of ${n} events)`,
    [row('binary'), row('structured'), row('batch')],
  );
  return Promise.resolve(figures);
}
