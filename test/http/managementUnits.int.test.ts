// The management API through inject(): receipt revocation, unit status and
// evaluation — each route's happy path and each error as problem+json with the
// domain's code, nothing appended on a rejection, unit keys encoded or plain.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { DomainService } from '../../src/application/index.js';
import type { SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import {
  ENCODED,
  SHA,
  UNIT,
  asJson,
  assertProblem,
  receipt,
  useManagementApp,
  type StatusBody,
  type Verdict,
} from '../support/managementApi.js';

describe('management API', () => {
  let store: SQLiteEventStore;
  let domain: DomainService;
  let app: FastifyInstance;

  // This suite's own empty store and app; `rejected` asserts that the log did not grow.
  const { rejected } = useManagementApp((opened) => ({ store, domain, app } = opened));

  describe('receipts and units', () => {
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
});
