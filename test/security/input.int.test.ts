// Strict input through the whole HTTP API (issue 15, docs/security.md "Input" and
// "Secrets"): no type coercion of bodies, I-JSON bodies, 405 with Allow, secrets
// refused on every ingest path with nothing stored, catastrophic schema patterns
// refused at definition time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { SECRET_SAMPLES } from '../support/secretSamples.js';
import { anonymousAuth } from '../../src/security/index.js';

const UNIT = 'libfoo/2.0.0/1.el9/x86_64/rpm';
const SHA = 'ab'.repeat(32);
let counter = 0;
const event = (data: unknown, extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: `e-${++counter}`,
  source: 'https://ci.example.com/p/1',
  type: 'dev.provenant.receipt.v1',
  datacontenttype: 'application/json',
  data,
  ...extra,
});
const receipt = (extra: Record<string, unknown> = {}) => ({
  unit: UNIT,
  action: 'build',
  multipass: true,
  artifacts: [{ uri: 'https://repo.example.com/a.rpm', digest: { sha256: SHA } }],
  ...extra,
});

interface Problem {
  status: number;
  code: string;
  detail: string;
  details?: Record<string, unknown>;
}

describe('strict input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-input-'));
  let store: SQLiteEventStore;
  let app: FastifyInstance;

  before(async () => {
    store = getSQLiteEventStore({ path: join(dir, 'log.db') });
    app = await buildApp({
      auth: anonymousAuth(),
      store,
      storeDescription: 'test',
      ownsStore: true,
    });
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = async (options: InjectOptions) => {
    const res = await app.inject(options);
    return {
      status: res.statusCode,
      headers: res.headers,
      text: res.body,
      body: res.json<Problem>(),
    };
  };
  /** Sends, and asserts the problem code and that nothing was appended. */
  const refused = async (options: InjectOptions, code: string, status = 400) => {
    const head = await store.headPosition();
    const res = await send(options);
    assert.equal(res.status, status, res.text);
    assert.equal(res.body.code, code, res.text);
    assert.match(String(res.headers['content-type']), /application\/problem\+json/);
    assert.equal(await store.headPosition(), head, 'nothing appended');
    return res;
  };

  describe('no type coercion of bodies', () => {
    it('refuses a string for an array, a number for a string, an array for a string', async () => {
      await refused(
        { method: 'PUT', url: '/v1/gates/build', payload: { requiredActions: 'build' } },
        'HTTP_VALIDATION',
      );
      await refused(
        {
          method: 'PUT',
          url: '/v1/gates/build',
          payload: { requiredActions: ['build'], name: 123 },
        },
        'HTTP_VALIDATION',
      );
      await refused(
        {
          method: 'PUT',
          url: '/v1/gates/build',
          payload: { requiredActions: ['build'], external: 'true' },
        },
        'HTTP_VALIDATION',
      );
      await refused(
        { method: 'POST', url: '/v1/receipts/r-1/revoke', payload: { reason: ['x'] } },
        'HTTP_VALIDATION',
      );
    });
    it('accepts the right types, and still reads numbers from a querystring', async () => {
      const ok = await send({
        method: 'PUT',
        url: '/v1/gates/build',
        payload: { requiredActions: ['build'], name: 'Build' },
      });
      assert.ok(ok.status === 200 || ok.status === 201, ok.text);
      const page = await app.inject({ method: 'GET', url: '/v1/events?limit=5' });
      assert.equal(page.statusCode, 200, page.body);
    });
  });

  describe('I-JSON bodies', () => {
    it('refuses duplicate member names on ingest and on definitions', async () => {
      const body = JSON.stringify(event(receipt())).replace('{', '{"id":"first",');
      const res = await refused(
        {
          method: 'POST',
          url: '/v1/events',
          headers: { 'content-type': 'application/cloudevents+json' },
          payload: body,
        },
        'INGEST_DUPLICATE_KEY',
      );
      assert.equal(res.body.details?.['path'], '');
      await refused(
        {
          method: 'PUT',
          url: '/v1/gates/dup',
          headers: { 'content-type': 'application/json' },
          payload: '{"requiredActions":["a"],"name":"x","name":"y"}',
        },
        'INGEST_DUPLICATE_KEY',
      );
    });
    it('refuses escaped lone surrogates', async () => {
      const body = JSON.stringify(event(receipt({ producer: 'PLACEHOLDER' }))).replace(
        'PLACEHOLDER',
        'x\\ud800',
      );
      const res = await refused(
        {
          method: 'POST',
          url: '/v1/events',
          headers: { 'content-type': 'application/cloudevents+json' },
          payload: body,
        },
        'INGEST_LONE_SURROGATE',
      );
      assert.equal(res.body.details?.['path'], '/data/producer');
    });
  });

  describe('405 for a known path', () => {
    it('answers 405 with Allow, and 404 for unknown paths', async () => {
      const res = await refused(
        { method: 'DELETE', url: '/v1/events' },
        'HTTP_METHOD_NOT_ALLOWED',
        405,
      );
      assert.equal(res.headers['allow'], 'GET, HEAD, POST');
      const gate = await refused(
        { method: 'PATCH', url: '/v1/gates/build' },
        'HTTP_METHOD_NOT_ALLOWED',
        405,
      );
      assert.ok(String(gate.headers['allow']).includes('PUT'), String(gate.headers['allow']));
      await refused({ method: 'GET', url: '/v1/nothing-here' }, 'HTTP_NOT_FOUND', 404);
    });
  });

  describe('secrets are refused on every ingest path, never echoed, never stored', () => {
    const gh = SECRET_SAMPLES['github-token'];
    const pem = SECRET_SAMPLES['private-key'];
    const aws = SECRET_SAMPLES['aws-access-key-id'];
    const structured = (body: unknown): InjectOptions => ({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(body),
    });
    const secretFree = (text: string) =>
      Object.values(SECRET_SAMPLES).forEach((s) => assert.ok(!text.includes(s), 'secret echoed'));

    for (const [kind, secret] of Object.entries(SECRET_SAMPLES))
      it(`a receipt holding a ${kind}`, async () => {
        const res = await refused(
          structured(event(receipt({ custom: { note: secret } }))),
          'INGEST_SECRET_DETECTED',
        );
        assert.deepEqual(res.body.details, { path: '/data/custom/note', kind });
        secretFree(res.text);
      });

    it('a pipeline event, and an extension attribute', async () => {
      const res = await refused(
        structured(event({ env: 'prod', key: pem }, { type: 'com.example.deploy.started' })),
        'INGEST_SECRET_DETECTED',
      );
      assert.equal(res.body.details?.['path'], '/data/key');
      await refused(structured(event(receipt(), { token: gh })), 'INGEST_SECRET_DETECTED');
      secretFree(res.text);
    });

    it('binary mode: in a ce- header, in JSON data and in text data', async () => {
      const headers = {
        'ce-specversion': '1.0',
        'ce-source': '/s',
        'ce-type': 'com.example.note',
      };
      const header = await refused(
        {
          method: 'POST',
          url: '/v1/events',
          headers: {
            ...headers,
            'ce-id': 'b1',
            'ce-token': aws,
            'content-type': 'application/json',
          },
          payload: '{"a":1}',
        },
        'INGEST_SECRET_DETECTED',
      );
      assert.deepEqual(header.body.details, { path: '/token', kind: 'aws-access-key-id' });
      await refused(
        {
          method: 'POST',
          url: '/v1/events',
          headers: { ...headers, 'ce-id': 'b2', 'content-type': 'application/json' },
          payload: JSON.stringify({ a: [gh] }),
        },
        'INGEST_SECRET_DETECTED',
      );
      const text = await refused(
        {
          method: 'POST',
          url: '/v1/events',
          headers: { ...headers, 'ce-id': 'b3', 'content-type': 'text/plain' },
          payload: `key:\n${pem}`,
        },
        'INGEST_SECRET_DETECTED',
      );
      assert.equal(text.body.details?.['path'], '/data');
    });

    it('batch: the element with a secret is rejected, the others stored', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        payload: JSON.stringify([
          event(receipt({ action: 'lint' })),
          event(receipt({ custom: { t: SECRET_SAMPLES.jwt } })),
        ]),
      });
      assert.equal(res.statusCode, 200, res.body);
      const report = res.json<{ results: { ok: boolean; problem?: Problem }[] }>();
      assert.deepEqual(
        report.results.map((r) => r.ok),
        [true, false],
      );
      assert.equal(report.results[1]?.problem?.code, 'INGEST_SECRET_DETECTED');
      assert.deepEqual(report.results[1]?.problem?.details, {
        path: '/1/data/custom/t',
        kind: 'jwt',
      });
      secretFree(res.body);
      const { events } = await store.readStream(`unit-${UNIT}`);
      secretFree(
        JSON.stringify(events, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
      );
    });

    it('a JUnit report naming a secret', async () => {
      const xml = `<testsuite name="s" tests="1"><testcase name="uses ${aws}"><failure message="x"/></testcase></testsuite>`;
      const res = await refused(
        {
          method: 'POST',
          url: `/v1/units/${encodeURIComponent(UNIT)}/actions/unit-test/junit`,
          headers: { 'content-type': 'application/xml' },
          payload: xml,
        },
        'INGEST_SECRET_DETECTED',
      );
      assert.equal(res.body.details?.['kind'], 'aws-access-key-id');
      secretFree(res.text);
    });

    it('a definition body', async () => {
      await refused(
        {
          method: 'PUT',
          url: '/v1/gates/leaky',
          payload: { requiredActions: ['a'], description: gh },
        },
        'INGEST_SECRET_DETECTED',
      );
    });
  });

  describe('custom-schema patterns', () => {
    it('refuses a catastrophic pattern at definition time, in pattern and patternProperties', async () => {
      for (const customSchema of [
        { type: 'object', properties: { v: { type: 'string', pattern: '^(a+)+$' } } },
        { type: 'object', patternProperties: { '^([a-z]+)*y$': { type: 'string' } } },
      ]) {
        const res = await refused(
          {
            method: 'PUT',
            url: '/v1/gates/redos',
            payload: { requiredActions: ['a'], customSchema },
          },
          'DOMAIN_UNSAFE_PATTERN',
        );
        assert.ok(typeof res.body.details?.['path'] === 'string');
      }
      const safe = await send({
        method: 'PUT',
        url: '/v1/gates/redos',
        payload: {
          requiredActions: ['a'],
          customSchema: { type: 'object', properties: { v: { type: 'string', pattern: '^a+$' } } },
        },
      });
      assert.ok(safe.status < 300, safe.text);
    });
  });
});
