// OIDC bearer tokens against a local issuer: keys made by jose, discovery and
// JWKS served on loopback by node:http. Every way a token can be wrong is a 401
// with its own code, nothing is appended, and the response says nothing about
// the expected issuer's keys; rotated keys are picked up.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  SignJWT,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { buildApp } from '../../src/http/app.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { createAuthenticator } from '../../src/security/index.js';

const AUDIENCE = 'provenant-test';

interface Key {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function makeKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('OIDC bearer tokens (local issuer)', () => {
  let issuerServer: Server;
  let issuer = '';
  let published: JWK[] = [];
  let jwksFetches = 0;
  let key1: Key;
  let stranger: Key;
  let store: SQLiteEventStore;
  let app: FastifyInstance;

  const token = (
    key: Key,
    claims: JWTPayload = {},
    build: (jwt: SignJWT) => SignJWT = (jwt) => jwt,
  ): Promise<string> =>
    build(
      new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setSubject('admin-alice')
        .setIssuedAt()
        .setExpirationTime('5m'),
    ).sign(key.privateKey);

  const get = (bearer: string, url = '/v1/gates') =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${bearer}` } });

  const refused = async (bearer: string, code: string): Promise<void> => {
    const before = await store.headPosition();
    const response = await app.inject({
      method: 'PUT',
      url: '/v1/gates/build',
      headers: { authorization: `Bearer ${bearer}` },
      payload: { requiredActions: ['build'] },
    });
    assert.equal(response.statusCode, 401, `${code}: ${response.body}`);
    assert.match(String(response.headers['content-type']), /application\/problem\+json/);
    assert.equal(response.json<{ code: string }>().code, code);
    assert.match(String(response.headers['www-authenticate']), /error="invalid_token"/);
    assert.equal(await store.headPosition(), before, 'nothing appended');
    // Nothing about the issuer's keys or the token in the answer.
    for (const secretish of [key1.jwk.n ?? '', bearer.split('.')[2] ?? ''])
      if (secretish.length > 8) assert.ok(!response.body.includes(secretish));
  };

  before(async () => {
    key1 = await makeKey('key-1');
    stranger = await makeKey('stranger');
    published = [key1.jwk];
    issuerServer = createServer((request, response) => {
      if (request.url === '/.well-known/openid-configuration') {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      } else if (request.url === '/jwks') {
        jwksFetches++;
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys: published }));
      } else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
    store = getSQLiteEventStore({ path: ':memory:' });
    app = await buildApp({
      auth: createAuthenticator({
        oidc: {
          issuer,
          audience: AUDIENCE,
          algorithms: ['RS256', 'ES256'],
          clockToleranceSeconds: 30,
          // Discovery (no jwksUrl); unknown key ids fetch the JWKS again at once.
          jwksCooldownMs: 0,
        },
        principals: {
          tokens: [],
          certificates: [],
          oidc: [
            { subject: 'admin-*', roles: ['admin'] },
            {
              subject: 'repo:example/app:*',
              roles: ['producer'],
              scope: {
                sources: ['https://ci.example.com/*'],
                types: ['*'],
                actions: ['*'],
                units: ['*'],
              },
            },
          ],
        },
      }),
      store,
      storeDescription: 'sqlite :memory:',
      ownsStore: true,
    });
  });
  after(async () => {
    await app.close();
    await new Promise((resolve) => issuerServer.close(resolve));
  });

  it('accepts a valid token, maps its subject to roles and records the principal', async () => {
    const bearer = await token(key1);
    assert.equal((await get(bearer)).statusCode, 200);
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/gates/build',
      headers: { authorization: `Bearer ${bearer}` },
      payload: { requiredActions: ['build'] },
    });
    assert.equal(put.statusCode, 201, put.body);
    const [event] = await store.readAll({ maxCount: 1, direction: 'backwards' });
    assert.equal(event?.type, 'GateDefined.v1');
    assert.equal(event?.metadata.principal, `oidc:${issuer}#admin-alice`);
  });

