// Ingest over a REAL loopback socket: the `cloudevents` SDK's own emitters
// (binary and structured mode) as the client, `fetch` for batches and for every
// kind of bad input from issue 4. Each bad input gets a 4xx problem+json with its
// own code, appends nothing (the head position does not move), and the server
// keeps serving.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CloudEvent, Mode, emitterFor, httpTransport } from 'cloudevents';
import type { FastifyInstance } from 'fastify';
import { createDomainService, type DomainService } from '../../src/application/index.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import type { IngestOutcome, ReceiptOutcome } from '../../src/application/index.js';
import type { BatchReport } from '../../src/http/ingestReply.js';
import type { Problem } from '../../src/http/problem.js';

const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
const SOURCE = 'https://ci.example.com/pipelines/openssl';
const RECEIPT_TYPE = 'dev.provenant.receipt.v1';
const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';

interface Reply<T = unknown> {
  status: number;
  contentType: string;
  body: T;
}

const receiptEvent = (id: string, data: Record<string, unknown> = {}): Record<string, unknown> => ({
  specversion: '1.0',
  id,
  source: SOURCE,
  type: RECEIPT_TYPE,
  time: '2024-05-01T12:00:00Z',
  datacontenttype: 'application/json',
  data: { unit: UNIT, action: 'build', multipass: true, ...data },
});

