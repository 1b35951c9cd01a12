// The management API through inject(): gates, stages, receipt revocation, unit
// status and evaluation — each route's happy path and each error as problem+json
// with the domain's code, nothing appended on a rejection, full bodies through the
// response serializer, unit keys encoded or plain, and the OpenAPI document.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createDomainService, type DomainService } from '../../src/application/index.js';
import type { ReceiptInput } from '../../src/domain/index.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';

const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
const ENCODED = encodeURIComponent(UNIT);
const SHA = 'ab'.repeat(32);

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  details?: Record<string, unknown>;
}

interface GateBody {
  gateId: string;
  version: number;
  enabled: boolean;
  requiredActions: string[];
  disabledReason?: string;
  customSchema?: Record<string, unknown>;
  [key: string]: unknown;
}
interface StageBody {
  stageId: string;
  version: number;
  enabled: boolean;
  gates: string[];
  prerequisites: string[];
  disabledReason?: string;
}
interface Verdict {
  type: string;
  verdict: string;
  gateId?: string;
  stageId?: string;
  receiptIds: string[];
  position: string;
}
interface StatusBody {
  unit: string;
  revision: number;
  receipts: { receiptId: string; counted: boolean; revoked?: { reason: string } }[];
  gates: {
    gateId: string;
    recorded: { verdict: string } | null;
    current: { verdict: string } | null;
    upToDate: boolean;
  }[];
  stages: {
    stageId: string;
    recorded: { passed: boolean } | null;
    current: { passed: boolean } | null;
    upToDate: boolean;
  }[];
}

/** Asserts an RFC 9457 problem with `status` and `code`, and returns it. */
function assertProblem(res: LightMyRequestResponse, status: number, code: string): ProblemBody {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json<ProblemBody>();
  assert.equal(body.code, code, body.detail);
  assert.equal(body.status, status);
  assert.equal(body.type, `urn:provenant:problem:${code.toLowerCase().replaceAll('_', '-')}`);
  assert.ok(body.title.length > 0 && body.detail.length > 0);
  return body;
}

/** What a JSON round trip of a domain value looks like (the HTTP body must equal it). */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const receipt = (action: string, multipass: boolean, extra: Partial<ReceiptInput> = {}) => ({
  unit: UNIT,
  action,
  multipass,
  ...extra,
});

