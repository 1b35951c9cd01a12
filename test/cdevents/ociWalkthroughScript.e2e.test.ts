// docs/examples/oci/walkthrough.sh as a user runs it: `sh walkthrough.sh` with
// curl against a server that requires credentials (as `provenant serve` does),
// with an admin token in PROVENANT_API_TOKEN; and without one, the refusal
// shown (the problem's body, not only curl's status line) and the script
// stopped. ociWalkthrough.int checks the same files' outcome in process.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startTokenServer } from '../support/tokenServer.js';

const SCRIPT = fileURLToPath(new URL('../../docs/examples/oci/walkthrough.sh', import.meta.url));
const curl = spawnSync('curl', ['--version'], { encoding: 'utf8' });
const noCurl = curl.status === 0 ? false : 'curl is not installed here: the script needs it';

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the script (asynchronously: the server answers from this process). */
const runScript = (env: Record<string, string>): Promise<ScriptRun> =>
  new Promise((resolve) => {
    execFile(
      'sh',
      [SCRIPT],
      { env: { ...process.env, ...env }, timeout: 60_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });

describe('docs/examples/oci/walkthrough.sh against a server that requires credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-walkthrough-'));
  const token = `pvt_${randomBytes(32).toString('base64url')}`;
  let server: Awaited<ReturnType<typeof startTokenServer>> | undefined;
  before(async () => {
    const sha256 = createHash('sha256').update(token).digest('hex');
    server = await startTokenServer(dir, [{ name: 'walk', sha256, roles: ['admin'] }]);
  });
  after(async () => {
    await server?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'without a token: stops at the first step and shows the problem',
    { skip: noCurl },
    async () => {
      const run = await runScript({ PROVENANT_URL: server?.url ?? '', PROVENANT_API_TOKEN: '' });
      assert.notEqual(run.code, 0);
      assert.match(run.stdout, /"code":"AUTH_MISSING"/);
      assert.doesNotMatch(run.stdout, /"kind":"receipt"/);
    },
  );

  it(
    'with an admin token: every step answers and the release stage passes',
    { skip: noCurl },
    async () => {
      const run = await runScript({ PROVENANT_URL: server?.url ?? '', PROVENANT_API_TOKEN: token });
      assert.equal(run.code, 0, run.stderr + run.stdout);
      assert.equal(run.stdout.match(/ → 201$/gm)?.length, 4, run.stdout);
      const status = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as {
        receipts: unknown[];
        stages: { stageId: string; recorded: { passed: boolean } | null }[];
      };
      assert.equal(status.receipts.length, 4);
      assert.deepEqual(
        status.stages.map((s) => [s.stageId, s.recorded?.passed]),
        [['release', true]],
      );
    },
  );
});
