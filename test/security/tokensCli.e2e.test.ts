// `provenant tokens create` prints a token once and the configuration line that
// holds only its hash; a server configured with that line (PROVENANT_AUTH_FILE,
// as `provenant serve` reads it) accepts the token and nothing else.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliArgs } from '../support/cli.js';
import { startTokenServer } from '../support/tokenServer.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-tokens-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('provenant tokens create', () => {
  it('prints a token once and its hash line, which a server then accepts', async () => {
    const created = spawnSync(
      process.execPath,
      cliArgs(
        'tokens',
        'create',
        '--name',
        'ci-el9',
        '--role',
        'producer',
        '--role',
        'reader',
        '--source',
        'https://ci.example.com/*',
      ),
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(created.status, 0, created.stderr);
    const [token = '', line = ''] = created.stdout.trim().split('\n');
    assert.match(token, /^pvt_[A-Za-z0-9_-]{43}$/);
    const entry = JSON.parse(line) as {
      name: string;
      sha256: string;
      roles: string[];
      scope: unknown;
    };
    assert.equal(entry.sha256, createHash('sha256').update(token).digest('hex'));
    assert.ok(!line.includes(token), 'the configuration line does not hold the token');
    assert.deepEqual(entry.roles, ['producer', 'reader']);
    assert.match(created.stderr, /shown only now/);

    const server = await startTokenServer(dir, [entry]);
    try {
      const ready = (await (await fetch(`${server.url}/readyz`)).json()) as Record<string, unknown>;
      assert.deepEqual(ready.auth, ['token']);
      assert.equal(ready.warning, undefined, 'no development-mode warning');
      const gates = await fetch(`${server.url}/v1/gates`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(gates.status, 200);
      const anonymous = await fetch(`${server.url}/v1/gates`);
      assert.equal(anonymous.status, 401);
      assert.equal(((await anonymous.json()) as { code: string }).code, 'AUTH_MISSING');
      const forbidden = await fetch(`${server.url}/v1/gates/x`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ requiredActions: ['build'] }),
      });
      assert.equal(forbidden.status, 403);
    } finally {
      await server.shutdown();
    }
  });

  it('refuses a producer without a scope, and an unknown role (exit 2)', () => {
    for (const args of [
      ['--name', 'ci', '--role', 'producer'],
      ['--name', 'ci', '--role', 'root'],
      ['--name', 'bad name', '--role', 'admin'],
    ]) {
      const result = spawnSync(process.execPath, cliArgs('tokens', 'create', ...args), {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(result.status, 2, args.join(' '));
      assert.equal(result.stdout, '', 'no token printed');
      assert.match(result.stderr, /tokens create --help/);
    }
  });
});
