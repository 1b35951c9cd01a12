// A node whose PostgreSQL does not answer (a wrong URL, a server gone): the API
// answers 503 with Retry-After and nothing is acknowledged, /readyz says why,
// and a query of the read models answers 503 too. Needs no server: it points
// at a closed port on loopback.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDomainService } from '../../src/application/index.js';
import { getPostgresEventStore } from '../../src/eventStore/postgres/index.js';
import { buildApp } from '../../src/http/app.js';
import { getPostgresReadModelStore } from '../../src/readModels/postgres/index.js';
import { anonymousAuth } from '../../src/security/index.js';

const closedPort = {
  connectionString: 'postgres://postgres@127.0.0.1:1/none',
  connectTimeoutMs: 500,
};

describe('a node whose PostgreSQL does not answer', () => {
  it('answers 503 with Retry-After, and /readyz says why', async () => {
    const store = getPostgresEventStore(closedPort);
    const readModels = getPostgresReadModelStore(closedPort);
    const app = await buildApp({
      auth: anonymousAuth(),
      store,
      domain: createDomainService({ eventStore: store }),
      readModels,
      storeDescription: 'postgres (closed port)',
      ownsStore: true,
    });
    try {
      const ingest = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': 'e1',
          'ce-source': 'https://ci.example.com/x',
          'ce-type': 'com.example.step.finished',
        },
        payload: '{}',
      });
      assert.equal(ingest.statusCode, 503, ingest.body);
      assert.equal(ingest.headers['retry-after'], '2');
      assert.equal(ingest.json<{ code: string }>().code, 'STORE_BACKEND_UNAVAILABLE');

      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assert.match(
        ready.json<{ reason: string }>().reason,
        /^event store not ready: PostgreSQL is unavailable: .*ECONNREFUSED/,
      );

      const query = await app.inject({ method: 'GET', url: '/v1/traces/none' });
      assert.equal(query.statusCode, 503, query.body);
      assert.ok(query.headers['retry-after'] !== undefined);
    } finally {
      await app.close();
      await readModels.close();
    }
  });
});
