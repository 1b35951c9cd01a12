// The commands that only read the Merkle log (`export`, `log prove`) where the
// note key file is not beside the log (kept elsewhere, or a command run away
// from the server on a PostgreSQL log): they name the key the log's
// checkpoints were signed with, as `CheckpointSigned` recorded it, and create no
// key. `export` generated a new note key and wrote its verifier key into the
// export, whose checkpoint then failed verify-export (EXPORT_CHECKPOINT_INVALID).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { checkpointOf, serve } from '../support/serveProcess.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-readers-key-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'data');
const UNIT = 'zlib/1.3/1.el9/x86_64/rpm';

describe('export and log prove without the note key file', () => {
  it('name the log’s own key, which verifies, and generate none', async () => {
    const server = await serve({
      PROVENANT_DATA_DIR: data,
      PROVENANT_PORT: '0',
      PROVENANT_AUTH_ANONYMOUS: 'true',
      PROVENANT_CHECKPOINT_EVERY: '1',
    });
    let eventId: string;
    let verifierKey: string;
    try {
      const res = await fetch(`${server.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({
          specversion: '1.0',
          id: 'build-1',
          source: 'https://ci.example.com/zlib',
          type: 'dev.provenant.receipt.v1',
          data: { unit: UNIT, action: 'build', multipass: true },
        }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      eventId = ((await res.json()) as { eventId: string }).eventId;
      await checkpointOf(server.url, 1);
      verifierKey = (
        (await (await fetch(`${server.url}/v1/log/key`)).json()) as {
          verifierKey: string;
        }
      ).verifierKey;
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0, server.log());
    }
    // The key goes to where it is kept; this folder holds the log only.
    const keyFile = join(data, 'log-key.pem');
    rmSync(keyFile);

    const env = { PROVENANT_DATA_DIR: data };
    const out = join(dir, 'export');
    const exported = await runCli(['export', UNIT, '--out', out], 60_000, env);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(
      readFileSync(join(out, 'transparency', 'log-key.txt'), 'utf8').trim(),
      verifierKey,
    );
    const verified = await runCli(['verify-export', out], 60_000, env);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.doesNotMatch(verified.stdout, /no signed checkpoint/);

    const proved = await runCli(['log', 'prove', eventId], 60_000, env);
    assert.equal(proved.status, 0, proved.stderr);
    assert.equal((JSON.parse(proved.stdout) as { eventId: string }).eventId, eventId);
    assert.equal(existsSync(keyFile), false, 'no note key was generated');
  });
});
