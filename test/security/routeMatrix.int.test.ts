// Every registered route × every role (and nobody): allowed or refused, as the
// tables below say. The routes are the ones the app's onRoute hook saw, so a new
// route fails here until it is added to `expectedPermission`; a route that
// declares no permission cannot even be registered. The same for the metrics
// listener of `provenant projections run` (`workerExpectedPermission`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { buildApp } from '../../src/http/app.js';
import { buildWorkerApp } from '../../src/http/workerApp.js';
import { declaredRoutes, installAuth } from '../../src/http/auth.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import {
  anonymousAuth,
  createAuthenticator,
  createStaticToken,
  roles,
  type Permission,
  type Role,
} from '../../src/security/index.js';

/** What each route must declare (HEAD routes: the same as their GET). */
const expectedPermission: Record<string, Permission> = {
  'GET /docs': 'public',
  'GET /docs/': 'public', // registered as HEAD only
  'GET /docs/static/index.html': 'public',
  'GET /docs/static/swagger-initializer.js': 'public',
  'GET /docs/json': 'public',
  'GET /docs/yaml': 'public',
  'GET /docs/static/*': 'public',
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /v1/events': 'read',
  'POST /v1/events': 'ingest',
  'POST /v1/units/:key/actions/:action/junit': 'ingest',
  'PUT /v1/gates/:id': 'define',
  'GET /v1/gates': 'read',
  'GET /v1/gates/:id': 'read',
  'POST /v1/gates/:id/disable': 'define',
  'PUT /v1/stages/:id': 'define',
  'GET /v1/stages': 'read',
  'GET /v1/stages/:id': 'read',
  'POST /v1/stages/:id/disable': 'define',
  'POST /v1/receipts/:id/revoke': 'revoke',
  'GET /v1/units/*': 'read',
  'POST /v1/units/*': 'define',
  'POST /v1/units/:key/attestations': 'attest',
  'GET /v1/units/:key/attestations': 'read',
  'GET /v1/attestations': 'read',
  'GET /v1/attestations/:id': 'read',
  'GET /v1/attestations/:id/intoto.jsonl': 'read',
  'POST /v1/verify': 'verify',
  'GET /v1/stages/:id/policy': 'read',
  'GET /v1/receipts/:id/evidence': 'read',
  'GET /v1/units/:key/export': 'export',
  'GET /v1/units': 'read',
  'GET /v1/units/:key/receipts': 'read',
  'GET /v1/units/:key/diff': 'read',
  'GET /v1/receipts/:id': 'read',
  'GET /v1/gates/:id/units': 'read',
  'GET /v1/stages/:id/units': 'read',
  'GET /v1/traces/:correlationId': 'read',
  'GET /v1/events/stream': 'read',
  'GET /metrics': 'operate',
  'GET /v1/chains': 'read',
  'GET /v1/chains/:chainId': 'read',
  'GET /v1/log/checkpoint': 'read',
  'GET /v1/log/key': 'public',
  'GET /v1/log/proof/inclusion': 'read',
  'GET /v1/log/proof/consistency': 'read',
};

/** The routes of the metrics listener of `provenant projections run` (src/http/workerApp.ts). */
const workerExpectedPermission: Record<string, Permission> = {
  'GET /healthz': 'public',
  'GET /metrics': 'operate',
};

/** Who may use a route of each permission (written out here, apart from src/security/permissions.ts). */
const allowedRoles: Record<Permission, readonly Role[]> = {
  public: ['producer', 'reader', 'auditor', 'admin'],
  read: ['reader', 'auditor', 'admin'],
  ingest: ['producer', 'admin'],
  revoke: ['admin'],
  define: ['admin'],
  attest: ['admin'],
  export: ['auditor', 'admin'],
  verify: ['auditor', 'admin'],
  operate: ['auditor', 'admin'],
};

const UNIT = encodeURIComponent('zlib/1.3.1/1.el9/x86_64/rpm');
const ID = '01J00000000000000000000000';

/** A concrete URL for a route pattern. */
function urlOf(method: string, pattern: string): string {
  let url = pattern
    .replace(':key', UNIT)
    .replace(':id', ID)
    .replace(':action', 'build')
    .replace(':correlationId', 'c-1')
    .replace(':chainId', 'chain-1');
  if (url === '/v1/units/*')
    url = method === 'POST' ? `/v1/units/${UNIT}/evaluate` : `/v1/units/${UNIT}`;
  if (url.endsWith('/*')) url = `${url.slice(0, -1)}index.css`;
  // The live feed would stream: an unknown query parameter makes an allowed request a quick 400.
  if (url === '/v1/events/stream') url += '?matrix=1';
  return url;
}

const keyOf = (method: string, url: string): string =>
  `${method === 'HEAD' ? 'GET' : method} ${url}`;

