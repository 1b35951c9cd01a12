// Ingest over a REAL loopback socket when the domain fails with a plain error: the
// item reports INTERNAL without leaking it, the rest is recorded; and the
// traceparent header stored with the event.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { DomainService } from '../../src/application/index.js';
import type { SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { ReceiptOutcome } from '../../src/application/index.js';
import type { BatchReport } from '../../src/http/ingestReply.js';
import type { Problem } from '../../src/http/problem.js';
import { BATCH, STRUCTURED, listenIngest, receiptEvent } from '../support/ingestLoopback.js';

describe('ingest when the domain fails unexpectedly', () => {
  const BROKEN = 'broken/1.0/1/noarch/rpm';
  let store: SQLiteEventStore;
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    // A domain whose receipts for one unit fail with a plain (non-Provenant) error.
    ({ store, app, base } = await listenIngest((real): DomainService => ({
      ...real,
      recordReceipt: (input, options) =>
        input.unit === BROKEN
          ? Promise.reject(new Error('disk on fire'))
          : real.recordReceipt(input, options),
      // Batches record their receipts together: the broken unit's items fail there.
      recordReceipts: async (requests) => {
        const results = await real.recordReceipts(requests.filter((r) => r.input.unit !== BROKEN));
        return requests.map((r) =>
          r.input.unit === BROKEN
            ? { ok: false, error: new Error('disk on fire') }
            : (results.shift() ?? { ok: false, error: new Error('missing') }),
        );
      },
    })));
  });
  after(() => app.close());

  it('reports INTERNAL for that item without leaking the error, and records the rest', async () => {
    const res = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': BATCH },
      body: JSON.stringify([receiptEvent('ok-1'), receiptEvent('bad-1', { unit: BROKEN })]),
    });
    assert.equal(res.status, 200);
    const report = (await res.json()) as BatchReport;
    assert.deepEqual(
      report.results.map((r) => [r.index, r.ok, r.status]),
      [
        [0, true, 201],
        [1, false, 500],
      ],
    );
    const failed = report.results[1];
    assert.ok(failed !== undefined && !failed.ok);
    assert.equal(failed.problem.code, 'INTERNAL');
    assert.doesNotMatch(JSON.stringify(failed.problem), /disk on fire/);

    const single = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': STRUCTURED },
      body: JSON.stringify(receiptEvent('bad-2', { unit: BROKEN })),
    });
    assert.equal(single.status, 500);
    const problem = (await single.json()) as Problem;
    assert.equal(problem.code, 'INTERNAL');
    assert.doesNotMatch(problem.detail, /disk on fire/);
  });

  it('stores a well-formed traceparent header with the event, and ignores a malformed one', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const post = async (id: string, header: string) => {
      const res = await fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': STRUCTURED, traceparent: header },
        body: JSON.stringify(receiptEvent(id)),
      });
      assert.equal(res.status, 201);
      const outcome = (await res.json()) as ReceiptOutcome;
      return (await store.readStream(outcome.stream)).events.find((e) => e.id === outcome.eventId);
    };
    assert.equal((await post('tp-1', traceparent))?.metadata.traceparent, traceparent);
    assert.equal((await post('tp-2', 'not-a-trace'))?.metadata.traceparent, undefined);
  });
});