describe('management API', () => {
  let store: SQLiteEventStore;
  let domain: DomainService;
  let app: FastifyInstance;

  /**
   * Gives the enclosing suite its own empty store and app: gates apply to every
   * unit, so one suite's definitions must not leak into another's verdicts.
   */
  function freshApp(): void {
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
    });
    after(() => app.close());
  }

  /** Runs `request` and asserts that the log did not grow. */
  async function rejected(
    request: InjectOptions | string,
    status: number,
    code: string,
  ): Promise<ProblemBody> {
    const head = await store.headPosition();
    const res = await app.inject(request);
    const problem = assertProblem(res, status, code);
    assert.equal(await store.headPosition(), head, 'a rejected request appends nothing');
    return problem;
  }

  describe('gates', () => {
    freshApp();
    const definition = {
      name: 'Build',
      description: 'The unit was built',
      requiredActions: ['build', 'unit-test'],
      customSchema: {
        type: 'object',
        properties: { ticket: { type: 'string', pattern: '^[A-Z]+-[0-9]+$' } },
        required: ['ticket'],
      },
    };

    it('defines a gate (201), ignores an identical PUT, and versions a change (200)', async () => {
      const created = await app.inject({
        method: 'PUT',
        url: '/v1/gates/build',
        payload: definition,
      });
      assert.equal(created.statusCode, 201);
      assert.equal(created.headers['location'], '/v1/gates/build');
      const body = created.json<{ changed: boolean; gate: GateBody }>();
      assert.equal(body.changed, true);
      // The whole view arrives, the nested custom schema included.
      assert.deepEqual(body.gate, {
        gateId: 'build',
        version: 1,
        enabled: true,
        external: false,
        ...definition,
      });

      const same = await app.inject({ method: 'PUT', url: '/v1/gates/build', payload: definition });
      assert.equal(same.statusCode, 200);
      assert.equal(same.json<{ changed: boolean }>().changed, false);
      assert.equal(same.json<{ gate: GateBody }>().gate.version, 1);

      const changed = await app.inject({
        method: 'PUT',
        url: '/v1/gates/build',
        payload: { ...definition, requiredActions: ['build'] },
      });
      assert.equal(changed.statusCode, 200);
      assert.equal(changed.headers['location'], undefined);
      const v2 = changed.json<{ changed: boolean; gate: GateBody }>();
      assert.equal(v2.changed, true);
      assert.equal(v2.gate.version, 2);
      assert.deepEqual(v2.gate.requiredActions, ['build']);
    });

    it('reads one gate and lists them all, bodies complete', async () => {
      await app.inject({
        method: 'PUT',
        url: '/v1/gates/a-destructive',
        payload: { requiredActions: ['destructive-test'], external: true, owner: 'qa-team' },
      });
      const one = await app.inject('/v1/gates/build');
      assert.equal(one.statusCode, 200);
      assert.deepEqual(one.json(), asJson(await domain.getGate('build')));
      assert.deepEqual(one.json<GateBody>().customSchema, definition.customSchema);

      const list = await app.inject('/v1/gates');
      assert.equal(list.statusCode, 200);
      const { gates } = list.json<{ gates: GateBody[] }>();
      assert.deepEqual(
        gates.map((g) => g.gateId),
        ['a-destructive', 'build'],
      );
      assert.deepEqual(gates, asJson(await domain.listGates()));
      assert.equal(gates[0]?.['owner'], 'qa-team');
      assert.equal(gates[0]?.['external'], true);
    });

    it('disables a gate with or without a reason, and PUT enables it again', async () => {
      await app.inject({
        method: 'PUT',
        url: '/v1/gates/lint',
        payload: { requiredActions: ['lint'] },
      });
      const disabled = await app.inject({ method: 'POST', url: '/v1/gates/lint/disable' });
      assert.equal(disabled.statusCode, 200);
      const body = disabled.json<{ changed: boolean; gate: GateBody }>();
      assert.equal(body.changed, true);
      assert.equal(body.gate.enabled, false);
      assert.equal(body.gate.disabledReason, undefined);

      const again = await app.inject({
        method: 'POST',
        url: '/v1/gates/lint/disable',
        payload: { reason: 'twice' },
      });
      assert.equal(again.statusCode, 200);
      assert.equal(again.json<{ changed: boolean }>().changed, false);

      const enabled = await app.inject({
        method: 'PUT',
        url: '/v1/gates/lint',
        payload: { requiredActions: ['lint'] },
      });
      assert.equal(enabled.statusCode, 200, 'a re-enabled gate is a new version, not a creation');
      assert.equal(enabled.json<{ gate: GateBody }>().gate.version, 2);
      assert.equal(enabled.json<{ gate: GateBody }>().gate.enabled, true);

      const withReason = await app.inject({
        method: 'POST',
        url: '/v1/gates/lint/disable',
        payload: { reason: 'replaced by the sast gate' },
      });
      assert.equal(
        withReason.json<{ gate: GateBody }>().gate.disabledReason,
        'replaced by the sast gate',
      );
      const read = (await app.inject('/v1/gates/lint')).json<GateBody>();
      assert.equal(read.enabled, false);
      assert.equal(read.disabledReason, 'replaced by the sast gate');
    });

    it('rejects bad gate requests with the domain codes and appends nothing', async () => {
      await rejected('/v1/gates/nope', 404, 'DOMAIN_GATE_NOT_FOUND');
      await rejected(
        { method: 'POST', url: '/v1/gates/nope/disable' },
        404,
        'DOMAIN_GATE_NOT_FOUND',
      );
      await rejected(
        { method: 'PUT', url: '/v1/gates/-dash', payload: { requiredActions: ['a'] } },
        400,
        'DOMAIN_INVALID_GATE',
      );
      await rejected('/v1/gates/bad%20id', 400, 'DOMAIN_INVALID_GATE');
      const remote = await rejected(
        {
          method: 'PUT',
          url: '/v1/gates/remote',
          payload: { requiredActions: ['a'], customSchema: { $ref: 'https://example.com/s.json' } },
        },
        400,
        'DOMAIN_INVALID_GATE_SCHEMA',
      );
      assert.match(remote.detail, /remote \$ref/);
      await rejected(
        {
          method: 'PUT',
          url: '/v1/gates/data',
          payload: {
            requiredActions: ['a'],
            customSchema: { properties: { n: { maximum: { $data: '1/max' } } } },
          },
        },
        400,
        'DOMAIN_INVALID_GATE_SCHEMA',
      );
      await rejected(
        {
          method: 'PUT',
          url: '/v1/gates/strict',
          payload: { requiredActions: ['a'], customSchema: { type: 'object', notAKeyword: 1 } },
        },
        400,
        'DOMAIN_INVALID_GATE_SCHEMA',
      );
      await rejected(
        {
          method: 'PUT',
          url: '/v1/gates/external',
          payload: { requiredActions: ['a'], external: true },
        },
        400,
        'DOMAIN_INVALID_GATE',
      );
      const missing = await rejected(
        { method: 'PUT', url: '/v1/gates/empty', payload: { name: 'no actions' } },
        400,
        'HTTP_VALIDATION',
      );
      assert.equal(missing.details?.['in'], 'body');
      await rejected(
        {
          method: 'PUT',
          url: '/v1/gates/extra',
          payload: { requiredActions: ['a'], colour: 'red' },
        },
        400,
        'HTTP_VALIDATION',
      );
      await rejected(
        { method: 'PUT', url: '/v1/gates/dup', payload: { requiredActions: ['a', 'a'] } },
        400,
        'HTTP_VALIDATION',
      );
      await rejected(
        { method: 'PUT', url: '/v1/gates/act', payload: { requiredActions: ['no spaces'] } },
        400,
        'HTTP_VALIDATION',
      );
      await rejected(
        { method: 'POST', url: '/v1/gates/build/disable', payload: { reason: '' } },
        400,
        'HTTP_VALIDATION',
      );
      await rejected(
        { method: 'POST', url: '/v1/gates/build/disable', payload: { reason: 'x', by: 'me' } },
        400,
        'HTTP_VALIDATION',
      );
      assert.equal((await app.inject('/v1/gates/build')).json<GateBody>().enabled, true);
    });

    it('rejects malformed, mistyped, oversized, too deep and prototype-polluting bodies', async () => {
      const put = (payload: string, contentType = 'application/json') => ({
        method: 'PUT' as const,
        url: '/v1/gates/raw',
        headers: { 'content-type': contentType },
        payload,
      });
      await rejected(put('{"requiredActions":['), 400, 'INGEST_MALFORMED_JSON');
      await rejected(
        put('requiredActions=a', 'application/x-www-form-urlencoded'),
        415,
        'HTTP_UNSUPPORTED_MEDIA_TYPE',
      );
      // fastify parses text/plain as a string, which the body schema refuses.
      await rejected(put('{"requiredActions":["a"]}', 'text/plain'), 400, 'HTTP_VALIDATION');
      await rejected(
        put(JSON.stringify({ requiredActions: ['a'], description: 'x'.repeat(1024 * 1024) })),
        413,
        'HTTP_PAYLOAD_TOO_LARGE',
      );
      // Deep JSON: refused by the body guard's depth scan before it is parsed.
      const depth = 5000;
      const deep = '{"properties":{"a":'.repeat(depth) + '{}' + '}}'.repeat(depth);
      await rejected(
        put(`{"requiredActions":["a"],"customSchema":${deep}}`),
        400,
        'INGEST_TOO_DEEP',
      );
      const proto = await rejected(
        put('{"requiredActions":["a"],"__proto__":{"polluted":true}}'),
        400,
        'INGEST_FORBIDDEN_KEY',
      );
      assert.equal(proto.instance, '/v1/gates/raw');
      await rejected(
        put(
          '{"requiredActions":["a"],"customSchema":{"constructor":{"prototype":{"polluted":true}}}}',
        ),
        400,
        'INGEST_FORBIDDEN_KEY',
      );
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      // The server keeps serving.
      assert.equal((await app.inject('/v1/gates/build')).statusCode, 200);
    });
  });

  describe('stages', () => {
    freshApp();
    before(async () => {
      for (const [id, actions] of [
        ['s-build', ['build']],
        ['s-test', ['unit-test']],
      ] as const)
        await domain.defineGate(id, { requiredActions: [...actions] });
    });

    it('defines a stage (201), ignores an identical PUT, versions a change (200), reads and lists', async () => {
      const definition = { name: 'Integration', gates: ['s-build', 's-test'] };
      const created = await app.inject({
        method: 'PUT',
        url: '/v1/stages/integration',
        payload: definition,
      });
      assert.equal(created.statusCode, 201);
      assert.equal(created.headers['location'], '/v1/stages/integration');
      assert.deepEqual(created.json(), {
        changed: true,
        stage: {
          stageId: 'integration',
          version: 1,
          enabled: true,
          prerequisites: [],
          ...definition,
        },
      });
      const same = await app.inject({
        method: 'PUT',
        url: '/v1/stages/integration',
        payload: definition,
      });
      assert.equal(same.statusCode, 200);
      assert.equal(same.json<{ changed: boolean }>().changed, false);

      const release = await app.inject({
        method: 'PUT',
        url: '/v1/stages/release',
        payload: { gates: ['s-build'], prerequisites: ['integration'] },
      });
      assert.equal(release.statusCode, 201);
      const v2 = await app.inject({
        method: 'PUT',
        url: '/v1/stages/release',
        payload: { gates: ['s-test', 's-build'], prerequisites: ['integration'] },
      });
      assert.equal(v2.statusCode, 200);
      const stage = v2.json<{ stage: StageBody }>().stage;
      assert.equal(stage.version, 2);
      assert.deepEqual(stage.gates, ['s-test', 's-build'], 'stage order is kept');
      assert.deepEqual(stage.prerequisites, ['integration']);

      const one = await app.inject('/v1/stages/release');
      assert.deepEqual(one.json(), asJson(await domain.getStage('release')));
      const list = (await app.inject('/v1/stages')).json<{ stages: StageBody[] }>();
      assert.deepEqual(list.stages, asJson(await domain.listStages()));
      assert.deepEqual(
        list.stages.map((s) => s.stageId),
        ['integration', 'release'],
      );
    });

    it('disables a stage with or without a reason', async () => {
      await domain.defineStage('old', { gates: ['s-build'] });
      const res = await app.inject({
        method: 'POST',
        url: '/v1/stages/old/disable',
        payload: { reason: 'retired' },
      });
      assert.equal(res.statusCode, 200);
      const body = res.json<{ changed: boolean; stage: StageBody }>();
      assert.equal(body.changed, true);
      assert.equal(body.stage.enabled, false);
      assert.equal(body.stage.disabledReason, 'retired');
      const again = await app.inject({ method: 'POST', url: '/v1/stages/old/disable' });
      assert.equal(again.statusCode, 200);
      assert.equal(again.json<{ changed: boolean }>().changed, false);
    });

    it('rejects bad stage requests with the domain codes and appends nothing', async () => {
      await rejected('/v1/stages/nope', 404, 'DOMAIN_STAGE_NOT_FOUND');
      await rejected(
        { method: 'POST', url: '/v1/stages/nope/disable' },
        404,
        'DOMAIN_STAGE_NOT_FOUND',
      );
      await rejected('/v1/stages/.hidden', 400, 'DOMAIN_INVALID_STAGE');
      await rejected(
        { method: 'PUT', url: '/v1/stages/x', payload: { gates: ['no-such-gate'] } },
        400,
        'DOMAIN_UNKNOWN_GATE',
      );
      await rejected(
        {
          method: 'PUT',
          url: '/v1/stages/x',
          payload: { gates: ['s-build'], prerequisites: ['ghost'] },
        },
        400,
        'DOMAIN_UNKNOWN_STAGE',
      );
      await rejected(
        {
          method: 'PUT',
          url: '/v1/stages/integration',
          payload: { gates: ['s-build'], prerequisites: ['release'] },
        },
        400,
        'DOMAIN_STAGE_CYCLE',
      );
      await rejected(
        { method: 'PUT', url: '/v1/stages/x', payload: { gates: [] } },
        400,
        'HTTP_VALIDATION',
      );
      await rejected({ method: 'PUT', url: '/v1/stages/x', payload: {} }, 400, 'HTTP_VALIDATION');
      await rejected(
        { method: 'PUT', url: '/v1/stages/x', payload: { gates: ['s-build'], order: 1 } },
        400,
        'HTTP_VALIDATION',
      );
    });
  });

  describe('receipts and units', () => {
    freshApp();
    let first: string;
    let second: string;

    before(async () => {
      await domain.defineGate('u-build', { requiredActions: ['build'] });
      await domain.defineGate('u-test', { requiredActions: ['unit-test'] });
      await domain.defineStage('u-stage', { gates: ['u-build', 'u-test'] });
      first = (
        await domain.recordReceipt(
          receipt('build', true, {
            results: { warnings: 3, phases: { compile: 'ok', link: ['a', 'b'] } },
            artifacts: [
              {
                name: 'openssl.rpm',
                uri: 'https://repo.example/openssl.rpm',
                digest: { sha256: SHA },
              },
            ],
            evidence: [
              {
                uri: 'https://ci.example/logs/1',
                digest: { sha256: SHA },
                mediaType: 'text/plain',
              },
            ],
            producer: 'ci.example/pipeline/7',
            finishedAt: '2025-01-02T03:04:05Z',
            // Gates apply to every unit: gate 'build' asks for a ticket.
            custom: { ticket: 'REL-42' },
          }),
        )
      ).receiptId;
      second = (await domain.recordReceipt(receipt('unit-test', true))).receiptId;
    });

    it('shows the unit status, whole, for the encoded and the plain key', async () => {
      const encoded = await app.inject(`/v1/units/${ENCODED}`);
      assert.equal(encoded.statusCode, 200);
      const plain = await app.inject(`/v1/units/${UNIT}`);
      assert.equal(plain.statusCode, 200);
      assert.deepEqual(encoded.json(), plain.json());
      // Nothing dropped by the serializer: results, artifacts, evidence, producer…
      assert.deepEqual(plain.json(), asJson(await domain.getUnitStatus(UNIT)));
      const status = plain.json<StatusBody & { receipts: Record<string, unknown>[] }>();
      assert.equal(status.unit, UNIT);
      assert.deepEqual(status.receipts[0]?.['results'], {
        warnings: 3,
        phases: { compile: 'ok', link: ['a', 'b'] },
      });
      assert.equal(status.receipts[0]?.['producer'], 'ci.example/pipeline/7');
      assert.ok(Array.isArray(status.receipts[0]?.['evidence']));
      const stage = status.stages.find((s) => s.stageId === 'u-stage');
      assert.deepEqual(stage?.recorded?.passed, true);
    });

    it('revokes a receipt: the verdicts reopen, and the receipt stays in the status', async () => {
      const res = await app.inject({
        method: 'POST',
        url: `/v1/receipts/${second}/revoke`,
        headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
        payload: { reason: 'test run used the wrong toolchain' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<{
        receiptId: string;
        unit: string;
        eventId: string;
        position: string;
        verdicts: Verdict[];
      }>();
      assert.equal(body.receiptId, second);
      assert.equal(body.unit, UNIT);
      assert.match(body.position, /^\d+$/);
      assert.deepEqual(
        body.verdicts.map((v) => [v.type, v.gateId ?? v.stageId, v.verdict]),
        [
          ['GateReopened.v1', 'u-test', 'pending'],
          ['StageReopened.v1', 'u-stage', 'stage-reopened'],
        ],
      );
      const [revocation] = await store.readAll({ from: BigInt(body.position) - 1n, maxCount: 1 });
      assert.equal(revocation?.type, 'ReceiptRevoked.v1');
      assert.equal(
        revocation?.metadata.traceparent,
        '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      );

      const status = (await app.inject(`/v1/units/${ENCODED}`)).json<StatusBody>();
      const revoked = status.receipts.find((r) => r.receiptId === second);
      assert.deepEqual(revoked?.revoked?.reason, 'test run used the wrong toolchain');
      assert.equal(revoked?.counted, false);
      assert.equal(status.stages.find((s) => s.stageId === 'u-stage')?.recorded?.passed, false);
    });

    it('rejects bad revocations: unknown 404, twice 409, malformed 400', async () => {
      await rejected(
        { method: 'POST', url: `/v1/receipts/${second}/revoke`, payload: { reason: 'again' } },
        409,
        'DOMAIN_RECEIPT_ALREADY_REVOKED',
      );
      await rejected(
        {
          method: 'POST',
          url: '/v1/receipts/01JZZZZZZZZZZZZZZZZZZZZZZZ/revoke',
          payload: { reason: 'x' },
        },
        404,
        'DOMAIN_RECEIPT_NOT_FOUND',
      );
      await rejected(
        {
          method: 'POST',
          url: '/v1/receipts/6f1c2a3b-4d5e-5f60-8a7b-9c0d1e2f3a4b/revoke',
          payload: { reason: 'x' },
        },
        404,
        'DOMAIN_RECEIPT_NOT_FOUND',
      );
      const malformed = await rejected(
        { method: 'POST', url: '/v1/receipts/not-a-receipt/revoke', payload: { reason: 'x' } },
        400,
        'HTTP_VALIDATION',
      );
      assert.equal(malformed.details?.['in'], 'params');
      for (const payload of [{}, { reason: '' }, { reason: 'x', extra: 1 }])
        await rejected(
          { method: 'POST', url: `/v1/receipts/${first}/revoke`, payload },
          400,
          'HTTP_VALIDATION',
        );
      await rejected(
        { method: 'POST', url: `/v1/receipts/${first}/revoke` },
        400,
        'HTTP_VALIDATION',
      );
      await rejected(
        { method: 'POST', url: `/v1/receipts/${first}/revoke`, payload: { reason: '   ' } },
        400,
        'DOMAIN_INVALID_COMMAND',
      );
      const status = (await app.inject(`/v1/units/${ENCODED}`)).json<StatusBody>();
      assert.equal(status.receipts.find((r) => r.receiptId === first)?.revoked, undefined);
    });

    it('evaluates a unit under the current definitions, encoded or plain', async () => {
      // A new version of u-test no longer requires unit-test: the recorded verdict is stale.
      await domain.defineGate('u-test', { requiredActions: ['build'] });
      const stale = (await app.inject(`/v1/units/${UNIT}`)).json<StatusBody>();
      const gate = stale.gates.find((g) => g.gateId === 'u-test');
      assert.equal(gate?.recorded?.verdict, 'pending');
      assert.equal(gate?.current?.verdict, 'passed');
      assert.equal(gate?.upToDate, false);

      const res = await app.inject({ method: 'POST', url: `/v1/units/${UNIT}/evaluate` });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<{ unit: string; verdicts: Verdict[]; status: StatusBody }>();
      assert.equal(body.unit, UNIT);
      assert.deepEqual(
        body.verdicts.map((v) => [v.type, v.gateId ?? v.stageId]),
        [
          ['GatePassed.v1', 'u-test'],
          ['StagePassed.v1', 'u-stage'],
        ],
      );
      assert.deepEqual(body.status, asJson(await domain.getUnitStatus(UNIT)));
      assert.ok(body.status.gates.every((g) => g.upToDate));

      const head = await store.headPosition();
      const again = await app.inject({ method: 'POST', url: `/v1/units/${ENCODED}/evaluate` });
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json<{ verdicts: Verdict[] }>().verdicts, []);
      assert.equal(await store.headPosition(), head, 'no verdict changed, nothing recorded');
    });

    it('rejects malformed and unknown unit keys', async () => {
      const cases: [string, 'GET' | 'POST', number, string][] = [
        ['/v1/units/openssl/3.2.1', 'GET', 400, 'DOMAIN_INVALID_UNIT_KEY'],
        ['/v1/units/openssl%2F3.2.1', 'GET', 400, 'DOMAIN_INVALID_UNIT_KEY'],
        ['/v1/units/openssl/3.2.1/2.el9/x86_64/RPM', 'GET', 400, 'DOMAIN_INVALID_UNIT_KEY'],
        ['/v1/units/openssl/3.2.1//x86_64/rpm', 'GET', 400, 'DOMAIN_INVALID_UNIT_KEY'],
        ['/v1/units/open%20ssl/3.2.1/2.el9/x86_64/rpm', 'GET', 400, 'DOMAIN_INVALID_UNIT_KEY'],
        [
          '/v1/units/openssl%252F3.2.1%252F2.el9%252Fx86_64%252Frpm',
          'GET',
          400,
          'DOMAIN_INVALID_UNIT_KEY',
        ],
        [`/v1/units/${'a'.repeat(300)}/1/1/x/rpm`, 'GET', 400, 'DOMAIN_INVALID_UNIT_KEY'],
        ['/v1/units/', 'GET', 400, 'DOMAIN_INVALID_UNIT_KEY'],
        ['/v1/units/openssl/3.2.1/evaluate', 'POST', 400, 'DOMAIN_INVALID_UNIT_KEY'],
        ['/v1/units/zlib/1.3/1.el9/x86_64/rpm', 'GET', 404, 'DOMAIN_UNIT_NOT_FOUND'],
        [
          '/v1/units/zlib%2F1.3%2F1.el9%2Fx86_64%2Frpm/evaluate',
          'POST',
          404,
          'DOMAIN_UNIT_NOT_FOUND',
        ],
        [`/v1/units/${UNIT}/reevaluate`, 'POST', 404, 'HTTP_NOT_FOUND'],
        [`/v1/units/${UNIT}`, 'POST', 404, 'HTTP_NOT_FOUND'],
      ];
      for (const [url, method, status, code] of cases) {
        const head = await store.headPosition();
        assertProblem(await app.inject({ method, url }), status, code);
        assert.equal(await store.headPosition(), head, url);
      }
    });
  });

  describe('OpenAPI document', () => {
    freshApp();
    let doc: {
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: unknown; parameters?: { name: string; in: string }[]; tags?: string[] }
        >
      >;
      components: { schemas: Record<string, { title?: string }> };
    };
    beforeEach(async () => {
      const res = await app.inject('/docs/json');
      assert.equal(res.statusCode, 200);
      doc = res.json();
    });

    it('documents every management route, with unit keys as {key}', () => {
      const expected: [string, string][] = [
        ['/v1/gates', 'get'],
        ['/v1/gates/{id}', 'put'],
        ['/v1/gates/{id}', 'get'],
        ['/v1/gates/{id}/disable', 'post'],
        ['/v1/stages', 'get'],
        ['/v1/stages/{id}', 'put'],
        ['/v1/stages/{id}', 'get'],
        ['/v1/stages/{id}/disable', 'post'],
        ['/v1/receipts/{id}/revoke', 'post'],
        ['/v1/units/{key}', 'get'],
        ['/v1/units/{key}/evaluate', 'post'],
      ];
      for (const [path, method] of expected)
        assert.ok(doc.paths[path]?.[method], `${method} ${path}`);
      assert.equal(doc.paths['/v1/units/*'], undefined);
      assert.deepEqual(
        doc.paths['/v1/units/{key}']?.['get']?.parameters?.map((p) => [p.name, p.in]),
        [
          ['asOf', 'query'],
          ['key', 'path'],
        ],
      );
    });

    it('lists the API body schemas as components and refers to them', () => {
      const titles = Object.values(doc.components.schemas).map((s) => s.title);
      for (const title of [
        'GateDefinitionBody',
        'StageDefinitionBody',
        'DisableBody',
        'RevokeReceiptBody',
        'Problem',
      ])
        assert.ok(titles.includes(title), title);
      const body = JSON.stringify(doc.paths['/v1/gates/{id}']?.['put']?.requestBody);
      assert.match(body, /#\/components\/schemas\//);
    });
  });
});
