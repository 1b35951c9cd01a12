// JUnit reports over a REAL loopback socket (POST
// /v1/units/{key}/actions/{action}/junit): recorded as receipts with counts and
// failing test names, redeliveries and conflicts, and each bad report refused with
// its own code and nothing appended.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { ReceiptOutcome } from '../../src/application/index.js';
import type { Problem } from '../../src/http/problem.js';
import { UNIT, listenIngest, poster } from '../support/ingestLoopback.js';

describe('ingest over loopback', () => {
  let store: SQLiteEventStore;
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    ({ store, app, base } = await listenIngest());
  });
  after(() => app.close());
  const { post } = poster(() => base);

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
        {
          name: 'rejects trailing commas',
          classname: 'parser.Json',
          kind: 'failure',
          message: 'no',
        },
        { name: 'reads <tags>', classname: 'parser.Xml', kind: 'error', message: 'boom' },
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
