// Ingest over a REAL loopback socket: the `cloudevents` SDK's own emitters
// (binary and structured mode) as the client, `fetch` for batches, redeliveries
// and conflicts, and one append per unit for a batch. Each kind of bad input from
// issue 4 (ingestBadInput.int.test.ts), JUnit reports (ingestJunit.int.test.ts)
// and a domain that fails (ingestDomainFailure.int.test.ts) have files of their own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudEvent, Mode, emitterFor, httpTransport } from 'cloudevents';
import type { FastifyInstance } from 'fastify';
import type { SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { IngestOutcome, ReceiptOutcome } from '../../src/application/index.js';
import type { BatchReport } from '../../src/http/ingestReply.js';
import type { Problem } from '../../src/http/problem.js';
import {
  BATCH,
  RECEIPT_TYPE,
  SOURCE,
  UNIT,
  listenIngest,
  poster,
  receiptEvent,
} from '../support/ingestLoopback.js';

describe('ingest over loopback', () => {
  let store: SQLiteEventStore;
  let app: FastifyInstance;
  let base: string;
  let counter = 0;
  const nextId = (): string => `evt-${++counter}`;

  before(async () => {
    ({ store, app, base } = await listenIngest());
  });
  after(() => app.close());
  const { post, postStructured } = poster(() => base);

  it('records a receipt sent by the SDK emitter in binary mode, and a redelivery is the original', async () => {
    const emit = emitterFor(httpTransport(`${base}/v1/events`), { mode: Mode.BINARY });
    const event = new CloudEvent({
      id: nextId(),
      source: SOURCE,
      type: RECEIPT_TYPE,
      subject: UNIT,
      data: { unit: UNIT, action: 'build', multipass: true, producer: 'tekton' },
    });
    const head = await store.headPosition();
    const first = (await emit(event)) as { body: string; headers: Record<string, string> };
    assert.match(first.headers['content-type'] ?? '', /^application\/json/);
    const outcome = JSON.parse(first.body) as ReceiptOutcome;
    assert.equal(outcome.kind, 'receipt');
    assert.equal(outcome.duplicate, false);
    assert.equal(outcome.unit, UNIT);
    assert.equal(outcome.stream, `unit-${UNIT}`);
    assert.ok(BigInt(outcome.position) > head);

    const { events } = await store.readStream(`unit-${UNIT}`);
    const stored = events.find((e) => e.id === outcome.eventId);
    assert.ok(stored, 'the receipt event is in the unit stream');
    assert.equal(stored.type, 'ReceiptRecorded.v1');
    assert.equal((stored.data as { receiptId: string }).receiptId, outcome.receiptId);
    assert.deepEqual(stored.metadata.context, {
      id: event.id,
      source: SOURCE,
      type: RECEIPT_TYPE,
      subject: UNIT,
      time: event.time,
    });

    const headAfter = await store.headPosition();
    const again = JSON.parse(((await emit(event)) as { body: string }).body) as ReceiptOutcome;
    assert.deepEqual(again, { ...outcome, duplicate: true });
    assert.equal(await store.headPosition(), headAfter, 'a redelivery appends nothing');
  });

  it('records events sent by the SDK emitter in structured mode (receipt and pipeline event)', async () => {
    const emit = emitterFor(httpTransport(`${base}/v1/events`), { mode: Mode.STRUCTURED });
    const receipt = new CloudEvent({
      id: nextId(),
      source: SOURCE,
      type: RECEIPT_TYPE,
      data: { unit: UNIT, action: 'unit-test', multipass: false, results: { failures: 2 } },
    });
    const outcome = JSON.parse(((await emit(receipt)) as { body: string }).body) as ReceiptOutcome;
    assert.equal(outcome.kind, 'receipt');
    assert.equal(outcome.duplicate, false);
    const { events } = await store.readStream(outcome.stream);
    const data = events.find((e) => e.id === outcome.eventId)?.data as Record<string, unknown>;
    assert.equal(data['action'], 'unit-test');
    assert.equal(data['multipass'], false);

    const other = new CloudEvent({
      id: nextId(),
      source: 'https://scm.example.com/repos/openssl',
      type: 'com.example.scm.push',
      data: { ref: 'refs/heads/main', commit: 'a1b2c3' },
    });
    const pipeline = JSON.parse(((await emit(other)) as { body: string }).body) as IngestOutcome;
    assert.equal(pipeline.kind, 'pipeline-event');
    assert.match(pipeline.stream, /^source-[0-9a-f]{32}$/);
    const stored = (await store.readStream(pipeline.stream)).events.at(-1);
    assert.equal(stored?.type, 'PipelineEventRecorded.v1');
    const cloudEvent = (stored?.data as { cloudEvent: Record<string, unknown> }).cloudEvent;
    assert.equal(cloudEvent['type'], 'com.example.scm.push');
    assert.deepEqual(cloudEvent['data'], { ref: 'refs/heads/main', commit: 'a1b2c3' });
  });

  it('answers 201 first, 200 with the original result on redelivery, 409 for other content', async () => {
    const event = receiptEvent(nextId(), { action: 'sca' });
    const first = await postStructured<ReceiptOutcome>(event);
    assert.equal(first.status, 201);
    assert.match(first.contentType, /^application\/json/);
    assert.equal(first.body.duplicate, false);
    const head = await store.headPosition();

    const second = await postStructured<ReceiptOutcome>(event);
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, { ...first.body, duplicate: true });

    const changed = await postStructured<Problem>({
      ...event,
      data: { unit: UNIT, action: 'sca', multipass: false },
    });
    assert.equal(changed.status, 409);
    assert.match(changed.contentType, /^application\/problem\+json/);
    // The same unit: the domain finds the receipt id (derived from source + id) taken.
    assert.equal(changed.body.code, 'DOMAIN_RECEIPT_CONFLICT');
    // Another unit: the store finds the idempotency key taken in another stream.
    const elsewhere = await postStructured<Problem>({
      ...event,
      data: { unit: 'zlib/1.3.1/1.el9/x86_64/rpm', action: 'sca', multipass: true },
    });
    assert.equal(elsewhere.status, 409);
    assert.equal(elsewhere.body.code, 'STORE_IDEMPOTENCY_CONFLICT');
    assert.equal(await store.headPosition(), head);

    // The same pair for a pipeline event: duplicate, then conflict.
    const push = {
      specversion: '1.0',
      id: nextId(),
      source: 'https://scm.example.com/repos/x',
      type: 'com.example.scm.push',
      data: { n: 1 },
    };
    assert.equal((await postStructured(push)).status, 201);
    const pushAgain = await postStructured<IngestOutcome>(push);
    assert.equal(pushAgain.status, 200);
    assert.equal(pushAgain.body.duplicate, true);
    const pushChanged = await postStructured<Problem>({ ...push, data: { n: 2 } });
    assert.equal(pushChanged.status, 409);
    assert.equal(pushChanged.body.code, 'STORE_IDEMPOTENCY_CONFLICT');
  });

  it('reports a batch per item: valid items appended, invalid ones rejected with their reason', async () => {
    const dup = receiptEvent(nextId(), { action: 'image-scan' });
    assert.equal((await postStructured(dup)).status, 201);
    const head = await store.headPosition();
    const batch = [
      receiptEvent(nextId(), { action: 'lint' }),
      { ...receiptEvent(nextId()), specversion: '0.3' },
      dup,
      { specversion: '1.0', id: nextId(), source: SOURCE, type: 'com.example.note', data: {} },
      receiptEvent(nextId(), { unit: 'openssl/3.2.1' }),
      { ...receiptEvent(nextId()), time: 'yesterday' },
      { ...dup, data: { unit: UNIT, action: 'image-scan', multipass: false } },
      receiptEvent(nextId(), { multipass: 'yes' }),
    ];
    const res = await post<BatchReport>(
      '/v1/events',
      { 'content-type': BATCH },
      JSON.stringify(batch),
    );
    assert.equal(res.status, 200);
    const report = res.body;
    assert.equal(report.mode, 'batch');
    assert.equal(report.total, batch.length);
    assert.deepEqual(
      report.results.map((r) => r.index),
      batch.map((_, i) => i),
    );
    const summary = report.results.map((r) =>
      r.ok ? [r.status, r.result.kind] : [r.status, r.problem.code],
    );
    assert.deepEqual(summary, [
      [201, 'receipt'],
      [400, 'INGEST_BAD_SPECVERSION'],
      [200, 'receipt'],
      [201, 'pipeline-event'],
      [400, 'DOMAIN_INVALID_UNIT_KEY'],
      [400, 'INGEST_BAD_TIME'],
      [409, 'DOMAIN_RECEIPT_CONFLICT'],
      [422, 'INGEST_INVALID_RECEIPT'],
    ]);
    assert.equal(report.accepted, 2);
    assert.equal(report.duplicates, 1);
    assert.equal(report.rejected, 5);
    for (const r of report.results) {
      const sent = batch[r.index] as { id: string; source: string };
      assert.equal(r.id, sent.id, 'each result names its event');
      assert.equal(r.source, sent.source);
      if (!r.ok) assert.match(r.problem.type, /^urn:provenant:problem:/);
    }
    // Exactly the two accepted events were appended.
    const appended = await store.readAll({ from: head });
    assert.equal(appended.length, 2);
    assert.deepEqual(appended.map((e) => e.type).sort(), [
      'PipelineEventRecorded.v1',
      'ReceiptRecorded.v1',
    ]);
  });

  it("refuses times ahead of the store's clock past the skew allowed (5 minutes), and appends nothing for them", async () => {
    const later = (ms: number) => new Date(Date.now() + ms).toISOString();
    const head = await store.headPosition();
    // One event: its CloudEvent time.
    const single = await postStructured<Problem>({
      ...receiptEvent(nextId()),
      time: later(10 * 60_000),
    });
    assert.equal(single.status, 400);
    assert.equal(single.body.code, 'INGEST_TIME_IN_FUTURE');
    assert.match(
      single.body.detail ?? '',
      /^time \S+ lies ahead of the store's clock \(\S+\) by more than the 300 s allowed/,
    );
    // A batch: a receipt's finishedAt, its startedAt, and times within the skew.
    const batch = [
      receiptEvent(nextId(), { finishedAt: '2099-01-01T00:00:00Z' }),
      receiptEvent(nextId(), { startedAt: later(60 * 60_000) }),
      { ...receiptEvent(nextId(), { finishedAt: later(60_000) }), time: later(60_000) },
    ];
    const res = await post<BatchReport>(
      '/v1/events',
      { 'content-type': BATCH },
      JSON.stringify(batch),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.results.map((r) => (r.ok ? r.status : `${r.status} ${r.problem.code}`)),
      ['400 INGEST_TIME_IN_FUTURE', '400 INGEST_TIME_IN_FUTURE', 201],
    );
    const [finished] = res.body.results;
    assert.ok(finished !== undefined && !finished.ok);
    assert.match(finished.problem.detail ?? '', /^finishedAt 2099-01-01T00:00:00Z lies ahead/);
    assert.equal((await store.readAll({ from: head })).length, 1, 'only the event within the skew');
  });

  it('keeps the order of a batch within one stream', async () => {
    const unit = 'zlib/1.3.1/1.el9/x86_64/rpm';
    const batch = Array.from({ length: 30 }, (_, i) =>
      receiptEvent(nextId(), { unit, action: `step-${i}` }),
    );
    const res = await post<BatchReport>(
      '/v1/events',
      { 'content-type': BATCH },
      JSON.stringify(batch),
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.accepted, 30);
    const { events } = await store.readStream(`unit-${unit}`);
    assert.deepEqual(
      events.map((e) => (e.data as { action: string }).action),
      batch.map((_, i) => `step-${i}`),
    );
  });

  it('records a batch with one append per unit, each item with its own result', async () => {
    const units = ['curl/8.6.0/1.el9/x86_64/rpm', 'bash/5.2/1.el9/x86_64/rpm'];
    const dup = receiptEvent(nextId(), { unit: units[0], action: 'pre' });
    assert.equal((await postStructured(dup)).status, 201);
    const batch = [
      ...Array.from({ length: 10 }, (_, i) =>
        receiptEvent(nextId(), { unit: units[i % 2], action: `step-${i}` }),
      ),
      dup,
      { specversion: '1.0', id: nextId(), source: SOURCE, type: 'com.example.note', data: {} },
      { ...dup, data: { unit: units[0], action: 'pre', multipass: false } },
    ];
    const before = store.stats().appends;
    const res = await post<BatchReport>(
      '/v1/events',
      { 'content-type': BATCH },
      JSON.stringify(batch),
    );
    assert.equal(res.status, 200);
    // Two units and one pipeline event: three appends for ten new receipts.
    assert.equal(store.stats().appends - before, 3);
    assert.deepEqual(
      res.body.results.map((r) => (r.ok ? [r.status, r.id] : [r.status, r.problem.code])),
      [
        ...batch.slice(0, 10).map((e) => [201, e.id]),
        [200, dup.id],
        [201, batch[11]?.id],
        [409, 'DOMAIN_RECEIPT_CONFLICT'],
      ],
    );
    for (const r of res.body.results.slice(0, 10)) {
      assert.ok(r.ok && r.result.kind === 'receipt');
      const { events } = await store.readStream(r.result.stream, {
        from: r.result.revision,
        maxCount: 1,
      });
      assert.equal(events[0]?.id, r.result.eventId);
      assert.equal((events[0]?.metadata.context as { id: string }).id, r.id);
    }
  });

  it('lets group commit gather the appends of a batch across units', async () => {
    const batch = Array.from({ length: 40 }, (_, i) =>
      receiptEvent(nextId(), { unit: `pkg${i}/1.0/1/noarch/rpm` }),
    );
    const before = store.stats().commits;
    const res = await post<BatchReport>(
      '/v1/events',
      { 'content-type': BATCH },
      JSON.stringify(batch),
    );
    assert.equal(res.body.accepted, 40);
    const commits = store.stats().commits - before;
    assert.ok(commits < 10, `40 receipts for 40 units took ${commits} commits`);
  });
});
