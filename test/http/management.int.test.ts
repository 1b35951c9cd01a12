// The management API through inject(): gates — each route's happy path and each
// error as problem+json with the domain's code, nothing appended on a rejection,
// full bodies through the response serializer. Stages (managementStages), receipts
// and units (managementUnits) and the OpenAPI document (managementOpenApi) have
// .int.test.ts files of their own; their shared helpers are in
// test/support/managementApi.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { DomainService } from '../../src/application/index.js';
import { asJson, useManagementApp, type GateBody } from '../support/managementApi.js';

describe('management API', () => {
  let domain: DomainService;
  let app: FastifyInstance;

  // This suite's own empty store and app; `rejected` asserts that the log did not grow.
  const { rejected } = useManagementApp((opened) => ({ domain, app } = opened));

  describe('gates', () => {
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
      const extra = await rejected(
        {
          method: 'PUT',
          url: '/v1/gates/extra',
          payload: { requiredActions: ['a'], colour: 'red' },
        },
        400,
        'HTTP_VALIDATION',
      );
      // The detail names the property that is not allowed.
      assert.equal(extra.detail, "body must NOT have additional properties: 'colour'");
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
});
