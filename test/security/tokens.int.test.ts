// Static API tokens, bad Authorization input, credentials in the query string,
// forged X-Forwarded-* headers, producer scopes, and who did what: the principal
// recorded in every appended event's metadata.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import {
  createAuthenticator,
  createStaticToken,
  type TokenEntry,
} from '../../src/security/index.js';
import type { RecordedEvent } from '../../src/eventStore/types.js';
import {
  ENCODED_UNIT,
  fixture,
  fixtureApp,
  passRelease,
  UNIT,
  type Fixture,
} from '../support/attestations.js';

const admin = createStaticToken();
const ci = createStaticToken();
const reader = createStaticToken();
const entries: TokenEntry[] = [
  { name: 'admin', sha256: admin.sha256, roles: ['admin'] },
  { name: 'reader', sha256: reader.sha256, roles: ['reader'] },
  {
    name: 'ci',
    sha256: ci.sha256,
    roles: ['producer'],
    scope: {
      sources: ['https://ci.example.com/*'],
      types: ['dev.provenant.receipt.v1'],
      actions: ['build', 'unit-test'],
      units: ['openssl/*'],
    },
  },
];
const auth = () =>
  createAuthenticator({ principals: { tokens: entries, certificates: [], oidc: [] } });
const bearer = (token: { token: string }) => ({ authorization: `Bearer ${token.token}` });

interface Problem {
  code: string;
  status: number;
  instance?: string;
  details?: Record<string, unknown>;
}

let seq = 0;
const receiptEvent = (
  overrides: Record<string, unknown> = {},
  data: Record<string, unknown> = {},
) => ({
  specversion: '1.0',
  id: `evt-${++seq}`,
  source: 'https://ci.example.com/pipelines/el9',
  type: 'dev.provenant.receipt.v1',
  data: { unit: UNIT, action: 'build', multipass: true, ...data },
  ...overrides,
});

