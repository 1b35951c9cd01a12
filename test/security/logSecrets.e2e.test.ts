// No secret in the log or the server's output (issue 15, docs/security.md
// "Secrets"): `provenant serve` runs at log level trace with a KurrentDB password,
// a signing key and a producers file configured; it is sent payloads holding every
// kind of secret, an Authorization header, requests that fail in the router and
// in the HTTP parser; then it stops. Everything it wrote, on stdout and stderr,
// is searched for every configured secret (src/configSecrets.ts) and
// every secret sent.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { configuredSecrets } from '../../src/configSecrets.js';
import { SECRET_SAMPLES } from '../support/secretSamples.js';
import { createStaticToken } from '../../src/security/index.js';
import { cliArgs } from '../support/cli.js';

describe('secrets never reach the log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-log-secrets-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps configured and sent secrets out of everything the server writes', async () => {
    const keyPath = join(dir, 'signing-key.pem');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const producers = join(dir, 'producers.json');
    writeFileSync(
      producers,
      JSON.stringify({
        producers: [
          {
            id: 'ci',
            sources: ['https://ci.example.com/**'],
            mustSign: true,
            keys: [{ keyId: 'k', publicKey: publicKey.export({ type: 'spki', format: 'pem' }) }],
          },
        ],
      }),
    );
    // A real caller: an admin static token (only its hash is configured).
    const admin = createStaticToken();
    const principals = join(dir, 'principals.json');
    writeFileSync(
      principals,
      JSON.stringify({ tokens: [{ name: 'admin', sha256: admin.sha256, roles: ['admin'] }] }),
    );
    const env = {
      PROVENANT_AUTH_FILE: principals,
      PROVENANT_DATA_DIR: join(dir, 'data'),
      PROVENANT_PORT: '0',
      PROVENANT_HOST: '127.0.0.1',
      PROVENANT_LOG_LEVEL: 'trace',
      PROVENANT_SIGNING_KEY: keyPath,
      PROVENANT_PRODUCERS_FILE: producers,
      PROVENANT_PROJECTIONS: 'off',
      EVENTSTORE_USERNAME: 'admin',
      EVENTSTORE_PASSWORD: `pw-${randomBytes(12).toString('hex')}`,
    };
    const configured = configuredSecrets(loadConfig(env, dir));
    assert.ok(configured.includes(env.EVENTSTORE_PASSWORD));
    assert.ok(configured.length >= 3, 'the password and the key material');

    const child = spawn(process.execPath, cliArgs('serve'), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const match = /"url":"(http:\/\/127\.0\.0\.1:(\d+))".*provenant is serving/.exec(output);
          if (match?.[1]) {
            clearInterval(timer);
            resolve(match[1]);
          }
        }, 20);
        void exited.then(() => {
          clearInterval(timer);
          reject(new Error(`server exited early: ${output}`));
        });
      });
      const bearer = `Bearer ${admin.token}`;
      // Every kind of payload secret, structured; and one from an unsigned producer.
      for (const secret of Object.values(SECRET_SAMPLES)) {
        const res = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json', authorization: bearer },
          body: JSON.stringify({
            specversion: '1.0',
            id: randomBytes(4).toString('hex'),
            source: '/elsewhere',
            type: 'com.example.note',
            data: { note: secret },
          }),
        });
        assert.equal(res.status, 400);
        assert.ok(!(await res.text()).includes(secret));
      }
      const unsigned = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', authorization: bearer },
        body: JSON.stringify({
          specversion: '1.0',
          id: 'u1',
          source: 'https://ci.example.com/p',
          type: 'com.example.note',
        }),
      });
      assert.equal(unsigned.status, 400);
      // Errors in the router and before it.
      assert.equal(
        (await fetch(`${url}/nowhere`, { headers: { authorization: bearer } })).status,
        404,
      );
      assert.equal((await fetch(`${url}/v1/events`, { method: 'DELETE' })).status, 405);
      const port = Number(new URL(url).port);
      await new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () =>
          socket.end(`GET / HTTP/1.1\r\nAuthorization: ${bearer}\r\nX: a\rb\r\n\r\n`),
        );
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
        socket.resume();
      });
    } finally {
      child.kill('SIGTERM');
      await exited;
      clearTimeout(guard);
    }
    assert.match(output, /provenant is serving/);
    assert.match(output, /incoming request/, 'the requests were logged');
    assert.match(output, /"statusCode":400/);
    for (const secret of [...configured, admin.token, ...Object.values(SECRET_SAMPLES)])
      assert.ok(!output.includes(secret), `a secret reached the output: ${secret.slice(0, 6)}…`);
  });
});