  it('refuses expired, not-yet-valid, foreign and forged tokens, each with its own code', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(
      await token(key1, {}, (j) => j.setExpirationTime(now - 120)),
      'AUTH_TOKEN_EXPIRED',
    );
    await refused(
      await token(key1, {}, (j) => j.setNotBefore(now + 3600)),
      'AUTH_TOKEN_NOT_YET_VALID',
    );
    await refused(
      await token(key1, {}, (j) => j.setAudience('someone-else')),
      'AUTH_TOKEN_AUDIENCE',
    );
    await refused(
      await token(key1, {}, (j) => j.setIssuer('https://evil.example.com')),
      'AUTH_TOKEN_ISSUER',
    );
    await refused(await token(stranger), 'AUTH_TOKEN_UNKNOWN_KEY');
    // alg none: no signature at all.
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: issuer, aud: AUDIENCE, sub: 'admin-alice', exp: now + 300 })}.`;
    await refused(unsigned, 'AUTH_TOKEN_UNSIGNED');
    // HS256 with the issuer's PUBLIC key as the HMAC secret (the classic confusion attack).
    const publicPem = await exportSPKI(key1.publicKey);
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: key1.kid })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setSubject('admin-alice')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicPem));
    await refused(confused, 'AUTH_TOKEN_ALGORITHM');
    // A valid token whose payload is edited afterwards.
    const [header, , signature] = (await token(key1, {}, (j) => j.setSubject('reader-bob'))).split(
      '.',
    );
    const tampered = `${header}.${b64({ iss: issuer, aud: AUDIENCE, sub: 'admin-alice', exp: now + 300 })}.${signature}`;
    await refused(tampered, 'AUTH_TOKEN_SIGNATURE');
    await refused('not.a-jwt', 'AUTH_TOKEN_INVALID');
  });

  it('tolerates the configured clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal(
      (await get(await token(key1, {}, (j) => j.setExpirationTime(now - 10)))).statusCode,
      200,
    );
  });

  it('authenticates a subject no rule maps, but allows it nothing', async () => {
    const response = await get(await token(key1, {}, (j) => j.setSubject('nobody-known')));
    assert.equal(response.statusCode, 403);
    assert.equal(response.json<{ code: string }>().code, 'AUTH_FORBIDDEN');
  });

  it('holds an OIDC producer to its scope', async () => {
    const bearer = await token(key1, {}, (j) =>
      j.setSubject('repo:example/app:ref:refs/heads/main'),
    );
    const send = (source: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: {
          authorization: `Bearer ${bearer}`,
          'content-type': 'application/cloudevents+json',
        },
        payload: {
          specversion: '1.0',
          id: `e-${source.length}`,
          source,
          type: 'dev.example.pipeline.started',
          data: {},
        },
      });
    assert.equal((await send('https://ci.example.com/app')).statusCode, 201);
    const outside = await send('https://elsewhere.example.com/app');
    assert.equal(outside.statusCode, 403);
    assert.equal(outside.json<{ code: string }>().code, 'AUTH_PRODUCER_SCOPE');
  });

  it('picks up a rotated key, and drops the retired one', async () => {
    const key2 = await makeKey('key-2');
    const old = await token(key1);
    published = [key2.jwk];
    const fetchesBefore = jwksFetches;
    assert.equal((await get(await token(key2))).statusCode, 200, 'the new key id is fetched');
    assert.ok(jwksFetches > fetchesBefore);
    await refused(old, 'AUTH_TOKEN_UNKNOWN_KEY');
  });

  it('answers 503 when the issuer cannot be reached, not 401', async () => {
    const unreachable = createAuthenticator({
      oidc: {
        issuer: 'http://127.0.0.1:9',
        audience: AUDIENCE,
        algorithms: ['RS256'],
        clockToleranceSeconds: 0,
        timeoutMs: 2000,
      },
    });
    await assert.rejects(
      unreachable.authenticate({ authorization: `Bearer ${await token(key1)}` }),
      (error: { code?: string; status?: number }) =>
        error.code === 'AUTH_ISSUER_UNAVAILABLE' && error.status === 503,
    );
  });
});