describe('static tokens, bad input and who did what', () => {
  let f: Fixture;
  let app: FastifyInstance;

  before(async () => {
    f = await fixture();
    app = await fixtureApp(f, auth());
  });
  after(() => app.close());

  const post = (headers: Record<string, string>, payload: unknown, url = '/v1/events') =>
    app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/cloudevents+json', ...headers },
      payload: JSON.stringify(payload),
    });
  const events = async (): Promise<RecordedEvent[]> => f.store.readAll({ maxCount: 10_000 });
  const last = async (type: string): Promise<RecordedEvent | undefined> =>
    (await events()).filter((e) => e.type === type).at(-1);

  /** Asserts a refusal with `status` and `code`, nothing appended, no secret in the answer. */
  async function refused(
    send: () => Promise<{ statusCode: number; body: string; json: <T>() => T }>,
    status: number,
    code: string,
  ): Promise<Problem> {
    const head = await f.store.headPosition();
    const response = await send();
    assert.equal(response.statusCode, status, response.body);
    const problem = response.json<Problem>();
    assert.equal(problem.code, code);
    assert.equal(await f.store.headPosition(), head, `${code}: nothing appended`);
    for (const secret of [admin, ci, reader])
      for (const text of [secret.token, secret.sha256])
        assert.ok(!response.body.includes(text), `${code}: the answer holds a secret`);
    return problem;
  }

  it('refuses missing, malformed, oversized and unknown credentials with their own codes', async () => {
    const event = receiptEvent();
    await refused(() => post({}, event), 401, 'AUTH_MISSING');
    for (const authorization of [
      'Basic YWRtaW46YWRtaW4=',
      'Bearer',
      'Bearer a b',
      'Bearer\ta',
      'pvt_x',
    ])
      await refused(() => post({ authorization }, event), 401, 'AUTH_MALFORMED');
    await refused(
      () => post({ authorization: `Bearer ${'a'.repeat(9000)}` }, event),
      400,
      'AUTH_HEADER_TOO_LARGE',
    );
    const wrong = createStaticToken();
    await refused(() => post(bearer(wrong), event), 401, 'AUTH_TOKEN_UNKNOWN');
    // A JWT-looking token with no OIDC issuer configured is not recognised either.
    await refused(
      () => post({ authorization: 'Bearer aaa.bbb.ccc' }, event),
      401,
      'AUTH_TOKEN_UNKNOWN',
    );
    // A valid token of a role that may not ingest.
    await refused(() => post(bearer(reader), event), 403, 'AUTH_FORBIDDEN');
  });

  it('refuses credentials in the query string, even with a valid header, and never echoes them', async () => {
    for (const name of ['access_token', 'token', 'api_key', 'Access_Token']) {
      const problem = await refused(
        () => post(bearer(admin), receiptEvent(), `/v1/events?${name}=${admin.token}`),
        400,
        'AUTH_TOKEN_IN_QUERY',
      );
      assert.equal(problem.instance, '/v1/events');
    }
    const read = await app.inject({ url: `/v1/gates?access_token=${reader.token}` });
    assert.equal(read.statusCode, 400);
    assert.ok(!read.body.includes(reader.token));
  });

  it('never writes a credential sent in the query string to the log', async () => {
    const lines: string[] = [];
    const logged = await buildApp({
      auth: auth(),
      store: f.store,
      storeDescription: 'x',
      logger: { level: 'trace', stream: { write: (line: string) => void lines.push(line) } },
    });
    try {
      const response = await logged.inject({
        url: `/v1/gates?limit=1&access_token=${admin.token}&API_KEY=${reader.token}`,
        headers: { authorization: `Bearer ${ci.token}` },
      });
      assert.equal(response.statusCode, 400);
      const log = lines.join('');
      assert.match(log, /access_token=\[redacted\]&API_KEY=\[redacted\]/);
      for (const secret of [admin.token, reader.token, ci.token]) assert.ok(!log.includes(secret));
    } finally {
      await logged.close();
    }
  });

  it('refuses X-Forwarded-* and Forwarded headers when no trusted proxy sent them', async () => {
    for (const [name, value] of [
      ['x-forwarded-for', '203.0.113.9'],
      ['x-forwarded-proto', 'https'],
      ['x-forwarded-host', 'provenant.example.com'],
      ['forwarded', 'for=203.0.113.9;proto=https'],
    ] as const) {
      const response = await app.inject({ url: '/healthz', headers: { [name]: value } });
      assert.equal(response.statusCode, 400, name);
      assert.equal(response.json<Problem>().code, 'HTTP_FORWARDED_UNTRUSTED');
    }
    await refused(
      () => post({ ...bearer(admin), 'x-forwarded-for': '203.0.113.9' }, receiptEvent()),
      400,
      'HTTP_FORWARDED_UNTRUSTED',
    );
  });

  it('believes X-Forwarded-* from a trusted proxy only', async () => {
    const build = (trustedProxies: string[]) =>
      buildApp({ auth: auth(), store: f.store, storeDescription: 'x', trustedProxies });
    const behindProxy = await build(['127.0.0.0/8', '::1']);
    const elsewhere = await build(['10.0.0.0/8']);
    try {
      const headers = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' };
      assert.equal((await behindProxy.inject({ url: '/healthz', headers })).statusCode, 200);
      const untrusted = await elsewhere.inject({ url: '/healthz', headers });
      assert.equal(untrusted.statusCode, 400);
      assert.equal(untrusted.json<Problem>().code, 'HTTP_FORWARDED_UNTRUSTED');
    } finally {
      await behindProxy.close();
      await elsewhere.close();
    }
  });

  it('holds a producer to its sources, types, actions and units (AUTH_PRODUCER_SCOPE)', async () => {
    const ok = await post(bearer(ci), receiptEvent());
    assert.equal(ok.statusCode, 201, ok.body);
    const recorded = await last('ReceiptRecorded.v1');
    assert.equal(recorded?.metadata.principal, 'token:ci');
    for (const [field, event] of [
      ['source', receiptEvent({ source: 'https://evil.example.com/x' })],
      ['type', receiptEvent({ type: 'dev.example.deployed', data: {} })],
      ['action', receiptEvent({}, { action: 'sast' })],
      ['unit', receiptEvent({}, { unit: 'zlib/1.3.1/1.el9/x86_64/rpm' })],
    ] as const) {
      const problem = await refused(() => post(bearer(ci), event), 403, 'AUTH_PRODUCER_SCOPE');
      assert.equal(problem.details?.field, field);
    }
    // A batch: the event in scope is appended, the other reported on its own.
    const batch = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...bearer(ci), 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify([
        receiptEvent({}, { action: 'unit-test' }),
        receiptEvent({ source: 'https://evil.example.com/x' }),
      ]),
    });
    assert.equal(batch.statusCode, 200, batch.body);
    const items = batch.json<{ results: { ok: boolean; problem?: Problem }[] }>().results;
    assert.deepEqual(
      items.map((i) => [i.ok, i.problem?.code]),
      [
        [true, undefined],
        [false, 'AUTH_PRODUCER_SCOPE'],
      ],
    );
    // JUnit: the unit and action of the URL are in the scope, or not.
    const junit = (unit: string) =>
      app.inject({
        method: 'POST',
        url: `/v1/units/${encodeURIComponent(unit)}/actions/unit-test/junit`,
        headers: { ...bearer(ci), 'content-type': 'application/xml' },
        payload: '<testsuite name="s" tests="1"><testcase name="t"/></testsuite>',
      });
    await refused(() => junit('zlib/1.3.1/1.el9/x86_64/rpm'), 403, 'AUTH_PRODUCER_SCOPE');
    assert.equal((await junit(UNIT)).statusCode, 201);
    assert.equal((await last('ReceiptRecorded.v1'))?.metadata.principal, 'token:ci');
    // `openssl/*` names the unit however the event names it: its purl is the same unit.
    const asPurl = 'pkg:rpm/redhat/openssl@3.2.1-2.el9?arch=x86_64';
    assert.equal(UNIT, 'openssl/3.2.1/2.el9/x86_64/rpm');
    const byPurl = await post(bearer(ci), receiptEvent({}, { unit: asPurl }));
    assert.equal(byPurl.statusCode, 201, byPurl.body);
    // The same report for the same unit, named by its purl: allowed, and a redelivery.
    const junitByPurl = await junit(asPurl);
    assert.equal(junitByPurl.statusCode, 200, junitByPurl.body);
    assert.equal(junitByPurl.json<{ duplicate: boolean }>().duplicate, true);
    const other = await refused(
      () => post(bearer(ci), receiptEvent({}, { unit: 'pkg:rpm/zlib@1.3.1-1.el9?arch=x86_64' })),
      403,
      'AUTH_PRODUCER_SCOPE',
    );
    assert.equal(other.details?.value, 'pkg:rpm/zlib@1.3.1-1.el9?arch=x86_64');
    // An admin is not held to any scope.
    const any = await post(bearer(admin), receiptEvent({ source: 'https://evil.example.com/x' }));
    assert.equal(any.statusCode, 201, any.body);
  });

  it('names who asked in every event: definitions, revocations, attestations, exports', async () => {
    const headers = bearer(admin);
    const gate = await app.inject({
      method: 'PUT',
      url: '/v1/gates/tests',
      headers,
      payload: { requiredActions: ['unit-test'] },
    });
    assert.ok([200, 201].includes(gate.statusCode), gate.body);
    assert.equal((await last('GateDefined.v1'))?.metadata.principal, 'token:admin');

    const { build } = await passRelease(f.domain);
    const issued = await app.inject({
      method: 'POST',
      url: `/v1/units/${ENCODED_UNIT}/attestations`,
      headers,
      payload: { kind: 'provenance' },
    });
    assert.equal(issued.statusCode, 201, issued.body);
    assert.equal((await last('AttestationIssued.v1'))?.metadata.principal, 'token:admin');

    const exported = await app.inject({ url: `/v1/units/${ENCODED_UNIT}/export`, headers });
    assert.equal(exported.statusCode, 200, exported.body);
    const unitExported = await last('UnitExported.v1');
    assert.equal(unitExported?.metadata.principal, 'token:admin');
    assert.equal((unitExported?.data as { exportedBy?: string }).exportedBy, 'token:admin');

    const revoke = await app.inject({
      method: 'POST',
      url: `/v1/receipts/${build}/revoke`,
      headers,
      payload: { reason: 'rebuilt' },
    });
    assert.equal(revoke.statusCode, 200, revoke.body);
    const revoked = await last('ReceiptRevoked.v1');
    assert.equal(revoked?.metadata.principal, 'token:admin');
    assert.equal((revoked?.data as { revokedBy?: string }).revokedBy, 'token:admin');

    // Every event appended through the API names a principal (passRelease used the domain directly).
    const viaApi = (await events()).filter(
      (e) => e.metadata.principal !== undefined || e.metadata.context !== undefined,
    );
    assert.ok(viaApi.length >= 6);
    for (const event of viaApi) assert.match(String(event.metadata.principal), /^token:/);
  });
});