describe('ingest over loopback', () => {
  let store: SQLiteEventStore;
  let domain: DomainService;
  let app: FastifyInstance;
  let base: string;
  let counter = 0;
  const nextId = (): string => `evt-${++counter}`;

  before(async () => {
    store = getSQLiteEventStore({ path: ':memory:' });
    domain = createDomainService({ eventStore: store });
    app = await buildApp({
      auth: anonymousAuth(),
      store,
      domain,
      storeDescription: 'sqlite :memory:',
      ownsStore: true,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(() => app.close());

  async function post<T = unknown>(
    path: string,
    headers: Record<string, string>,
    body: string | Uint8Array,
  ): Promise<Reply<T>> {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers, body });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      body: (text === '' ? undefined : JSON.parse(text)) as T,
    };
  }

  const postStructured = <T = unknown>(event: unknown): Promise<Reply<T>> =>
    post<T>('/v1/events', { 'content-type': STRUCTURED }, JSON.stringify(event));

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

  describe('bad input: a 4xx problem with its own code, nothing appended', () => {
    const deep = (n: number): unknown => (n === 0 ? 1 : { a: deep(n - 1) });
    const cases: {
      name: string;
      headers: Record<string, string>;
      body: () => string | Uint8Array;
      status: number;
      code: string;
    }[] = [
      {
        name: 'malformed JSON',
        headers: { 'content-type': STRUCTURED },
        body: () => '{"specversion": "1.0", "id": ',
        status: 400,
        code: 'INGEST_MALFORMED_JSON',
      },
      {
        name: 'a content type that is not a CloudEvents format, without ce-* headers',
        headers: { 'content-type': 'text/plain' },
        body: () => 'hello',
        status: 415,
        code: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'an unsupported event format',
        headers: { 'content-type': 'application/cloudevents+xml' },
        body: () => '<event/>',
        status: 415,
        code: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'a malformed content type',
        headers: { 'content-type': 'application/' },
        body: () => '{}',
        status: 415,
        code: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'a missing content type',
        headers: {},
        body: () => new Uint8Array(Buffer.from(JSON.stringify(receiptEvent('x')))),
        status: 415,
        code: 'INGEST_MISSING_CONTENT_TYPE',
      },
      {
        name: 'a missing required attribute (id)',
        headers: { 'content-type': STRUCTURED },
        body: () => {
          const { id: _id, ...rest } = receiptEvent('x');
          return JSON.stringify(rest);
        },
        status: 400,
        code: 'INGEST_MISSING_ATTRIBUTE',
      },
      {
        name: 'an empty required attribute (source)',
        headers: { 'content-type': STRUCTURED },
        body: () => JSON.stringify({ ...receiptEvent('x'), source: '' }),
        status: 400,
        code: 'INGEST_EMPTY_ATTRIBUTE',
      },
      {
        name: 'specversion 0.3',
        headers: { 'content-type': STRUCTURED },
        body: () => JSON.stringify({ ...receiptEvent('x'), specversion: '0.3' }),
        status: 400,
        code: 'INGEST_BAD_SPECVERSION',
      },
      {
        name: 'an invalid time',
        headers: { 'content-type': STRUCTURED },
        body: () => JSON.stringify({ ...receiptEvent('x'), time: '2024-02-30T25:00:00Z' }),
        status: 400,
        code: 'INGEST_BAD_TIME',
      },
      {
        name: 'an invalid extension name',
        headers: { 'content-type': STRUCTURED },
        body: () => JSON.stringify({ ...receiptEvent('x'), 'Bad-Name': 'v' }),
        status: 400,
        code: 'INGEST_BAD_EXTENSION_NAME',
      },
      {
        name: 'binary mode with specversion 0.3',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '0.3',
          'ce-id': 'x',
          'ce-source': SOURCE,
          'ce-type': RECEIPT_TYPE,
        },
        body: () => JSON.stringify({ unit: UNIT, action: 'build', multipass: true }),
        status: 400,
        code: 'INGEST_BAD_SPECVERSION',
      },
      {
        name: 'binary mode with an empty ce-type',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': 'x',
          'ce-source': SOURCE,
          'ce-type': '',
        },
        body: () => JSON.stringify({ unit: UNIT, action: 'build', multipass: true }),
        status: 400,
        code: 'INGEST_EMPTY_ATTRIBUTE',
      },
      {
        name: 'a receipt for a malformed unit key',
        headers: { 'content-type': STRUCTURED },
        body: () => JSON.stringify(receiptEvent('x', { unit: 'openssl/3.2.1/../x86_64/rpm' })),
        status: 400,
        code: 'DOMAIN_INVALID_UNIT_KEY',
      },
      {
        name: 'receipt data that does not match its schema',
        headers: { 'content-type': STRUCTURED },
        body: () => JSON.stringify(receiptEvent('x', { multipass: undefined, extra: 1 })),
        status: 422,
        code: 'INGEST_INVALID_RECEIPT',
      },
      {
        name: "a custom section that violates its gate's schema",
        headers: { 'content-type': STRUCTURED },
        body: () =>
          JSON.stringify(receiptEvent('x', { action: 'sast', custom: { findings: 'many' } })),
        status: 422,
        code: 'DOMAIN_CUSTOM_SCHEMA_VIOLATION',
      },
      {
        name: 'an oversized body (over 1 MiB)',
        headers: { 'content-type': STRUCTURED },
        body: () =>
          JSON.stringify(receiptEvent('x', { custom: { notes: 'x '.repeat(600 * 1024) } })),
        status: 413,
        code: 'INGEST_BODY_TOO_LARGE',
      },
      {
        name: 'an oversized event (over 256 KiB)',
        headers: { 'content-type': STRUCTURED },
        body: () =>
          JSON.stringify(receiptEvent('x', { custom: { notes: 'x '.repeat(150 * 1024) } })),
        status: 413,
        code: 'INGEST_EVENT_TOO_LARGE',
      },
      {
        name: 'a body nested too deep',
        headers: { 'content-type': STRUCTURED },
        body: () => JSON.stringify(receiptEvent('x', { custom: deep(40) })),
        status: 400,
        code: 'INGEST_TOO_DEEP',
      },
      {
        name: 'a __proto__ key',
        headers: { 'content-type': STRUCTURED },
        body: () =>
          JSON.stringify(receiptEvent('x')).replace('"unit"', '"__proto__":{"polluted":1},"unit"'),
        status: 400,
        code: 'INGEST_FORBIDDEN_KEY',
      },
      {
        name: 'a constructor key',
        headers: { 'content-type': STRUCTURED },
        body: () =>
          JSON.stringify(receiptEvent('x', { custom: { constructor: { prototype: {} } } })),
        status: 400,
        code: 'INGEST_FORBIDDEN_KEY',
      },
      {
        name: 'inline binary (a long base64 run)',
        headers: { 'content-type': STRUCTURED },
        body: () => JSON.stringify(receiptEvent('x', { custom: { blob: 'QUJD'.repeat(2000) } })),
        status: 400,
        code: 'INGEST_INLINE_BINARY',
      },
      {
        name: 'invalid UTF-8',
        headers: { 'content-type': STRUCTURED },
        body: () => new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
        status: 400,
        code: 'INGEST_BAD_ENCODING',
      },
      {
        name: 'a batch that is not an array',
        headers: { 'content-type': BATCH },
        body: () => JSON.stringify(receiptEvent('x')),
        status: 400,
        code: 'INGEST_BATCH_NOT_ARRAY',
      },
    ];

    before(async () => {
      // A gate whose schema constrains the custom section of `sast` receipts.
      await domain.defineGate('sast-findings', {
        requiredActions: ['sast'],
        customSchema: {
          type: 'object',
          properties: { findings: { type: 'integer', minimum: 0 } },
          required: ['findings'],
        },
      });
    });

    for (const c of cases)
      it(c.name, async () => {
        const head = await store.headPosition();
        const res = await post<Problem>('/v1/events', c.headers, c.body());
        assert.equal(res.status, c.status, JSON.stringify(res.body));
        assert.match(res.contentType, /^application\/problem\+json/);
        assert.equal(res.body.code, c.code);
        assert.equal(res.body.status, c.status);
        assert.equal(
          res.body.type,
          `urn:provenant:problem:${c.code.toLowerCase().replaceAll('_', '-')}`,
        );
        assert.equal(typeof res.body.detail, 'string');
        assert.equal(await store.headPosition(), head, 'nothing was appended');
      });

    it('still serves after all of them', async () => {
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const ok = await postStructured<ReceiptOutcome>(
        receiptEvent(nextId(), { action: 'sast', custom: { findings: 0 } }),
      );
      assert.equal(ok.status, 201);
      assert.equal(ok.body.kind, 'receipt');
    });
  });

  describe('JUnit reports', () => {
    const path = (unit: string, action: string): string =>
      `/v1/units/${encodeURIComponent(unit)}/actions/${encodeURIComponent(action)}/junit`;
    const failing = `<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="unit" tests="3">
  <testcase classname="parser.Json" name="parses numbers"/>
  <testcase classname="parser.Json" name="rejects trailing commas"><failure message="no"/></testcase>
  <testcase classname="parser.Xml" name="reads &lt;tags&gt;"><error message="boom"/></testcase>
</testsuite>`;
    const passing =
      '<testsuites><testsuite name="s"><testcase name="ok"/></testsuite></testsuites>';

    it('records a failing report as a receipt with counts and failing test names', async () => {
      const res = await post<ReceiptOutcome>(
        `${path(UNIT, 'unit-test')}?producer=jenkins`,
        { 'content-type': 'application/xml' },
        failing,
      );
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.kind, 'receipt');
      assert.equal(res.body.unit, UNIT);
      const stored = (await store.readStream(`unit-${UNIT}`)).events.find(
        (e) => e.id === res.body.eventId,
      );
      const data = stored?.data as {
        action: string;
        multipass: boolean;
        producer: string;
        results: { junit: { tests: number; failures: number; errors: number; failing: unknown } };
      };
      assert.equal(data.action, 'unit-test');
      assert.equal(data.multipass, false);
      assert.equal(data.producer, 'jenkins');
      assert.equal(data.results.junit.tests, 3);
      assert.equal(data.results.junit.failures, 1);
      assert.equal(data.results.junit.errors, 1);
      assert.deepEqual(data.results.junit.failing, [
        { name: 'rejects trailing commas', classname: 'parser.Json', kind: 'failure' },
        { name: 'reads <tags>', classname: 'parser.Xml', kind: 'error' },
      ]);

      const head = await store.headPosition();
      const again = await post<ReceiptOutcome>(
        `${path(UNIT, 'unit-test')}?producer=jenkins`,
        { 'content-type': 'application/xml' },
        failing,
      );
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, { ...res.body, duplicate: true });
      // The same report with other receipt fields is other content under the same key.
      const other = await post<Problem>(
        `${path(UNIT, 'unit-test')}?producer=github-actions`,
        { 'content-type': 'application/xml' },
        failing,
      );
      assert.equal(other.status, 409);
      assert.equal(other.body.code, 'STORE_IDEMPOTENCY_CONFLICT');
      assert.equal(await store.headPosition(), head);
    });

    it('records a passing report as multipass', async () => {
      const res = await post<ReceiptOutcome>(
        path(UNIT, 'integration-test'),
        { 'content-type': 'application/junit+xml; charset=utf-8' },
        passing,
      );
      assert.equal(res.status, 201);
      const stored = (await store.readStream(`unit-${UNIT}`)).events.find(
        (e) => e.id === res.body.eventId,
      );
      assert.equal((stored?.data as { multipass: boolean }).multipass, true);
    });

    const bad: {
      name: string;
      url: string;
      type?: string;
      body: string;
      status: number;
      code: string;
    }[] = [
      {
        name: 'a DTD',
        url: path(UNIT, 'unit-test'),
        type: 'text/xml',
        body: '<!DOCTYPE x [<!ENTITY a "b">]><testsuite/>',
        status: 400,
        code: 'INGEST_JUNIT_DTD_FORBIDDEN',
      },
      {
        name: 'malformed XML',
        url: path(UNIT, 'unit-test'),
        type: 'application/xml',
        body: '<testsuite><testcase></testsuite>',
        status: 400,
        code: 'INGEST_JUNIT_MALFORMED',
      },
      {
        name: 'a JSON body',
        url: path(UNIT, 'unit-test'),
        type: 'application/json',
        body: '{}',
        status: 415,
        code: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'no content type',
        url: path(UNIT, 'unit-test'),
        body: passing,
        status: 415,
        code: 'INGEST_MISSING_CONTENT_TYPE',
      },
      {
        name: 'a malformed unit key',
        url: path('openssl/3.2.1', 'unit-test'),
        type: 'application/xml',
        body: passing,
        status: 400,
        code: 'DOMAIN_INVALID_UNIT_KEY',
      },
      {
        name: 'a malformed action',
        url: path(UNIT, '-nope'),
        type: 'application/xml',
        body: passing,
        status: 400,
        code: 'DOMAIN_INVALID_RECEIPT',
      },
    ];
    it('takes the unit key as one URL-encoded segment only', async () => {
      const head = await store.headPosition();
      const res = await post<Problem>(
        `/v1/units/${UNIT}/actions/unit-test/junit`,
        { 'content-type': 'application/xml' },
        passing,
      );
      // No route matches; the app's not-found path answers (415 when it cannot
      // parse the body's type first, 404 otherwise). Nothing is recorded.
      assert.ok(
        [404, 415].includes(res.status) &&
          ['HTTP_NOT_FOUND', 'HTTP_UNSUPPORTED_MEDIA_TYPE'].includes(res.body.code),
        JSON.stringify(res.body),
      );
      assert.equal(await store.headPosition(), head);
    });

    for (const c of bad)
      it(`rejects ${c.name}`, async () => {
        const head = await store.headPosition();
        const res = await post<Problem>(
          c.url,
          c.type === undefined ? {} : { 'content-type': c.type },
          new Uint8Array(Buffer.from(c.body)),
        );
        assert.equal(res.status, c.status, JSON.stringify(res.body));
        assert.match(res.contentType, /^application\/problem\+json/);
        assert.equal(res.body.code, c.code);
        assert.equal(await store.headPosition(), head);
      });
  });
});

describe('ingest when the domain fails unexpectedly', () => {
  const BROKEN = 'broken/1.0/1/noarch/rpm';
  let store: SQLiteEventStore;
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    store = getSQLiteEventStore({ path: ':memory:' });
    const real = createDomainService({ eventStore: store });
    // A domain whose receipts for one unit fail with a plain (non-Provenant) error.
    const domain: DomainService = {
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
    };
    app = await buildApp({
      auth: anonymousAuth(),
      store,
      domain,
      storeDescription: 'sqlite :memory:',
      ownsStore: true,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
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
