// Ingest over a REAL loopback socket: every kind of bad input from issue 4 gets a
// 4xx problem+json with its own code, appends nothing (the head position does not
// move), and the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { DomainService } from '../../src/application/index.js';
import type { SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { ReceiptOutcome } from '../../src/application/index.js';
import type { Problem } from '../../src/http/problem.js';
import {
  BATCH,
  RECEIPT_TYPE,
  SOURCE,
  STRUCTURED,
  UNIT,
  listenIngest,
  poster,
  receiptEvent,
} from '../support/ingestLoopback.js';

describe('ingest over loopback', () => {
  let store: SQLiteEventStore;
  let domain: DomainService;
  let app: FastifyInstance;
  let base: string;
  let counter = 0;
  const nextId = (): string => `evt-${++counter}`;

  before(async () => {
    ({ store, domain, app, base } = await listenIngest());
  });
  after(() => app.close());
  const { post, postStructured } = poster(() => base);

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
});
