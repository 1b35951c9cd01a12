// HTTPS and mutual TLS on a loopback port: a CA, a server certificate and client
// certificates made with the openssl CLI in a temp dir. A client certificate that
// chains to the client CA and whose subject the principals map is a principal;
// an untrusted or unmapped one is a 401 problem (the handshake itself succeeds).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { createAuthenticator } from '../../src/security/index.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-mtls-'));
const file = (name: string): string => join(dir, name);
const openssl = (...args: string[]): void => {
  execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
};

/** A CA (self-signed, EC P-256) named `name`. */
function makeCa(name: string): void {
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file(`${name}.key`));
  openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    file(`${name}.key`),
    '-subj',
    `/CN=${name}`,
    '-days',
    '2',
    '-out',
    file(`${name}.pem`),
  );
}

/** A certificate for `subject` signed by `ca`, with optional extensions. */
function makeCert(name: string, subject: string, ca: string, extensions = ''): void {
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file(`${name}.key`));
  openssl(
    'req',
    '-new',
    '-key',
    file(`${name}.key`),
    '-subj',
    subject,
    '-out',
    file(`${name}.csr`),
  );
  writeFileSync(file(`${name}.ext`), extensions);
  openssl(
    'x509',
    '-req',
    '-in',
    file(`${name}.csr`),
    '-CA',
    file(`${ca}.pem`),
    '-CAkey',
    file(`${ca}.key`),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file(`${name}.ext`),
    '-out',
    file(`${name}.pem`),
  );
}

interface Answer {
  status: number;
  body: string;
}

describe('HTTPS and client certificates (mTLS)', () => {
  let app: FastifyInstance;
  let port = 0;

  const get = (path: string, client?: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          ca: readFileSync(file('server-ca.pem')),
          ...(client === undefined
            ? {}
            : {
                cert: readFileSync(file(`${client}.pem`)),
                key: readFileSync(file(`${client}.key`)),
              }),
          agent: false,
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const code = (answer: Answer): string => (JSON.parse(answer.body) as { code: string }).code;

  before(async () => {
    makeCa('server-ca');
    makeCa('client-ca');
    makeCa('rogue-ca');
    makeCert('server', '/CN=127.0.0.1', 'server-ca', 'subjectAltName=IP:127.0.0.1\n');
    makeCert('builder', '/O=Example/CN=builder-1', 'client-ca', 'extendedKeyUsage=clientAuth\n');
    makeCert('stranger', '/O=Example/CN=stranger', 'client-ca', 'extendedKeyUsage=clientAuth\n');
    makeCert('rogue', '/O=Example/CN=builder-1', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
    app = await buildApp({
      auth: createAuthenticator({
        principals: {
          tokens: [],
          oidc: [],
          // Attributes in another order and spacing than the certificate's: the same subject.
          certificates: [{ subject: 'CN=builder-1, O=Example', roles: ['reader'] }],
        },
      }),
      https: {
        cert: readFileSync(file('server.pem')),
        key: readFileSync(file('server.key')),
        ca: readFileSync(file('client-ca.pem')),
        requestCert: true,
        rejectUnauthorized: false,
      },
      store: getSQLiteEventStore({ path: ':memory:' }),
      storeDescription: 'sqlite :memory:',
      ownsStore: true,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS', async () => {
    const health = await get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
  });

  it('maps a trusted client certificate to its principal', async () => {
    const gates = await get('/v1/gates', 'builder');
    assert.equal(gates.status, 200, gates.body);
    // A reader: reading yes, metrics (operate) no.
    const metrics = await get('/metrics', 'builder');
    assert.equal(metrics.status, 403);
    assert.equal(code(metrics), 'AUTH_FORBIDDEN');
    assert.match(metrics.body, /mtls:CN=builder-1,O=Example/);
  });

  it('refuses an untrusted, an unmapped or a missing certificate with its own code', async () => {
    const rogue = await get('/v1/gates', 'rogue');
    assert.equal(rogue.status, 401);
    assert.equal(code(rogue), 'AUTH_CLIENT_CERT_INVALID');
    const stranger = await get('/v1/gates', 'stranger');
    assert.equal(stranger.status, 401);
    assert.equal(code(stranger), 'AUTH_CLIENT_CERT_UNKNOWN');
    const none = await get('/v1/gates');
    assert.equal(none.status, 401);
    assert.equal(code(none), 'AUTH_MISSING');
  });
});
