// The management API through inject(): stages — each route's happy path and each
// error as problem+json with the domain's code, nothing appended on a rejection.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { DomainService } from '../../src/application/index.js';
import { asJson, useManagementApp, type StageBody } from '../support/managementApi.js';

describe('management API', () => {
  let domain: DomainService;
  let app: FastifyInstance;

  // This suite's own empty store and app; `rejected` asserts that the log did not grow.
  const { rejected } = useManagementApp((opened) => ({ domain, app } = opened));

  describe('stages', () => {
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
});