/** Static tokens of one principal per role, and the principals file entries holding their hashes. */
function tokensPerRole() {
  const tokens = new Map<Role, string>();
  const entries = roles.map((role) => {
    const { token, sha256 } = createStaticToken();
    tokens.set(role, token);
    return {
      name: `matrix-${role}`,
      sha256,
      roles: [role],
      ...(role === 'producer'
        ? { scope: { sources: ['*'], types: ['*'], actions: ['*'], units: ['*'] } }
        : {}),
    };
  });
  const auth = createAuthenticator({ principals: { tokens: entries, certificates: [], oidc: [] } });
  return { tokens, auth };
}

/** Every route `app` registered is in `table` with the permission it declares, and every row is registered. */
function checkTable(app: FastifyInstance, table: Record<string, Permission>): void {
  const registered = declaredRoutes(app);
  assert.ok(registered.length >= Object.keys(table).length);
  const unknown = registered
    .filter((r) => table[keyOf(r.method, r.url)] === undefined)
    .map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(unknown, [], 'routes missing from the table of this test');
  for (const key of Object.keys(table))
    assert.ok(
      registered.some((r) => keyOf(r.method, r.url) === key),
      `${key} is in the table but not registered`,
    );
  for (const route of registered) {
    const expected = table[keyOf(route.method, route.url)];
    if (expected !== undefined)
      assert.equal(route.permission, expected, `${route.method} ${route.url}`);
  }
}

/** Every route of `app` × every role (and nobody): allowed or refused as its permission says. Returns the checks made. */
async function checkMatrix(app: FastifyInstance, tokens: Map<Role, string>): Promise<number> {
  let checked = 0;
  for (const route of declaredRoutes(app)) {
    const permission = route.permission;
    const url = urlOf(route.method, route.url);
    const body = ['POST', 'PUT'].includes(route.method)
      ? {
          payload: '{}',
          headers: {
            'content-type':
              route.url === '/v1/events' ? 'application/cloudevents+json' : 'application/json',
          },
        }
      : { headers: {} };
    const label = `${route.method} ${route.url}`;
    for (const role of roles) {
      const response = await app.inject({
        method: route.method as 'GET',
        url,
        ...body,
        headers: { ...body.headers, authorization: `Bearer ${tokens.get(role) ?? ''}` },
      });
      const code =
        route.method !== 'HEAD' && String(response.headers['content-type']).includes('problem+json')
          ? response.json<{ code: string }>().code
          : undefined;
      if (allowedRoles[permission].includes(role))
        assert.ok(
          ![401, 403].includes(response.statusCode),
          `${role} should be allowed ${label}: ${response.statusCode} ${code ?? ''}`,
        );
      else {
        assert.equal(response.statusCode, 403, `${role} should be refused ${label}`);
        if (route.method !== 'HEAD') assert.equal(code, 'AUTH_FORBIDDEN', label);
      }
      checked++;
    }
    const nobody = await app.inject({ method: route.method as 'GET', url, ...body });
    if (permission === 'public') assert.notEqual(nobody.statusCode, 401, `${label} is public`);
    else {
      assert.equal(nobody.statusCode, 401, `${label} needs authentication`);
      if (route.method !== 'HEAD')
        assert.equal(nobody.json<{ code: string }>().code, 'AUTH_MISSING');
      assert.match(String(nobody.headers['www-authenticate']), /^Bearer realm="provenant"/);
    }
  }
  return checked;
}

describe('authorization: every route × every role', () => {
  let app: FastifyInstance;
  const { tokens, auth } = tokensPerRole();

  before(async () => {
    app = await buildApp({
      auth,
      store: getSQLiteEventStore({ path: ':memory:' }),
      storeDescription: 'sqlite :memory:',
      ownsStore: true,
    });
    await app.ready();
  });
  after(() => app.close());

  it('knows every registered route, and every route of the table is registered', () => {
    checkTable(app, expectedPermission);
  });

  it('allows and refuses each role as the table says, and asks nobody for public routes only', async () => {
    const checked = await checkMatrix(app, tokens);
    assert.ok(checked >= 4 * 60, `only ${checked} checks`);
  });

  it('refuses to register a route that declares no permission (or an unknown one)', async () => {
    for (const config of [{}, { permission: 'root' }]) {
      const bare = Fastify();
      installAuth(bare, { authenticator: anonymousAuth() });
      assert.throws(
        () => bare.get('/undeclared', { config: config as { permission?: Permission } }, () => 'x'),
        /Route GET \/undeclared must declare config\.permission/,
      );
      await bare.close();
    }
  });
});

describe('authorization of the metrics listener of `projections run`: every route × every role', () => {
  const { tokens, auth } = tokensPerRole();
  const app = buildWorkerApp({ registry: new Registry(), auth });
  after(() => app.close());

  it('knows every registered route, and every route of the table is registered', async () => {
    await app.ready();
    checkTable(app, workerExpectedPermission);
  });

  it('allows and refuses each role as the table says', async () => {
    const checked = await checkMatrix(app, tokens);
    assert.equal(checked, 4 * roles.length, `${checked} checks`); // GET and HEAD of both routes
  });
});
