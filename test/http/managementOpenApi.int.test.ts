// The management API's OpenAPI document: every management route, unit keys as
// {key}, and the API body schemas as components.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { openManagementApp } from '../support/managementApi.js';

describe('management API', () => {
  let app: FastifyInstance;

  before(async () => {
    ({ app } = await openManagementApp());
  });
  after(() => app.close());

  describe('OpenAPI document', () => {
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
