// The server as `provenant serve` runs it (startServer): a signing key generated
// in the data dir on first start, the attestor issuing exactly one VSA when a stage
// passes on CloudEvent receipts, and no duplicate after a restart.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/http/server.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-server-attest-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
const ENCODED = encodeURIComponent(UNIT);

const start = (): Promise<RunningServer> =>
  startServer(
    loadConfig({
      PROVENANT_DATA_DIR: dir,
      PROVENANT_PORT: '0',
      PROVENANT_LOG_LEVEL: 'silent',
      PROVENANT_AUTH_ANONYMOUS: 'true',
    }),
  );

const receipt = (id: string, action: string, extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id,
  source: 'https://ci.example.com/openssl',
  type: 'dev.provenant.receipt.v1',
  datacontenttype: 'application/json',
  data: { unit: UNIT, action, multipass: true, ...extra },
});

async function vsas(server: RunningServer): Promise<{ trigger: { kind: string } }[]> {
  const res = await server.app.inject(`/v1/units/${ENCODED}/attestations`);
  assert.equal(res.statusCode, 200, res.body);
  return res
    .json<{ attestations: { kind: string; trigger: { kind: string } }[] }>()
    .attestations.filter((a) => a.kind === 'vsa');
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('server with the attestor', () => {
  it('generates a key, issues one VSA when a stage passes, and none again after a restart', async () => {
    const server = await start();
    try {
      assert.ok(existsSync(join(dir, 'signing-key.pem')));
      assert.ok(existsSync(join(dir, 'signing-key.pub.pem')));
      const put = (url: string, payload: object) =>
        server.app.inject({ method: 'PUT', url, payload });
      assert.equal((await put('/v1/gates/build', { requiredActions: ['build'] })).statusCode, 201);
      assert.equal((await put('/v1/stages/release', { gates: ['build'] })).statusCode, 201);
      const ingest = await server.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'content-type': 'application/cloudevents+json' },
        payload: receipt('build-1', 'build', {
          artifacts: [{ name: 'openssl.rpm', digest: { sha256: 'ab'.repeat(32) } }],
        }),
      });
      assert.equal(ingest.statusCode, 201, ingest.body);
      await until(async () => (await vsas(server)).length > 0, 'the VSA');
      assert.equal((await vsas(server))[0]?.trigger.kind, 'stage-passed');
    } finally {
      await server.shutdown();
    }
    const again = await start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await vsas(again)).length, 1);
    } finally {
      await again.shutdown();
    }
  });
});
