// `npm run demo` runs the whole story and exits 0, printing each step with ✓;
// --help prints its usage, and an unknown option is refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const demo = fileURLToPath(new URL('../scripts/demo.ts', import.meta.url));

describe('npm run demo', () => {
  it('plays every step and exits 0', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', demo], {
      timeout: 120_000,
      maxBuffer: 4 * 1024 * 1024,
    });
    assert.doesNotMatch(stdout, /\u2717/);
    for (const line of [
      /1\. Start Provenant on a fresh embedded store\n\s+\u2713 http:\/\/127\.0\.0\.1:\d+/,
      /security gate failed, release blocked/,
      /security gate passed, release passed/,
      /\u2713 6 attestations verified/,
      /zlib\/1\.3\.1\/1\.el9\/x86_64\/rpm: VSA PROVENANT_STAGE_RELEASE PASSED/,
      /Release gate from the rpm alone: its sha256 finds the release VSA[^\n]*\n\s+\u2713 both units may ship/,
      /\u2713 intact: \d+ files, \d+ events/,
      /caught: EXPORT_CONTENT_DIGEST_MISMATCH/,
      /\u2713 demo complete: every step passed/,
    ])
      assert.match(stdout, line);
  });

  it('--help prints the usage and exits 0 without starting anything', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', demo, '--help'], {
      timeout: 60_000,
    });
    assert.match(stdout, /^usage: npm run demo/);
    assert.doesNotMatch(stdout, /Start Provenant/);
  });

  it('refuses an unknown option with exit code 2, naming it', async () => {
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', demo, '--bogus'], { timeout: 60_000 }),
      (error: { code?: number; stderr?: string; stdout?: string }) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr ?? '', /Unknown option '--bogus'\nSee --help\./);
        assert.doesNotMatch(error.stdout ?? '', /Start Provenant/);
        return true;
      },
    );
  });
});
